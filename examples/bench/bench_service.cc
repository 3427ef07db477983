#include "examples/bench/bench_service.h"

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <vector>

namespace grpc_bypass::bench {

namespace {
std::atomic<uint64_t> g_unary_ok{0};  // CountUnaryOk(): process-wide, like the service
}  // namespace

void CountUnaryOk() { g_unary_ok.fetch_add(1, std::memory_order_relaxed); }
uint64_t UnaryOkCount() { return g_unary_ok.load(std::memory_order_relaxed); }

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

std::map<int, ThreadSwitches> SampleThreadSwitches() {
  std::map<int, ThreadSwitches> out;
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    const int tid = std::atoi(e->d_name);
    if (tid <= 0) continue;
    const std::string dir = std::string("/proc/self/task/") + e->d_name;
    ThreadSwitches t;
    std::ifstream comm(dir + "/comm");
    std::getline(comm, t.name);
    std::ifstream status(dir + "/status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0) t.voluntary = std::atoll(line.c_str() + 24);
      if (line.rfind("nonvoluntary_ctxt_switches:", 0) == 0)
        t.involuntary = std::atoll(line.c_str() + 27);
    }
    out[tid] = t;
  }
  closedir(d);
  return out;
}

void PrintThreadSwitchesDelta(const std::map<int, ThreadSwitches>& before,
                              const std::map<int, ThreadSwitches>& after, uint64_t rpcs,
                              const char* who, FILE* out) {
  struct Row {
    int tid;
    const ThreadSwitches* t;
    int64_t vol, invol;
  };
  std::vector<Row> rows;
  for (const auto& [tid, t] : after) {
    auto it = before.find(tid);
    const int64_t v0 = it == before.end() ? 0 : it->second.voluntary;
    const int64_t i0 = it == before.end() ? 0 : it->second.involuntary;
    if (t.voluntary - v0 + t.involuntary - i0 > 0) rows.push_back({tid, &t, t.voluntary - v0, t.involuntary - i0});
  }
  std::sort(rows.begin(), rows.end(),
            [](const Row& a, const Row& b) { return a.vol + a.invol > b.vol + b.invol; });
  const double n = rpcs > 0 ? static_cast<double>(rpcs) : 1.0;
  for (const Row& r : rows) {
    std::fprintf(out, "THREAD_CSW %s tid %d %s: voluntary %.3f involuntary %.3f per RPC\n", who,
                 r.tid, r.t->name.c_str(), r.vol / n, r.invol / n);
  }
}

grpc::Status BenchService::Unary(grpc::ServerContext*, const ::bench::Payload* in,
                                 ::bench::Payload* out) {
  out->set_data(in->data());
  CountUnaryOk();
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
  out->set_api(api_);
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* CallbackBenchService::Unary(grpc::CallbackServerContext* ctx,
                                                      const ::bench::Payload* in,
                                                      ::bench::Payload* out) {
  out->set_data(in->data());
  grpc::ServerUnaryReactor* r = ctx->DefaultReactor();
  CountUnaryOk();
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
