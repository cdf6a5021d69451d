// What the main loop watches between signals: that events keep flowing (the health /healthz
// reports) and that the web config file and the certificates it names stay as loaded.
#pragma once

#include <time.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "http/http_server.h"
#include "http/web_config.h"
#include "receiver/receiver.h"

namespace procevents::app {

/// Process-wide health state, written by the main loop and read by /healthz.
struct HealthState {
  std::mutex mutex;
  std::string problem;  // empty = healthy
};

/// Watches that events keep flowing: after a minute without any, forks a probe child and reports
/// a dead subscription when not even its events arrive.
class EventFlowWatch {
 public:
  EventFlowWatch(const receiver::Receiver& receiver, HealthState& health);

  /// How long the main loop may sleep before check() has something to do: until the probe is due
  /// or, while one runs, until its timeout (at least a second; a timer of seconds, not a poll).
  timespec time_to_next_check() const;

  void check();

 private:
  const receiver::Receiver& receiver_;
  HealthState& health_;
  std::uint64_t started_ns_;
  std::uint64_t probe_started_ns_ = 0;  // 0: no probe running
  std::uint64_t probe_events_before_ = 0;
};

/// Re-reads --web.config.file when it or a file it names changes (checked every second, so a certificate
/// that cert-manager or a Kubernetes Secret rotates is picked up without a signal) or on SIGHUP, as
/// exporter-toolkit re-reads it. A file that does not load or apply is logged and the old configuration
/// stays; it is tried again when something changes.
class WebConfigWatch {
 public:
  WebConfigWatch(std::string path, const http::WebConfig& loaded);

  /// Whether there is a file to watch: the main loop then looks every second.
  bool active() const { return !path_.empty(); }

  /// Re-reads the file when forced or changed: whether that reload succeeded; nullopt when none was tried.
  std::optional<bool> check(http::HttpServer& server, bool forced);

 private:
  const std::string path_;
  std::vector<std::string> files_;
  std::string stamp_;
};

}  // namespace procevents::app
