#include "transport/engine/lwip_listener.h"

#include "absl/strings/str_cat.h"
#include "transport/engine/address.h"
#include "transport/engine/lwip_endpoint.h"
#include "transport/lwip/err.h"

namespace grpc_bypass::engine {

ListenerImpl::ListenerImpl(EngineCore* core, EventEngine::Listener::AcceptCallback on_accept,
                           absl::AnyInvocable<void(absl::Status)> on_shutdown,
                           std::unique_ptr<MemoryAllocatorFactory> factory)
    : core_(core),
      state_(std::make_shared<AcceptState>(std::move(on_accept))),
      factory_(std::move(factory)) {
  absl::MutexLock lock(&state_->mu);
  state_->on_shutdown = std::move(on_shutdown);
}

absl::StatusOr<int> ListenerImpl::Bind(const EventEngine::ResolvedAddress& addr) {
  LwipAddress a;
  absl::Status st = core_->router().CanBind(addr);
  if (st.ok()) st = ToLwip(addr, &a);
  if (!st.ok()) return absl::Status(st.code(), absl::StrCat("bind ", ToString(addr), ": ", st.message()));
  absl::StatusOr<int> port = absl::InternalError("stack stopped");
  core_->stack().RunAndWait([&]() BYPASS_REQUIRES_TOKEN {
    if (started_) {
      port = absl::FailedPreconditionError("bind after the listener started");
      return;
    }
    // A wildcard address listens on IPv4 and IPv6 alike.
    tcp_pcb* pcb = tcp_new_ip_type(a.wildcard ? IPADDR_TYPE_ANY : IP_GET_TYPE(&a.ip));
    if (pcb == nullptr) {
      port = LwipErrToStatus(ERR_MEM, "bind");
      return;
    }
    ip_set_option(pcb, SOF_REUSEADDR);
    err_t e = tcp_bind(pcb, a.wildcard ? IP_ANY_TYPE : &a.ip, a.port);
    if (e != ERR_OK) {
      tcp_close(pcb);
      port = LwipErrToStatus(e, absl::StrCat("bind ", ToString(addr)));
      return;
    }
    pcbs_.push_back(pcb);
    port = pcb->local_port;
  });
  return port;
}

absl::Status ListenerImpl::Start() {
  absl::Status st = absl::InternalError("stack stopped");
  core_->stack().RunAndWait([&]() BYPASS_REQUIRES_TOKEN {
    if (started_) {
      st = absl::FailedPreconditionError("listener already started");
      return;
    }
    for (tcp_pcb*& pcb : pcbs_) {
      tcp_pcb* l = tcp_listen_with_backlog(pcb, TCP_DEFAULT_LISTEN_BACKLOG);
      if (l == nullptr) {
        st = LwipErrToStatus(ERR_MEM, "listen");
        return;
      }
      pcb = l;
      tcp_arg(l, this);
      tcp_accept(l, &ListenerImpl::OnAccept);
    }
    started_ = true;
    st = absl::OkStatus();
  });
  return st;
}

err_t ListenerImpl::OnAccept(void* arg, tcp_pcb* pcb, err_t err) {
  auto* self = static_cast<ListenerImpl*>(arg);
  if (self == nullptr || err != ERR_OK || pcb == nullptr) return ERR_VAL;
  const std::string name = absl::StrCat("bypass-endpoint-", self->accepted_++);
  std::shared_ptr<EndpointImpl> ep =
      EndpointImpl::Adopt(self->core_, pcb, self->factory_->CreateMemoryAllocator(name));
  std::unique_ptr<EventEngine::Endpoint> endpoint = std::make_unique<LwipEndpoint>(std::move(ep));
  grpc_event_engine::experimental::MemoryAllocator allocator =
      self->factory_->CreateMemoryAllocator(name + "-user");
  std::shared_ptr<AcceptState> state = self->state_;
  {
    absl::MutexLock lock(&state->mu);
    ++state->in_flight;
  }
  EngineCore* core = self->core_;
  core->Deliver([state, endpoint = std::move(endpoint), allocator = std::move(allocator),
                 core]() mutable {
    state->on_accept(std::move(endpoint), std::move(allocator));
    absl::AnyInvocable<void(absl::Status)> on_shutdown;
    {
      absl::MutexLock lock(&state->mu);
      if (--state->in_flight == 0 && state->shut) on_shutdown = std::move(state->on_shutdown);
    }
    if (on_shutdown) {
      core->executor().Run([cb = std::move(on_shutdown)]() mutable { cb(absl::OkStatus()); });
    }
  });
  return ERR_OK;
}

void ListenerImpl::ShutdownAndWait() {
  core_->stack().RunAndWait([this]() BYPASS_REQUIRES_TOKEN {
    for (tcp_pcb* pcb : pcbs_) {
      tcp_arg(pcb, nullptr);
      if (started_) tcp_accept(pcb, nullptr);
      tcp_close(pcb);
    }
    pcbs_.clear();
  });
  // on_shutdown runs after the accepts already handed out; if none is pending, now (on the
  // executor), and the caller waits for it.
  absl::AnyInvocable<void(absl::Status)> on_shutdown;
  {
    absl::MutexLock lock(&state_->mu);
    state_->shut = true;
    if (state_->in_flight == 0) on_shutdown = std::move(state_->on_shutdown);
  }
  if (!on_shutdown) return;  // the last pending accept runs it
  auto done = std::make_shared<absl::Notification>();
  core_->executor().Run([cb = std::move(on_shutdown), done]() mutable {
    cb(absl::OkStatus());
    done->Notify();
  });
  if (!Executor::OnExecutorThread()) done->WaitForNotification();
}

}  // namespace grpc_bypass::engine
