// kernel_pingpong: the kernel-TCP baseline for tcp_echo_client --mode=pingpong, measured the
// same way (one message in flight, TCP_NODELAY, same percentiles).
//
//   kernel_pingpong --role=server --port=7070
//   kernel_pingpong --role=client --connect=127.0.0.1:7070 --count=10000 --size=64
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "examples/echo/latency.h"

ABSL_FLAG(std::string, role, "client", "server | client");
ABSL_FLAG(int, port, 7070, "server: TCP port on 127.0.0.1");
ABSL_FLAG(std::string, connect, "127.0.0.1:7070", "client: IPv4:PORT");
ABSL_FLAG(int, count, 10000, "round trips");
ABSL_FLAG(int, size, 64, "message size");
ABSL_FLAG(int, warmup, 100, "round trips not counted");

namespace {

bool ReadFull(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

int Serve(int port) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(l, 64) != 0) {
    std::perror("kernel_pingpong: bind/listen");
    return 2;
  }
  std::printf("listening on 127.0.0.1:%d\n", port);
  std::fflush(stdout);
  for (;;) {
    int c = accept(l, nullptr, nullptr);
    if (c < 0) continue;
    std::thread([c] {
      int one = 1;
      setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      char buf[65536];
      for (;;) {
        ssize_t r = read(c, buf, sizeof(buf));
        if (r <= 0) break;
        if (write(c, buf, static_cast<size_t>(r)) != r) break;
      }
      close(c);
    }).detach();
  }
}

int Client() {
  const std::string hp = absl::GetFlag(FLAGS_connect);
  const size_t colon = hp.find(':');
  sockaddr_in a{};
  a.sin_family = AF_INET;
  if (colon == std::string::npos || inet_pton(AF_INET, hp.substr(0, colon).c_str(), &a.sin_addr) != 1) {
    std::fprintf(stderr, "kernel_pingpong: --connect: '%s' is not IPv4:PORT\n", hp.c_str());
    return 2;
  }
  a.sin_port = htons(static_cast<uint16_t>(std::stoi(hp.substr(colon + 1))));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    std::perror("kernel_pingpong: connect");
    return 1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const int size = absl::GetFlag(FLAGS_size), count = absl::GetFlag(FLAGS_count),
            warmup = absl::GetFlag(FLAGS_warmup);
  std::vector<char> out(size, 'x'), in(size);
  std::vector<double> us;
  us.reserve(count);
  for (int i = 0; i < count + warmup; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size()) ||
        !ReadFull(fd, in.data(), in.size())) {
      std::fprintf(stderr, "kernel_pingpong: connection lost\n");
      return 1;
    }
    if (i >= warmup) {
      us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  close(fd);
  std::printf("%s\n", grpc_bypass::examples::PingPongLine(us, size).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_role) == "server") return Serve(absl::GetFlag(FLAGS_port));
  return Client();
}
