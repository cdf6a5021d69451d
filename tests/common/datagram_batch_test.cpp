// DatagramBatch on local sockets: batching, timeouts, cut datagrams, errors, and (on netlink)
// datagrams that did not come from the kernel.
#include <catch2/catch.hpp>

#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <string_view>

#include "common/datagram_batch.h"
#include "common/unique_fd.h"

using namespace procevents;
using namespace std::chrono_literals;

namespace {

struct SocketPair {
  UniqueFd a, b;
  SocketPair() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds) == 0);
    a = UniqueFd(fds[0]);
    b = UniqueFd(fds[1]);
  }
  void send(std::string_view text) const { REQUIRE(::send(a.get(), text.data(), text.size(), 0) == ssize_t(text.size())); }
};

std::string_view text(const DatagramBatch& batch, std::size_t index) {
  const auto bytes = batch.datagram(index);
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

TEST_CASE("poll_timeout_ms: negative blocks, large values are capped", "[common]") {
  CHECK(poll_timeout_ms(-1ms) == -1);
  CHECK(poll_timeout_ms(0ms) == 0);
  CHECK(poll_timeout_ms(250ms) == 250);
  CHECK(poll_timeout_ms(std::chrono::milliseconds(std::int64_t{1} << 40)) == 1 << 30);
}

TEST_CASE("DatagramBatch reads up to its slots per call, in order", "[common]") {
  SocketPair pair;
  DatagramBatch batch(2, 64);
  DatagramCounters counters;
  pair.send("one");
  pair.send("two");
  pair.send("three");
  REQUIRE(batch.receive(pair.b.get(), 0ms, counters).status == RecvStatus::kOk);
  REQUIRE(batch.count() == 2);
  CHECK(text(batch, 0) == "one");
  CHECK(text(batch, 1) == "two");
  REQUIRE(batch.receive(pair.b.get(), 0ms, counters).status == RecvStatus::kOk);
  REQUIRE(batch.count() == 1);
  CHECK(text(batch, 0) == "three");
  CHECK(counters.datagrams == 3);
  CHECK(counters.truncated_datagrams == 0);
  CHECK(counters.foreign_datagrams == 0);
}

TEST_CASE("DatagramBatch: nothing queued is a timeout, waited for or not", "[common]") {
  SocketPair pair;
  DatagramBatch batch(4, 64);
  DatagramCounters counters;
  CHECK(batch.receive(pair.b.get(), 0ms, counters).status == RecvStatus::kTimeout);
  const auto start = std::chrono::steady_clock::now();
  CHECK(batch.receive(pair.b.get(), 30ms, counters).status == RecvStatus::kTimeout);
  CHECK(std::chrono::steady_clock::now() - start >= 25ms);
  CHECK(batch.count() == 0);
  CHECK(counters.datagrams == 0);
}

TEST_CASE("DatagramBatch hands out a datagram longer than a slot as empty and counts it", "[common]") {
  SocketPair pair;
  DatagramBatch batch(4, 8);
  DatagramCounters counters;
  pair.send("short");
  pair.send("much longer than eight bytes");
  REQUIRE(batch.receive(pair.b.get(), 0ms, counters).status == RecvStatus::kOk);
  REQUIRE(batch.count() == 2);
  CHECK(text(batch, 0) == "short");
  CHECK(batch.datagram(1).empty());
  CHECK(counters.truncated_datagrams == 1);
}

TEST_CASE("DatagramBatch reports a bad descriptor as an error with its errno", "[common]") {
  DatagramBatch batch(1, 16);
  DatagramCounters counters;
  const RecvResult result = batch.receive(-1, 0ms, counters);
  CHECK(result.status == RecvStatus::kError);
  CHECK(result.sys_errno == EBADF);
}

TEST_CASE("DatagramBatch ignores netlink datagrams that another process sent", "[common]") {
  const UniqueFd receiver(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_USERSOCK));
  const UniqueFd sender(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_USERSOCK));
  if (!receiver || !sender) {
    WARN("skipped: no NETLINK_USERSOCK sockets here");
    return;
  }
  sockaddr_nl any{};
  any.nl_family = AF_NETLINK;
  REQUIRE(::bind(receiver.get(), reinterpret_cast<const sockaddr*>(&any), sizeof any) == 0);
  REQUIRE(::bind(sender.get(), reinterpret_cast<const sockaddr*>(&any), sizeof any) == 0);
  sockaddr_nl to{};
  socklen_t length = sizeof to;
  REQUIRE(::getsockname(receiver.get(), reinterpret_cast<sockaddr*>(&to), &length) == 0);
  const char forged[] = "forged event";
  if (::sendto(sender.get(), forged, sizeof forged, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0) {
    WARN("skipped: netlink unicast between sockets refused (" << std::strerror(errno) << ")");
    return;
  }
  DatagramBatch batch(4, 64);
  DatagramCounters counters;
  REQUIRE(batch.receive(receiver.get(), 1000ms, counters).status == RecvStatus::kOk);
  REQUIRE(batch.count() == 1);
  CHECK(batch.datagram(0).empty());
  CHECK(counters.foreign_datagrams == 1);
}

TEST_CASE("receive buffer helpers: a request is granted, doubled by the kernel", "[common]") {
  SocketPair pair;
  CHECK_FALSE(set_receive_buffer(pair.b.get(), 65536));
  CHECK(granted_receive_buffer(pair.b.get()) >= 65536);
  CHECK(set_receive_buffer(-1, 65536));
  CHECK(granted_receive_buffer(-1) == 0);
}
