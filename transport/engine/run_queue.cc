#include "transport/engine/run_queue.h"

#include <utility>

namespace grpc_bypass::engine {

void RunQueue::Push(Fn fn) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(fn));
  ++progress_;
}

size_t RunQueue::RunAll() {
  size_t ran = 0;
  for (;;) {
    Fn fn;
    {
      absl::MutexLock lock(&mu_);
      running_ = false;
      if (next_ == queue_.size()) {
        queue_.clear();
        next_ = 0;
        return ran;
      }
      fn = std::move(queue_[next_++]);
      running_ = true;
      ++progress_;
    }
    fn();
    ++ran;
  }
}

RunQueue::Rescued RunQueue::Rescue(absl::Time now, absl::Duration stuck,
                                   absl::FunctionRef<void(Fn)> to) {
  absl::InlinedVector<Fn, 8> taken;
  {
    absl::MutexLock lock(&mu_);
    if (!running_) return {};
    if (progress_ != seen_progress_) {  // another closure, or one more queued: the clock restarts
      seen_progress_ = progress_;
      seen_at_ = now;
      return {};
    }
    if (now - seen_at_ < stuck) return {};
    for (size_t i = next_; i < queue_.size(); ++i) taken.push_back(std::move(queue_[i]));
    queue_.clear();
    next_ = 0;
  }
  for (Fn& fn : taken) to(std::move(fn));
  return {true, taken.size()};
}

}  // namespace grpc_bypass::engine
