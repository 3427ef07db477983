// grpc_bypass_chksum (our LWIP_CHKSUM) against the RFC 1071 definition, at every alignment
// and length that matters.
#include "arch/chksum.h"

#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace {

// RFC 1071: the one's-complement sum of big-endian 16-bit words (an odd byte padded with
// zero), folded; lwIP wants it in host order.
uint16_t Rfc1071(const uint8_t* p, int len) {
  uint32_t sum = 0;
  for (int i = 0; i + 1 < len; i += 2) sum += (p[i] << 8) | p[i + 1];
  if (len & 1) sum += p[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htobe16(static_cast<uint16_t>(sum));
}

TEST(Chksum, MatchesRfc1071ForEveryAlignmentAndLengthUpTo300AndSomeLargeOnes) {
  std::mt19937 rng(7);
  std::vector<uint8_t> buf(70000);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (int off = 0; off < 8; ++off) {
    for (int len = 0; len <= 300; ++len) {
      ASSERT_EQ(grpc_bypass_chksum(buf.data() + off, len), Rfc1071(buf.data() + off, len))
          << "off " << off << " len " << len;
    }
    for (int len : {1459, 1460, 8960, 65535, 65536 + 3}) {
      ASSERT_EQ(grpc_bypass_chksum(buf.data() + off, len), Rfc1071(buf.data() + off, len))
          << "off " << off << " len " << len;
    }
  }
}

TEST(Chksum, AllOnesAndAllZerosFoldLikeLwip) {
  std::vector<uint8_t> ones(64, 0xff), zeros(64, 0);
  EXPECT_EQ(grpc_bypass_chksum(ones.data(), 64), 0xffff);
  EXPECT_EQ(grpc_bypass_chksum(zeros.data(), 64), 0);
  EXPECT_EQ(grpc_bypass_chksum(zeros.data(), 0), 0);
}

}  // namespace
