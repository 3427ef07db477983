// What every LwipEventEngine object of the process shares: the one lwIP stack (and so the one
// DPDK datapath), the executor (EventEngine::Run, timers, DNS) and the timer thread. Started
// once, lives until exit.
//
// Completions of endpoints, connects and accepts run to completion (DESIGN.md, threading):
// on the thread whose pass over the stack produced them, right after it released the stack
// token, never through the executor; except where that thread is inside a call of the public
// EventEngine API (Read/Write: the EventEngine contract forbids running the callback inline
// in its caller), then on the executor.
#ifndef GRPC_BYPASS_TRANSPORT_ENGINE_ENGINE_CORE_H
#define GRPC_BYPASS_TRANSPORT_ENGINE_ENGINE_CORE_H

#include <atomic>
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
  Counter reads;          // reads completed with data (each one gRPC parse round)
  Counter bytes_read;     // delivered to gRPC
  Counter bytes_written;  // accepted by lwIP's send buffer
  Counter write_stalls;   // a write waited for send-buffer room (back-pressure)
  Counter early_flushes;  // a bulk write sent frames before the rest was copied (WriteSome)
  // Where completions ran (any thread writes these).
  std::atomic<uint64_t> completions_inline{0};    // on the thread that polled them
  std::atomic<uint64_t> completions_executor{0};  // handed to the executor
};

// While one is in scope on a thread, completions produced there go to the executor.
class NoInlineCompletions {
 public:
  NoInlineCompletions();
  ~NoInlineCompletions();

 private:
  bool saved_;
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

  // Runs `fn` (a completion) as the class comment says. Any thread.
  void Deliver(absl::AnyInvocable<void()> fn);

  // Whether idle executor threads poll the stack (spin up to the configured BYPASS_POLL_US
  // after the last work, one spinner at a time, then block) and run what their passes
  // complete, so that EventEngine users get run to completion. On by default; off where
  // other threads do the spinning (gRPC 1.51's pollers, the pollset bridge) or with
  // BYPASS_IDLE=spin (the background poller spins).
  void SetWorkersPollWhenIdle(bool on) { workers_poll_.store(on, std::memory_order_relaxed); }

  Stack& stack() { return *stack_; }
  Executor& executor() { return *executor_; }
  TimerManager& timers() { return *timers_; }
  EngineCounters& counters() { return counters_; }

 private:
  EngineCore() = default;
  // An executor thread with nothing queued (Executor::IdleHook).
  void PollWhileIdle(absl::Duration spin, absl::FunctionRef<bool()> queued);
  std::unique_ptr<Stack> stack_;
  std::unique_ptr<Executor> executor_;
  std::unique_ptr<TimerManager> timers_;
  EngineCounters counters_;
  std::atomic<bool> workers_poll_{true};
};

}  // namespace grpc_bypass::engine

#endif  // GRPC_BYPASS_TRANSPORT_ENGINE_ENGINE_CORE_H
