#include "examples/bench/bench_service.h"

#include <sys/resource.h>

namespace grpc_bypass::bench {

void ProcessCpu(double* user_s, double* system_s) {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  *user_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
  *system_s = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int64_t ProcessContextSwitches() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);  // Linux: the sum over every thread of the process
  return ru.ru_nvcsw + ru.ru_nivcsw;
}

grpc::Status BenchService::Unary(grpc::ServerContext*, const ::bench::Payload* in,
                                 ::bench::Payload* out) {
  out->set_data(in->data());
  return grpc::Status::OK;
}

grpc::Status BenchService::StreamPingPong(
    grpc::ServerContext*, grpc::ServerReaderWriter<::bench::Payload, ::bench::Payload>* stream) {
  ::bench::Payload m;
  while (stream->Read(&m)) {
    if (!stream->Write(m)) break;
  }
  return grpc::Status::OK;
}

grpc::Status BenchService::StreamThroughput(grpc::ServerContext*,
                                            grpc::ServerReader<::bench::Payload>* in,
                                            ::bench::Payload*) {
  ::bench::Payload m;
  while (in->Read(&m)) {
  }
  return grpc::Status::OK;
}

grpc::Status BenchService::Cpu(grpc::ServerContext*, const ::bench::CpuRequest*,
                               ::bench::CpuReply* out) {
  double u = 0, s = 0;
  ProcessCpu(&u, &s);
  out->set_user_s(u);
  out->set_system_s(s);
  out->set_context_switches(ProcessContextSwitches());
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* CallbackBenchService::Unary(grpc::CallbackServerContext* ctx,
                                                      const ::bench::Payload* in,
                                                      ::bench::Payload* out) {
  out->set_data(in->data());
  grpc::ServerUnaryReactor* r = ctx->DefaultReactor();
  r->Finish(grpc::Status::OK);
  return r;
}

namespace {
// Echoes each message: read, write it back, read the next; ends when the client half-closes.
class EchoReactor final : public grpc::ServerBidiReactor<::bench::Payload, ::bench::Payload> {
 public:
  EchoReactor() { StartRead(&m_); }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    StartWrite(&m_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
      return;
    }
    StartRead(&m_);
  }
  void OnDone() override { delete this; }  // gRPC's last call on the reactor

 private:
  ::bench::Payload m_;
};
}  // namespace

grpc::ServerBidiReactor<::bench::Payload, ::bench::Payload>* CallbackBenchService::StreamPingPong(
    grpc::CallbackServerContext*) {
  return new EchoReactor();
}

}  // namespace grpc_bypass::bench
