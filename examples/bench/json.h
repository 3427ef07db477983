// protobuf's JSON API across the versions we build against: Debian 12's 3.21 and the modern
// root's 36 (util::Status became absl::Status in 22; always_print_primitive_fields was renamed
// always_print_fields_with_no_presence in 26).
#ifndef GRPC_BYPASS_EXAMPLES_BENCH_JSON_H
#define GRPC_BYPASS_EXAMPLES_BENCH_JSON_H

#include <google/protobuf/util/json_util.h>

namespace grpc_bypass::bench {

#if GOOGLE_PROTOBUF_VERSION >= 4022000
using JsonStatus = absl::Status;
#else
using JsonStatus = google::protobuf::util::Status;
#endif

// Field names as in the .proto, and every field printed, also when it holds its default.
inline google::protobuf::util::JsonPrintOptions ReportJsonOptions() {
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
#if GOOGLE_PROTOBUF_VERSION >= 5026000
  opts.always_print_fields_with_no_presence = true;
#else
  opts.always_print_primitive_fields = true;
#endif
  return opts;
}

}  // namespace grpc_bypass::bench

#endif  // GRPC_BYPASS_EXAMPLES_BENCH_JSON_H
