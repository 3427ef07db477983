/* Preloaded by bad_config_test: the process then reports a gRPC core runtime version other
   than the one grpc-bypass was built against, as a different libgrpc would. */
const char* grpc_version_string(void) { return "30.0.0"; }
