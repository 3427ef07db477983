// The process's one lwIP stack on one DPDK poll thread: EAL, ports, device, netif, and the
// poll loop. Other threads reach lwIP only through Post()/RunSync() (the command queue).
//
// The poll loop is five named stages, each returning the work it did:
//   rx (rx_burst on every port) -> input (frames into lwIP) -> commands (work posted by
//   other threads) -> timers (lwIP timeouts, link state, MAC learning) -> tx (one flush).
// An iteration with no work counts as idle; the idle backoff (IdleConfig) decides whether to
// keep spinning or to sleep until work is posted or the sleep ends.
#ifndef GRPC_BYPASS_TRANSPORT_LWIP_STACK_H
#define GRPC_BYPASS_TRANSPORT_LWIP_STACK_H

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
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
  // Starts EAL, the ports, lwIP and the poll thread. One Stack per process (lwIP is global):
  // a second Start while one runs is FailedPrecondition. Errors are one line.
  static absl::StatusOr<std::unique_ptr<Stack>> Start(const StackConfig& config);
  ~Stack();  // Stop()

  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // Ends the poll loop and releases lwIP's interface; idempotent. Posted commands not yet run
  // are run first. Not on the poll thread.
  void Stop();

  // Runs `fn` on the poll thread soon (FIFO). Any thread. False if the stack has stopped
  // (then `fn` is destroyed without running).
  bool Post(absl::AnyInvocable<void()> fn) ABSL_LOCKS_EXCLUDED(mu_);
  // Runs `fn` on the poll thread and waits for it (runs it inline on the poll thread).
  bool RunSync(absl::AnyInvocable<void()> fn);
  bool OnPollThread() const { return std::this_thread::get_id() == poll_thread_id_; }

  const StackConfig& config() const { return config_; }
  dpdk::Device& device() { return *device_; }
  DpdkNetif& netif() { return *netif_; }  // poll thread
  const std::vector<std::unique_ptr<dpdk::Port>>& ports() const { return ports_; }

  PollStats poll_stats() const;           // any thread
  LwipStats GetLwipStats();              // any thread (runs on the poll thread)
  std::string Summary();                  // one line for logs and shutdown
  // One line per port: name, MAC, MTU, queues, link, and the offloads in use.
  std::vector<std::string> DescribePorts() const;

 private:
  explicit Stack(const StackConfig& config) : config_(config) {}
  absl::Status Init();
  void Loop();
  uint32_t RxStage();
  uint32_t InputStage();
  uint32_t CommandStage() ABSL_LOCKS_EXCLUDED(mu_);
  uint32_t TimerStage();
  uint32_t TxStage();
  void Idle(uint32_t work) ABSL_LOCKS_EXCLUDED(mu_);

  StackConfig config_;
  std::vector<std::unique_ptr<dpdk::Port>> ports_;
  std::unique_ptr<dpdk::Device> device_;
  std::unique_ptr<DpdkNetif> netif_;  // created and destroyed on the poll thread
  std::thread thread_;
  std::thread::id poll_thread_id_;

  // Poll thread only.
  rte_mbuf* rx_[dpdk::kBurst * 4];
  uint16_t rx_count_ = 0;
  uint32_t last_ms_ = 0;
  uint64_t next_slow_tick_ = 0;  // TSC of the next link/MAC-learning check
  uint64_t idle_since_tsc_ = 0;
  std::vector<absl::AnyInvocable<void()>> running_;

  absl::Mutex mu_;
  std::vector<absl::AnyInvocable<void()>> commands_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // Post() refuses work from then on
  std::atomic<bool> stop_requested_{false};      // the loop's exit check, without the lock
  bool sleeping_ ABSL_GUARDED_BY(mu_) = false;
  absl::CondVar wake_;
  std::atomic<bool> has_commands_{false};

  Counter iterations_, idle_iterations_, sleeps_, rx_frames_, input_frames_, commands_run_,
      timer_runs_, tx_frames_;
};

// Exits the process with one line on stderr if `st` is not OK (for binaries' main()).
void ExitIfError(const absl::Status& st, const char* prefix);

}  // namespace grpc_bypass

#endif  // GRPC_BYPASS_TRANSPORT_LWIP_STACK_H
