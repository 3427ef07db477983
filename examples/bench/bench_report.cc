// bench_report: collects bench.Run JSON lines ("RUN {...}"), bench.IdleCpu lines ("IDLE {...}")
// and bench.H2load lines ("H2LOAD {...}") from --in, adds the machine description from flags,
// and writes the report as JSON (bench.Report, protobuf's JSON printer with proto field names)
// and CSV.
#include <cstdio>
#include <fstream>
#include <string>

#include <google/protobuf/util/json_util.h>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "examples/bench/json.h"
#include "proto/bench.pb.h"

ABSL_FLAG(std::string, in, "", "file with RUN, IDLE and H2LOAD lines");
ABSL_FLAG(std::string, json_out, "", "report.json");
ABSL_FLAG(std::string, csv_out, "", "report.csv");
ABSL_FLAG(std::string, cpu_model, "", "machine: CPU model");
ABSL_FLAG(int, cores, 0, "machine: cores");
ABSL_FLAG(std::string, kernel, "", "machine: kernel");
ABSL_FLAG(std::string, pinning, "", "machine: thread placement");
ABSL_FLAG(std::string, config, "", "machine: bypass configuration");
ABSL_FLAG(std::string, grpc_version, "", "machine: gRPC version");
ABSL_FLAG(std::string, dpdk_version, "", "machine: DPDK version");
ABSL_FLAG(std::string, date, "", "machine: date of the run");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::ifstream in(absl::GetFlag(FLAGS_in));
  if (!in) {
    std::fprintf(stderr, "bench_report: --in: cannot read '%s'\n", absl::GetFlag(FLAGS_in).c_str());
    return 2;
  }
  bench::Report report;
  bench::Machine* m = report.mutable_machine();
  m->set_cpu_model(absl::GetFlag(FLAGS_cpu_model));
  m->set_cores(absl::GetFlag(FLAGS_cores));
  m->set_kernel(absl::GetFlag(FLAGS_kernel));
  m->set_pinning(absl::GetFlag(FLAGS_pinning));
  m->set_config(absl::GetFlag(FLAGS_config));
  m->set_grpc_version(absl::GetFlag(FLAGS_grpc_version));
  m->set_dpdk_version(absl::GetFlag(FLAGS_dpdk_version));
  m->set_date(absl::GetFlag(FLAGS_date));
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    grpc_bypass::bench::JsonStatus st;
    if (absl::StartsWith(line, "RUN ")) {
      st = google::protobuf::util::JsonStringToMessage(line.substr(4), report.add_runs());
    } else if (absl::StartsWith(line, "IDLE ")) {
      st = google::protobuf::util::JsonStringToMessage(line.substr(5), report.add_idle());
    } else if (absl::StartsWith(line, "H2LOAD ")) {
      st = google::protobuf::util::JsonStringToMessage(line.substr(7), report.add_h2load());
    } else {
      continue;
    }
    if (!st.ok()) {
      std::fprintf(stderr, "bench_report: %s:%d: %s\n", absl::GetFlag(FLAGS_in).c_str(), n,
                   st.ToString().c_str());
      return 1;
    }
  }
  google::protobuf::util::JsonPrintOptions opts = grpc_bypass::bench::ReportJsonOptions();
  opts.add_whitespace = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(report, &json, opts);
  std::ofstream(absl::GetFlag(FLAGS_json_out)) << json;
  std::ofstream csv(absl::GetFlag(FLAGS_csv_out));
  csv << "transport,workload,payload_bytes,outstanding,target_rate,count,p50_us,p90_us,p99_us,"
         "p999_us,max_us,rpcs_per_s,mb_per_s,cpu_s_per_1k_rpcs,server_cpu_s_per_1k_rpcs,"
         "ctx_switches_per_rpc,server_ctx_switches_per_rpc,round,server_api,client_api,channels,arrival,gen_lateness_p50_us,"
         "gen_lateness_p99_us,gen_ctx_switches_per_rpc,gen_cpu_s_per_1k_rpcs\n";
  for (const bench::Run& r : report.runs()) {
    csv << absl::StrFormat("%s,%s,%d,%d,%.0f,%d,%.2f,%.2f,%.2f,%.2f,%.2f,%.1f,%.2f,%.4f,%.4f,%.3f,%.3f,%d,%s,%s,%d,%s,%.2f,%.2f,%.3f,%.4f\n",
                           r.transport(), r.workload(), r.payload_bytes(), r.outstanding(),
                           r.target_rate(), r.count(), r.p50_us(), r.p90_us(), r.p99_us(),
                           r.p999_us(), r.max_us(), r.rpcs_per_s(), r.mb_per_s(),
                           r.cpu_s_per_1k_rpcs(), r.server_cpu_s_per_1k_rpcs(),
                           r.ctx_switches_per_rpc(), r.server_ctx_switches_per_rpc(), r.round(),
                           r.server_api().empty() ? "sync" : r.server_api(),
                           r.client_api().empty() ? "sync" : r.client_api(),
                           r.channels() > 0 ? r.channels() : 1, r.arrival(),
                           r.gen_lateness_p50_us(), r.gen_lateness_p99_us(),
                           r.gen_ctx_switches_per_rpc(), r.gen_cpu_s_per_1k_rpcs());
  }
  std::printf("bench_report: %d runs, %d idle measurements, %d h2load runs -> %s, %s\n",
              report.runs_size(), report.idle_size(), report.h2load_size(),
              absl::GetFlag(FLAGS_json_out).c_str(), absl::GetFlag(FLAGS_csv_out).c_str());
  return 0;
}
