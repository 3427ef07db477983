#include "transport/lwip/idle_policy.h"

#include <rte_cycles.h>

#include <algorithm>

namespace grpc_bypass {
namespace {
uint64_t ToTsc(absl::Duration d) {
  return static_cast<uint64_t>(absl::ToDoubleSeconds(d) * static_cast<double>(rte_get_tsc_hz()));
}
}  // namespace

IdlePolicy::IdlePolicy(absl::Duration spin, absl::Duration max_sleep, bool spin_forever)
    : spin_tsc_(ToTsc(std::max(spin, absl::ZeroDuration()))),
      busy_yield_tsc_(ToTsc(kBusyYield)),
      deep_tsc_(ToTsc(kDeepIdle)),
      max_sleep_(std::max(max_sleep, kMinSleep)),
      spin_forever_(spin_forever),
      last_work_tsc_(Now()),
      last_yield_tsc_(last_work_tsc_) {}

uint64_t IdlePolicy::Now() const { return rte_get_tsc_cycles(); }

void IdlePolicy::Restart() { last_work_tsc_ = Now(); }

IdlePolicy::Next IdlePolicy::After(uint32_t work, bool may_spin) {
  const uint64_t now = Now();
  if (work > 0) {
    last_work_tsc_ = now;
    sleep_ = kMinSleep;
    if (spin_forever_ || now - last_yield_tsc_ <= busy_yield_tsc_) return Next::kPoll;
    last_yield_tsc_ = now;
    return Next::kYield;
  }
  if (spin_forever_) return Next::kPause;
  if (may_spin && now - last_work_tsc_ < spin_tsc_) {
    last_yield_tsc_ = now;
    return Next::kYield;
  }
  return Next::kIdle;
}

absl::Duration IdlePolicy::NextSleep() {
  const absl::Duration s = sleep_;
  sleep_ = std::min(sleep_ * 2, DeepIdle() ? 2 * max_sleep_ : max_sleep_);
  return s;
}

bool IdlePolicy::DeepIdle() const { return Now() - last_work_tsc_ > deep_tsc_; }

}  // namespace grpc_bypass
