// The err_t mapping reads as gRPC's posix path reports the same event (transport/lwip/err.h).
#include "transport/lwip/err.h"

#include <initializer_list>

#include "gtest/gtest.h"

namespace grpc_bypass {
namespace {

TEST(LwipErr, AResetSynReadsConnectionRefusedAsThePosixEngineSaysIt) {
  const absl::Status st = ConnectFailed(ERR_RST);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(st.message(), "Failed to connect to remote host: Connection refused");
}

TEST(LwipErr, AConnectWhoseSynsGoUnansweredReadsTimedOut) {
  EXPECT_EQ(ConnectFailed(ERR_ABRT).message(), "Failed to connect to remote host: Connection timed out");
  EXPECT_EQ(ConnectFailed(ERR_TIMEOUT).message(), "Failed to connect to remote host: Connection timed out");
}

TEST(LwipErr, AnUnroutableConnectReadsNoRouteToHost) {
  const absl::Status st = ConnectFailed(ERR_RTE);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(st.message(), "Failed to connect to remote host: No route to host");
}

TEST(LwipErr, AResetConnectionIsUnavailableConnectionResetByPeer) {
  const absl::Status st = ConnectionError(ERR_RST);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(st.message(), "Connection reset by peer");
}

TEST(LwipErr, EveryConnectionErrorIsUnavailableSoThatGrpcRetriesTheCall) {
  for (int e : std::initializer_list<int>{ERR_MEM, ERR_BUF, ERR_TIMEOUT, ERR_RTE, ERR_ABRT, ERR_RST, ERR_CLSD, ERR_CONN,
                  ERR_IF, ERR_VAL, ERR_ARG, -99}) {
    const absl::Status st = ConnectionError(static_cast<err_t>(e));
    EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << e;
    EXPECT_FALSE(st.message().empty()) << e;
    const absl::Status c = ConnectFailed(static_cast<err_t>(e));
    EXPECT_EQ(c.code(), absl::StatusCode::kUnknown) << e;
    EXPECT_NE(c.message().find("Failed to connect to remote host: "), absl::string_view::npos);
  }
  EXPECT_EQ(ConnectionClosed("Socket closed").code(), absl::StatusCode::kUnavailable);
}

TEST(LwipErr, OtherCallsNameTheOperationAndLwipsError) {
  EXPECT_TRUE(LwipErrToStatus(ERR_OK, "bind").ok());
  const absl::Status st = LwipErrToStatus(ERR_USE, "bind");
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(st.message(), "bind: address in use (lwIP err -8)");
}

}  // namespace
}  // namespace grpc_bypass
