// Slow readers: a scrape read slowly is never cut off by the server's timeouts (they are for clients that
// stall, and Prometheus gives up on a scrape after 10 s itself).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "common/unique_fd.h"
#include "http_client.h"
#include "test_server.h"

namespace procevents::http::test {
namespace {

using Clock = std::chrono::steady_clock;

/// 34,000 series, as a large host's scrape: ~2.5 MB of text.
std::string large_exposition() {
  std::string text = "# HELP procevents_execs_total Execs.\n# TYPE procevents_execs_total counter\n";
  for (int i = 0; i < 34000; ++i) {
    text += "procevents_execs_total{groupname=\"group_" + std::to_string(i) + "\",unit=\"unit-" +
            std::to_string(i % 977) + ".service\"} " + std::to_string(i * 7919 % 100003) + "\n";
  }
  return text;
}

/// The raw response to `request`, read `slice` bytes at a time with `pause` between reads, through a
/// 4 KiB receive buffer (so the server's writes wait on the reader); "" if the server closes early.
std::string read_slowly(int port, const std::string& request, std::size_t slice, std::chrono::milliseconds pause) {
  const UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int small = 4096;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) return "";
  if (::write(fd.get(), request.data(), request.size()) != static_cast<ssize_t>(request.size())) return "";
  std::string response;
  std::string buffer(slice, '\0');
  while (true) {
    const ssize_t got = ::read(fd.get(), buffer.data(), buffer.size());
    if (got <= 0) break;
    response.append(buffer.data(), static_cast<std::size_t>(got));
    std::this_thread::sleep_for(pause);
  }
  return response;
}

TEST_CASE("a 34,000-series gzip scrape read slowly for ~8 s arrives whole with the default timeouts", "[http]") {
  const std::string text = large_exposition();
  const RunningServer running = start_server(exporter_like_options(), [&](ExpositionFormat) { return text; }, always_healthy());
  REQUIRE(running.server);
  const auto probe = fetch(running.port, "GET", "/metrics", "Accept-Encoding: gzip\r\n");
  REQUIRE(probe);
  const std::size_t size = probe->body.size();
  INFO("gzip body " << size << " bytes");
  // 80 slices, 80 ms apart plus the reads: ~8 s, most of Prometheus' 10 s.
  const auto started = Clock::now();
  const std::string response = read_slowly(running.port, request_text("GET", "/metrics", "Accept-Encoding: gzip\r\n"),
                                            size / 80 + 1, std::chrono::milliseconds(80));
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  INFO("read in " << seconds << " s");
  const std::size_t body_at = response.find("\r\n\r\n");
  REQUIRE(body_at != std::string::npos);
  CHECK(response.rfind("HTTP/1.1 200", 0) == 0);
  const auto inflated = gunzip(std::string_view(response).substr(body_at + 4));
  REQUIRE(inflated);
  CHECK(*inflated == text);
  CHECK(seconds > 5);  // it was read slowly, not buffered whole by the kernel at once
}

}  // namespace
}  // namespace procevents::http::test
