// The one place that maps lwIP's err_t to absl::Status. Connection errors read as gRPC's posix
// path reports the errno the kernel would give, so that a user sees the same status and
// message over the bypass as over the kernel:
//   an established connection (posix_endpoint: TcpAnnotateError): UNAVAILABLE, strerror()'s
//     text: "Connection reset by peer", "Connection timed out";
//   a connect (posix_engine: AsyncConnect::OnWritable): UNKNOWN, "Failed to connect to remote
//     host: Connection refused" (gRPC prefixes the address).
#ifndef GRPC_BYPASS_TRANSPORT_LWIP_ERR_H
#define GRPC_BYPASS_TRANSPORT_LWIP_ERR_H

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "lwip/err.h"

namespace grpc_bypass {

// An lwIP call's failure outside a connection (bind, listen, pcb allocation). `what` names the
// operation; the message reads "<what>: <lwIP's description> (lwIP err N)".
absl::Status LwipErrToStatus(err_t err, absl::string_view what);

// An established connection's failure (tcp_err, tcp_write): UNAVAILABLE with the errno text.
absl::Status ConnectionError(err_t err);
// The endpoint's own end of a connection (EOF, shut down): UNAVAILABLE with `message`
// ("Socket closed", "Shutting down endpoint", as the posix endpoint words them).
absl::Status ConnectionClosed(absl::string_view message);
// A connect that failed (tcp_err before the handshake completed, or tcp_connect refused):
// UNKNOWN "Failed to connect to remote host: <errno text>". ERR_RST (the peer answered the
// SYN with a reset) reads "Connection refused".
absl::Status ConnectFailed(err_t err);

}  // namespace grpc_bypass

#endif  // GRPC_BYPASS_TRANSPORT_LWIP_ERR_H
