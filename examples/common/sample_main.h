// What every sample program's main() does around its service: the bypass when configured,
// and (servers) a clean shutdown on SIGINT/SIGTERM. Shared so that the samples show only
// their service.
//
//   int main(int argc, char** argv) {
//     absl::ParseCommandLine(argc, argv);
//     grpc_bypass::examples::SampleMain m("my_server");  // first: blocks the stop signals
//     ... ServerBuilder builder; AddListeningPort(addr, ...); RegisterService ...
//     return m.ServeUntilSignal(builder, addr);
//   }
#ifndef GRPC_BYPASS_EXAMPLES_COMMON_SAMPLE_MAIN_H
#define GRPC_BYPASS_EXAMPLES_COMMON_SAMPLE_MAIN_H

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>

namespace grpc_bypass::examples {

class SampleMain {
 public:
  // Call at the start of main(), after flag parsing and before any thread exists: installs
  // absl's crash handler, blocks SIGINT/SIGTERM in every thread created later (a server
  // waits for them in ServeUntilSignal), and calls grpc_bypass::Enable() when BYPASS_EAL
  // (or --bypass_eal) is set. On an Enable() error prints "<program>: <error>" and exits 2.
  explicit SampleMain(const char* program);

  bool bypass() const { return bypass_; }
  const char* program() const { return program_; }

  // What an async server adds around its server's life (its completion-queue threads).
  struct Hooks {
    std::function<void()> started;       // after BuildAndStart succeeded
    std::function<void()> shut_down;     // after Server::Shutdown and Wait, before it is freed
  };

  // Builds and starts the server, prints "<program> listening on ADDR (bypass|kernel)<note>",
  // waits for SIGINT/SIGTERM, shuts down (2 s grace) and prints "<program>: shut down".
  // Returns main()'s exit code (1 if the server cannot start).
  int ServeUntilSignal(grpc::ServerBuilder& builder, const std::string& addr,
                       const std::string& note = "", const Hooks& hooks = {});

 private:
  const char* program_;
  bool bypass_ = false;
};

}  // namespace grpc_bypass::examples

#endif  // GRPC_BYPASS_EXAMPLES_COMMON_SAMPLE_MAIN_H
