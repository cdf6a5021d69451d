#include "app/exporter_app.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "aggregator/aggregator.h"
#include "aggregator/aggregator_worker.h"
#include "app/log.h"
#include "app/self_check.h"
#include "app/version.h"
#include "config/config.h"
#include "connector/proc_connector.h"
#include "http/http_server.h"
#include "http/web_config_loader.h"
#include "metrics/exposition.h"
#include "naming/group_namer.h"
#include "procfs/procfs.h"
#include "receiver/receiver.h"

namespace procevents::app {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kSelfCheckTimeout = std::chrono::milliseconds(5000);
// With no event for this long, fork a probe to tell a quiet host from a dead subscription.
constexpr auto kIdleBeforeProbe = std::chrono::seconds(60);
constexpr auto kProbeTimeout = std::chrono::seconds(10);

std::uint64_t steady_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
}

/// Loads --config.file (or the built-in defaults); logs warnings; nullopt after logging errors.
std::optional<config::Config> load_config(const std::string& path) {
  if (path.empty()) return config::default_config();
  config::LoadResult result = config::load_config_file(path);
  for (const std::string& warning : result.warnings) log(LogLevel::kWarn, warning);
  if (!result.config) {
    for (const config::ConfigError& error : result.errors) log(LogLevel::kError, error.to_string());
    return std::nullopt;
  }
  return std::move(*result.config);
}

aggregator::AggregatorOptions aggregator_options(const config::Config& cfg) {
  aggregator::AggregatorOptions options;
  options.max_processes = cfg.max_processes;
  options.max_groups = cfg.max_groups;
  options.lifetime_bounds = cfg.lifetime_buckets;
  options.read_cgroup = cfg.read_cgroup;
  for (std::size_t i = 0; i < aggregator::kAttributionLabelCount; ++i) {
    const std::string name = aggregator::kAttributionLabels[i];
    for (const std::string& wanted : cfg.attribution) {
      if (wanted == name) options.attribution[i] = true;
    }
    if (auto it = cfg.attribution_limits.find(name); it != cfg.attribution_limits.end()) {
      options.attribution_limits[i] = it->second;
    }
  }
  return options;
}

/// Process-wide health state, written by the main loop and read by /healthz.
struct HealthState {
  std::mutex mutex;
  std::string problem;  // empty = healthy
};

}  // namespace

int run_exporter(const Flags& flags) {
  // 1. Configuration: any error stops us before we bind anything.
  std::optional<config::Config> cfg = load_config(flags.config_file);
  if (!cfg) return 2;
  http::WebConfig web;
  if (!flags.web_config_file.empty()) {
    http::WebConfigResult loaded = http::load_web_config_file(flags.web_config_file);
    for (const std::string& warning : loaded.warnings) log(LogLevel::kWarn, warning);
    if (!loaded.config) {
      for (const config::ConfigError& error : loaded.errors) log(LogLevel::kError, error.to_string());
      return 2;
    }
    web = std::move(*loaded.config);
  }
  auto namer = std::make_shared<const naming::GroupNamer>(*cfg);

  // Signals are handled by the main thread only: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  // 2. Ring and connector.
  auto ring = receiver::EventRing::create(cfg->ring_capacity);
  if (!ring) {
    log(LogLevel::kError, "ring_capacity must be a power of two");
    return 2;
  }
  connector::ConnectorOptions connector_options;
  connector_options.receive_buffer_bytes = static_cast<int>(cfg->receive_buffer_bytes);
  connector::SysError error;
  auto connector = connector::ProcConnector::open(connector_options, &error);
  if (!connector) {
    log(LogLevel::kError, "cannot open the process events connector: " + error.message() + "; " + no_events_hint());
    return 1;
  }
  const connector::SubscribeResult subscription = connector->subscribe(cfg->event_mask);
  if (subscription.error) {
    log(LogLevel::kError, "cannot subscribe to process events: " + subscription.error.message() + "; " + no_events_hint());
    return 1;
  }
  const bool filtering = cfg->event_mask != connector::event_bits::kAll;
  log(LogLevel::kInfo, std::string("subscribed to process events") +
                           (!filtering                         ? ", all events"
                            : subscription.kernel_filter_active ? ", filtered by the kernel"
                                                                : ", filtered in user space (kernel without proc_input)") +
                           ", receive buffer " + std::to_string(connector->receive_buffer_bytes()) + " bytes");

  // 3. Self-check on this thread, before the receiver owns the connector; its events go to the ring.
  std::uint64_t self_check_drops = 0;
  if (flags.self_check) {
    const std::string failure = run_self_check(
        *connector, [&](const connector::Event& event) { if (!ring->try_push(event)) ++self_check_drops; },
        kSelfCheckTimeout);
    if (!failure.empty()) {
      log(LogLevel::kError, failure);
      return 1;
    }
    log(LogLevel::kInfo, "self-check passed: the probe child's events arrived");
  }

  // 4. Pipeline threads.
  receiver::Receiver receiver(std::move(connector), *ring);
  const receiver::ReceiverCounters& counters = receiver.counters();
  aggregator::ProcfsInspector inspector(flags.proc_root);
  aggregator::AggregatorWorker worker(
      std::make_unique<aggregator::Aggregator>(aggregator_options(*cfg), namer, inspector), *ring,
      [&counters] { return counters.loss_signals(); });
  procfs::ProcReader proc_reader(flags.proc_root);
  std::mutex proc_reader_mutex;  // scrapes may run on several civetweb threads

  HealthState health;
  const metrics::BuildInfo build{kVersion, kRevision, kCompiler};

  auto scrape = [&]() {
    const aggregator::Snapshot snapshot = worker.snapshot();
    metrics::PipelineStatus status;
    for (std::size_t i = 0; i < connector::kEventTypeCount; ++i) {
      status.events_by_type[i] = counters.events_by_type[i].load(std::memory_order_relaxed);
    }
    status.kernel_lost_events = counters.kernel_lost_events.load(std::memory_order_relaxed);
    status.socket_overruns = counters.enobufs.load(std::memory_order_relaxed);
    status.ring_full_drops = counters.ring_full_drops.load(std::memory_order_relaxed) + self_check_drops;
    status.ring_capacity = ring->capacity();
    status.ring_used = ring->size();
    status.ring_high_watermark = ring->high_watermark();
    for (std::size_t i = 0; i < connector::kMalformedReasonCount; ++i) {
      status.malformed[i] = counters.malformed[i].load(std::memory_order_relaxed);
    }
    status.netlink_errors = counters.netlink_errors.load(std::memory_order_relaxed);
    status.truncated_datagrams = counters.truncated_datagrams.load(std::memory_order_relaxed);
    status.foreign_datagrams = counters.foreign_datagrams.load(std::memory_order_relaxed);
    {
      std::lock_guard lock(proc_reader_mutex);
      status.kernel_forks = proc_reader.read_kernel_forks();
    }
    status.connector_up = counters.subscribed.load(std::memory_order_relaxed);
    status.kernel_filter_active = receiver.kernel_filter_active();
    status.receive_buffer_bytes = receiver.receive_buffer_bytes();

    std::vector<prometheus::MetricFamily> families = metrics::exporter_families(snapshot, status, build);
    for (auto& family : metrics::process_self_families()) families.push_back(std::move(family));
    return metrics::render_text(families);
  };
  auto healthz = [&]() -> http::Health {
    if (!counters.subscribed.load(std::memory_order_relaxed)) return {false, "not subscribed to the process events connector"};
    std::lock_guard lock(health.mutex);
    if (!health.problem.empty()) return {false, health.problem};
    return {true, "ok"};
  };

  // 5. HTTP.
  http::ServerOptions server_options;
  server_options.listen_addresses = flags.listen_addresses;
  server_options.telemetry_path = flags.telemetry_path;
  server_options.web = web;
  server_options.version = kVersion;
  server_options.active_config_text = config::describe(*cfg) + "\nflags:\n  --web.listen-address=" +
                                      flags.listen_addresses.front() + "\n  --web.telemetry-path=" +
                                      flags.telemetry_path + "\n  --config.file=" +
                                      (flags.config_file.empty() ? "(built-in defaults)" : flags.config_file) + "\n";
  std::string http_error;
  auto server = http::HttpServer::start(server_options, scrape, healthz, &http_error);
  if (!server) {
    log(LogLevel::kError, "cannot start the HTTP server: " + http_error);
    return 1;
  }
  for (const int port : server->listening_ports()) {
    log(LogLevel::kInfo, "listening on port " + std::to_string(port) + ", metrics at " + flags.telemetry_path);
  }

  // 6. Signal loop; also watches that events keep flowing.
  const std::uint64_t loop_started_ns = steady_ns();
  const auto idle_before_probe_ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(kIdleBeforeProbe).count());
  std::optional<std::uint64_t> probe_started_ns;
  std::uint64_t probe_events_before = 0;
  while (true) {
    const timespec wait{1, 0};
    const int signal_number = sigtimedwait(&signals, nullptr, &wait);
    if (signal_number == SIGINT || signal_number == SIGTERM) {
      log(LogLevel::kInfo, std::string("received ") + (signal_number == SIGINT ? "SIGINT" : "SIGTERM") + ", shutting down");
      break;
    }
    if (signal_number == SIGHUP) {
      if (flags.config_file.empty()) {
        log(LogLevel::kInfo, "SIGHUP: no --config.file to reload");
      } else if (std::optional<config::Config> fresh = load_config(flags.config_file)) {
        auto fresh_namer = std::make_shared<const naming::GroupNamer>(*fresh);
        const std::vector<std::string> predeclared = fresh_namer->predeclared_groups();
        worker.with_aggregator([&](aggregator::Aggregator& a) { a.set_namer(fresh_namer, predeclared); });
        log(LogLevel::kInfo, "configuration reloaded (grouping rules; pipeline sizes and events need a restart)");
      } else {
        log(LogLevel::kError, "configuration reload failed; keeping the previous configuration");
      }
    }

    // Liveness of the event flow.
    const std::uint64_t now_ns = steady_ns();
    const std::uint64_t last_ns = counters.last_event_monotonic_ns.load(std::memory_order_relaxed);
    std::uint64_t events_now = 0;
    for (const auto& count : counters.events_by_type) events_now += count.load(std::memory_order_relaxed);
    if (probe_started_ns) {
      if (events_now > probe_events_before) {
        probe_started_ns.reset();
        std::lock_guard lock(health.mutex);
        health.problem.clear();
      } else if (now_ns - *probe_started_ns > static_cast<std::uint64_t>(std::chrono::nanoseconds(kProbeTimeout).count())) {
        std::lock_guard lock(health.mutex);
        if (health.problem.empty()) log(LogLevel::kError, "no events arrive from the kernel: " + no_events_hint());
        health.problem = "no events from the kernel, even for a probe fork; " + no_events_hint();
        probe_started_ns.reset();  // probe again next round
      }
    } else if (now_ns - std::max(last_ns, loop_started_ns) > idle_before_probe_ns) {
      probe_events_before = events_now;
      probe_started_ns = now_ns;
      const pid_t child = ::fork();
      if (child == 0) ::_exit(0);
      if (child > 0) ::waitpid(child, nullptr, 0);
    }
  }

  // 7. Orderly stop: HTTP first (no scrape sees half-destroyed state), then the aggregator, then the
  // receiver (which unsubscribes).
  server.reset();
  return 0;
}

}  // namespace procevents::app
