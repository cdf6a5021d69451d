#include "app/watches.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "app/config_files.h"
#include "app/log.h"
#include "app/self_check.h"
#include "common/clock.h"

namespace procevents::app {

namespace {

// With no event for this long, fork a probe to tell a quiet host from a dead subscription.
constexpr auto kIdleBeforeProbe = std::chrono::seconds(60);
constexpr auto kProbeTimeout = std::chrono::seconds(10);

template <class Duration>
std::uint64_t nanoseconds(Duration d) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}

std::vector<std::string> files_of(const std::string& path, const http::WebConfig& web) {
  std::vector<std::string> files{path};
  for (const std::string* file : {&web.tls.cert_file, &web.tls.key_file, &web.tls.client_ca_file}) {
    if (!file->empty()) files.push_back(*file);
  }
  return files;
}

/// Identity and modification of each file, through symbolic links (a Secret volume swaps a link).
std::string fingerprint(const std::vector<std::string>& files) {
  std::string stamp;
  for (const std::string& file : files) {
    struct stat info {};
    if (::stat(file.c_str(), &info) != 0) {
      stamp += "missing;";
      continue;
    }
    stamp += std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino) + ":" + std::to_string(info.st_size) +
             ":" + std::to_string(info.st_mtim.tv_sec) + "." + std::to_string(info.st_mtim.tv_nsec) + ";";
  }
  return stamp;
}

}  // namespace

EventFlowWatch::EventFlowWatch(const receiver::Receiver& receiver, HealthState& health)
    : receiver_(receiver), health_(health), started_ns_(steady_ns()) {}

timespec EventFlowWatch::time_to_next_check() const {
  const std::uint64_t now_ns = steady_ns();
  const std::uint64_t due_ns =
      probe_started_ns_ != 0
          ? probe_started_ns_ + nanoseconds(kProbeTimeout)
          : std::max(receiver_.stats().last_event_monotonic_ns, started_ns_) + nanoseconds(kIdleBeforeProbe);
  const std::uint64_t wait_ns = std::max(due_ns > now_ns ? due_ns - now_ns : 0, nanoseconds(std::chrono::seconds(1)));
  return {static_cast<time_t>(wait_ns / 1'000'000'000), static_cast<long>(wait_ns % 1'000'000'000)};
}

void EventFlowWatch::check() {
  const std::uint64_t now_ns = steady_ns();
  const std::uint64_t last_ns = receiver_.stats().last_event_monotonic_ns;
  const std::uint64_t events_now = receiver_.events_received();
  if (probe_started_ns_ != 0) {
    if (events_now > probe_events_before_) {
      probe_started_ns_ = 0;
      std::lock_guard lock(health_.mutex);
      health_.problem.clear();
    } else if (now_ns - probe_started_ns_ > nanoseconds(kProbeTimeout)) {
      std::lock_guard lock(health_.mutex);
      if (health_.problem.empty()) log(LogLevel::kError, "no events arrive from the kernel", {{"hint", no_events_hint()}});
      health_.problem = "no events from the kernel, even for a probe fork; " + no_events_hint();
      probe_started_ns_ = 0;  // probe again next round
    }
  } else if (now_ns - std::max(last_ns, started_ns_) > nanoseconds(kIdleBeforeProbe)) {
    probe_events_before_ = events_now;
    probe_started_ns_ = now_ns;
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    if (child > 0) ::waitpid(child, nullptr, 0);
  }
}

WebConfigWatch::WebConfigWatch(std::string path, const http::WebConfig& loaded)
    : path_(std::move(path)), files_(files_of(path_, loaded)), stamp_(fingerprint(files_)) {}

std::optional<bool> WebConfigWatch::check(http::HttpServer& server, bool forced) {
  if (path_.empty()) return std::nullopt;
  const std::string stamp = fingerprint(files_);
  if (!forced && stamp == stamp_) return std::nullopt;
  stamp_ = stamp;
  const std::optional<http::WebConfig> web = load_web_config(path_);
  std::string error;
  if (!web) {
    log(LogLevel::kError, "web configuration reload failed; keeping the previous one", {{"file", path_}});
    return false;
  }
  if (!server.reload(*web, &error)) {
    log(LogLevel::kError, "web configuration reload failed; keeping the previous one", {{"file", path_}, {"err", error}});
    return false;
  }
  files_ = files_of(path_, *web);
  stamp_ = fingerprint(files_);
  log(LogLevel::kInfo, "web configuration reloaded", {{"file", path_}, {"reason", forced ? "SIGHUP" : "changed"}});
  return true;
}

}  // namespace procevents::app
