#include "transport/grpc/enable.h"

#include <grpc/grpc.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "transport/engine/engine_core.h"
#include "transport/grpc/iomgr_bridge.h"
#include "transport/grpc/version_check.h"

namespace grpc_bypass {
namespace {

absl::Mutex g_mu;
bool g_enabled ABSL_GUARDED_BY(g_mu) = false;
engine::EngineCore* g_core = nullptr;

bool g_summary_at_exit = true;

// Runs before gRPC's static destructors (registered after they were constructed): print the
// summary, then stop our threads so that nothing calls into gRPC while it is torn down.
void AtExit() {
  if (g_summary_at_exit) std::fprintf(stderr, "%s\n", StatsSummary().c_str());
  g_core->Shutdown();
}

}  // namespace

absl::StatusOr<Options> OptionsFromEnvironment() {
  absl::StatusOr<StackConfig> stack = StackConfigFromEnvironment();
  if (!stack.ok()) return stack.status();
  Options o;
  o.stack = *stack;
  const char* k = std::getenv("BYPASS_KERNEL_TOO");
  o.wildcard_also_on_kernel = k != nullptr && std::string(k) == "1";
  const char* sum = std::getenv("BYPASS_SUMMARY");
  o.summary_at_exit = sum == nullptr || std::string(sum) != "0";
  return o;
}

absl::Status Enable() {
  absl::StatusOr<Options> o = OptionsFromEnvironment();
  if (!o.ok()) return o.status();
  return Enable(*o);
}

absl::Status Enable(const Options& options) {
  absl::MutexLock lock(&g_mu);
  if (g_enabled) return absl::FailedPreconditionError("grpc_bypass::Enable() was already called");
  absl::Status st = CheckGrpcRuntimeVersion();
  if (!st.ok()) return st;
  if (grpc_is_initialized()) {
    return absl::FailedPreconditionError(
        "grpc_bypass::Enable() called too late: gRPC is already initialized; call it at the "
        "start of main(), before any gRPC server, channel or stub exists");
  }
  absl::StatusOr<engine::EngineCore*> core = engine::EngineCore::Start(options.stack);
  if (!core.ok()) return core.status();
  g_core = *core;
  // The first grpc_init fixes the iomgr platform (installing the posix vtables); ours go on
  // top and stay for later init/shutdown cycles. This reference is kept for the process.
  grpc_init();
  BridgeOptions bo;
  bo.wildcard_also_on_kernel = options.wildcard_also_on_kernel;
  InstallIomgrBridge(g_core, bo);
  g_enabled = true;
  g_summary_at_exit = options.summary_at_exit;
  std::atexit(AtExit);
  return absl::OkStatus();
}

std::string StatsSummary() {
  if (g_core == nullptr) return "grpc-bypass: not enabled";
  BridgeStats b = GetBridgeStats();
  return absl::StrCat(g_core->stack().Summary(), " | grpc bypass connects ", b.bypass_connects,
                      " accepts ", b.bypass_accepts, " kernel connects ", b.kernel_connects,
                      " open endpoints ", b.bypass_endpoints_open);
}

}  // namespace grpc_bypass
