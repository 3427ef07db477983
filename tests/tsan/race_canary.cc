// A check of the ThreadSanitizer set-up itself (tools/test runs it under --config=tsan with
// the TSan-built Abseil on LD_LIBRARY_PATH):
//   race_canary locked  - data handed between threads under an absl::Mutex: no report is
//                         expected (TSan sees the instrumented Abseil's lock; with Debian's
//                         uninstrumented Abseil it would report a false race here)
//   race_canary racy    - the same without the lock: TSan must report a data race
#include <cstdio>
#include <cstring>
#include <thread>

#include "absl/synchronization/mutex.h"

int main(int argc, char** argv) {
  const bool locked = argc > 1 && std::strcmp(argv[1], "locked") == 0;
  absl::Mutex mu;
  long shared = 0;  // guarded by mu in "locked" mode only
  auto work = [&] {
    for (int i = 0; i < 100000; ++i) {
      if (locked) {
        absl::MutexLock lock(&mu);
        ++shared;
      } else {
        ++shared;
      }
    }
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
  std::printf("race_canary %s: %ld\n", locked ? "locked" : "racy", shared);
  return 0;
}
