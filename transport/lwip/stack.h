// The process's one lwIP stack: EAL, ports, device, netif, and the threads that take turns
// running it (DESIGN.md, threading).
//
// lwIP (NO_SYS=1) and the port queues are run by one thread at a time: the holder of the
// stack token. Any thread may take a free token: a gRPC poller waiting for an event (Poll()
// in a spin), a thread writing (RunHereOrQueue()), or the background poller that keeps the stack going
// when no one else polls (timers, frames while every application thread is busy). A pass of
// the poll loop is five named stages, each returning the work it did:
//   rx (rx_burst on every port) -> input (frames into lwIP) -> commands (work posted while
//   the token was taken) -> timers (lwIP timeouts, link state) -> tx (one flush).
// What a pass completes (RunAfterTurn(): endpoint read/write completions) runs on the same
// thread right after it releases the token: run to completion, no executor in between.
//
// Idle: the background poller spins for IdleConfig::spin, then blocks on the ports' RX
// interrupt fds (where the PMD has them) or in growing sleeps, and queued work wakes it.
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
#include "transport/lwip/token.h"

namespace grpc_bypass {

struct PollStats {
  uint64_t iterations, idle_iterations, sleeps;
  uint64_t rx_frames, input_frames, commands, timer_runs, tx_frames;
  uint64_t deferred_run;      // completions run by the thread whose pass produced them
  uint64_t inline_runs;       // RunHere...() calls done at once on the caller's thread
  uint64_t posted_runs;       // RunHereOrQueue() calls queued for the holder (token busy)
  uint64_t background_passes; // passes made by the background poller
  uint64_t spin_passes;       // passes made between BeginSpin() and EndSpin()
  uint64_t wakeups;           // the background poller woken (posted work, interrupt)
  uint64_t takeovers;         // frames found waiting after a spinner left and did not return
  uint64_t watch_sleeps;      // the background poller's sleeps while another thread spins
  uint64_t threads_without_lcore = 0;  // stack threads without a mempool cache (eal.h)
  uint64_t corked_output = 0;  // connections whose output waited for their batch's end (Cork)
  uint64_t spinners_wanted = 0;  // SpinnerWanted calls: background passes with work, no spinner
  // Background passes made beside a spinner stuck in application code (SpinnerStuck).
  uint64_t spinner_away_passes = 0;
};

// lwIP's own counters (memp pools, the heap, protocols) and the netif's, read in one turn.
struct LwipStats {
  struct Pool {
    std::string name;
    uint32_t used, max, avail, err;
  };
  std::vector<Pool> pools;
  uint64_t heap_used, heap_max, heap_err;
  uint64_t tcp_rx, tcp_tx, tcp_drop, tcp_chkerr, tcp_memerr;
  uint64_t ip_drop, ip_opterr, ip_fragerr, ip_proterr, link_drop;
  // The netif's own (NetifCounters; 0 once the stack has stopped).
  uint64_t netif_rx_runts, netif_rx_input_errors, netif_tx_nomem, netif_tx_dropped,
      netif_tx_zero_copy;
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
  // and the dispatch calls return false.
  void Stop();

  // ---- taking turns on the stack: the dispatch API (any thread) ---------------------------
  // Where a closure runs is in the name. Closures that run under the token are lambdas marked
  // BYPASS_REQUIRES_TOKEN (token.h). "Here" means on the calling thread, before the call
  // returns, followed by the posted commands, a TX flush and then, once the token is
  // released, the completions the turn produced (run to completion). `after` says where those
  // completions go: kHere (this thread) or kOffload (the offload set by SetOffload: for
  // turns taken inside a public EventEngine call, which must not run callbacks in its caller).
  enum class After { kHere, kOffload };

  // One pass of the poll loop here if the token is free (else 0: another thread is polling).
  // Returns the work done (frames, commands, completions).
  uint32_t Poll() ABSL_LOCKS_EXCLUDED(stack_token, mu_);
  // Here if the token is free or already held here; else queued for the holder, which runs it
  // in its next command stage (FIFO). Never waits. False if the stack has stopped (`fn` is
  // destroyed without running).
  bool RunHereOrQueue(absl::AnyInvocable<void()> fn, After after = After::kHere)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Here, or not at all: false, without running `fn`, when another thread holds the token or
  // the stack has stopped. Never waits; `fn` is only borrowed (nothing is allocated): for
  // per-operation calls on the caller's thread.
  bool RunHereIfFree(absl::FunctionRef<void()> fn, After after = After::kHere)
      ABSL_LOCKS_EXCLUDED(mu_);
  // RunHereOrQueue, then WAITS until `fn` has run: for at most the holder's current pass when
  // the token is busy (nothing under the token blocks on anything else). For set-up and
  // teardown calls (bind, listen, close, statistics), never on the per-RPC path. False if the
  // stack has stopped.
  bool RunAndWait(absl::AnyInvocable<void()> fn, After after = After::kHere);
  // Once the stack has stopped (every dispatch call above returned false): runs `fn` here as
  // the token holder, for cleanup that must not wait for a pass that never comes. `fn` must
  // not call lwIP (it never runs again). False, without running it, while the stack runs.
  bool RunAfterStop(absl::FunctionRef<void()> fn, After after = After::kHere);
  // Token holder: `fn` runs once this turn has released the token (a completion), where the
  // turn's `after` says: on this thread, or offloaded.
  void RunAfterTurn(absl::AnyInvocable<void()> fn) BYPASS_REQUIRES_TOKEN;
  // Token holder: whether this turn offloads its completions (After::kOffload).
  bool OffloadsCompletions() const BYPASS_REQUIRES_TOKEN { return offload_turn_; }
  // Token holder: hands the frames queued so far to the ports now rather than at the end
  // of the turn (a bulk writer, so that the peer starts on the first frames while later ones
  // are built). Runs no lwIP input (frames to our own address wait for the TX stage), so no
  // lwIP callback runs inside it. Returns the frames sent.
  uint32_t FlushTx() BYPASS_REQUIRES_TOKEN;
  // True on the thread that holds the token now.
  bool HoldsToken() const { return stack_token.HeldHere(); }

  // Output held to the end of a batch. Inside a Batch on this thread (a poll and what it
  // produced), a writer may leave its TCP output for the batch's end: Cork(fn) keeps `fn`
  // (which calls tcp_output for one connection), and the batch's end runs every kept `fn`, as
  // does any TX stage taken outside a batch. So the answers a batch writes to one connection
  // leave as one segment instead of one each. Corking(): whether this thread is inside such
  // a batch (else output at once).
  bool Corking() const;
  // Wakes the background poller if output is corked, so that its next pass sends it. Any thread.
  void WakeIfCorked();
  void Cork(absl::AnyInvocable<void()> fn) BYPASS_REQUIRES_TOKEN;
  // A batch on this thread, around a Poll() and the closures it produced. Made only where
  // the answers are written inside the batch: the EventEngine executor's polling threads,
  // which run callback-API handlers, and, where a TX frame is a system call (net_tap), the
  // drain of gRPC's completion-queue threads between two waits (the pollset bridge). Around
  // a sync server's poll it only delayed chttp2's own writes (a 16-channel memif benchmark
  // lost 10-20 % of its RPC/s). Nested batches belong to the outermost, whose end outputs what was corked
  // (here, or in the token holder's next command stage).
  class Batch {
   public:
    explicit Batch(Stack* stack);
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;
    // Ends the batch without a turn on this thread (where one may not be taken: under a
    // lock of the caller's, or at the thread's exit, when its thread-local state may be
    // gone): what it corked leaves with the next TX stage of any thread outside a batch;
    // `wake`: the background poller is woken for it (WakeIfCorked), else the caller is
    // about to make that pass itself. The destructor then does nothing.
    void LeaveToNextPass(bool wake);

   private:
    Stack* stack_;
    bool outer_;
    bool left_ = false;
  };

  // Where After::kOffload completions go (an executor). Set once, before traffic; until
  // then they run here.
  using Offload = absl::AnyInvocable<void(absl::AnyInvocable<void()>)>;
  void SetOffload(Offload offload);

  // A waiting thread (a gRPC poller) that busy-polls the stack says so, so that the
  // background poller does not spin beside it. At most one spinner at a time: false if
  // another thread spins. EndSpin(idle=true): the spin found nothing, the background poller
  // takes over the ports (it is woken); idle=false: the spinner will be back soon.
  bool BeginSpin();
  void EndSpin(bool idle);
  // The layer above saw `thread` stuck in application code that it runs inside its spin
  // (a callback reaction that blocks). If that thread is the spinner, the background poller
  // polls beside it (and is woken to) until it begins its next pass. Any thread.
  void SpinnerStuck(std::thread::id thread);

  // Whether the background poller spins (IdleConfig::spin) before it blocks; off when other
  // threads (gRPC's pollers) do the spinning. Default on.
  void SpinInBackground(bool on) { spin_in_background_.store(on, std::memory_order_relaxed); }

  // Wraps every pass and every batch of completions (e.g. in the host's execution context;
  // gRPC needs an ExecCtx). Set once, before traffic; `scope` must call its argument once.
  using Scope = absl::AnyInvocable<void(absl::FunctionRef<void()>)>;
  void SetScope(Scope scope);

  // Called on the background poller's thread when one of its passes found work while no
  // thread spins, at most once per kSpinnerWantedEvery: the owner may start a spinner (an
  // idle executor thread), so that the traffic is not left to the background poller's
  // sleep-between-passes loop. Set once, before traffic; must return at once.
  static constexpr absl::Duration kSpinnerWantedEvery = absl::Milliseconds(1);
  using SpinnerWanted = absl::AnyInvocable<void()>;
  void SetSpinnerWanted(SpinnerWanted fn);

  // Called on the background poller's thread each time it wakes (for a pass, or to look at
  // another thread's spin): for a layer above that hands work to waiting threads and must
  // notice one that did not come back. Its delay is the poller's: a pass, or a look every
  // 2..16 ms while another thread spins. Up to kMaxOnBackgroundWake, each added before
  // traffic, called in the order added; each must return at once.
  using OnBackgroundWake = absl::AnyInvocable<void()>;
  static constexpr int kMaxOnBackgroundWake = 4;
  void AddOnBackgroundWake(OnBackgroundWake fn);

  const StackConfig& config() const { return config_; }
  dpdk::Device& device() { return *device_; }
  DpdkNetif& netif() BYPASS_REQUIRES_TOKEN { return *netif_; }
  const std::vector<std::unique_ptr<dpdk::Port>>& ports() const { return ports_; }

  PollStats poll_stats() const;           // any thread
  LwipStats GetLwipStats();              // any thread; waits (RunAndWait)
  std::string Summary();                  // one line for logs and shutdown; waits (RunAndWait)
  // One line per port: name, MAC, MTU, queues, link, and the offloads in use.
  std::vector<std::string> DescribePorts() const;

 private:
  explicit Stack(const StackConfig& config) : config_(config) {}
  absl::Status Init();
  absl::Status OpenPorts();    // the ports and the device over them
  absl::Status StartPoller();  // the background poller's thread, which sets up lwIP
  void Background();  // the background poller's loop, and its parts:
  struct SpinnerWatch;
  void RunQueuedCommands() ABSL_LOCKS_EXCLUDED(stack_token);
  // True if a spinner is there or has just left (then this has blocked a while); false if
  // none is, or the one there is stuck (SpinnerStuck).
  bool WatchSpinner(SpinnerWatch& w);
  // After a background pass with work: SpinnerWanted, if no one spins (rate-limited by `last`).
  void WantSpinner(absl::Time& last);
  void FinalTurn() ABSL_LOCKS_EXCLUDED(stack_token);
  uint32_t PassLocked() BYPASS_REQUIRES_TOKEN;
  uint32_t RxStage() BYPASS_REQUIRES_TOKEN;
  uint32_t InputStage() BYPASS_REQUIRES_TOKEN;
  uint32_t CommandStage() BYPASS_REQUIRES_TOKEN ABSL_LOCKS_EXCLUDED(mu_);
  uint32_t TimerStage() BYPASS_REQUIRES_TOKEN;
  uint32_t TxStage() BYPASS_REQUIRES_TOKEN;
  void OutputCorked() BYPASS_REQUIRES_TOKEN;  // runs what Cork() kept
  bool TryTakeToken() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true, stack_token);
  void TakeToken() ABSL_EXCLUSIVE_LOCK_FUNCTION(stack_token);
  // Callbacks to run after a pass (RunAfterTurn). Inline storage: a pass usually completes
  // one or two operations, and this keeps the per-RPC path free of heap allocation for it.
  using Completions = absl::InlinedVector<absl::AnyInvocable<void()>, 4>;
  // Releases the token and returns the completions to run; commands posted meanwhile are
  // run first (retaking the token if it is free), so that none waits for the next pass.
  Completions ReleaseToken() ABSL_UNLOCK_FUNCTION(stack_token);
  void RunCompletions(Completions fns, After after);
  // Queues `fn` for the holder's command stage; if the token turns out free (its holder
  // released it before seeing the command), takes a turn here to run it. False if stopping.
  bool QueueForHolder(absl::AnyInvocable<void()> fn, After after) ABSL_LOCKS_EXCLUDED(mu_);
  // Takes the token if it is free and runs `fn`, the posted commands and a TX flush, then
  // the completions (where `after` says), on this thread.
  enum class Turn { kBusy, kRan, kStopped };
  Turn TryTurn(absl::FunctionRef<void()> fn, After after);
  // `fn` at once if the token is held here, else TryTurn (counted as an inline run).
  Turn RunHere(absl::FunctionRef<void()> fn, After after);
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

  // What the token (token.h) guards here.
  std::unique_ptr<DpdkNetif> netif_ ABSL_GUARDED_BY(stack_token);
  bool stopped_ ABSL_GUARDED_BY(stack_token) = false;  // netif gone: passes do nothing
  rte_mbuf* rx_[dpdk::kBurst * 4] ABSL_GUARDED_BY(stack_token);
  uint16_t rx_count_ ABSL_GUARDED_BY(stack_token) = 0;
  uint32_t last_ms_ ABSL_GUARDED_BY(stack_token) = 0;
  uint64_t next_slow_tick_ ABSL_GUARDED_BY(stack_token) = 0;  // TSC of the next link check
  std::vector<absl::AnyInvocable<void()>> running_ ABSL_GUARDED_BY(stack_token);
  std::vector<absl::AnyInvocable<void()>> corked_ ABSL_GUARDED_BY(stack_token);
  std::vector<absl::AnyInvocable<void()>> outputting_ ABSL_GUARDED_BY(stack_token);
  std::atomic<bool> has_corked_{false};  // corked_ is not empty (read without the token)
  Completions deferred_ ABSL_GUARDED_BY(stack_token);
  bool offload_turn_ ABSL_GUARDED_BY(stack_token) = false;  // this turn's After::kOffload
  std::atomic<Offload*> offload_{nullptr};  // set once, never freed (lives with the process)
  std::atomic<SpinnerWanted*> spinner_wanted_{nullptr};  // the same
  // The same (AddOnBackgroundWake; slots filled in order).
  std::atomic<OnBackgroundWake*> on_background_wake_[kMaxOnBackgroundWake] = {};

  // Commands for the next pass.
  absl::Mutex mu_;
  std::vector<absl::AnyInvocable<void()>> commands_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // QueueForHolder() refuses work from then on
  std::atomic<bool> stop_requested_{false};      // the loop's exit check, without the lock
  std::atomic<bool> has_commands_{false};

  // The background poller's sleep (Block) and the spinner.
  int wake_fd_ = -1;                      // eventfd: queued work and EndSpin(idle) wake the sleeper
  std::atomic<bool> sleeping_{false};
  std::atomic<std::thread::id> spinner_{};  // the thread between BeginSpin and EndSpin
  std::atomic<bool> spin_in_background_{true};
  std::atomic<uint64_t> last_spin_end_tsc_{0};
  std::atomic<bool> spinner_stuck_{false};  // SpinnerStuck, until the spinner's next Poll
  std::atomic<Scope*> scope_{nullptr};    // set once, never freed (lives with the process)

  Counter iterations_, idle_iterations_, sleeps_, rx_frames_, input_frames_, commands_run_,
      timer_runs_, tx_frames_, background_passes_, watch_sleeps_, corked_output_;
  std::atomic<uint64_t> deferred_run_{0}, inline_runs_{0}, posted_runs_{0},
      spin_passes_{0}, wakeups_{0}, takeovers_{0}, spinner_wanted_calls_{0},
      spinner_away_passes_{0};
};

// Exits the process with one line on stderr if `st` is not OK (for binaries' main()).
void ExitIfError(const absl::Status& st, const char* prefix);

}  // namespace grpc_bypass

#endif  // GRPC_BYPASS_TRANSPORT_LWIP_STACK_H
