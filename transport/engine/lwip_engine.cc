#include "transport/engine/lwip_engine.h"

#include <netdb.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "transport/engine/lwip_endpoint.h"
#include "transport/engine/lwip_listener.h"

namespace grpc_bypass::engine {
namespace {

using grpc_event_engine::experimental::MemoryAllocator;
using EE = grpc_event_engine::experimental::EventEngine;

absl::Duration ToAbsl(EE::Duration d) { return absl::Nanoseconds(d.count()); }

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
  return Router::LwipHandle(core_->connector().Connect(std::move(on_connect), addr,
                                             std::move(memory_allocator), ToAbsl(timeout)));
}

bool LwipEventEngine::CancelConnect(ConnectionHandle handle) {
  return Router::IsLwipHandle(handle) && core_->connector().Cancel(handle.keys[0]);
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
