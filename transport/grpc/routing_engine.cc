#include "transport/grpc/routing_engine.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "transport/engine/address.h"
#include "transport/engine/lwip_engine.h"
#if GRPC_BYPASS_TCP_THROUGH_EVENT_ENGINE
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "transport/grpc/iomgr_bridge.h"  // BridgeStats
#if !GRPC_BYPASS_EE_SET_DEFAULT
#include "src/core/lib/event_engine/default_event_engine_factory.h"
#endif
#endif

namespace grpc_bypass {
namespace {

using grpc_event_engine::experimental::EndpointConfig;
using grpc_event_engine::experimental::EventEngine;
using grpc_event_engine::experimental::MemoryAllocator;
using grpc_event_engine::experimental::MemoryAllocatorFactory;

// Lets two listeners share one MemoryAllocatorFactory.
class SharedFactory : public MemoryAllocatorFactory {
 public:
  explicit SharedFactory(std::shared_ptr<MemoryAllocatorFactory> f) : f_(std::move(f)) {}
  MemoryAllocator CreateMemoryAllocator(absl::string_view name) override {
    return f_->CreateMemoryAllocator(name);
  }

 private:
  std::shared_ptr<MemoryAllocatorFactory> f_;
};

}  // namespace

// ---- listener -------------------------------------------------------------------------------

// Owns up to two listeners (bypass, fallback) created lazily by Bind. The user's on_shutdown
// runs once, after every inner listener has shut down.
class RoutingEventEngine::RoutingListener : public EventEngine::Listener {
 public:
  struct Shared {
    Listener::AcceptCallback on_accept;
    absl::AnyInvocable<void(absl::Status)> on_shutdown;
    std::shared_ptr<MemoryAllocatorFactory> factory;
    absl::Mutex mu;
    int live ABSL_GUARDED_BY(mu) = 0;  // inner listeners not yet shut down
    absl::Status status ABSL_GUARDED_BY(mu);
  };

  RoutingListener(RoutingEventEngine* engine, std::shared_ptr<Shared> shared,
                  const EndpointConfig& config)
      : engine_(engine), shared_(std::move(shared)), config_(config) {}

  ~RoutingListener() override {
    const bool none = bypass_ == nullptr && fallback_ == nullptr;
    bypass_.reset();
    fallback_.reset();
    if (none && shared_->on_shutdown) shared_->on_shutdown(absl::OkStatus());
  }

  absl::StatusOr<int> Bind(const ResolvedAddress& addr) override {
    const engine::Router::BindRoute route = engine_->core_->router().RouteBind(addr);
    int port = -1;
    if (route.bypass) {
      absl::StatusOr<Listener*> l = Get(/*bypass=*/true);
      if (!l.ok()) return l.status();
      absl::StatusOr<int> p = (*l)->Bind(addr);
      if (!p.ok()) return p;
      port = *p;
    }
    if (route.kernel) {
      absl::StatusOr<Listener*> l = Get(/*bypass=*/false);
      if (!l.ok()) return l.status();
      // Beside the bypass: the kernel listens on the port the bypass chose.
      absl::StatusOr<int> p =
          (*l)->Bind(port > 0 ? engine::Router::KernelTwin(addr, port) : addr);
      if (!p.ok()) return p;
      if (port < 0) port = *p;
    }
    return port;
  }

  absl::Status Start() override {
    for (Listener* l : {bypass_.get(), fallback_.get()}) {
      if (l == nullptr) continue;
      absl::Status st = l->Start();
      if (!st.ok()) return st;
    }
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<Listener*> Get(bool bypass) {
    std::unique_ptr<Listener>& slot = bypass ? bypass_ : fallback_;
    if (slot != nullptr) return slot.get();
    std::shared_ptr<Shared> sh = shared_;
    {
      absl::MutexLock lock(&sh->mu);
      sh->live++;
    }
    EventEngine* e = bypass ? engine_->bypass_.get() : engine_->fallback_.get();
    absl::StatusOr<std::unique_ptr<Listener>> l = e->CreateListener(
        [sh, bypass, core = engine_->core_](std::unique_ptr<Endpoint> ep, MemoryAllocator alloc) {
          if (bypass) core->router().CountAccept();
          sh->on_accept(std::move(ep), std::move(alloc));
        },
        [sh](absl::Status st) {
          absl::AnyInvocable<void(absl::Status)> done;
          absl::Status result;
          {
            absl::MutexLock lock(&sh->mu);
            if (!st.ok() && sh->status.ok()) sh->status = st;
            if (--sh->live == 0) {
              done = std::move(sh->on_shutdown);
              result = sh->status;
            }
          }
          if (done) done(result);
        },
        config_, std::make_unique<SharedFactory>(sh->factory));
    if (!l.ok()) {
      absl::MutexLock lock(&sh->mu);
      sh->live--;
      return l.status();
    }
    slot = *std::move(l);
    return slot.get();
  }

  RoutingEventEngine* const engine_;
  const std::shared_ptr<Shared> shared_;
  const EndpointConfig& config_;  // gRPC keeps the listener's config alive while it exists
  std::unique_ptr<Listener> bypass_;
  std::unique_ptr<Listener> fallback_;
};

// ---- engine -------------------------------------------------------------------------------

RoutingEventEngine::RoutingEventEngine(engine::EngineCore* core,
                                       std::shared_ptr<EventEngine> fallback)
    : core_(core),
      bypass_(std::make_shared<engine::LwipEventEngine>(core)),
      fallback_(std::move(fallback)) {}

RoutingEventEngine::~RoutingEventEngine() = default;

absl::StatusOr<std::unique_ptr<EventEngine::Listener>> RoutingEventEngine::CreateListener(
    Listener::AcceptCallback on_accept, absl::AnyInvocable<void(absl::Status)> on_shutdown,
    const EndpointConfig& config, std::unique_ptr<MemoryAllocatorFactory> factory) {
  auto shared = std::make_shared<RoutingListener::Shared>();
  shared->on_accept = std::move(on_accept);
  shared->on_shutdown = std::move(on_shutdown);
  shared->factory = std::move(factory);
  return std::make_unique<RoutingListener>(this, std::move(shared), config);
}

EventEngine::ConnectionHandle RoutingEventEngine::Connect(OnConnectCallback on_connect,
                                                          const ResolvedAddress& addr,
                                                          const EndpointConfig& args,
                                                          MemoryAllocator memory_allocator,
                                                          Duration timeout) {
  const bool bypass = core_->router().RouteConnect(addr);
  int64_t id;
  {
    absl::MutexLock lock(&mu_);
    id = next_id_++;
    pending_[id] = Pending{bypass, false, {}};
  }
  // The callback may run before Connect returns (on another thread): it removes the entry,
  // and the handle is recorded below only if the entry is still there.
  EventEngine* e = bypass ? bypass_.get() : fallback_.get();
  ConnectionHandle real = e->Connect(
      [this, id, cb = std::move(on_connect)](
          absl::StatusOr<std::unique_ptr<Endpoint>> ep) mutable {
        {
          absl::MutexLock lock(&mu_);
          pending_.erase(id);
        }
        cb(std::move(ep));
      },
      addr, args, std::move(memory_allocator), timeout);
  {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(id);
    if (it != pending_.end()) {
      it->second.real = real;
      it->second.has_real = true;
    }
  }
  return engine::Router::RoutedHandle(id);
}

bool RoutingEventEngine::CancelConnect(ConnectionHandle handle) {
  if (!engine::Router::IsRoutedHandle(handle)) return false;
  Pending p;
  {
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(handle.keys[0]);
    if (it == pending_.end() || !it->second.has_real) return false;
    p = it->second;
  }
  return (p.bypass ? bypass_ : fallback_)->CancelConnect(p.real);
}

bool RoutingEventEngine::IsWorkerThread() {
  return bypass_->IsWorkerThread() || fallback_->IsWorkerThread();
}

#if GRPC_BYPASS_EE_DNS_STATUSOR
absl::StatusOr<std::unique_ptr<EventEngine::DNSResolver>> RoutingEventEngine::GetDNSResolver(
    const DNSResolver::ResolverOptions& options) {
  return fallback_->GetDNSResolver(options);
}
#else
std::unique_ptr<EventEngine::DNSResolver> RoutingEventEngine::GetDNSResolver(
    const DNSResolver::ResolverOptions& options) {
  return fallback_->GetDNSResolver(options);
}
#endif

void RoutingEventEngine::Run(Closure* closure) { bypass_->Run(closure); }
void RoutingEventEngine::Run(absl::AnyInvocable<void()> closure) {
  bypass_->Run(std::move(closure));
}
EventEngine::TaskHandle RoutingEventEngine::RunAfter(Duration when, Closure* closure) {
  return bypass_->RunAfter(when, closure);
}
EventEngine::TaskHandle RoutingEventEngine::RunAfter(Duration when,
                                                     absl::AnyInvocable<void()> closure) {
  return bypass_->RunAfter(when, std::move(closure));
}
bool RoutingEventEngine::Cancel(TaskHandle handle) { return bypass_->Cancel(handle); }

#if GRPC_BYPASS_TCP_THROUGH_EVENT_ENGINE
// Built and tested by tools/test in the modern root (Debian's gRPC 1.83); also compiled and run
// by hand against gRPC 1.60, 1.68 and 1.76 builds (README, "gRPC versions").
void InstallRoutingEngine(engine::EngineCore* core) {
#if !GRPC_BYPASS_EE_CLIENT_BY_DEFAULT
  // 1.60-1.67: client connections go through the EventEngine only with this experiment.
  const char* e = std::getenv("GRPC_EXPERIMENTS");
  std::string experiments = e == nullptr ? "" : e;
  if (!absl::StrContains(experiments, "event_engine_client")) {
    experiments += experiments.empty() ? "event_engine_client" : ",event_engine_client";
    setenv("GRPC_EXPERIMENTS", experiments.c_str(), 1);
  }
#endif
#if GRPC_BYPASS_EE_SET_DEFAULT
  // gRPC's own engine (no factory is set: the default one), then ours in front of it.
  std::shared_ptr<EventEngine> fallback = grpc_event_engine::experimental::CreateEventEngine();
  grpc_event_engine::experimental::SetDefaultEventEngine(
      std::make_shared<RoutingEventEngine>(core, std::move(fallback)));
#else
  // 1.60-1.70: the factory returns unique_ptr, and so does the default factory.
  grpc_event_engine::experimental::SetEventEngineFactory(
      [core]() -> std::unique_ptr<EventEngine> {
        return std::make_unique<RoutingEventEngine>(
            core, std::shared_ptr<EventEngine>(
                      grpc_event_engine::experimental::DefaultEventEngineFactory()));
      });
#endif
}

BridgeStats GetBridgeStats() {
  // Open bypass endpoints: the engine's own count (opened by connects and accepts); 0 before
  // the core has started.
  uint64_t open = 0;
  if (engine::EngineCore* core = engine::EngineCore::Get(); core != nullptr) {
    open = core->counters().endpoints_opened.Get() - core->counters().endpoints_closed.Get();
  }
  return BridgeStats{open};
}
#endif

}  // namespace grpc_bypass
