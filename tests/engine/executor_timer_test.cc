// The executor and the timer thread on their own: no stack, no DPDK.
#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "transport/engine/executor.h"
#include "transport/engine/run_queue.h"
#include "transport/engine/timer_manager.h"

namespace grpc_bypass::engine {
namespace {

TEST(Executor, RunsEveryClosureOnItsOwnThreads) {
  Executor ex(2);
  constexpr int kN = 1000;
  std::atomic<int> ran{0}, off_caller{0};
  absl::Notification done;
  const std::thread::id caller = std::this_thread::get_id();
  for (int i = 0; i < kN; ++i) {
    ex.Run([&] {
      if (std::this_thread::get_id() != caller && Executor::OnExecutorThread()) ++off_caller;
      if (++ran == kN) done.Notify();
    });
  }
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(off_caller.load(), kN);
  EXPECT_FALSE(Executor::OnExecutorThread());
}

TEST(Executor, OneThreadRunsClosuresInTheOrderTheyCame) {
  Executor ex(1);
  absl::Mutex mu;
  std::vector<int> order;
  absl::Notification done;
  for (int i = 0; i < 100; ++i) {
    ex.Run([&, i] {
      absl::MutexLock lock(&mu);
      order.push_back(i);
      if (i == 99) done.Notify();
    });
  }
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  absl::MutexLock lock(&mu);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(order[i], i);
}

// Waits until `n` reaches at least `want` (10 s at most); returns whether it did.
bool WaitFor(const std::atomic<int>& n, int want) {
  const absl::Time end = absl::Now() + absl::Seconds(10);
  while (n.load() < want) {
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

TEST(Executor, NudgeIdleSendsOneBlockedWorkerBackToTheIdleHook) {
  std::atomic<int> hooks{0};
  Executor ex(2, [&](absl::FunctionRef<bool()>) { ++hooks; });
  ASSERT_TRUE(WaitFor(hooks, 2)) << "each worker runs the hook once before it blocks";
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(hooks.load(), 2) << "then they block: nothing queued, no nudge";
  ex.NudgeIdle();
  ASSERT_TRUE(WaitFor(hooks, 3)) << "a nudge wakes a blocked worker into the hook";
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(hooks.load(), 3) << "one worker per nudge, and it blocks again";
  // Closures still run after a nudge, and Stop still ends the workers.
  absl::Notification ran;
  ex.Run([&] { ran.Notify(); });
  EXPECT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

TEST(Executor, NudgeIdleDoesNothingWhileAWorkerIsInTheHook) {
  std::atomic<int> hooks{0};
  std::atomic<bool> release{false};
  // The first call of the hook stays in it (a spinner) until released.
  Executor ex(2, [&](absl::FunctionRef<bool()> queued) {
    if (++hooks == 1) {
      while (!release.load() && !queued()) absl::SleepFor(absl::Milliseconds(1));
    }
  });
  ASSERT_TRUE(WaitFor(hooks, 2));
  absl::SleepFor(absl::Milliseconds(20));
  ex.NudgeIdle();
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(hooks.load(), 2) << "a worker polls already: no second one is woken";
  release = true;
}

// Two workers whose first call of the idle hook stands for a spinner stuck in a reaction: it
// ignores queued() and stays until Release(). Later calls return at once.
struct StuckIdler {
  std::atomic<int> hooks{0};
  absl::Notification release;
  std::atomic<std::thread::id> thread{};  // the stuck worker
  Executor ex{2, [this](absl::FunctionRef<bool()>) {
                if (++hooks == 1) {
                  thread = std::this_thread::get_id();
                  release.WaitForNotification();
                }
              }};
  ~StuckIdler() { release.Notify(); }
};

TEST(Executor, ABlockedWorkerRunsWhatIsQueuedOnceTheIdlerIsSaidToBeStuck) {
  StuckIdler s;
  ASSERT_TRUE(WaitFor(s.hooks, 2));
  absl::SleepFor(absl::Milliseconds(20));
  absl::Notification ran;
  s.ex.Run([&] { ran.Notify(); });
  EXPECT_FALSE(ran.WaitForNotificationWithTimeout(absl::Milliseconds(100)))
      << "while a worker is in the hook, the blocked one leaves the queue to it";
  s.ex.IdlerStuck(std::this_thread::get_id());
  EXPECT_FALSE(ran.WaitForNotificationWithTimeout(absl::Milliseconds(100)))
      << "a thread that is not in the hook is not the stuck idler";
  s.ex.IdlerStuck(s.thread.load());
  EXPECT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(10)))
      << "told that the idler is stuck, the blocked worker runs the closure";
}

// The stuck worker holds the stack's spin, so another worker that finds the queue empty
// enters the idle hook and leaves it at once (PollWhileIdle: BeginSpin fails). Its leaving
// must not end the stuck one's mark: closures queued after it are run by the blocked
// workers, not left to the stuck one (seen under gRPC 1.83: a new stream waited 700 ms for a
// reaction that slept).
TEST(Executor, AnotherWorkerPassingThroughTheIdleHookKeepsTheStuckIdlersMark) {
  StuckIdler s;
  ASSERT_TRUE(WaitFor(s.hooks, 2));
  s.ex.IdlerStuck(s.thread.load());
  absl::Notification first;
  s.ex.Run([&] { first.Notify(); });
  ASSERT_TRUE(first.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(WaitFor(s.hooks, 3)) << "the other worker, its queue empty, passes through the hook";
  absl::SleepFor(absl::Milliseconds(20));
  absl::Notification second;
  s.ex.Run([&] { second.Notify(); });
  EXPECT_TRUE(second.WaitForNotificationWithTimeout(absl::Seconds(5)))
      << "the stuck worker is still in the hook: the blocked worker runs what is queued";
}

TEST(Executor, StopRunsWhatIsQueuedAndLaterRunsRunAtOnceOnTheCaller) {
  Executor ex(2);
  std::atomic<int> ran{0};
  for (int i = 0; i < 50; ++i) ex.Run([&] { ++ran; });
  ex.Stop();
  EXPECT_EQ(ran.load(), 50);
  bool here = false;
  const std::thread::id caller = std::this_thread::get_id();
  ex.Run([&] { here = std::this_thread::get_id() == caller; });
  EXPECT_TRUE(here) << "a closure after Stop runs exactly once, on the caller";
  ex.Stop();  // idempotent
}

TEST(Executor, AnIdleWorkerCallsTheIdleHookAndReturnsWhenWorkIsQueued) {
  std::atomic<int> hooks{0};
  Executor ex(1, [&](absl::FunctionRef<bool()> queued) {
    ++hooks;
    const absl::Time end = absl::Now() + absl::Seconds(5);
    while (!queued() && absl::Now() < end) absl::SleepFor(absl::Microseconds(50));
  });
  const absl::Time until = absl::Now() + absl::Seconds(5);
  while (hooks.load() == 0 && absl::Now() < until) absl::SleepFor(absl::Milliseconds(1));
  ASSERT_GT(hooks.load(), 0);
  absl::Notification ran;
  const absl::Time start = absl::Now();
  ex.Run([&] { ran.Notify(); });
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(2)))
      << "the hook did not return when work came";
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST(RunQueue, RunAllRunsInOrderWhatIsQueuedAndWhatThatQueues) {
  RunQueue q;
  std::vector<int> order;
  q.Push([&] {
    order.push_back(1);
    q.Push([&] { order.push_back(3); });
  });
  q.Push([&] { order.push_back(2); });
  EXPECT_EQ(q.RunAll(), 3u);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(q.RunAll(), 0u);
}

// Collects what RunQueue::Rescue hands on.
struct Sink {  // (FunctionRef calls it as const)
  mutable std::vector<RunQueue::Fn> taken;
  void operator()(RunQueue::Fn fn) const { taken.push_back(std::move(fn)); }
};

TEST(RunQueue, AnOwnerOutsideItsClosuresIsNeverStuck) {
  RunQueue q;  // e.g. in a long pass over the stack: not application code
  Sink to;
  std::vector<RunQueue::Fn>& taken = to.taken;
  const absl::Time t0 = absl::Now();
  q.Push([] {});
  EXPECT_FALSE(q.Rescue(t0, absl::Milliseconds(1), to).stuck);
  EXPECT_FALSE(q.Rescue(t0 + absl::Seconds(1), absl::Milliseconds(1), to).stuck);
  EXPECT_TRUE(taken.empty());
  EXPECT_EQ(q.RunAll(), 1u);
}

// An owner thread in RunAll whose first closure stays in until `release` (a reaction that
// blocks), with a second closure queued behind it.
struct StuckOwner {
  RunQueue q;
  absl::Notification entered, release, second_ran;
  std::thread owner;
  StuckOwner() {
    q.Push([this] {
      entered.Notify();
      release.WaitForNotification();
    });
    q.Push([this] { second_ran.Notify(); });
    owner = std::thread([this] { q.RunAll(); });
    entered.WaitForNotification();
  }
  ~StuckOwner() {
    release.Notify();
    owner.join();
  }
};

TEST(RunQueue, AClosureThatBlocksDoesNotHoldUpTheOnesBehindIt) {
  StuckOwner s;
  Sink to;
  std::vector<RunQueue::Fn>& taken = to.taken;
  const absl::Time t0 = absl::Now();
  const absl::Duration stuck = absl::Milliseconds(1);
  EXPECT_FALSE(s.q.Rescue(t0, stuck, to).stuck) << "the first look starts the clock";
  EXPECT_FALSE(s.q.Rescue(t0 + absl::Microseconds(500), stuck, to).stuck);
  const RunQueue::Rescued r = s.q.Rescue(t0 + absl::Milliseconds(2), stuck, to);
  EXPECT_TRUE(r.stuck);
  ASSERT_EQ(r.moved, 1u);
  taken[0]();
  EXPECT_TRUE(s.second_ran.HasBeenNotified())
      << "the closure behind the blocked one ran here, before that one returned";
  EXPECT_TRUE(s.q.Rescue(t0 + absl::Milliseconds(3), stuck, to).stuck) << "still in it";
  EXPECT_EQ(taken.size(), 1u) << "nothing more to take";
}

TEST(RunQueue, AnOwnerThatKeepsQueuingIsNotStuck) {
  StuckOwner s;
  Sink to;
  std::vector<RunQueue::Fn>& taken = to.taken;
  const absl::Time t0 = absl::Now();
  const absl::Duration stuck = absl::Milliseconds(1);
  EXPECT_FALSE(s.q.Rescue(t0, stuck, to).stuck);
  s.q.Push([] {});  // (as the owner would, from inside its long closure: progress)
  EXPECT_FALSE(s.q.Rescue(t0 + absl::Milliseconds(2), stuck, to).stuck)
      << "it queued since the last look: its clock restarts";
  EXPECT_FALSE(s.q.Rescue(t0 + absl::Milliseconds(2.5), stuck, to).stuck);
  EXPECT_TRUE(taken.empty());
  EXPECT_TRUE(s.q.Rescue(t0 + absl::Milliseconds(4), stuck, to).stuck);
  EXPECT_EQ(taken.size(), 2u);
  for (auto& fn : taken) fn();
}

TEST(TimerManager, FiresInDeadlineOrderNotBeforeItsDelay) {
  Executor ex(1);
  TimerManager timers(&ex);
  // Deadlines from when each was scheduled (a slow machine, or ThreadSanitizer, may stall
  // between the calls: the expected order follows the deadlines, not the call order).
  const absl::Duration delays[3] = {absl::Milliseconds(150), absl::Milliseconds(50),
                                    absl::Milliseconds(100)};
  absl::Time deadline[3];
  absl::Time fired[3];
  absl::Mutex mu;
  std::vector<int> order;
  absl::Notification done;
  for (int i = 0; i < 3; ++i) {
    deadline[i] = absl::Now() + delays[i];
    timers.RunAfter(delays[i], [&, i] {
      absl::MutexLock lock(&mu);
      fired[i] = absl::Now();
      order.push_back(i);
      if (order.size() == 3) done.Notify();
    });
  }
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  absl::MutexLock lock(&mu);
  std::vector<int> expected = {0, 1, 2};
  std::sort(expected.begin(), expected.end(),
            [&](int a, int b) { return deadline[a] < deadline[b]; });
  EXPECT_EQ(order, expected);
  for (int i = 0; i < 3; ++i) EXPECT_GE(fired[i], deadline[i]) << "timer " << i << " was early";
}

TEST(TimerManager, ACancelledTimerNeverRunsAndCancelSaysWhetherItWasPending) {
  Executor ex(1);
  TimerManager timers(&ex);
  std::atomic<bool> cancelled_ran{false};
  absl::Notification fired;
  // The cancelled timer is due before the other fires, so that it would have run by then;
  // 1 s leaves the Cancel below room on a loaded machine under TSan (30 ms did not: once the
  // timer fired first and Cancel found nothing).
  const int64_t id = timers.RunAfter(absl::Seconds(1), [&] { cancelled_ran = true; });
  const int64_t other = timers.RunAfter(absl::Milliseconds(1500), [&] { fired.Notify(); });
  EXPECT_GT(id, 0);
  EXPECT_NE(id, other);
  EXPECT_TRUE(timers.Cancel(id));
  EXPECT_FALSE(timers.Cancel(id)) << "a second cancel finds nothing";
  ASSERT_TRUE(fired.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_FALSE(timers.Cancel(other)) << "a timer that fired cannot be cancelled";
  EXPECT_FALSE(cancelled_ran.load());
  EXPECT_FALSE(timers.Cancel(12345678)) << "an unknown id";
}

TEST(TimerManager, DestroyingItDropsPendingTimers) {
  // The delay is long beside a TSan build's thread start-up on a loaded
  // 2-core machine (a 50 ms delay fired before the destructor ran there).
  constexpr absl::Duration kDelay = absl::Seconds(2);
  Executor ex(1);
  std::atomic<bool> ran{false};
  const absl::Time start = absl::Now();
  {
    TimerManager timers(&ex);
    timers.RunAfter(kDelay, [&] { ran = true; });
  }
  const absl::Duration destroy_took = absl::Now() - start;
  ASSERT_LT(destroy_took, kDelay) << "the destructor waited for the pending timer";
  absl::SleepFor(kDelay - destroy_took + absl::Milliseconds(300));
  EXPECT_FALSE(ran.load());
}

}  // namespace
}  // namespace grpc_bypass::engine
