// Round-trip time samples and their percentiles (shared by the echo clients so that the
// bypass and kernel figures are computed the same way).
#ifndef GRPC_BYPASS_EXAMPLES_ECHO_LATENCY_H
#define GRPC_BYPASS_EXAMPLES_ECHO_LATENCY_H

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace grpc_bypass::examples {

// Nearest-rank percentile, q in [0, 1]. Reorders `v`.
inline double Percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(q * (v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i];
}

// "LABEL: p50 .. us p90 .. p99 .. p99.9 .. max .."
inline std::string LatencyLine(const std::string& label, std::vector<double>& us) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), "%s: p50 %.1f us p90 %.1f us p99 %.1f us p99.9 %.1f us max %.1f us",
                label.c_str(), Percentile(us, 0.5), Percentile(us, 0.9), Percentile(us, 0.99),
                Percentile(us, 0.999), Percentile(us, 1.0));
  return buf;
}

// "pingpong: N round trips of S B: p50 .. us p90 .. p99 .. p99.9 .. max .."
inline std::string PingPongLine(std::vector<double>& us, int size) {
  return LatencyLine("pingpong: " + std::to_string(us.size()) + " round trips of " +
                         std::to_string(size) + " B",
                     us);
}

}  // namespace grpc_bypass::examples

#endif  // GRPC_BYPASS_EXAMPLES_ECHO_LATENCY_H
