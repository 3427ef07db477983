#include "transport/grpc/iomgr_bridge.h"
#include "transport/grpc/grpc_version.h"
// gRPC < 1.60 only: later versions route TCP through the EventEngine (routing_engine.h).
#if !GRPC_BYPASS_TCP_THROUGH_EVENT_ENGINE

#include <grpc/event_engine/event_engine.h>
#include <grpc/support/alloc.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "src/core/lib/event_engine/channel_args_endpoint_config.h"
#include "src/core/lib/gprpp/debug_location.h"
#include "src/core/lib/iomgr/closure.h"
#include "src/core/lib/iomgr/endpoint.h"
#include "src/core/lib/iomgr/exec_ctx.h"
#include "src/core/lib/iomgr/resolved_address.h"
#include "src/core/lib/iomgr/tcp_client.h"
#include "src/core/lib/iomgr/tcp_server.h"
#include "src/core/lib/resource_quota/api.h"
#include "src/core/lib/resource_quota/resource_quota.h"
#include "transport/engine/address.h"
#include "transport/engine/engine_core.h"
#include "transport/engine/lwip_endpoint.h"
#include "transport/engine/lwip_engine.h"

extern grpc_tcp_client_vtable grpc_posix_tcp_client_vtable;
extern grpc_tcp_server_vtable grpc_posix_tcp_server_vtable;

namespace grpc_bypass {
namespace {

using grpc_event_engine::experimental::EventEngine;
using grpc_event_engine::experimental::Slice;
using grpc_event_engine::experimental::SliceBuffer;
using EE = EventEngine;

// (The core: engine::EngineCore::Get(), set before these vtables are installed. Routing and its
// counters: the core's Router.)
engine::EngineCore& Core() { return *engine::EngineCore::Get(); }
// An EventEngine over the core: a thin object, made per call (it holds only the core).
engine::LwipEventEngine Engine() { return engine::LwipEventEngine(&Core()); }
// A gauge (grpc_endpoints of ours alive), global because grpc_endpoint_vtable's destroy has
// no user data beyond the endpoint.
std::atomic<uint64_t> g_open_endpoints{0};

// gRPC's execution contexts for a callback from the engine. Completions run to completion on
// whichever thread polled them: a gRPC poller already has an ExecCtx (its closures are then
// flushed by that poller, or by the caller of grpc_endpoint_read when a read completes inline),
// the background poller and the engine's executor have none.
class CallbackScope {
 public:
  CallbackScope() {
    if (grpc_core::ExecCtx::Get() == nullptr) {
      app_ctx_.emplace();
      exec_ctx_.emplace();
    }
  }

 private:
  std::optional<grpc_core::ApplicationCallbackExecCtx> app_ctx_;
  std::optional<grpc_core::ExecCtx> exec_ctx_;
};

EE::ResolvedAddress ToEE(const grpc_resolved_address* a) {
  return EE::ResolvedAddress(reinterpret_cast<const sockaddr*>(a->addr), a->len);
}

std::string Uri(const EE::ResolvedAddress& a) {
  return absl::StrCat(a.address()->sa_family == AF_INET6 ? "ipv6:" : "ipv4:", engine::ToString(a));
}

// ---- grpc_endpoint over an EventEngine endpoint -----------------------------------------
// Refs: one for gRPC (dropped by destroy) and one per pending read or write.

struct BridgeEndpoint {
  grpc_endpoint base;
  std::atomic<int> refs{1};
  absl::Mutex mu;
  std::unique_ptr<EE::Endpoint> ee ABSL_GUARDED_BY(mu);
  std::string peer, local;
  SliceBuffer read_buf, write_buf;  // one read and one write at a time (gRPC's contract)
  grpc_slice_buffer* read_out = nullptr;
};

void Unref(BridgeEndpoint* ep) {
  if (ep->refs.fetch_sub(1) == 1) {
    g_open_endpoints--;
    delete ep;
  }
}

void EpRead(grpc_endpoint* base, grpc_slice_buffer* slices, grpc_closure* cb, bool, int) {
  auto* ep = reinterpret_cast<BridgeEndpoint*>(base);
  absl::MutexLock lock(&ep->mu);
  if (ep->ee == nullptr) {
    grpc_core::ExecCtx::Run(DEBUG_LOCATION, cb, absl::InternalError("Endpoint shutdown"));
    return;
  }
  ep->refs++;
  ep->read_out = slices;
  // May complete before it returns (the data is there): the closure then runs from the
  // caller's ExecCtx, after it returns.
  static_cast<engine::LwipEndpoint*>(ep->ee.get())->ReadMayCompleteInline(
      [ep, cb](absl::Status st) {
        CallbackScope scope;
        grpc_slice_buffer_move_into(ep->read_buf.c_slice_buffer(), ep->read_out);
        grpc_core::ExecCtx::Run(DEBUG_LOCATION, cb, st);
        Unref(ep);
      },
      &ep->read_buf);
}

void EpWrite(grpc_endpoint* base, grpc_slice_buffer* slices, grpc_closure* cb, void*, int) {
  auto* ep = reinterpret_cast<BridgeEndpoint*>(base);
  absl::MutexLock lock(&ep->mu);
  if (ep->ee == nullptr) {
    grpc_core::ExecCtx::Run(DEBUG_LOCATION, cb, absl::InternalError("Endpoint shutdown"));
    return;
  }
  ep->write_buf.Clear();
  for (size_t i = 0; i < slices->count; ++i) {
    ep->write_buf.Append(Slice(grpc_slice_ref(slices->slices[i])));  // gRPC keeps them alive
  }
  ep->refs++;
  // The write goes to lwIP and tx_burst on this thread when the stack token is free.
  static_cast<engine::LwipEndpoint*>(ep->ee.get())->WriteMayCompleteInline(
      [ep, cb](absl::Status st) {
        CallbackScope scope;
        ep->write_buf.Clear();
        grpc_core::ExecCtx::Run(DEBUG_LOCATION, cb, st);
        Unref(ep);
      },
      &ep->write_buf);
}

void EpShutdown(grpc_endpoint* base, grpc_error_handle) {
  auto* ep = reinterpret_cast<BridgeEndpoint*>(base);
  std::unique_ptr<EE::Endpoint> dying;
  {
    absl::MutexLock lock(&ep->mu);
    dying = std::move(ep->ee);
  }
  // Destroying it completes pending reads and writes with an error (on the executor).
}

void EpDestroy(grpc_endpoint* base) {
  EpShutdown(base, absl::OkStatus());
  Unref(reinterpret_cast<BridgeEndpoint*>(base));
}

void EpNoPollset(grpc_endpoint*, grpc_pollset*) {}
void EpNoPollsetSet(grpc_endpoint*, grpc_pollset_set*) {}
absl::string_view EpPeer(grpc_endpoint* base) { return reinterpret_cast<BridgeEndpoint*>(base)->peer; }
absl::string_view EpLocal(grpc_endpoint* base) { return reinterpret_cast<BridgeEndpoint*>(base)->local; }
int EpFd(grpc_endpoint*) { return -1; }
bool EpCanTrackErr(grpc_endpoint*) { return false; }

const grpc_endpoint_vtable kEndpointVtable = {
    EpRead,  EpWrite, EpNoPollset, EpNoPollsetSet, EpNoPollsetSet, EpShutdown,
    EpDestroy, EpPeer, EpLocal, EpFd, EpCanTrackErr};

grpc_endpoint* WrapEndpoint(std::unique_ptr<EE::Endpoint> ee) {
  auto* ep = new BridgeEndpoint();
  ep->base.vtable = &kEndpointVtable;
  ep->peer = Uri(ee->GetPeerAddress());
  ep->local = Uri(ee->GetLocalAddress());
  {
    absl::MutexLock lock(&ep->mu);
    ep->ee = std::move(ee);
  }
  g_open_endpoints++;
  return &ep->base;
}

// The quota of a channel or server (its channel args), or gRPC's default one.
grpc_core::ResourceQuotaRefPtr QuotaOf(const grpc_event_engine::experimental::EndpointConfig& config) {
  grpc_core::ResourceQuotaRefPtr quota = grpc_core::ResourceQuotaFromEndpointConfig(config);
  return quota != nullptr ? quota : grpc_core::ResourceQuota::Default();
}

grpc_event_engine::experimental::MemoryAllocator AllocatorFor(
    const grpc_event_engine::experimental::EndpointConfig& config, const std::string& name) {
  return QuotaOf(config)->memory_quota()->CreateMemoryAllocator(name);
}

// ---- client -------------------------------------------------------------------------------
int64_t ClientConnect(grpc_closure* on_connect, grpc_endpoint** endpoint,
                      grpc_pollset_set* interested_parties,
                      const grpc_event_engine::experimental::EndpointConfig& config,
                      const grpc_resolved_address* addr, grpc_core::Timestamp deadline) {
  if (!Core().router().RouteConnect(ToEE(addr))) {
    return grpc_posix_tcp_client_vtable.connect(on_connect, endpoint, interested_parties, config,
                                                addr, deadline);
  }
  *endpoint = nullptr;
  const grpc_core::Duration timeout = deadline - grpc_core::Timestamp::Now();
  EE::ConnectionHandle h = Engine().Connect(
      [on_connect, endpoint](absl::StatusOr<std::unique_ptr<EE::Endpoint>> r) {
        CallbackScope scope;
        absl::Status st = r.status();
        if (r.ok()) *endpoint = WrapEndpoint(std::move(*r));
        grpc_core::ExecCtx::Run(DEBUG_LOCATION, on_connect, st);
      },
      ToEE(addr), config, AllocatorFor(config, "bypass-client"),
      std::chrono::milliseconds(std::max<int64_t>(1, timeout.millis())));
  return engine::Router::IomgrHandle(h.keys[0]);
}

bool ClientCancelConnect(int64_t handle) {
  if (engine::Router::IsIomgrBypassHandle(handle)) {
    return Engine().CancelConnect(
        engine::Router::LwipHandle(engine::Router::IomgrHandleId(handle)));
  }
  return grpc_posix_tcp_client_vtable.cancel_connect(handle);
}

// ---- server -------------------------------------------------------------------------------
// A bridge server holds a posix server for kernel addresses and, when a bypass address is
// added, an EventEngine listener. Accepts from either reach gRPC as coming from the bridge
// server (gRPC calls grpc_tcp_server_* on acceptor->from_server, i.e. back into this vtable).

constexpr uint64_t kBridgeServerMagic = 0x7373617079426721;  // tags our servers

struct BridgeServer {
  // First: gRPC's posix server calls the global grpc_tcp_server_* functions (i.e. this
  // vtable) on its own servers, so every entry point checks whose server it was given.
  uint64_t magic = kBridgeServerMagic;
  std::shared_ptr<BridgeServer> self;  // released when shutdown completes
  std::atomic<int> refs{1};
  grpc_closure* shutdown_complete;
  grpc_tcp_server* posix = nullptr;
  std::unique_ptr<EE::Listener> listener;
  grpc_core::ResourceQuotaRefPtr quota;  // the server's (ServerBuilder::SetResourceQuota)
  std::vector<grpc_closure*> shutdown_starting;
  std::vector<grpc_pollset*> pollsets;
  std::atomic<size_t> next_pollset{0};
  std::atomic<grpc_tcp_server_cb> on_accept{nullptr};
  void* cb_arg = nullptr;
  grpc_core::ChannelArgs args;
};

grpc_tcp_server* AsServer(BridgeServer* s) { return reinterpret_cast<grpc_tcp_server*>(s); }
BridgeServer* AsBridge(grpc_tcp_server* s) { return reinterpret_cast<BridgeServer*>(s); }
bool IsBridge(grpc_tcp_server* s) {
  uint64_t m;
  std::memcpy(&m, s, sizeof(m));
  return m == kBridgeServerMagic;
}

class QuotaFactory : public grpc_event_engine::experimental::MemoryAllocatorFactory {
 public:
  explicit QuotaFactory(grpc_core::ResourceQuotaRefPtr q) : quota_(std::move(q)) {}
  grpc_event_engine::experimental::MemoryAllocator CreateMemoryAllocator(absl::string_view name) override {
    return quota_->memory_quota()->CreateMemoryAllocator(name);
  }
 private:
  grpc_core::ResourceQuotaRefPtr quota_;
};

void PosixShutdownDone(void* arg, grpc_error_handle) {
  auto* s = static_cast<BridgeServer*>(arg);
  grpc_core::ExecCtx::Run(DEBUG_LOCATION, s->shutdown_complete, absl::OkStatus());
  s->self.reset();  // accepts still queued hold only weak references
}

// Posix accepts: present them as the bridge server's.
void PosixAccepted(void* arg, grpc_endpoint* ep, grpc_pollset* pollset,
                   grpc_tcp_server_acceptor* acceptor) {
  auto* s = static_cast<BridgeServer*>(arg);
  acceptor->from_server = AsServer(s);
  grpc_tcp_server_cb cb = s->on_accept.load();
  if (cb == nullptr) {
    grpc_endpoint_destroy(ep);
    gpr_free(acceptor);
    return;
  }
  cb(s->cb_arg, ep, pollset, acceptor);
}

grpc_error_handle ServerCreate(grpc_closure* shutdown_complete,
                               const grpc_event_engine::experimental::EndpointConfig& config,
                               grpc_tcp_server** server) {
  auto sp = std::make_shared<BridgeServer>();
  BridgeServer* s = sp.get();
  s->self = sp;
  s->shutdown_complete = shutdown_complete;
  // A gRPC-owned closure (freed by gRPC after it ran): PosixShutdownDone frees `s`.
  grpc_error_handle err = grpc_posix_tcp_server_vtable.create(
      GRPC_CLOSURE_CREATE(PosixShutdownDone, s, nullptr), config, &s->posix);
  if (!err.ok()) {
    s->self.reset();
    return err;
  }
  s->quota = QuotaOf(config);
  *server = AsServer(s);
  return absl::OkStatus();
}

void BypassAccepted(BridgeServer* s, std::unique_ptr<EE::Endpoint> ee) {
  CallbackScope scope;
  Core().router().CountAccept();
  auto* acceptor = static_cast<grpc_tcp_server_acceptor*>(gpr_zalloc(sizeof(grpc_tcp_server_acceptor)));
  acceptor->from_server = AsServer(s);
  acceptor->port_index = 0;
  acceptor->fd_index = 0;
  acceptor->external_connection = false;
  acceptor->listener_fd = -1;
  acceptor->pending_data = nullptr;
  grpc_pollset* ps = s->pollsets.empty() ? nullptr : s->pollsets[s->next_pollset++ % s->pollsets.size()];
  grpc_tcp_server_cb cb = s->on_accept.load();
  if (cb == nullptr) {  // shutting down: drop the connection
    gpr_free(acceptor);
    return;
  }
  cb(s->cb_arg, WrapEndpoint(std::move(ee)), ps, acceptor);
}

grpc_error_handle EnsureListener(BridgeServer* s) {
  if (s->listener) return absl::OkStatus();
  std::weak_ptr<BridgeServer> weak = s->self;
  auto l = Engine().CreateListener(
      [weak](std::unique_ptr<EE::Endpoint> ep, grpc_event_engine::experimental::MemoryAllocator) {
        if (std::shared_ptr<BridgeServer> sp = weak.lock()) BypassAccepted(sp.get(), std::move(ep));
      },
      [](absl::Status) {}, grpc_event_engine::experimental::ChannelArgsEndpointConfig(s->args),
      // Connections accepted over the bypass are charged to the server's quota, as the
      // posix server's are.
      std::make_unique<QuotaFactory>(s->quota));
  if (!l.ok()) return l.status();
  s->listener = std::move(*l);
  return absl::OkStatus();
}

grpc_error_handle ServerAddPort(grpc_tcp_server* server, const grpc_resolved_address* addr,
                                int* out_port) {
  if (!IsBridge(server)) return grpc_posix_tcp_server_vtable.add_port(server, addr, out_port);
  BridgeServer* s = AsBridge(server);
  const engine::Router::BindRoute route = Core().router().RouteBind(ToEE(addr));
  if (!route.bypass) return grpc_posix_tcp_server_vtable.add_port(s->posix, addr, out_port);
  grpc_error_handle err = EnsureListener(s);
  if (!err.ok()) return err;
  absl::StatusOr<int> port = s->listener->Bind(ToEE(addr));
  if (!port.ok()) return port.status();
  *out_port = *port;
  if (route.kernel) {  // the same wildcard, on the port the bypass chose
    const EE::ResolvedAddress twin = engine::Router::KernelTwin(ToEE(addr), *port);
    grpc_resolved_address k{};
    std::memcpy(k.addr, twin.address(), twin.size());
    k.len = twin.size();
    int kport = 0;
    err = grpc_posix_tcp_server_vtable.add_port(s->posix, &k, &kport);
    if (!err.ok()) return err;
  }
  return absl::OkStatus();
}

void ServerStart(grpc_tcp_server* server, const std::vector<grpc_pollset*>* pollsets,
                 grpc_tcp_server_cb on_accept_cb, void* cb_arg) {
  if (!IsBridge(server)) return grpc_posix_tcp_server_vtable.start(server, pollsets, on_accept_cb, cb_arg);
  BridgeServer* s = AsBridge(server);
  s->pollsets = *pollsets;
  s->on_accept = on_accept_cb;
  s->cb_arg = cb_arg;
  grpc_posix_tcp_server_vtable.start(s->posix, pollsets, PosixAccepted, s);
  if (s->listener) {
    absl::Status st = s->listener->Start();
    if (!st.ok()) gpr_log(GPR_ERROR, "grpc-bypass: listener start failed: %s", st.ToString().c_str());
  }
}

grpc_core::TcpServerFdHandler* ServerCreateFdHandler(grpc_tcp_server* server) {
  if (!IsBridge(server)) return grpc_posix_tcp_server_vtable.create_fd_handler(server);
  return nullptr;  // no externally accepted connections on the bypass
}
unsigned ServerPortFdCount(grpc_tcp_server* server, unsigned port_index) {
  if (!IsBridge(server)) return grpc_posix_tcp_server_vtable.port_fd_count(server, port_index);
  return 0;
}
int ServerPortFd(grpc_tcp_server* server, unsigned port_index, unsigned fd_index) {
  if (!IsBridge(server)) return grpc_posix_tcp_server_vtable.port_fd(server, port_index, fd_index);
  return -1;
}

grpc_tcp_server* ServerRef(grpc_tcp_server* server) {
  if (!IsBridge(server)) return grpc_posix_tcp_server_vtable.ref(server);
  AsBridge(server)->refs++;
  return server;
}

void ServerShutdownStartingAdd(grpc_tcp_server* server, grpc_closure* closure) {
  if (!IsBridge(server)) return grpc_posix_tcp_server_vtable.shutdown_starting_add(server, closure);
  AsBridge(server)->shutdown_starting.push_back(closure);
}

void ServerShutdownListeners(grpc_tcp_server* server) {
  if (!IsBridge(server)) return grpc_posix_tcp_server_vtable.shutdown_listeners(server);
  BridgeServer* s = AsBridge(server);
  s->on_accept = nullptr;
  s->listener.reset();  // closes the bypass listening pcbs
  grpc_posix_tcp_server_vtable.shutdown_listeners(s->posix);
}

void ServerUnref(grpc_tcp_server* server) {
  if (!IsBridge(server)) return grpc_posix_tcp_server_vtable.unref(server);
  BridgeServer* s = AsBridge(server);
  if (s->refs.fetch_sub(1) != 1) return;
  for (grpc_closure* c : s->shutdown_starting) {
    grpc_core::ExecCtx::Run(DEBUG_LOCATION, c, absl::OkStatus());
  }
  s->on_accept = nullptr;
  s->listener.reset();
  // The posix server's shutdown completes ours (PosixShutdownDone), then frees `s`.
  grpc_posix_tcp_server_vtable.unref(s->posix);
}

}  // namespace

void InstallIomgrBridge(engine::EngineCore* core) {
  // Every pass over the stack runs in gRPC's execution contexts: the completions it runs call
  // into gRPC, and gRPC's memory quota (reserved on the stack for received data) wakes its
  // reclaimer through ExecCtx::Run.
  core->stack().SetScope([](absl::FunctionRef<void()> fn) {
    CallbackScope scope;
    fn();
  });
  // gRPC keeps the vtables by pointer for the process: static storage, set up here only.
  static grpc_tcp_client_vtable client = {ClientConnect, ClientCancelConnect};
  static grpc_tcp_server_vtable server = {
      ServerCreate,      ServerStart,    ServerAddPort,
      ServerCreateFdHandler, ServerPortFdCount, ServerPortFd,
      ServerRef,         ServerShutdownStartingAdd, ServerUnref,
      ServerShutdownListeners};
  grpc_set_tcp_client_impl(&client);
  grpc_set_tcp_server_impl(&server);
}

BridgeStats GetBridgeStats() {
  return BridgeStats{g_open_endpoints.load()};
}

}  // namespace grpc_bypass

#endif  // !GRPC_BYPASS_TCP_THROUGH_EVENT_ENGINE
