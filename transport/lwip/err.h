// The one place that maps lwIP's err_t to absl::Status.
#ifndef GRPC_BYPASS_TRANSPORT_LWIP_ERR_H
#define GRPC_BYPASS_TRANSPORT_LWIP_ERR_H

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "lwip/err.h"

namespace grpc_bypass {

// `what` names the operation ("connect", "tcp_write"); the message reads
// "<what>: <lwIP's description>".
absl::Status LwipErrToStatus(err_t err, absl::string_view what);

}  // namespace grpc_bypass

#endif  // GRPC_BYPASS_TRANSPORT_LWIP_ERR_H
