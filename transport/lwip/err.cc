#include "transport/lwip/err.h"

#include "absl/strings/str_cat.h"

namespace grpc_bypass {
namespace {

// What the kernel's errno would say for the same event on a TCP socket. lwIP reports a
// connection whose retransmissions (or keepalives) ran out as ERR_ABRT (tcp_slowtmr).
absl::string_view ErrnoText(err_t err, bool connecting) {
  switch (err) {
    case ERR_RST: return connecting ? "Connection refused" : "Connection reset by peer";
    case ERR_ABRT: return connecting ? "Connection timed out" : "Connection aborted";
    case ERR_TIMEOUT: return "Connection timed out";
    case ERR_CLSD: return "Socket closed";
    case ERR_RTE: return "No route to host";
    case ERR_MEM:
    case ERR_BUF: return "Cannot allocate memory";
    case ERR_USE: return "Address already in use";
    case ERR_CONN: return "Transport endpoint is not connected";
    case ERR_IF: return "Network is down";
    default: return "";
  }
}

}  // namespace

absl::Status LwipErrToStatus(err_t err, absl::string_view what) {
  absl::string_view desc;
  absl::StatusCode code;
  switch (err) {
    case ERR_OK: return absl::OkStatus();
    case ERR_MEM: code = absl::StatusCode::kResourceExhausted; desc = "out of memory"; break;
    case ERR_BUF: code = absl::StatusCode::kResourceExhausted; desc = "buffer error"; break;
    case ERR_TIMEOUT: code = absl::StatusCode::kDeadlineExceeded; desc = "timed out"; break;
    case ERR_RTE: code = absl::StatusCode::kUnavailable; desc = "no route to host"; break;
    case ERR_INPROGRESS: code = absl::StatusCode::kUnavailable; desc = "operation in progress"; break;
    case ERR_VAL: code = absl::StatusCode::kInvalidArgument; desc = "illegal value"; break;
    case ERR_WOULDBLOCK: code = absl::StatusCode::kUnavailable; desc = "operation would block"; break;
    case ERR_USE: code = absl::StatusCode::kAlreadyExists; desc = "address in use"; break;
    case ERR_ALREADY: code = absl::StatusCode::kFailedPrecondition; desc = "already connecting"; break;
    case ERR_ISCONN: code = absl::StatusCode::kFailedPrecondition; desc = "already connected"; break;
    case ERR_CONN: code = absl::StatusCode::kFailedPrecondition; desc = "not connected"; break;
    case ERR_IF: code = absl::StatusCode::kUnavailable; desc = "low-level netif error"; break;
    case ERR_ABRT: code = absl::StatusCode::kUnavailable; desc = "connection aborted"; break;
    case ERR_RST: code = absl::StatusCode::kUnavailable; desc = "connection reset"; break;
    case ERR_CLSD: code = absl::StatusCode::kUnavailable; desc = "connection closed"; break;
    case ERR_ARG: code = absl::StatusCode::kInvalidArgument; desc = "illegal argument"; break;
    default: code = absl::StatusCode::kUnknown; desc = "unknown lwIP error"; break;
  }
  return absl::Status(code, absl::StrCat(what, ": ", desc, " (lwIP err ", err, ")"));
}

absl::Status ConnectionError(err_t err) {
  const absl::string_view text = ErrnoText(err, /*connecting=*/false);
  if (text.empty()) return absl::UnavailableError(LwipErrToStatus(err, "tcp").message());
  return absl::UnavailableError(text);
}

absl::Status ConnectionClosed(absl::string_view message) { return absl::UnavailableError(message); }

absl::Status ConnectFailed(err_t err) {
  absl::string_view text = ErrnoText(err, /*connecting=*/true);
  const absl::Status generic = LwipErrToStatus(err, "connect");
  if (text.empty()) text = generic.message();
  return absl::UnknownError(absl::StrCat("Failed to connect to remote host: ", text));
}

}  // namespace grpc_bypass
