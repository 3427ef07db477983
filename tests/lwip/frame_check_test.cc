// HeadersComplete: the check before lwIP (transport/lwip/frame_check.h).
#include "transport/lwip/frame_check.h"

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace grpc_bypass {
namespace {

std::vector<uint8_t> Ipv4Tcp(size_t payload = 0) {
  std::vector<uint8_t> f(14 + 20 + 20 + payload, 0);
  f[12] = 0x08;
  f[14] = 0x45;
  const size_t len = 20 + 20 + payload;
  f[16] = len >> 8;
  f[17] = len & 0xff;
  f[14 + 9] = 6;
  return f;
}

bool Ok(const std::vector<uint8_t>& f) { return HeadersComplete(f.data(), f.size(), f.size()); }

TEST(FrameCheck, AcceptsCompleteIpv4TcpAndPaddedShortFrames) {
  EXPECT_TRUE(Ok(Ipv4Tcp()));
  EXPECT_TRUE(Ok(Ipv4Tcp(100)));
  auto padded = Ipv4Tcp();
  padded.resize(60 + 14);  // Ethernet padding after the IP packet
  EXPECT_TRUE(Ok(padded));
}

TEST(FrameCheck, RejectsFramesShorterThanTheirHeaders) {
  auto f = Ipv4Tcp();
  EXPECT_FALSE(HeadersComplete(f.data(), 13, 13));             // no Ethernet header
  EXPECT_FALSE(HeadersComplete(f.data(), 16, 16));             // 2 bytes of IPv4 (the fuzz find)
  EXPECT_FALSE(HeadersComplete(f.data(), 14 + 30, 14 + 30));   // TCP header cut
  EXPECT_FALSE(HeadersComplete(f.data(), 20, f.size()));       // headers not contiguous
}

TEST(FrameCheck, RejectsInconsistentIpv4Lengths) {
  auto f = Ipv4Tcp();
  f[14] = 0x44;  // IHL 4 (16 bytes)
  EXPECT_FALSE(Ok(f));
  f[14] = 0x4f;  // IHL 15 (60 bytes) > what is there
  EXPECT_FALSE(Ok(f));
  f = Ipv4Tcp();
  f[17] = 200;  // total length beyond the frame
  EXPECT_FALSE(Ok(f));
  f[16] = 0;
  f[17] = 19;  // total length below the header length
  EXPECT_FALSE(Ok(f));
}

TEST(FrameCheck, LaterFragmentsNeedOnlyTheIpHeader) {
  auto f = Ipv4Tcp();
  f.resize(14 + 20 + 8);
  f[17] = 28;
  f[14 + 6] = 0x00;
  f[14 + 7] = 0x10;  // fragment offset 16*8
  EXPECT_TRUE(Ok(f));
  f[14 + 7] = 0;  // first fragment: the TCP header must be there
  EXPECT_FALSE(Ok(f));
}

TEST(FrameCheck, ArpNeeds28BytesAndIpv6ItsHeaderAndPayloadLength) {
  std::vector<uint8_t> arp(14 + 28, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_TRUE(Ok(arp));
  arp.pop_back();
  EXPECT_FALSE(Ok(arp));
  std::vector<uint8_t> v6(14 + 40 + 20, 0);
  v6[12] = 0x86;
  v6[13] = 0xdd;
  v6[14 + 5] = 20;
  v6[14 + 6] = 6;
  EXPECT_TRUE(Ok(v6));
  v6[14 + 5] = 21;  // payload length beyond the frame
  EXPECT_FALSE(Ok(v6));
  v6[14 + 5] = 10;  // shorter than a TCP header
  EXPECT_FALSE(Ok(v6));
}

TEST(FrameCheck, OtherEthertypesPassToLwipWhichDropsThem) {
  std::vector<uint8_t> f(14, 0);
  f[12] = 0x88;
  f[13] = 0xcc;
  EXPECT_TRUE(Ok(f));
}

}  // namespace
}  // namespace grpc_bypass
