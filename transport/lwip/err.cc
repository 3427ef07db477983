#include "transport/lwip/err.h"

#include "absl/strings/str_cat.h"

namespace grpc_bypass {

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

}  // namespace grpc_bypass
