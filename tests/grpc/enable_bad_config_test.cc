// grpc_bypass::Enable() with a bad configuration: a one-line error, and nothing is enabled (a
// process of its own: Enable() succeeds once per process, and a later bad call would only
// hear "already called").
#include <arpa/inet.h>

#include <string>

#include "gtest/gtest.h"
#include "transport/engine/engine_core.h"
#include "transport/grpc/enable.h"

namespace {

TEST(Enable, BadConfigurationIsReturnedAndNothingIsEnabled) {
  grpc_bypass::Options o;
  o.stack.eal = "--no-huge -m 256 --no-pci --no-shconf --no-telemetry "
                "--file-prefix=enable_bad_config_test --vdev=net_ring0 --log-level=lib.eal:error";
  o.stack.ip.addr_be = htonl(0xc6120002);  // 198.18.0.2/24
  o.stack.ip.prefix_len = 24;
  o.stack.ports = {7};
  o.summary_at_exit = false;
  absl::Status st = grpc_bypass::Enable(o);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("DPDK port 7 does not exist"), std::string::npos) << st;
  EXPECT_EQ(st.message().find('\n'), std::string::npos) << "one line";
  EXPECT_EQ(grpc_bypass::engine::EngineCore::Get(), nullptr) << "a core was left running";
  EXPECT_FALSE(grpc_bypass::GetStats().ok());
}

}  // namespace
