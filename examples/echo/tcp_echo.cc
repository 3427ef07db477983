// tcp_echo: a TCP echo server on lwIP's raw API over a DPDK port.
//
//   BYPASS_EAL='--no-huge -m 512 --no-pci --vdev=net_tap0' BYPASS_IP=198.18.0.2/24 tcp_echo
//
// Prints "listening on IP:PORT" when ready. SIGUSR1 prints a stats line; SIGINT/SIGTERM print
// the stats and exit 0. Configuration errors: one line on stderr, exit 2.
#include <signal.h>

#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "examples/echo/echo_server.h"
#include "examples/echo/stats_line.h"
#include "transport/lwip/config.h"
#include "transport/lwip/stack.h"

ABSL_FLAG(int, listen_port, 7, "TCP port to echo on");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // Signals are taken by sigwait below; block them before any thread starts.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  const int port = absl::GetFlag(FLAGS_listen_port);
  if (port < 1 || port > 65535) {
    std::fprintf(stderr, "tcp_echo: --listen_port: '%d' is not a TCP port (1..65535)\n", port);
    return 2;
  }
  absl::StatusOr<grpc_bypass::StackConfig> cfg = grpc_bypass::StackConfigFromEnvironment();
  grpc_bypass::ExitIfError(cfg.status(), "tcp_echo");
  absl::StatusOr<std::unique_ptr<grpc_bypass::Stack>> stack = grpc_bypass::Stack::Start(*cfg);
  grpc_bypass::ExitIfError(stack.status(), "tcp_echo");
  grpc_bypass::Stack& s = **stack;

  static grpc_bypass::examples::EchoCounters counters;
  absl::Status st;
  s.RunAndWait([&] { st = grpc_bypass::examples::StartEchoServer(port, &counters); });
  grpc_bypass::ExitIfError(st, "tcp_echo");
  for (const std::string& line : s.DescribePorts()) std::printf("%s\n", line.c_str());
  std::string ip = cfg->ip.ToString();
  std::printf("listening on %s:%d\n", ip.substr(0, ip.find('/')).c_str(), port);
  std::fflush(stdout);

  for (;;) {
    int sig = 0;
    sigwait(&sigs, &sig);
    std::printf("%s\n", grpc_bypass::examples::StatsLine(s, counters).c_str());
    std::fflush(stdout);
    if (sig != SIGUSR1) break;
  }
  std::printf("%s\n", s.Summary().c_str());
  s.Stop();
  return 0;
}
