// The process's one lwIP stack: EAL, ports, device, netif, and the threads that take turns
// running it (DESIGN.md, threading).
//
// lwIP (NO_SYS=1) and the port queues are run by one thread at a time: the holder of the
// stack token. Any thread may take a free token: a gRPC poller waiting for an event (Poll()
// in a spin), a thread writing (Run()), or the background poller that keeps the stack going
// when no one else polls (timers, frames while every application thread is busy). A pass of
// the poll loop is five named stages, each returning the work it did:
//   rx (rx_burst on every port) -> input (frames into lwIP) -> commands (work posted while
//   the token was taken) -> timers (lwIP timeouts, link state) -> tx (one flush).
// What a pass completes (Defer(): endpoint read/write completions) runs on the same thread
// right after it releases the token: run to completion, no executor in between.
//
// Idle: the background poller spins for IdleConfig::spin, then blocks on the ports' RX
// interrupt fds (where the PMD has them) or in growing sleeps, and a Post() wakes it at once.
// While another thread spins on the stack (BeginSpin/EndSpin) it only ticks the timers.
#ifndef GRPC_BYPASS_TRANSPORT_LWIP_STACK_H
#define GRPC_BYPASS_TRANSPORT_LWIP_STACK_H

#include <signal.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/inlined_vector.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "transport/dpdk/counter.h"
#include "transport/dpdk/device.h"
#include "transport/dpdk/port.h"
#include "transport/lwip/config.h"
#include "transport/lwip/netif.h"

namespace grpc_bypass {

struct PollStats {
  uint64_t iterations, idle_iterations, sleeps;
  uint64_t rx_frames, input_frames, commands, timer_runs, tx_frames;
  uint64_t deferred_run;      // completions run by the thread whose pass produced them
  uint64_t inline_runs;       // Run() calls done at once on the caller's thread
  uint64_t posted_runs;       // Run() calls handed to the token holder (token busy)
  uint64_t background_passes; // passes made by the background poller
  uint64_t spin_passes;       // passes made between BeginSpin() and EndSpin()
  uint64_t wakeups;           // the background poller woken (posted work, interrupt)
  uint64_t takeovers;         // frames found waiting after a spinner left and did not return
  uint64_t threads_without_lcore = 0;  // stack threads without a mempool cache (eal.h)
};

// lwIP's own counters (memp pools and the heap), read on the poll thread.
struct LwipStats {
  struct Pool {
    std::string name;
    uint32_t used, max, avail, err;
  };
  std::vector<Pool> pools;
  uint64_t heap_used, heap_max, heap_err;
  uint64_t tcp_rx, tcp_tx, tcp_drop, tcp_chkerr, tcp_memerr;
  uint64_t ip_drop, ip_opterr, ip_fragerr, ip_proterr, link_drop;
  uint32_t Used(const std::string& pool) const;  // 0 if unknown
};

class Stack {
 public:
  // Starts EAL, the ports, lwIP and the background poller. One Stack per process (lwIP is
  // global): a second Start while one runs is FailedPrecondition. Errors are one line. Blocks
  // the signals the PMDs install handlers for (net_tap's RX signal) in the calling thread (and
  // so in threads it creates later): they go to the background poller only.
  static absl::StatusOr<std::unique_ptr<Stack>> Start(const StackConfig& config);
  ~Stack();  // Stop()

  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // Ends the background poller and releases lwIP's interface; idempotent. Posted commands
  // not yet run are run first. Not while holding the token. Afterwards Poll() does nothing
  // and Run()/Post() return false.
  void Stop();

  // ---- taking turns on the stack (any thread) ---------------------------------------------
  // One pass of the poll loop if the token is free (else 0: another thread is polling), then
  // the completions it produced, on this thread. Returns the work done.
  uint32_t Poll() ABSL_LOCKS_EXCLUDED(token_, mu_);
  // Runs `fn` under the token: at once on this thread if the token is free or already held
  // here (then flushes TX and runs what `fn` deferred, on this thread, before returning), or
  // else hands it to the holder (FIFO with Post). False if the stack has stopped (`fn` is
  // destroyed without running).
  bool Run(absl::AnyInvocable<void()> fn) ABSL_LOCKS_EXCLUDED(mu_);
  // Runs `fn` as Run() does when the token is free or already held here; false, without
  // running it, when another thread holds the token or the stack has stopped. Nothing is
  // allocated (`fn` is only borrowed): for per-operation calls on the caller's thread.
  bool RunIfFree(absl::FunctionRef<void()> fn) ABSL_LOCKS_EXCLUDED(mu_);
  // Always hands `fn` to the next pass (FIFO). False if the stack has stopped.
  bool Post(absl::AnyInvocable<void()> fn) ABSL_LOCKS_EXCLUDED(mu_);
  // Run() and wait for `fn` to have run. False if the stack has stopped.
  bool RunSync(absl::AnyInvocable<void()> fn);
  // Token holder only: runs `fn` on this thread once the token is released (completions).
  void Defer(absl::AnyInvocable<void()> fn);
  // Token holder only: hands the frames queued so far to the ports now rather than at the end
  // of the turn (a bulk writer, so that the peer starts on the first frames while later ones
  // are built). Runs no lwIP input (frames to our own address wait for the TX stage), so no
  // lwIP callback runs inside it. Returns the frames sent.
  uint32_t FlushTx() ABSL_NO_THREAD_SAFETY_ANALYSIS;
  // True on the thread that holds the token now.
  bool HoldsToken() const { return holder_.load(std::memory_order_acquire) == std::this_thread::get_id(); }

  // A waiting thread (a gRPC poller) that busy-polls the stack says so, so that the
  // background poller does not spin beside it. At most one spinner at a time: false if
  // another thread spins. EndSpin(idle=true): the spin found nothing, the background poller
  // takes over the ports (it is woken); idle=false: the spinner will be back soon.
  bool BeginSpin();
  void EndSpin(bool idle);

  // Whether the background poller spins (IdleConfig::spin) before it blocks; off when other
  // threads (gRPC's pollers) do the spinning. Default on.
  void SpinInBackground(bool on) { spin_in_background_.store(on, std::memory_order_relaxed); }

  // Wraps every pass and every batch of completions (e.g. in the host's execution context;
  // gRPC needs an ExecCtx). Set once, before traffic; `scope` must call its argument once.
  using Scope = absl::AnyInvocable<void(absl::FunctionRef<void()>)>;
  void SetScope(Scope scope);

  const StackConfig& config() const { return config_; }
  dpdk::Device& device() { return *device_; }
  DpdkNetif& netif() ABSL_NO_THREAD_SAFETY_ANALYSIS { return *netif_; }  // token holder
  const std::vector<std::unique_ptr<dpdk::Port>>& ports() const { return ports_; }

  PollStats poll_stats() const;           // any thread
  LwipStats GetLwipStats();              // any thread (takes the token)
  std::string Summary();                  // one line for logs and shutdown
  // One line per port: name, MAC, MTU, queues, link, and the offloads in use.
  std::vector<std::string> DescribePorts() const;

 private:
  explicit Stack(const StackConfig& config) : config_(config) {}
  absl::Status Init();
  void Background();  // the background poller's loop
  uint32_t PassLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(token_);
  uint32_t RxStage() ABSL_EXCLUSIVE_LOCKS_REQUIRED(token_);
  uint32_t InputStage() ABSL_EXCLUSIVE_LOCKS_REQUIRED(token_);
  uint32_t CommandStage() ABSL_EXCLUSIVE_LOCKS_REQUIRED(token_) ABSL_LOCKS_EXCLUDED(mu_);
  uint32_t TimerStage() ABSL_EXCLUSIVE_LOCKS_REQUIRED(token_);
  uint32_t TxStage() ABSL_EXCLUSIVE_LOCKS_REQUIRED(token_);
  bool TryTakeToken() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true, token_);
  void TakeToken() ABSL_EXCLUSIVE_LOCK_FUNCTION(token_);
  // Releases the token and returns the completions to run; commands posted meanwhile are
  // run first (retaking the token if it is free), so that none waits for the next pass.
  // Callbacks to run after a pass (Defer). Inline storage: a pass usually completes one or
  // two operations, and this keeps the per-RPC path free of heap allocation for the list.
  using Completions = absl::InlinedVector<absl::AnyInvocable<void()>, 4>;
  Completions ReleaseToken() ABSL_UNLOCK_FUNCTION(token_);
  void RunCompletions(Completions fns);
  // Takes the token if it is free and runs `fn`, the posted commands and a TX flush, then
  // the completions, on this thread.
  enum class Turn { kBusy, kRan, kStopped };
  Turn TryTurn(absl::FunctionRef<void()> fn);
  // `fn` at once if the token is held here, else TryTurn (counted as an inline run).
  Turn RunHere(absl::FunctionRef<void()> fn);
  void InScope(absl::FunctionRef<void()> fn);
  // Background poller: blocks until woken, an RX interrupt, or `timeout`. True if an RX
  // interrupt fd was readable. Returns at once when commands wait and holder_ is clear,
  // unless !skip_if_commands.
  bool Block(absl::Duration timeout, bool use_interrupts, bool skip_if_commands = true)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Wake();

  StackConfig config_;
  std::vector<std::unique_ptr<dpdk::Port>> ports_;
  std::unique_ptr<dpdk::Device> device_;
  std::thread thread_;
  sigset_t rx_signals_;  // signals DPDK's PMDs installed (net_tap RX): the poller's alone

  // The token and what it guards.
  absl::Mutex token_;
  std::atomic<std::thread::id> holder_{};
  std::unique_ptr<DpdkNetif> netif_ ABSL_GUARDED_BY(token_);
  bool stopped_ ABSL_GUARDED_BY(token_) = false;  // netif gone: passes do nothing
  rte_mbuf* rx_[dpdk::kBurst * 4] ABSL_GUARDED_BY(token_);
  uint16_t rx_count_ ABSL_GUARDED_BY(token_) = 0;
  uint32_t last_ms_ ABSL_GUARDED_BY(token_) = 0;
  uint64_t next_slow_tick_ ABSL_GUARDED_BY(token_) = 0;  // TSC of the next link check
  std::vector<absl::AnyInvocable<void()>> running_ ABSL_GUARDED_BY(token_);
  Completions deferred_ ABSL_GUARDED_BY(token_);

  // Commands for the next pass.
  absl::Mutex mu_;
  std::vector<absl::AnyInvocable<void()>> commands_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // Post() refuses work from then on
  std::atomic<bool> stop_requested_{false};      // the loop's exit check, without the lock
  std::atomic<bool> has_commands_{false};

  // The background poller's sleep (Block) and the spinner.
  int wake_fd_ = -1;                      // eventfd: Post() and EndSpin(idle) wake the sleeper
  std::atomic<bool> sleeping_{false};
  std::atomic<std::thread::id> spinner_{};  // the thread between BeginSpin and EndSpin
  std::atomic<bool> spin_in_background_{true};
  std::atomic<uint64_t> last_spin_end_tsc_{0};
  std::atomic<Scope*> scope_{nullptr};    // set once, never freed (lives with the process)

  Counter iterations_, idle_iterations_, sleeps_, rx_frames_, input_frames_, commands_run_,
      timer_runs_, tx_frames_, background_passes_;
  std::atomic<uint64_t> deferred_run_{0}, inline_runs_{0}, posted_runs_{0},
      spin_passes_{0}, wakeups_{0}, takeovers_{0};
};

// Exits the process with one line on stderr if `st` is not OK (for binaries' main()).
void ExitIfError(const absl::Status& st, const char* prefix);

}  // namespace grpc_bypass

#endif  // GRPC_BYPASS_TRANSPORT_LWIP_STACK_H
