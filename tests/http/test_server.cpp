#include "test_server.h"

#include <crypt.h>

#include <vector>

namespace procevents::http::test {

ServerOptions local_options() {
  ServerOptions options;
  options.listen_addresses = {"127.0.0.1:0"};
  options.version = "1.2.3-test";
  options.num_threads = 64;
  options.request_timeout_ms = 3000;
  options.keep_alive_timeout_ms = 2000;
  return options;
}

ServerOptions exporter_like_options() {
  const ServerOptions defaults;
  ServerOptions options = local_options();
  options.num_threads = defaults.num_threads;
  options.request_timeout_ms = defaults.request_timeout_ms;
  options.keep_alive_timeout_ms = defaults.keep_alive_timeout_ms;
  options.response_timeout_ms = defaults.response_timeout_ms;
  return options;
}

ServerOptions TlsSetup::options() const {
  ServerOptions options = local_options();
  options.web.tls.cert_file = pki.server_cert;
  options.web.tls.key_file = pki.server_key;
  return options;
}

RunningServer start_server(ServerOptions options, HttpServer::ScrapeFn scrape, HttpServer::HealthFn health) {
  RunningServer running;
  running.server = HttpServer::start(std::move(options), std::move(scrape), std::move(health), &running.error);
  if (running.server) {
    const std::vector<int> ports = running.server->listening_ports();
    if (!ports.empty()) running.port = ports.front();
  }
  return running;
}

std::string sample_exposition() {
  std::string text =
      "# HELP procevents_events_total Process events received from the kernel.\n"
      "# TYPE procevents_events_total counter\n";
  // Large and repetitive enough that gzip visibly shrinks it.
  for (int i = 0; i < 200; ++i) {
    text += "procevents_events_total{event=\"exec\",group=\"group_" + std::to_string(i) + "\"} " +
            std::to_string(i * 7) + "\n";
  }
  return text;
}

HttpServer::ScrapeFn fixed_scrape() {
  return [](ExpositionFormat) { return sample_exposition(); };
}

HttpServer::HealthFn always_healthy() {
  return [] { return Health{true, ""}; };
}

std::string bcrypt_hash(const std::string& password, unsigned cost) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!crypt_gensalt_rn("$2b$", cost, nullptr, 0, setting, sizeof setting)) return "";
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_r(password.c_str(), setting, data.get());
  if (!hash || hash[0] == '*') return "";
  return hash;
}

}  // namespace procevents::http::test
