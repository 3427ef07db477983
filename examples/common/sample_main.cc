#include "examples/common/sample_main.h"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "absl/debugging/failure_signal_handler.h"
#include "absl/debugging/symbolize.h"
#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "transport/grpc/enable.h"

ABSL_DECLARE_FLAG(std::string, bypass_eal);

namespace grpc_bypass::examples {
namespace {
sigset_t StopSignals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  return sigs;
}
}  // namespace

SampleMain::SampleMain(const char* program) : program_(program) {
  absl::InitializeSymbolizer("/proc/self/exe");
  absl::InstallFailureSignalHandler({});  // a crash prints its stack
  const sigset_t sigs = StopSignals();
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  bypass_ = std::getenv("BYPASS_EAL") != nullptr || !absl::GetFlag(FLAGS_bypass_eal).empty();
  if (bypass_) {
    absl::Status st = grpc_bypass::Enable();
    if (!st.ok()) {
      std::fprintf(stderr, "%s: %s\n", program_, std::string(st.message()).c_str());
      std::exit(2);
    }
  }
}

int SampleMain::ServeUntilSignal(grpc::ServerBuilder& builder, const std::string& addr,
                                 const std::string& note, const Hooks& hooks) {
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    std::fprintf(stderr, "%s: cannot listen on %s\n", program_, addr.c_str());
    return 1;
  }
  if (hooks.started) hooks.started();
  std::printf("%s listening on %s%s%s\n", program_, addr.c_str(),
              bypass_ ? " (bypass)" : " (kernel)", note.c_str());
  std::fflush(stdout);
  int sig = 0;
  const sigset_t sigs = StopSignals();
  sigwait(&sigs, &sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server->Wait();
  if (hooks.shut_down) hooks.shut_down();
  std::printf("%s: shut down\n", program_);
  std::fflush(stdout);
  return 0;
}

}  // namespace grpc_bypass::examples
