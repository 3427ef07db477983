// libFuzzer target: frames into lwIP's netif input path (see frame_harness.h). Built by
// tools/fuzz with clang-14 -fsanitize=fuzzer,address,undefined.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/frame_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  grpc_bypass::fuzz::RunInput(data, size);
  return 0;
}
