#include "transport/engine/run_queue.h"

#include <utility>

namespace grpc_bypass::engine {

void RunQueue::Push(Fn fn) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(fn));
}

size_t RunQueue::RunAll() {
  size_t ran = 0;
  for (;;) {
    Fn fn;
    {
      absl::MutexLock lock(&mu_);
      if (next_ == queue_.size()) {
        queue_.clear();
        next_ = 0;
        return ran;
      }
      fn = std::move(queue_[next_++]);
    }
    fn();
    ++ran;
  }
}

RunQueue::Rescued RunQueue::Rescue(absl::Time now, absl::Duration stuck,
                                   absl::FunctionRef<void(Fn)> to) {
  const uint64_t busy = busy_.load(std::memory_order_acquire);
  if (busy % 2 == 0) return {};  // not in a scope
  absl::InlinedVector<Fn, 8> taken;
  {
    absl::MutexLock lock(&mu_);
    if (busy != seen_busy_) {  // a scope begun since the last look: its clock starts
      seen_busy_ = busy;
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
