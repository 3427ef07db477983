#include "transport/lwip/stack.h"

#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_pause.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/memp.h"
#include "lwip/stats.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "transport/dpdk/eal.h"
#include "transport/lwip/idle_policy.h"

namespace grpc_bypass {
namespace {

// A global because lwIP is (NO_SYS=1: one stack per process).
struct Lwip {
  std::atomic<bool> stack_running{false};  // a Stack exists
  bool initialised = false;  // lwip_init once per process (by the first Stack's poller)
};
Lwip g_lwip;
// Inside a Stack::Batch on this thread: writers may cork their output (Stack::Cork).
thread_local bool t_in_batch = false;

}  // namespace

void StackToken::Fatal(const char* what) {
  std::fprintf(stderr, "grpc-bypass: internal error: %s\n", what);
  std::abort();
}

void ExitIfError(const absl::Status& st, const char* prefix) {
  if (st.ok()) return;
  std::fprintf(stderr, "%s: %s\n", prefix, std::string(st.message()).c_str());
  std::fflush(stderr);
  std::exit(2);
}

absl::StatusOr<std::unique_ptr<Stack>> Stack::Start(const StackConfig& config) {
  bool expected = false;
  if (!g_lwip.stack_running.compare_exchange_strong(expected, true)) {
    return absl::FailedPreconditionError(
        "a grpc-bypass stack is already running in this process (one lwIP per process)");
  }
  std::unique_ptr<Stack> s(new Stack(config));
  absl::Status st = s->Init();
  if (!st.ok()) {
    s->Stop();
    g_lwip.stack_running = false;
    return st;
  }
  return s;
}

namespace {
// The real-time signals that have a handler now.
std::vector<bool> RtSignalsWithHandlers() {
  std::vector<bool> had(SIGRTMAX + 1, false);
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) {
    struct sigaction sa {};
    had[sig] = sigaction(sig, nullptr, &sa) == 0 && sa.sa_handler != SIG_DFL &&
               sa.sa_handler != SIG_IGN;
  }
  return had;
}
}  // namespace

absl::Status Stack::Init() {
  // net_tap signals received frames with a real-time signal it picks at start (its RX reads
  // a queue only after one); its ports turn that signal off and call the handler themselves
  // (dpdk::Port::KickRx), but a PMD's signal may still come (another PMD, the keep-alive fd).
  // The signals DPDK installs handlers for go to the background poller only: blocked in the calling thread and every thread created from it afterwards
  // (gRPC's, the application's), so their blocking calls are not interrupted (EINTR), and a
  // thread parked where a signal cannot be handled (ThreadSanitizer delivers signals only at
  // intercepted calls) cannot hold a frame back.
  const std::vector<bool> had_handler = RtSignalsWithHandlers();
  absl::Status st = dpdk::StartEal(config_.eal);
  if (!st.ok()) return absl::Status(st.code(), absl::StrCat("BYPASS_EAL: ", st.message()));
  if (st = OpenPorts(); !st.ok()) return st;
  const std::vector<bool> has_handler = RtSignalsWithHandlers();
  sigemptyset(&rx_signals_);
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) {
    if (!had_handler[sig] && has_handler[sig]) sigaddset(&rx_signals_, sig);
  }
  pthread_sigmask(SIG_BLOCK, &rx_signals_, nullptr);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  return StartPoller();
}

absl::Status Stack::OpenPorts() {
  for (uint16_t pid : config_.ports) {
    dpdk::PortConfig pc;
    pc.port_id = pid;
    pc.mtu = config_.mtu;
    pc.vlan = config_.vlan;
    pc.mbufs_in_flight = config_.mbufs;
    pc.rx_desc = config_.descriptors;
    pc.tx_desc = config_.descriptors;
    pc.mbuf_priv_size = kMbufPrivSize;
    pc.use_offloads = config_.offloads;
    absl::StatusOr<std::unique_ptr<dpdk::Port>> port = dpdk::Port::Open(pc);
    if (!port.ok()) {
      return absl::Status(port.status().code(),
                          absl::StrCat("BYPASS_PORTS: ", port.status().message()));
    }
    ports_.push_back(*std::move(port));
  }
  dpdk::DeviceConfig dc;
  for (auto& p : ports_) dc.ports.push_back(p.get());
  dc.vlan = config_.vlan;
  dc.fault_drop = config_.faults.drop;
  dc.fault_reorder = config_.faults.reorder;
  dc.fault_seed = config_.faults.seed;
  dc.fault_tx_limit = config_.faults.tx_limit;
  device_ = std::make_unique<dpdk::Device>(dc);
  return absl::OkStatus();
}

absl::Status Stack::StartPoller() {
  // lwIP is set up by the background poller, holding the token.
  absl::Status init_status;
  absl::Notification ready;
  thread_ = std::thread([this, &init_status, &ready] {
    pthread_setname_np(pthread_self(), "bypass-poll");
    pthread_sigmask(SIG_UNBLOCK, &rx_signals_, nullptr);
    dpdk::PinToMainLcore();  // see dpdk/eal.h: only this thread stays on EAL's lcore
    TakeToken();
    if (!g_lwip.initialised) {
      lwip_init();
      g_lwip.initialised = true;
    }
    absl::StatusOr<std::unique_ptr<DpdkNetif>> n = DpdkNetif::Create(device_.get(), config_);
    if (n.ok()) netif_ = *std::move(n);
    if (!n.ok()) stopped_ = true;
    ReleaseToken();
    if (!n.ok()) init_status = n.status();
    ready.Notify();
    if (n.ok()) Background();
  });
  ready.WaitForNotification();
  if (!init_status.ok()) {
    thread_.join();
    return init_status;
  }
  return absl::OkStatus();
}

Stack::~Stack() {
  Stop();
  if (wake_fd_ >= 0) close(wake_fd_);
  g_lwip.stack_running = false;
}

void Stack::Stop() {
  stop_requested_.store(true, std::memory_order_seq_cst);
  Wake();
  if (thread_.joinable()) thread_.join();
  absl::MutexLock lock(&mu_);
  stopping_ = true;  // (when the poller never started)
  commands_.clear();
}

// ---------------------------------------------------------------------------------------
// The token

bool Stack::TryTakeToken() {
  if (!stack_token.TryLock()) return false;
  dpdk::RegisterThread();  // the mempool cache for what this thread allocates and frees
  return true;
}

void Stack::TakeToken() {
  stack_token.Lock();
  dpdk::RegisterThread();
}

Stack::Completions Stack::ReleaseToken() {
  Completions done;
  for (;;) {
    for (auto& fn : deferred_) done.push_back(std::move(fn));
    deferred_.clear();
    offload_turn_ = false;
    stack_token.Unlock();
    // A command posted while we held the token would otherwise wait for the next pass. With
    // the fence in QueueForHolder(): either we see its flag here, or its poster sees the token free.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!has_commands_.load(std::memory_order_seq_cst) || !TryTakeToken()) return done;
    if (!stopped_) {
      CommandStage();
      TxStage();
    }
  }
}

void Stack::InScope(absl::FunctionRef<void()> fn) {
  Scope* scope = scope_.load(std::memory_order_acquire);
  if (scope == nullptr) {
    fn();
  } else {
    (*scope)(fn);
  }
}

void Stack::SetScope(Scope scope) {
  scope_.store(new Scope(std::move(scope)), std::memory_order_release);
}

void Stack::SetSpinnerWanted(SpinnerWanted fn) {
  spinner_wanted_.store(new SpinnerWanted(std::move(fn)), std::memory_order_release);
}

void Stack::AddOnBackgroundWake(OnBackgroundWake fn) {
  auto* hook = new OnBackgroundWake(std::move(fn));
  for (auto& slot : on_background_wake_) {
    OnBackgroundWake* none = nullptr;
    if (slot.compare_exchange_strong(none, hook, std::memory_order_acq_rel)) return;
  }
  delete hook;
  std::fprintf(stderr, "grpc-bypass: more than %d background-wake hooks; one is ignored\n",
               kMaxOnBackgroundWake);
}

void Stack::SetOffload(Offload offload) {
  offload_.store(new Offload(std::move(offload)), std::memory_order_release);
}

void Stack::RunCompletions(Completions fns, After after) {
  if (fns.empty()) return;
  Offload* offload = offload_.load(std::memory_order_acquire);
  if (after == After::kOffload && offload != nullptr) {
    for (auto& fn : fns) (*offload)(std::move(fn));
    return;
  }
  deferred_run_.fetch_add(fns.size(), std::memory_order_relaxed);
  for (auto& fn : fns) fn();
}

void Stack::RunAfterTurn(absl::AnyInvocable<void()> fn) { deferred_.push_back(std::move(fn)); }

uint32_t Stack::Poll() {
  uint32_t work = 0;
  if (spinner_stuck_.load(std::memory_order_relaxed) &&
      spinner_.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
    spinner_stuck_.store(false, std::memory_order_relaxed);  // back
  }
  InScope([&] {
    if (!TryTakeToken()) return;
    if (!stopped_) work = PassLocked();
    Completions done = ReleaseToken();
    work += static_cast<uint32_t>(done.size());
    RunCompletions(std::move(done), After::kHere);
  });
  return work;
}

Stack::Batch::Batch(Stack* stack) : stack_(stack), outer_(t_in_batch) { t_in_batch = true; }

Stack::Batch::~Batch() {
  if (left_) return;
  t_in_batch = outer_;
  if (outer_ || !stack_->has_corked_.load(std::memory_order_acquire)) return;
  // The batch's end: what its writers corked goes out now (here, or in the holder's next
  // command stage when another thread has the token).
  stack_->RunHereOrQueue([s = stack_]() BYPASS_REQUIRES_TOKEN { s->OutputCorked(); });
}

void Stack::Batch::LeaveToNextPass(bool wake) {
  if (left_) return;
  left_ = true;
  t_in_batch = outer_;
  if (!outer_ && wake) stack_->WakeIfCorked();
}

void Stack::WakeIfCorked() {
  if (has_corked_.load(std::memory_order_acquire)) Wake();
}

bool Stack::Corking() const { return t_in_batch; }

void Stack::Cork(absl::AnyInvocable<void()> fn) {
  corked_.push_back(std::move(fn));
  has_corked_.store(true, std::memory_order_release);
}

void Stack::OutputCorked() {
  if (corked_.empty()) return;
  outputting_.swap(corked_);  // both keep their capacity: no allocation per batch
  has_corked_.store(false, std::memory_order_release);
  for (auto& fn : outputting_) fn();
  corked_output_.Add(outputting_.size());
  outputting_.clear();
}

Stack::Turn Stack::TryTurn(absl::FunctionRef<void()> fn, After after) {
  Turn turn = Turn::kBusy;
  InScope([&] {
    if (!TryTakeToken()) return;
    turn = stopped_ ? Turn::kStopped : Turn::kRan;
    if (turn == Turn::kRan) {
      offload_turn_ = after == After::kOffload;
      fn();
      CommandStage();
      TxStage();
    }
    RunCompletions(ReleaseToken(), after);
  });
  return turn;
}

Stack::Turn Stack::RunHere(absl::FunctionRef<void()> fn, After after) {
  if (HoldsToken()) {
    // Nested in this thread's own turn: that turn's completions run where it says, and
    // offloaded as well if this call asks for it.
    stack_token.AssertHeld();
    const bool outer = offload_turn_;
    offload_turn_ = outer || after == After::kOffload;
    fn();
    offload_turn_ = outer;
    return Turn::kRan;
  }
  const Turn turn = TryTurn(fn, after);
  if (turn == Turn::kRan) inline_runs_.fetch_add(1, std::memory_order_relaxed);
  return turn;
}

bool Stack::RunHereOrQueue(absl::AnyInvocable<void()> fn, After after) {
  switch (RunHere([&fn] { fn(); }, after)) {  // `fn` stays intact when it did not run
    case Turn::kRan:
      return true;
    case Turn::kStopped:
      return false;
    case Turn::kBusy:
      break;
  }
  posted_runs_.fetch_add(1, std::memory_order_relaxed);
  if (QueueForHolder(std::move(fn), after)) return true;
  // Refused: the stack is shutting down (Background's last pass holds the token). Wait for
  // it, so that when this returns false lwIP will never call back again.
  TakeToken();
  ReleaseToken();
  return false;
}

bool Stack::RunHereIfFree(absl::FunctionRef<void()> fn, After after) {
  return RunHere(fn, after) == Turn::kRan;
}

bool Stack::RunAfterStop(absl::FunctionRef<void()> fn, After after) {
  TakeToken();  // free for good once stopped (Background's last pass released it)
  const bool stopped = stopped_;
  if (stopped) {
    offload_turn_ = after == After::kOffload;
    fn();
  }
  RunCompletions(ReleaseToken(), after);
  return stopped;
}

bool Stack::QueueForHolder(absl::AnyInvocable<void()> fn, After after) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return false;
    commands_.push_back(std::move(fn));
    has_commands_.store(true, std::memory_order_seq_cst);
  }
  // The holder may have released the token before it saw the flag (ReleaseToken): then the
  // token is free now and the poster runs the commands itself, else the holder runs them.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!HoldsToken()) TryTurn([] {}, after);
  return true;
}

bool Stack::RunAndWait(absl::AnyInvocable<void()> fn, After after) {
  absl::Notification done;
  if (!RunHereOrQueue(
          [&fn, &done] {
            fn();
            done.Notify();
          },
          after)) {
    return false;
  }
  done.WaitForNotification();
  return true;
}

bool Stack::BeginSpin() {
  std::thread::id none;
  if (!spinner_.compare_exchange_strong(none, std::this_thread::get_id(),
                                        std::memory_order_acq_rel)) {
    return false;
  }
  spinner_stuck_.store(false, std::memory_order_relaxed);
  return true;
}

void Stack::SpinnerStuck(std::thread::id thread) {
  if (spinner_.load(std::memory_order_acquire) != thread ||
      spinner_stuck_.exchange(true, std::memory_order_acq_rel)) {
    return;
  }
  if (sleeping_.load(std::memory_order_seq_cst)) Wake();
}

void Stack::EndSpin(bool idle) {
  last_spin_end_tsc_.store(rte_get_tsc_cycles(), std::memory_order_release);
  spinner_.store(std::thread::id(), std::memory_order_seq_cst);
  // idle: the spin found nothing; the background poller takes over the ports now. Else the
  // spinner went to run what it was woken for and usually spins again within microseconds;
  // the background poller's watch (Background) covers the case where it does not.
  if (idle && sleeping_.load(std::memory_order_seq_cst)) Wake();
}

void Stack::Wake() {
  const uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!write(wake_fd_, &one, sizeof(one));
}

// ---------------------------------------------------------------------------------------
// The background poller

// While another thread spins, the background poller looks every `period` whether it still
// does, and takes the ports over when no one has spun for kGap (a spinner left to run an
// application event and did not come back); for kHot after such a takeover found frames
// waiting it looks 4 times as often. No wake-up per event in ping-pong. The period doubles
// from kPeriod to kPeriodMax while the looks find the spinner there, and is back at kPeriod
// after a takeover that found frames. Each look is a wake-up, and on a shared core a
// preemption of the spinner: with 1 ms..4 ms, and 50 us looks for 100 ms after each
// takeover, gRPC 1.83's unary ping-pong took 0.8 context switches per RPC in each process,
// nearly all from these looks (0.1-0.2 with these constants). A long-away spinner is rare:
// gRPC's sync server keeps a thread polling while another runs a handler (its minimum of
// pollers).
struct Stack::SpinnerWatch {
  static constexpr absl::Duration kPeriod = absl::Milliseconds(2);
  static constexpr absl::Duration kPeriodMax = absl::Milliseconds(16);
  static constexpr absl::Duration kGap = absl::Microseconds(50);
  static constexpr absl::Duration kHot = absl::Milliseconds(20);
  absl::Duration period = kPeriod;
  absl::Time hot_until = absl::InfinitePast();
  bool watched = false;  // the last loop saw a spinner
};

void Stack::Background() {
  constexpr absl::Duration kTimerTick = absl::Milliseconds(10);  // lwIP's TCP timer
  IdlePolicy idle(config_.idle.spin, config_.idle.sleep, config_.idle.spin_forever);
  SpinnerWatch watch;
  absl::Time last_spinner_wanted = absl::InfinitePast();
  bool interrupt_pending = false, interrupt_unanswered = false;
  bool interrupts = true;
  for (const auto& p : ports_) interrupts = interrupts && !p->RxInterruptFds().empty();
  while (!stop_requested_.load(std::memory_order_acquire)) {
    for (auto& slot : on_background_wake_) {
      OnBackgroundWake* w = slot.load(std::memory_order_acquire);
      if (w == nullptr) break;
      (*w)();
    }
    if (has_commands_.load(std::memory_order_seq_cst) && !stack_token.Busy()) {
      RunQueuedCommands();
      continue;
    }
    if (WatchSpinner(watch)) {
      idle.Restart();
      continue;
    }
    const uint32_t work = Poll();
    background_passes_.Inc();
    if (work > 0) WantSpinner(last_spinner_wanted);
    // An RX interrupt fd that is readable while rx_burst finds nothing (a frame the device
    // dropped, or a PMD that reads its queue only after a signal that has not come yet):
    // sleep once instead of waking on the same fd again at once.
    if (interrupt_pending && work == 0) interrupt_unanswered = true;
    interrupt_pending = false;
    if (watch.watched && work > 0) {
      // It did not come back and frames were waiting: look more often for a while.
      takeovers_.fetch_add(1, std::memory_order_relaxed);
      watch.hot_until = absl::Now() + SpinnerWatch::kHot;
      watch.period = SpinnerWatch::kPeriod;
    }
    watch.watched = false;
    if (work == 0) idle_iterations_.Inc();
    switch (idle.After(work, spin_in_background_.load(std::memory_order_relaxed))) {
      case IdlePolicy::Next::kPoll:
        continue;
      case IdlePolicy::Next::kPause:
        rte_pause();
        continue;
      case IdlePolicy::Next::kYield:
        sched_yield();
        continue;
      case IdlePolicy::Next::kIdle:
        break;
    }
    sleeps_.Inc();
    if (interrupts && !interrupt_unanswered) {
      interrupt_pending = Block(kTimerTick, /*use_interrupts=*/true);
      continue;
    }
    interrupt_unanswered = false;
    // (A TX backlog that tx_burst did not take is retried after the sleep: a ring that stays
    // full, or a link that is down, must not turn this into a busy loop.)
    Block(idle.NextSleep(), /*use_interrupts=*/false);
  }
  FinalTurn();
}

void Stack::WantSpinner(absl::Time& last) {
  SpinnerWanted* wanted = spinner_wanted_.load(std::memory_order_acquire);
  if (wanted == nullptr || spinner_.load(std::memory_order_acquire) != std::thread::id()) return;
  const absl::Time now = absl::Now();
  if (now - last < kSpinnerWantedEvery) return;
  last = now;
  spinner_wanted_calls_.fetch_add(1, std::memory_order_relaxed);
  (*wanted)();
}

void Stack::RunQueuedCommands() {
  // Commands queued for a free token (their poster woke us): run them now, whoever else
  // spins (a spinner would run them on its next pass, but it may be waiting for this very
  // core). Block returns at once in this state, so the loop would spin without yielding
  // until the scheduler's tick: seen holding the client's core 4.7 ms.
  background_passes_.Inc();
  if (Poll() == 0) {
    // The token was not free after all: its holder is between clearing its id and unlocking
    // (ReleaseToken), maybe preempted on this core, and runs the commands once it has
    // unlocked. Get out of its way: sleep, do not spin.
    Block(IdlePolicy::kMinSleep, /*use_interrupts=*/false, /*skip_if_commands=*/false);
  }
}

bool Stack::WatchSpinner(SpinnerWatch& w) {
  if (spinner_.load(std::memory_order_acquire) != std::thread::id()) {
    if (spinner_stuck_.load(std::memory_order_acquire)) {
      // It spins no more: what it runs after a pass (a layer above's callbacks) blocks.
      // Serve the ports beside it until it is back.
      spinner_away_passes_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    // Another thread polls (and runs the timers). Its EndSpin(idle) wakes us at once.
    w.watched = true;
    watch_sleeps_.Inc();  // the background poller only
    Block(absl::Now() < w.hot_until ? w.period / 4 : w.period, /*use_interrupts=*/false);
    w.period = std::min(w.period * 2, SpinnerWatch::kPeriodMax);
    return true;
  }
  if (!w.watched) return false;
  // The spinner left to run an event; it usually spins again within microseconds.
  const uint64_t since = rte_get_tsc_cycles() - last_spin_end_tsc_.load(std::memory_order_acquire);
  const absl::Duration gone =
      absl::Nanoseconds(static_cast<int64_t>(since * 1e9 / rte_get_tsc_hz()));
  if (gone >= SpinnerWatch::kGap) return false;
  watch_sleeps_.Inc();  // the background poller only
  Block(SpinnerWatch::kGap - gone, /*use_interrupts=*/false);
  return true;
}

void Stack::FinalTurn() {
  // Shutdown: refuse new commands, run what was posted, flush, remove the interface (which
  // aborts its connections: their callbacks run now), and send the resets that lwIP queued
  // for them, so that peers learn at once that this process's connections are gone, as they
  // do from the kernel when a process exits. Then lwIP never runs again.
  TakeToken();
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  CommandStage();
  TxStage();
  netif_.reset();
  FlushTx();
  stopped_ = true;
  Completions done = ReleaseToken();
  InScope([&] { RunCompletions(std::move(done), After::kHere); });
  // Frames still queued in the device are freed by its destructor.
}

bool Stack::Block(absl::Duration timeout, bool use_interrupts, bool skip_if_commands) {
  absl::InlinedVector<pollfd, 4> fds;
  fds.push_back({wake_fd_, POLLIN, 0});
  if (use_interrupts) {
    for (const auto& p : ports_) {
      for (int fd : p->RxInterruptFds()) fds.push_back({fd, POLLIN, 0});
      p->ArmRxInterrupts(true);
    }
  }
  sleeping_.store(true, std::memory_order_seq_cst);
  // Posted work and a free token: no sleep. Posted work while a thread holds the token: that
  // thread runs it when it releases the token, so sleep (never spin on a token whose holder
  // may be preempted on this very core).
  const bool run_now = skip_if_commands && has_commands_.load(std::memory_order_seq_cst) &&
                       !stack_token.Busy();
  if (!run_now && !stop_requested_.load(std::memory_order_seq_cst)) {
    const timespec ts = absl::ToTimespec(timeout);
    if (ppoll(fds.data(), fds.size(), &ts, nullptr) > 0) {
      wakeups_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  sleeping_.store(false, std::memory_order_seq_cst);
  if (fds[0].revents & POLLIN) {
    uint64_t n;
    (void)!read(wake_fd_, &n, sizeof(n));
  }

  bool interrupted = false;
  for (size_t i = 1; i < fds.size(); ++i) interrupted = interrupted || (fds[i].revents & POLLIN);
  if (use_interrupts) {
    for (const auto& p : ports_) p->ArmRxInterrupts(false);
  }
  return interrupted;
}

// ---------------------------------------------------------------------------------------
// The stages of a pass (token holder)

uint32_t Stack::PassLocked() {
  uint32_t work = 0;
  work += RxStage();
  work += InputStage();
  work += CommandStage();
  work += TimerStage();
  work += TxStage();
  iterations_.Inc();
  if (spinner_.load(std::memory_order_relaxed) == std::this_thread::get_id()) {
    spin_passes_.fetch_add(1, std::memory_order_relaxed);
  }
  return work;
}

uint32_t Stack::RxStage() {
  rx_count_ = device_->Receive(rx_, dpdk::kBurst * 4);
  rx_frames_.Add(rx_count_);
  return rx_count_;
}

uint32_t Stack::InputStage() {
  // Neighbours learned from this batch go into the ARP table before the batch reaches lwIP,
  // so that an answer to the first frame from a new peer needs no ARP request.
  for (const dpdk::LearnedNeighbor& nb : device_->TakeLearnedNeighbors()) netif_->SeedArp(nb);
  for (uint16_t i = 0; i < rx_count_; ++i) netif_->Input(rx_[i]);
  input_frames_.Add(rx_count_);
  const uint32_t n = rx_count_;
  rx_count_ = 0;
  return n;
}

uint32_t Stack::CommandStage() {
  if (!has_commands_.load(std::memory_order_acquire)) return 0;
  {
    absl::MutexLock lock(&mu_);
    running_.swap(commands_);
    has_commands_.store(false, std::memory_order_relaxed);
  }
  const uint32_t n = static_cast<uint32_t>(running_.size());
  // Commands are mostly writes posted by threads that found the token taken. Those one stage
  // runs for one connection leave as one segment: their output is corked to the TX stage that
  // always follows a command stage (or to the end of this thread's batch, if it is in one).
  const bool outer = t_in_batch;
  t_in_batch = true;
  for (auto& fn : running_) fn();
  t_in_batch = outer;
  running_.clear();
  commands_run_.Add(n);
  return n;
}

// Timer ticks are not counted as work: a tick every millisecond would keep the idle backoff
// from ever sleeping.
uint32_t Stack::TimerStage() {
  const u32_t now = sys_now();
  if (now != last_ms_) {
    last_ms_ = now;
    sys_check_timeouts();
    timer_runs_.Inc();
  }
  const uint64_t tsc = rte_get_tsc_cycles();
  if (tsc >= next_slow_tick_) {
    next_slow_tick_ = tsc + rte_get_tsc_hz() / 10;  // every 100 ms
    netif_->SetLinkUp(device_->RefreshLinkState());
  }
  return 0;
}

uint32_t Stack::TxStage() {
  // Output corked by batches that have ended, or by this one when it is not a batch's turn.
  if (!t_in_batch) OutputCorked();
  // Packets to our own address first (they may answer with more: a few rounds at most).
  uint32_t looped = 0;
  for (int round = 0; round < 4 && netif_->raw()->loop_first != nullptr; ++round) {
    netif_poll(netif_->raw());
    ++looped;
  }
  return FlushTx() + looped;
}

uint32_t Stack::FlushTx() {
  const uint32_t n = device_->FlushTx();
  tx_frames_.Add(n);
  return n;
}

// ---------------------------------------------------------------------------------------
// Statistics

PollStats Stack::poll_stats() const {
  return PollStats{iterations_.Get(),
                   idle_iterations_.Get(),
                   sleeps_.Get(),
                   rx_frames_.Get(),
                   input_frames_.Get(),
                   commands_run_.Get(),
                   timer_runs_.Get(),
                   tx_frames_.Get(),
                   deferred_run_.load(std::memory_order_relaxed),
                   inline_runs_.load(std::memory_order_relaxed),
                   posted_runs_.load(std::memory_order_relaxed),
                   background_passes_.Get(),
                   spin_passes_.load(std::memory_order_relaxed),
                   wakeups_.load(std::memory_order_relaxed),
                   takeovers_.load(std::memory_order_relaxed),
                   watch_sleeps_.Get(),
                   dpdk::ThreadsWithoutLcore(),
                   corked_output_.Get(),
                   spinner_wanted_calls_.load(std::memory_order_relaxed),
                   spinner_away_passes_.load(std::memory_order_relaxed)};
}

uint32_t LwipStats::Used(const std::string& pool) const {
  for (const Pool& p : pools) {
    if (p.name == pool) return p.used;
  }
  return 0;
}

LwipStats Stack::GetLwipStats() {
  LwipStats s{};
  RunAndWait([this, &s]() BYPASS_REQUIRES_TOKEN {
    if (netif_ != nullptr) {
      const NetifCounters& nc = netif_->counters();
      s.netif_rx_runts = nc.rx_runts.Get();
      s.netif_rx_input_errors = nc.rx_input_errors.Get();
      s.netif_tx_nomem = nc.tx_nomem.Get();
      s.netif_tx_dropped = nc.tx_dropped.Get();
      s.netif_tx_zero_copy = nc.tx_zero_copy.Get();
    }
    for (int i = 0; i < MEMP_MAX; ++i) {
      const stats_mem* m = ::lwip_stats.memp[i];
      if (m == nullptr) continue;
      s.pools.push_back({m->name ? m->name : absl::StrCat("pool", i),
                         static_cast<uint32_t>(m->used), static_cast<uint32_t>(m->max),
                         static_cast<uint32_t>(m->avail), static_cast<uint32_t>(m->err)});
    }
    s.heap_used = ::lwip_stats.mem.used;
    s.heap_max = ::lwip_stats.mem.max;
    s.heap_err = ::lwip_stats.mem.err;
    static_assert(sizeof(::lwip_stats.tcp.recv) >= 4, "lwipopts.h: LWIP_STATS_LARGE");
    s.tcp_rx = ::lwip_stats.tcp.recv;
    s.tcp_tx = ::lwip_stats.tcp.xmit;
    s.tcp_drop = ::lwip_stats.tcp.drop;
    s.tcp_chkerr = ::lwip_stats.tcp.chkerr;
    s.tcp_memerr = ::lwip_stats.tcp.memerr;
    s.ip_drop = ::lwip_stats.ip.drop;
    s.ip_opterr = ::lwip_stats.ip.opterr;
    s.ip_fragerr = ::lwip_stats.ip_frag.drop;
    s.ip_proterr = ::lwip_stats.ip.proterr;
    s.link_drop = ::lwip_stats.link.drop;
  });
  return s;
}

std::vector<std::string> Stack::DescribePorts() const {
  std::vector<std::string> out;
  for (const auto& p : ports_) {
    const dpdk::Offloads& o = p->offloads();
    const rte_ether_addr& m = p->mac();
    out.push_back(absl::StrFormat(
        "grpc-bypass: port %d (%s) mac %02x:%02x:%02x:%02x:%02x:%02x mtu %d queues %d/%d link %s "
        "offloads: tx_ip_cksum=%d tx_tcp_cksum=%d rx_cksum=%d vlan_insert=%d vlan_strip=%d "
        "tso=%d scatter_rx=%d rss=%d",
        p->id(), p->name(), m.addr_bytes[0], m.addr_bytes[1], m.addr_bytes[2], m.addr_bytes[3],
        m.addr_bytes[4], m.addr_bytes[5], p->mtu(), p->config().rx_queues, p->config().tx_queues,
        p->LinkUp() ? "up" : "down", o.tx_ipv4_cksum, o.tx_tcp_cksum,
        o.rx_ipv4_cksum && o.rx_tcp_cksum, o.vlan_insert, o.vlan_strip, o.tso, o.scatter_rx,
        o.rss_hf != 0));
  }
  return out;
}

std::string Stack::Summary() {
  uint64_t rxp = 0, txp = 0, rxb = 0, txb = 0, drops = 0, nombuf = 0, retries = 0;
  for (const dpdk::PortQueueStats& q : device_->Stats()) {
    rxp += q.rx_packets;
    txp += q.tx_packets;
    rxb += q.rx_bytes;
    txb += q.tx_bytes;
    drops += q.rx_drops + q.tx_drops;
    nombuf += q.tx_nombuf + q.rx_nombuf;
    retries += q.tx_retries;
  }
  LwipStats l = GetLwipStats();
  PollStats p = poll_stats();
  const uint64_t zero_copy = l.netif_tx_zero_copy;
  return absl::StrFormat(
      "grpc-bypass: dpdk rx %d pkts/%d B tx %d pkts/%d B (%d without a copy) drops %d nombuf "
      "%d tx_retries %d | lwip tcp rx %d tx %d drop %d pcbs %d | poll iterations %d idle %d%%",
      rxp, rxb, txp, txb, zero_copy, drops, nombuf, retries, l.tcp_rx, l.tcp_tx, l.tcp_drop,
      l.Used("TCP_PCB"), p.iterations,
      p.iterations ? static_cast<int>(100 * p.idle_iterations / p.iterations) : 0);
}

}  // namespace grpc_bypass
