#include "transport/engine/lwip_engine.h"

#include <netdb.h>

#include <atomic>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "lwip/tcp.h"
#include "transport/engine/address.h"
#include "transport/engine/lwip_endpoint.h"
#include "transport/engine/lwip_listener.h"
#include "transport/lwip/err.h"

namespace grpc_bypass::engine {
namespace {

using grpc_event_engine::experimental::MemoryAllocator;
using EE = grpc_event_engine::experimental::EventEngine;

absl::Duration ToAbsl(EE::Duration d) { return absl::Nanoseconds(d.count()); }

// A connect in flight. Poll thread only (the map and the pcb).
struct PendingConnect {
  int64_t id;
  EngineCore* core;
  EE::OnConnectCallback on_connect;
  MemoryAllocator allocator;
  tcp_pcb* pcb = nullptr;
  int64_t timer = 0;
};
absl::flat_hash_map<int64_t, PendingConnect*>& Pending() {
  static auto* m = new absl::flat_hash_map<int64_t, PendingConnect*>();
  return *m;
}
std::atomic<int64_t> g_next_connect{1};

// Ends a pending connect (token holder): on_connect runs with `result` (EngineCore::Deliver).
void FinishConnect(PendingConnect* pc, absl::StatusOr<std::unique_ptr<EE::Endpoint>> result) {
  Pending().erase(pc->id);
  if (pc->timer) pc->core->timers().Cancel(pc->timer);
  auto cb = std::make_shared<EE::OnConnectCallback>(std::move(pc->on_connect));
  auto res = std::make_shared<absl::StatusOr<std::unique_ptr<EE::Endpoint>>>(std::move(result));
  pc->core->Deliver([cb, res] { (*cb)(std::move(*res)); });
  delete pc;
}

// A connect refused before lwIP saw it (an address not on the bypass interface), worded as
// gRPC's posix engine words a failed connect (err.h: ConnectFailed).
absl::Status NotConnected(const absl::Status& st) {
  return absl::UnknownError(absl::StrCat("Failed to connect to remote host: ", st.message()));
}

err_t OnConnected(void* arg, tcp_pcb* pcb, err_t err) {
  auto* pc = static_cast<PendingConnect*>(arg);
  if (err != ERR_OK) {  // (lwIP 2.1 reports failures through tcp_err)
    FinishConnect(pc, ConnectFailed(err));
    return ERR_ABRT;
  }
  tcp_arg(pcb, nullptr);
  tcp_err(pcb, nullptr);
  std::shared_ptr<EndpointImpl> ep = EndpointImpl::Adopt(pc->core, pcb, std::move(pc->allocator));
  FinishConnect(pc, std::unique_ptr<EE::Endpoint>(new LwipEndpoint(std::move(ep))));
  return ERR_OK;
}

void OnConnectErr(void* arg, err_t err) {
  auto* pc = static_cast<PendingConnect*>(arg);
  if (pc == nullptr) return;
  pc->pcb = nullptr;  // freed by lwIP
  FinishConnect(pc, ConnectFailed(err));
}

// Names through the system resolver; numeric addresses directly. Runs on the executor.
absl::StatusOr<std::vector<EE::ResolvedAddress>> Resolve(const std::string& name,
                                                          const std::string& default_port) {
  std::string host = name, port = default_port;
  if (!name.empty() && name[0] == '[') {
    const size_t close = name.find(']');
    if (close == std::string::npos) return absl::InvalidArgumentError(absl::StrCat("bad address '", name, "'"));
    host = name.substr(1, close - 1);
    if (close + 1 < name.size() && name[close + 1] == ':') port = name.substr(close + 2);
  } else if (std::count(name.begin(), name.end(), ':') == 1) {
    host = name.substr(0, name.find(':'));
    port = name.substr(name.find(':') + 1);
  }
  if (port.empty()) return absl::InvalidArgumentError(absl::StrCat("no port in '", name, "'"));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return absl::NotFoundError(absl::StrCat("resolving '", name, "': ", gai_strerror(rc)));
  }
  std::vector<EE::ResolvedAddress> out;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    out.emplace_back(ai->ai_addr, static_cast<socklen_t>(ai->ai_addrlen));
  }
  freeaddrinfo(res);
  return out;
}

// Lookups run off the stack (getaddrinfo may block) on the executor, results there too.
// gRPC >= 1.57: lookups return nothing and cannot be cancelled; before: a handle and a
// timeout (not applied: getaddrinfo has none).
class Resolver : public EE::DNSResolver {
 public:
  explicit Resolver(EngineCore* core) : core_(core) {}
#if GRPC_BYPASS_EE_DNS_STATUSOR
  void LookupHostname(LookupHostnameCallback on_resolve, absl::string_view name,
                      absl::string_view default_port) override {
    StartHostname(std::move(on_resolve), name, default_port);
  }
  void LookupSRV(LookupSRVCallback on_resolve, absl::string_view name) override {
    StartUnsupported(std::move(on_resolve), "SRV", name);
  }
  void LookupTXT(LookupTXTCallback on_resolve, absl::string_view name) override {
    StartUnsupported(std::move(on_resolve), "TXT", name);
  }
#else
  LookupTaskHandle LookupHostname(LookupHostnameCallback on_resolve, absl::string_view name,
                                  absl::string_view default_port, EE::Duration) override {
    StartHostname(std::move(on_resolve), name, default_port);
    return {{0, 0}};
  }
  LookupTaskHandle LookupSRV(LookupSRVCallback on_resolve, absl::string_view name,
                             EE::Duration) override {
    StartUnsupported(std::move(on_resolve), "SRV", name);
    return {{0, 0}};
  }
  LookupTaskHandle LookupTXT(LookupTXTCallback on_resolve, absl::string_view name,
                             EE::Duration) override {
    StartUnsupported(std::move(on_resolve), "TXT", name);
    return {{0, 0}};
  }
  bool CancelLookup(LookupTaskHandle) override { return false; }
#endif

 private:
  void StartHostname(LookupHostnameCallback on_resolve, absl::string_view name,
                     absl::string_view default_port) {
    core_->executor().Run([cb = std::move(on_resolve), n = std::string(name),
                           p = std::string(default_port)]() mutable { cb(Resolve(n, p)); });
  }
  template <typename Callback>
  void StartUnsupported(Callback on_resolve, const char* kind, absl::string_view name) {
    core_->executor().Run([cb = std::move(on_resolve), kind, n = std::string(name)]() mutable {
      cb(absl::UnimplementedError(absl::StrCat(kind, " lookup of '", n, "' is not supported")));
    });
  }
  EngineCore* core_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<EE::Listener>> LwipEventEngine::CreateListener(
    Listener::AcceptCallback on_accept, absl::AnyInvocable<void(absl::Status)> on_shutdown,
    const EndpointConfig&, std::unique_ptr<MemoryAllocatorFactory> memory_allocator_factory) {
  return std::make_unique<LwipListener>(std::make_unique<ListenerImpl>(
      core_, std::move(on_accept), std::move(on_shutdown), std::move(memory_allocator_factory)));
}

EE::ConnectionHandle LwipEventEngine::Connect(OnConnectCallback on_connect,
                                              const ResolvedAddress& addr, const EndpointConfig&,
                                              MemoryAllocator memory_allocator, Duration timeout) {
  NoInlineCompletions not_in_caller;  // on_connect never runs inside Connect()
  auto* pc = new PendingConnect{g_next_connect++, core_, std::move(on_connect),
                                std::move(memory_allocator)};
  const ConnectionHandle handle = HandleOf(pc->id);
  LwipAddress a;
  absl::Status st = ToLwip(addr, &a);
  if (st.ok()) st = CanConnect(core_->stack().config(), a);
  if (!st.ok()) {
    // Not ours: fail at once (the gRPC bridge routes such addresses to the kernel).
    auto cb = std::make_shared<OnConnectCallback>(std::move(pc->on_connect));
    core_->executor().Run([cb, st = NotConnected(st)] { (*cb)(st); });
    delete pc;
    return handle;
  }
  const int64_t id = pc->id;
  EngineCore* core = core_;
  auto start = [pc, a]() {
    Pending()[pc->id] = pc;
    pc->pcb = tcp_new_ip_type(IP_GET_TYPE(&a.ip));
    if (pc->pcb == nullptr) {
      FinishConnect(pc, ConnectFailed(ERR_MEM));
      return;
    }
    tcp_arg(pc->pcb, pc);
    tcp_err(pc->pcb, OnConnectErr);
    err_t e = tcp_connect(pc->pcb, &a.ip, a.port, OnConnected);
    if (e != ERR_OK) {
      tcp_arg(pc->pcb, nullptr);
      tcp_abort(pc->pcb);
      pc->pcb = nullptr;
      FinishConnect(pc, ConnectFailed(e));
    }
  };
  // The deadline: abort the attempt if it is still pending then.
  pc->timer = core_->timers().RunAfter(ToAbsl(timeout), [core, id] {
    core->stack().Run([id] {
      auto it = Pending().find(id);
      if (it == Pending().end()) return;
      PendingConnect* p = it->second;
      if (p->pcb != nullptr) {
        tcp_arg(p->pcb, nullptr);
        tcp_err(p->pcb, nullptr);
        tcp_abort(p->pcb);
        p->pcb = nullptr;
      }
      p->timer = 0;
      FinishConnect(p, absl::DeadlineExceededError("connect() timed out"));
    });
  });
  if (!core_->stack().Run(std::move(start))) {
    core_->timers().Cancel(pc->timer);
    auto cb = std::make_shared<OnConnectCallback>(std::move(pc->on_connect));
    core_->executor().Run([cb] { (*cb)(absl::UnavailableError("the bypass stack has stopped")); });
    delete pc;
  }
  return handle;
}

bool LwipEventEngine::CancelConnect(ConnectionHandle handle) {
  if (!IsOurs(handle)) return false;
  bool cancelled = false;
  core_->stack().RunSync([&] {
    auto it = Pending().find(handle.keys[0]);
    if (it == Pending().end()) return;  // already finished: nothing to cancel
    PendingConnect* pc = it->second;
    Pending().erase(it);
    if (pc->timer) core_->timers().Cancel(pc->timer);
    if (pc->pcb != nullptr) {
      tcp_arg(pc->pcb, nullptr);
      tcp_err(pc->pcb, nullptr);
      tcp_abort(pc->pcb);
    }
    delete pc;  // on_connect is not called for a cancelled connect
    cancelled = true;
  });
  return cancelled;
}

bool LwipEventEngine::IsWorkerThread() {
  return Executor::OnExecutorThread() || core_->stack().HoldsToken();
}

LwipEventEngine::DnsResolverResult LwipEventEngine::GetDNSResolver(
    const DNSResolver::ResolverOptions&) {
  return std::make_unique<Resolver>(core_);
}

void LwipEventEngine::Run(Closure* closure) {
  core_->RunSoon([closure] { closure->Run(); });
}

void LwipEventEngine::Run(absl::AnyInvocable<void()> closure) {
  core_->RunSoon(std::move(closure));
}

EE::TaskHandle LwipEventEngine::RunAfter(Duration when, Closure* closure) {
  return RunAfter(when, [closure] { closure->Run(); });
}

EE::TaskHandle LwipEventEngine::RunAfter(Duration when, absl::AnyInvocable<void()> closure) {
  const int64_t id = core_->timers().RunAfter(ToAbsl(when), std::move(closure));
  return TaskHandle{{static_cast<intptr_t>(id), 0x7472}};
}

bool LwipEventEngine::Cancel(TaskHandle handle) {
  if (handle.keys[1] != 0x7472) return false;
  return core_->timers().Cancel(handle.keys[0]);
}

}  // namespace grpc_bypass::engine
