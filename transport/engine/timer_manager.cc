#include "transport/engine/timer_manager.h"

namespace grpc_bypass::engine {

TimerManager::TimerManager(Executor* executor) : executor_(executor) {
  thread_ = std::thread([this] { Loop(); });
}

TimerManager::~TimerManager() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    cv_.Signal();
  }
  thread_.join();
}

int64_t TimerManager::RunAfter(absl::Duration delay, absl::AnyInvocable<void()> fn) {
  absl::MutexLock lock(&mu_);
  const int64_t id = next_id_++;
  const absl::Time deadline = absl::Now() + std::max(delay, absl::ZeroDuration());
  const bool earliest = timers_.empty() || deadline < timers_.begin()->first.first;
  timers_.emplace(Key{deadline, id}, std::move(fn));
  deadlines_[id] = deadline;
  if (earliest) cv_.Signal();
  return id;
}

bool TimerManager::Cancel(int64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = deadlines_.find(id);
  if (it == deadlines_.end()) return false;
  timers_.erase(Key{it->second, id});
  deadlines_.erase(it);
  return true;
}

void TimerManager::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    if (timers_.empty()) {
      cv_.Wait(&mu_);
      continue;
    }
    const absl::Time now = absl::Now();
    auto it = timers_.begin();
    if (it->first.first > now) {
      cv_.WaitWithDeadline(&mu_, it->first.first);
      continue;
    }
    deadlines_.erase(it->first.second);
    executor_->Run(std::move(it->second));
    timers_.erase(it);
  }
}

}  // namespace grpc_bypass::engine
