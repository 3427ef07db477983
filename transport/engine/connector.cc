#include "transport/engine/connector.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "transport/engine/address.h"
#include "transport/engine/engine_core.h"
#include "transport/engine/lwip_endpoint.h"
#include "transport/lwip/err.h"

namespace grpc_bypass::engine {
namespace {

using grpc_event_engine::experimental::MemoryAllocator;

// A connect refused before lwIP saw it (an address not on the bypass interface), worded as
// gRPC's posix engine words a failed connect (err.h: ConnectFailed).
absl::Status NotConnected(const absl::Status& st) {
  return absl::UnknownError(absl::StrCat("Failed to connect to remote host: ", st.message()));
}

}  // namespace

// One connect in flight. Its on_connect runs exactly once: Finish() hands it on; a connect
// that never started (the stack stopped first) fails from the destructor; Cancel() drops it.
struct Connector::Pending {
  Pending(EngineCore* core, Connector* owner, int64_t id, EE::OnConnectCallback cb,
          MemoryAllocator allocator, const LwipAddress& addr)
      : core(core), owner(owner), id(id), on_connect(std::move(cb)),
        allocator(std::move(allocator)), addr(addr) {}
  ~Pending() {
    if (!on_connect) return;
    core->executor().Run([cb = std::move(on_connect)]() mutable {
      cb(absl::UnavailableError("the bypass stack has stopped"));
    });
  }
  // Token holder: aborts the attempt in lwIP, if it is still there (no callback follows).
  void AbortPcb() BYPASS_REQUIRES_TOKEN {
    if (pcb == nullptr) return;
    tcp_arg(pcb, nullptr);
    tcp_err(pcb, nullptr);
    tcp_abort(pcb);
    pcb = nullptr;
  }

  EngineCore* const core;
  Connector* const owner;
  const int64_t id;
  EE::OnConnectCallback on_connect;
  MemoryAllocator allocator;
  const LwipAddress addr;
  tcp_pcb* pcb ABSL_GUARDED_BY(stack_token) = nullptr;
  int64_t timer ABSL_GUARDED_BY(stack_token) = 0;  // the deadline's TimerManager id
};

Connector::Connector(EngineCore* core) : core_(core) {}
Connector::~Connector() = default;

int64_t Connector::Connect(EE::OnConnectCallback on_connect, const EE::ResolvedAddress& addr,
                           MemoryAllocator allocator, absl::Duration timeout) {
  const int64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
  LwipAddress a;
  absl::Status st = core_->router().CanConnect(addr);
  if (st.ok()) st = ToLwip(addr, &a);
  if (!st.ok()) {
    // Not ours: fail at once (the gRPC bridge routes such addresses to the kernel).
    core_->executor().Run([cb = std::move(on_connect), st = NotConnected(st)]() mutable {
      cb(st);
    });
    return id;
  }
  // Turns taken here offload their completions: on_connect never runs inside Connect().
  auto p = std::make_unique<Pending>(core_, this, id, std::move(on_connect),
                                     std::move(allocator), a);
  if (!core_->stack().RunHereOrQueue(
          [this, p = std::move(p)]() BYPASS_REQUIRES_TOKEN mutable {
            const int64_t id = p->id;
            pending_[id] = std::move(p);
            Start(id);
          },
          Stack::After::kOffload)) {
    return id;  // the stack has stopped: ~Pending failed the connect
  }
  // The deadline. Its id reaches the entry in a second turn (the connect may have ended by
  // then, or the deadline even passed: both are fine).
  const int64_t timer = core_->timers().RunAfter(timeout, [this, id] {
    core_->stack().RunHereOrQueue([this, id]() BYPASS_REQUIRES_TOKEN { TimedOut(id); });
  });
  core_->stack().RunHereOrQueue(
      [this, id, timer]() BYPASS_REQUIRES_TOKEN {
        auto it = pending_.find(id);
        if (it == pending_.end()) {
          core_->timers().Cancel(timer);
        } else {
          it->second->timer = timer;
        }
      },
      Stack::After::kOffload);
  return id;
}

void Connector::Start(int64_t id) {
  Pending* p = pending_[id].get();
  p->pcb = tcp_new_ip_type(IP_GET_TYPE(&p->addr.ip));
  if (p->pcb == nullptr) {
    Finish(id, ConnectFailed(ERR_MEM));
    return;
  }
  tcp_arg(p->pcb, p);
  tcp_err(p->pcb, &Connector::OnError);
  const err_t e = tcp_connect(p->pcb, &p->addr.ip, p->addr.port, &Connector::OnConnected);
  if (e != ERR_OK) {
    p->AbortPcb();
    Finish(id, ConnectFailed(e));
  }
}

void Connector::TimedOut(int64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;  // already ended
  it->second->timer = 0;
  it->second->AbortPcb();
  Finish(id, absl::DeadlineExceededError("connect() timed out"));
}

void Connector::Finish(int64_t id, absl::StatusOr<std::unique_ptr<EE::Endpoint>> result) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  std::unique_ptr<Pending> p = std::move(it->second);
  pending_.erase(it);
  if (p->timer != 0) core_->timers().Cancel(p->timer);
  core_->Deliver([cb = std::exchange(p->on_connect, nullptr),
                  result = std::move(result)]() mutable { cb(std::move(result)); });
}

bool Connector::Cancel(int64_t id) {
  bool cancelled = false;
  core_->stack().RunAndWait([&]() BYPASS_REQUIRES_TOKEN {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;  // already ended: nothing to cancel
    std::unique_ptr<Pending> p = std::move(it->second);
    pending_.erase(it);
    if (p->timer != 0) core_->timers().Cancel(p->timer);
    p->AbortPcb();
    p->on_connect = nullptr;  // a cancelled connect's on_connect is not called
    cancelled = true;
  });
  return cancelled;
}

err_t Connector::OnConnected(void* arg, tcp_pcb* pcb, err_t err) {
  auto* p = static_cast<Pending*>(arg);
  Connector* self = p->owner;
  if (err != ERR_OK) {  // (lwIP 2.1 reports failures through tcp_err)
    self->Finish(p->id, ConnectFailed(err));
    return ERR_ABRT;
  }
  tcp_arg(pcb, nullptr);
  tcp_err(pcb, nullptr);
  p->pcb = nullptr;  // the endpoint's now
  std::shared_ptr<EndpointImpl> ep =
      EndpointImpl::Adopt(self->core_, pcb, std::move(p->allocator));
  self->Finish(p->id, std::unique_ptr<EE::Endpoint>(new LwipEndpoint(std::move(ep))));
  return ERR_OK;
}

void Connector::OnError(void* arg, err_t err) {
  auto* p = static_cast<Pending*>(arg);
  if (p == nullptr) return;
  p->pcb = nullptr;  // freed by lwIP
  p->owner->Finish(p->id, ConnectFailed(err));
}

}  // namespace grpc_bypass::engine
