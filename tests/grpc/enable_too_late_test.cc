// Enable() after gRPC was initialized is refused with a clear error (its own process).
#include <grpc/grpc.h>

#include "gtest/gtest.h"
#include "transport/grpc/enable.h"

TEST(Enable, AfterGrpcIsInitializedIsTooLate) {
  grpc_init();
  grpc_bypass::Options o;
  o.stack.eal = "--no-huge -m 64 --no-pci --no-shconf --vdev=net_ring0";
  absl::Status st = grpc_bypass::Enable(o);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("called too late"), std::string::npos) << st;
  grpc_shutdown();
}
