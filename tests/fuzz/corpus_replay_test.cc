// Replays the fuzzer's seed corpus (and any crash reproducers added to corpus/) through the
// same harness, built with the project's compiler (and under ASan + UBSan in tools/test):
// every input must be handled without a crash, and the harness must really reach TCP.
#include <dirent.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lwip/stats.h"
#include "tests/fuzz/frame_harness.h"

namespace grpc_bypass::fuzz {
namespace {

std::string CorpusDir() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  return std::string(srcdir ? srcdir : ".") + "/" + (ws ? ws : "grpc_bypass") + "/tests/fuzz/corpus";
}

std::vector<std::string> Files() {
  std::vector<std::string> out;
  DIR* d = opendir(CorpusDir().c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') out.push_back(CorpusDir() + "/" + e->d_name);
  }
  closedir(d);
  return out;
}

std::vector<uint8_t> Read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

TEST(CorpusReplay, EverySeedIsHandledAndTheHarnessReachesTcp) {
  const std::vector<std::string> files = Files();
  ASSERT_GE(files.size(), 15u) << "corpus missing: " << CorpusDir();
  for (const std::string& f : files) {
    const std::vector<uint8_t> in = Read(f);
    RunInput(in.data(), in.size());
  }
  const HarnessStats s = GetHarnessStats();
  EXPECT_GE(s.connections_made, 1u);  // the handshake with our ISN worked
  EXPECT_GT(s.frames_in, files.size());
  EXPECT_GT(s.frames_out, 0u);          // lwIP answered (SYN-ACK, ARP reply, echo replies)
  EXPECT_GT(lwip_stats.tcp.recv, 5u);
  EXPECT_GT(lwip_stats.ip.opterr + lwip_stats.ip.drop, 0u);  // options/fragments dropped, counted
  EXPECT_GT(lwip_stats.etharp.lenerr + s.runts, 0u);  // the short ARP frame, counted
}

TEST(CorpusReplay, EveryTruncationOfEverySeedIsHandled) {
  const uint64_t before = GetHarnessStats().frames_in;
  size_t inputs = 0;
  for (const std::string& f : Files()) {
    const std::vector<uint8_t> in = Read(f);
    for (size_t n = 0; n <= in.size(); n += 3, ++inputs) RunInput(in.data(), n);
  }
  // No crash and no sanitizer report (the test's real check); and the frames did go in.
  EXPECT_GT(GetHarnessStats().frames_in - before, inputs / 2);
}

}  // namespace
}  // namespace grpc_bypass::fuzz
