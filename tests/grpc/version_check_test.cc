#include "transport/grpc/version_check.h"

#include <grpc/grpc.h>
#include <grpcpp/grpcpp.h>

#include "gtest/gtest.h"

namespace {

TEST(VersionCheck, InstalledRuntimeMatchesTheSourceHeaders) {
  absl::Status st = grpc_bypass::CheckGrpcRuntimeVersion();
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(grpc_bypass::CompiledGrpcCppVersion(), grpc::Version());
}

TEST(VersionCheck, OtherCppVersionIsAnErrorNamingBothVersions) {
  absl::Status st = grpc_bypass::CheckGrpcVersions(grpc_version_string(), "1.60.0");
  ASSERT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("1.60.0"), absl::string_view::npos) << st;
  EXPECT_NE(st.message().find(grpc_bypass::CompiledGrpcCppVersion()), absl::string_view::npos);
  EXPECT_EQ(st.message().find('\n'), absl::string_view::npos) << "one line";
}

TEST(VersionCheck, OtherCoreVersionIsAnError) {
  absl::Status st = grpc_bypass::CheckGrpcVersions("30.0.0", grpc::Version());
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("30.0.0"), absl::string_view::npos) << st;
}

}  // namespace
