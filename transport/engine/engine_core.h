// What every LwipEventEngine object of the process shares: the one lwIP stack (and so the one
// DPDK datapath), the executor and the timer thread. Started once, lives until exit.
#ifndef GRPC_BYPASS_TRANSPORT_ENGINE_ENGINE_CORE_H
#define GRPC_BYPASS_TRANSPORT_ENGINE_ENGINE_CORE_H

#include <memory>

#include "absl/status/statusor.h"
#include "transport/dpdk/counter.h"
#include "transport/engine/executor.h"
#include "transport/engine/timer_manager.h"
#include "transport/lwip/config.h"
#include "transport/lwip/stack.h"

namespace grpc_bypass::engine {

// Endpoint counters. Written on the poll thread only (Counter's contract), read anywhere.
struct EngineCounters {
  Counter endpoints_opened, endpoints_closed;
  Counter bytes_read;     // delivered to gRPC
  Counter bytes_written;  // accepted by lwIP's send buffer
  Counter write_stalls;   // a write waited for send-buffer room (back-pressure)
};

class EngineCore {
 public:
  // Starts the core with `config` the first time; later calls return the same core (their
  // config is ignored). Errors are one line (the Stack's).
  static absl::StatusOr<EngineCore*> Start(const StackConfig& config);
  // The running core, or nullptr.
  static EngineCore* Get();

  // Stops the poll thread, then the executor (after what it has queued): for process exit,
  // before static destructors run. Afterwards no callback runs; the objects stay valid.
  void Shutdown();

  Stack& stack() { return *stack_; }
  Executor& executor() { return *executor_; }
  TimerManager& timers() { return *timers_; }
  EngineCounters& counters() { return counters_; }

 private:
  EngineCore() = default;
  std::unique_ptr<Stack> stack_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<TimerManager> timers_;
  EngineCounters counters_;
};

}  // namespace grpc_bypass::engine

#endif  // GRPC_BYPASS_TRANSPORT_ENGINE_ENGINE_CORE_H
