// Baseline for the TCP backend: a plain blocking TCP ping-pong over loopback (two processes,
// TCP_NODELAY). Prints "SIZE one_way_us" for 8 B, 4 KiB and 64 KiB.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <vector>

namespace {

bool full(int fd, char* p, std::size_t n, bool write_side) {
  while (n > 0) {
    ssize_t k = write_side ? ::write(fd, p, n) : ::read(fd, p, n);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

}  // namespace

int main() {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("socket_pingpong");
    return 1;
  }
  const std::size_t sizes[] = {8, 4096, 65536};
  const int rounds = 20000;
  pid_t child = ::fork();
  int one = 1;
  if (child == 0) {  // echo server
    int fd = ::accept(listener, nullptr, nullptr);
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::vector<char> buf(65536);
    for (std::size_t size : sizes) {
      for (int i = 0; i < rounds + 1000; ++i) {
        if (!full(fd, buf.data(), size, false) || !full(fd, buf.data(), size, true)) return 1;
      }
    }
    return 0;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::vector<char> buf(65536);
  for (std::size_t size : sizes) {
    for (int i = 0; i < 1000; ++i)
      full(fd, buf.data(), size, true), full(fd, buf.data(), size, false);
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < rounds; ++i) {
      if (!full(fd, buf.data(), size, true) || !full(fd, buf.data(), size, false)) return 1;
    }
    double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    std::printf("%zu %.3f\n", size, us / rounds / 2);
  }
  ::close(fd);
  int status = 0;
  ::waitpid(child, &status, 0);
  return 0;
}
