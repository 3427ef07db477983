// gRPC 1.51.1's own EventEngine conformance suite (client_test, server_test, timer_test, from
// Debian's grpc source package) with our LwipEventEngine as the engine under test and the
// suite's PosixOracleEventEngine (blocking kernel sockets) as the oracle.
//
// Run by tests/integration/run_in_tap_ns.sh inside a network namespace: our stack owns fd00:77::2 on a
// net_tap port, the kernel owns fd00:77::1 on the other side (the address patch points the
// suite's [::1] there). KERNEL_SETUP is a shell command run once our tap
// interface exists, to give the kernel side its address.
#include <cstdlib>
#include <memory>

#include <gtest/gtest.h>

#include <grpc/grpc.h>

#include "test/core/event_engine/test_suite/event_engine_test.h"
#include "test/core/event_engine/test_suite/oracle_event_engine_posix.h"
#include "test/core/util/test_config.h"
#include "transport/engine/engine_core.h"
#include "transport/engine/lwip_engine.h"
#include "transport/lwip/config.h"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  grpc::testing::TestEnvironment env(&argc, argv);
  absl::StatusOr<grpc_bypass::StackConfig> cfg = grpc_bypass::StackConfigFromEnvironment();
  grpc_bypass::ExitIfError(cfg.status(), "conformance");
  absl::StatusOr<grpc_bypass::engine::EngineCore*> core =
      grpc_bypass::engine::EngineCore::Start(*cfg);
  grpc_bypass::ExitIfError(core.status(), "conformance");
  if (const char* setup = std::getenv("KERNEL_SETUP")) {
    if (std::system(setup) != 0) {
      std::fprintf(stderr, "conformance: kernel-side setup failed: %s\n", setup);
      return 2;
    }
  }
  SetEventEngineFactories(
      [c = *core] { return std::make_unique<grpc_bypass::engine::LwipEventEngine>(c); },
      [] { return std::make_unique<grpc_event_engine::experimental::PosixOracleEventEngine>(); });
  grpc_init();
  int r = RUN_ALL_TESTS();
  grpc_shutdown();
  std::printf("%s\n", (*core)->stack().Summary().c_str());
  std::fflush(stdout);
  std::_Exit(r);  // the shared stack and its threads live until exit
}
