// The endpoints over real sockets: status codes, headers, bodies, gzip, HEAD, auth, custom headers.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>

#include "http_client.h"
#include "test_server.h"

namespace procevents::http::test {
namespace {

constexpr char kMetricsType[] = "text/plain; version=0.0.4; charset=utf-8";

TEST_CASE("GET /metrics returns the scrape text with the 0.0.4 content type and its length", "[http]") {
  const RunningServer running = start_server(local_options(), fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  const auto response = fetch(running.port, "GET", "/metrics");
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->header("Content-Type") == kMetricsType);
  CHECK(response->header("Content-Length") == std::to_string(sample_exposition().size()));
  CHECK_FALSE(response->has("Content-Encoding"));
  CHECK(response->body == sample_exposition());
}

TEST_CASE("the scrape callback runs once per request and sees no query string effect", "[http]") {
  std::atomic<int> calls{0};
  const RunningServer running =
      start_server(local_options(), [&](ExpositionFormat) { return "up " + std::to_string(++calls) + "\n"; }, always_healthy());
  REQUIRE(running.server);
  CHECK(fetch(running.port, "GET", "/metrics")->body == "up 1\n");
  CHECK(fetch(running.port, "GET", "/metrics?name[]=up")->body == "up 2\n");
  CHECK(calls == 2);
}

TEST_CASE("HEAD /metrics sends the GET headers, with the full length, and no body", "[http]") {
  const RunningServer running = start_server(local_options(), fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  std::optional<Connection> connection = Connection::open(running.port);
  REQUIRE(connection);
  REQUIRE(connection->send(request_text("HEAD", "/metrics")));
  const auto response = connection->read_response(true);
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->header("Content-Type") == kMetricsType);
  CHECK(response->header("Content-Length") == std::to_string(sample_exposition().size()));
  // Nothing may follow the headers: the next bytes are the end of the connection.
  const auto extra = connection->read_response(false, std::chrono::milliseconds(500));
  CHECK_FALSE(extra);
}

TEST_CASE("gzip is used when Accept-Encoding allows it, and inflates to the scrape text", "[http]") {
  const RunningServer running = start_server(local_options(), fixed_scrape(), always_healthy());
  REQUIRE(running.server);

  SECTION("Prometheus' own header") {
    const auto response = fetch(running.port, "GET", "/metrics",
                                "Accept-Encoding: gzip\r\n");
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(response->header("Content-Encoding") == "gzip");
    CHECK(response->header("Content-Type") == kMetricsType);
    CHECK(response->header("Content-Length") == std::to_string(response->body.size()));
    CHECK(response->body.size() < sample_exposition().size() / 4);
    const auto inflated = gunzip(response->body);
    REQUIRE(inflated);
    CHECK(*inflated == sample_exposition());
  }
  SECTION("a list with q-values") {
    const auto response = fetch(running.port, "GET", "/metrics", "Accept-Encoding: br;q=1.0, GZIP;q=0.5, *;q=0.1\r\n");
    REQUIRE(response);
    CHECK(response->header("Content-Encoding") == "gzip");
    CHECK(gunzip(response->body) == sample_exposition());
  }
  SECTION("gzip refused with q=0") {
    const auto response = fetch(running.port, "GET", "/metrics", "Accept-Encoding: gzip;q=0, identity\r\n");
    REQUIRE(response);
    CHECK_FALSE(response->has("Content-Encoding"));
    CHECK(response->body == sample_exposition());
  }
  SECTION("HEAD with gzip announces the compressed length") {
    const auto get = fetch(running.port, "GET", "/metrics", "Accept-Encoding: gzip\r\n");
    const auto head = fetch(running.port, "HEAD", "/metrics", "Accept-Encoding: gzip\r\n");
    REQUIRE(get);
    REQUIRE(head);
    CHECK(head->header("Content-Encoding") == "gzip");
    CHECK(head->header("Content-Length") == get->header("Content-Length"));
  }
}

TEST_CASE("a throwing scrape is a short 500 and the server keeps serving", "[http]") {
  std::atomic<int> mode{0};
  const RunningServer running = start_server(
      local_options(),
      [&](ExpositionFormat) -> std::string {
        if (mode == 1) throw std::runtime_error("snapshot unavailable");
        if (mode == 2) throw 42;
        if (mode == 3) throw std::runtime_error(std::string(10000, 'x'));
        return "ok 1\n";
      },
      always_healthy());
  REQUIRE(running.server);
  mode = 1;
  auto response = fetch(running.port, "GET", "/metrics");
  REQUIRE(response);
  CHECK(response->status == 500);
  CHECK(response->body == "scrape failed: snapshot unavailable\n");
  mode = 2;
  response = fetch(running.port, "GET", "/metrics");
  REQUIRE(response);
  CHECK(response->status == 500);
  mode = 3;
  response = fetch(running.port, "GET", "/metrics");
  REQUIRE(response);
  CHECK(response->status == 500);
  CHECK(response->body.size() < 300);
  mode = 0;
  response = fetch(running.port, "GET", "/metrics");
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body == "ok 1\n");
}

TEST_CASE("the landing page names the exporter, its version and links, and escapes the configuration", "[http]") {
  ServerOptions options = local_options();
  options.active_config_text = "process_names:\n  - name: \"<script>alert('x')</script>\" & more\n";
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  const auto response = fetch(running.port, "GET", "/");
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->header("Content-Type") == "text/html; charset=utf-8");
  CHECK(response->header("Content-Length") == std::to_string(response->body.size()));
  const std::string& page = response->body;
  CHECK(page.find("<title>procevents_exporter</title>") != std::string::npos);
  CHECK(page.find("1.2.3-test") != std::string::npos);
  CHECK(page.find("<a href=\"/metrics\">") != std::string::npos);
  CHECK(page.find("<a href=\"/healthz\">") != std::string::npos);
  CHECK(page.find("<pre>process_names:\n  - name: &quot;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot; &amp; more\n</pre>") !=
        std::string::npos);
  CHECK(page.find("<script>") == std::string::npos);

  const auto head = fetch(running.port, "HEAD", "/");
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->header("Content-Length") == std::to_string(page.size()));
}

TEST_CASE("/healthz is 200 ok or 503 with the reason", "[http]") {
  std::atomic<bool> healthy{true};
  const RunningServer running = start_server(local_options(), fixed_scrape(), [&] {
    return healthy ? Health{true, ""} : Health{false, "not subscribed to the process events connector"};
  });
  REQUIRE(running.server);
  auto response = fetch(running.port, "GET", "/healthz");
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body == "ok\n");
  CHECK(response->header("Content-Type") == "text/plain; charset=utf-8");

  healthy = false;
  response = fetch(running.port, "GET", "/healthz");
  REQUIRE(response);
  CHECK(response->status == 503);
  CHECK(response->body == "not subscribed to the process events connector\n");
  response = fetch(running.port, "HEAD", "/healthz");
  REQUIRE(response);
  CHECK(response->status == 503);
}

TEST_CASE("a throwing health check is a 503", "[http]") {
  const RunningServer running =
      start_server(local_options(), fixed_scrape(), []() -> Health { throw std::runtime_error("boom"); });
  REQUIRE(running.server);
  const auto response = fetch(running.port, "GET", "/healthz");
  REQUIRE(response);
  CHECK(response->status == 503);
  CHECK(response->body == "health check failed: boom\n");
}

TEST_CASE("unknown paths are 404", "[http]") {
  const RunningServer running = start_server(local_options(), fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  for (const char* path : {"/nope", "/metrics/", "/metricsx", "/index.html", "/healthz/x", "/../etc/passwd",
                           "/%2e%2e/%2e%2e/etc/passwd", "/favicon.ico"}) {
    INFO(path);
    const auto response = fetch(running.port, "GET", path);
    REQUIRE(response);
    CHECK((response->status == 404 || response->status == 400));
    CHECK(response->body.find("root:") == std::string::npos);
  }
}

TEST_CASE("methods other than GET and HEAD are 405 with Allow", "[http]") {
  const RunningServer running = start_server(local_options(), fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    for (const char* path : {"/metrics", "/", "/healthz"}) {
      INFO(method << " " << path);
      const std::string body = "x=1";
      const auto response = round_trip(running.port, std::string(method) + " " + path +
                                                       " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3\r\n\r\n" +
                                                       body);
      REQUIRE(response);
      CHECK(response->status == 405);
      CHECK(response->header("Allow") == "GET, HEAD");
    }
  }
}

TEST_CASE("a custom telemetry path replaces /metrics", "[http]") {
  ServerOptions options = local_options();
  options.telemetry_path = "/custom/metrics";
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  CHECK(fetch(running.port, "GET", "/custom/metrics")->status == 200);
  CHECK(fetch(running.port, "GET", "/metrics")->status == 404);
  CHECK(fetch(running.port, "GET", "/")->body.find("<a href=\"/custom/metrics\">") != std::string::npos);
}

TEST_CASE("keep-alive serves several requests on one connection", "[http]") {
  const RunningServer running = start_server(local_options(), fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  std::optional<Connection> connection = Connection::open(running.port);
  REQUIRE(connection);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(connection->send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
    const auto response = connection->read_response();
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(response->body == sample_exposition());
  }
  // Pipelined: two requests in one write, two answers in order.
  REQUIRE(connection->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(connection->read_response()->status == 200);
  CHECK(connection->read_response()->status == 404);
}

TEST_CASE("web.headers are added to every response", "[http]") {
  ServerOptions options = local_options();
  options.web.headers = {{"X-Frame-Options", "deny"}, {"Content-Security-Policy", "default-src 'none'"}};
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  for (const char* path : {"/metrics", "/", "/healthz", "/missing"}) {
    INFO(path);
    const auto response = fetch(running.port, "GET", path);
    REQUIRE(response);
    CHECK(response->header("X-Frame-Options") == "deny");
    CHECK(response->header("Content-Security-Policy") == "default-src 'none'");
  }
  const auto rejected = fetch(running.port, "POST", "/metrics");
  REQUIRE(rejected);
  CHECK(rejected->status == 405);
  CHECK(rejected->header("X-Frame-Options") == "deny");
  // The parser's own error pages too.
  const auto malformed = round_trip(running.port, "GET /metrics HTTP/9.9\r\n\r\n");
  if (malformed) CHECK(malformed->header("X-Frame-Options") == "deny");
}

TEST_CASE("basic auth protects every path but /healthz and accepts only the right password", "[http]") {
  ServerOptions options = local_options();
  const std::string hash = bcrypt_hash("s3cret:with colon", 5);
  REQUIRE_FALSE(hash.empty());
  options.web.basic_auth_users = {{"prometheus", hash}, {"other", bcrypt_hash("x", 5)}};
  options.web.headers = {{"X-Content-Type-Options", "nosniff"}};
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  const std::string good = "Authorization: " + basic_credentials("prometheus", "s3cret:with colon") + "\r\n";

  // Probes (kubelet, the image's HEALTHCHECK) carry no credentials; /healthz tells only ok or why not.
  const auto health = fetch(running.port, "GET", "/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(health->body == "ok\n");
  for (const char* path : {"/metrics", "/", "/missing", "/healthz/x"}) {
    INFO(path);
    const auto missing = fetch(running.port, "GET", path);
    REQUIRE(missing);
    CHECK(missing->status == 401);
    CHECK(missing->header("WWW-Authenticate") == "Basic realm=\"procevents_exporter\"");
    CHECK(missing->header("X-Content-Type-Options") == "nosniff");
    CHECK(missing->body.find("procevents_events_total") == std::string::npos);
  }
  SECTION("wrong password, unknown user, another user's password, malformed headers") {
    for (const std::string& header :
         {basic_credentials("prometheus", "wrong"), basic_credentials("prometheus", "s3cret:with colo"),
          basic_credentials("nobody", "s3cret:with colon"), basic_credentials("other", "s3cret:with colon"),
          basic_credentials("prometheus", ""), basic_credentials("", ""), std::string("Basic !!!notbase64"),
          std::string("Basic cHJvbWV0aGV1cw=="),  // "prometheus", no colon
          std::string("Bearer abc"), std::string("Basic"), std::string("")}) {
      INFO(header);
      const auto response = fetch(running.port, "GET", "/metrics", "Authorization: " + header + "\r\n");
      REQUIRE(response);
      CHECK(response->status == 401);
    }
  }
  SECTION("the right password") {
    for (const char* path : {"/metrics", "/", "/healthz"}) {
      INFO(path);
      const auto response = fetch(running.port, "GET", path, good);
      REQUIRE(response);
      CHECK(response->status == 200);
    }
    CHECK(fetch(running.port, "GET", "/metrics", good)->body == sample_exposition());
    CHECK(fetch(running.port, "GET", "/missing", good)->status == 404);
    CHECK(fetch(running.port, "POST", "/metrics", good)->status == 405);
    // The scheme is case-insensitive.
    const std::string lower = "Authorization: basic " + basic_credentials("prometheus", "s3cret:with colon").substr(6) + "\r\n";
    CHECK(fetch(running.port, "GET", "/metrics", lower)->status == 200);
  }
}

TEST_CASE("a verified password is cached, so repeated scrapes skip bcrypt", "[http]") {
  ServerOptions options = local_options();
  options.web.basic_auth_users = {{"prometheus", bcrypt_hash("pw", 12)}};  // ~200+ ms per bcrypt
  const RunningServer running = start_server(options, fixed_scrape(), always_healthy());
  REQUIRE(running.server);
  const std::string good = "Authorization: " + basic_credentials("prometheus", "pw") + "\r\n";
  const auto time = [&] {
    const auto started = std::chrono::steady_clock::now();
    const auto response = fetch(running.port, "GET", "/metrics", good);
    REQUIRE(response);
    CHECK(response->status == 200);
    return std::chrono::steady_clock::now() - started;
  };
  const auto first = time();
  std::chrono::steady_clock::duration next_ten{};
  for (int i = 0; i < 10; ++i) next_ten += time();
  CHECK(next_ten < first);
}

}  // namespace
}  // namespace procevents::http::test
