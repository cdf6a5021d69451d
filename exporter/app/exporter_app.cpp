#include "app/exporter_app.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "aggregator/aggregator.h"
#include "aggregator/aggregator_worker.h"
#include "app/build_info.h"
#include "app/log.h"
#include "app/self_check.h"
#include "app/version.h"
#include "common/clock.h"
#include "config/config.h"
#include "connector/proc_connector.h"
#include "http/http_server.h"
#include "http/web_config_loader.h"
#include "metrics/exposition.h"
#include "naming/group_namer.h"
#include "procfs/procfs.h"
#include "procfs/procfs_inspector.h"
#include "receiver/receiver.h"
#include "taskstats/taskstats_source.h"

namespace procevents::app {

namespace {

constexpr auto kSelfCheckTimeout = std::chrono::milliseconds(5000);
// With no event for this long, fork a probe to tell a quiet host from a dead subscription.
constexpr auto kIdleBeforeProbe = std::chrono::seconds(60);
constexpr auto kProbeTimeout = std::chrono::seconds(10);

void log_config_error(const config::ConfigError& error) {
  if (error.line <= 0) {
    log(LogLevel::kError, "invalid configuration", {{"file", error.file}, {"err", error.message}});
  } else {
    log(LogLevel::kError, "invalid configuration", {{"file", error.file}, {"line", std::to_string(error.line)},
                                                    {"column", std::to_string(error.column)}, {"err", error.message}});
  }
}

/// Loads --config.file (or the built-in defaults); logs warnings; nullopt after logging errors.
std::optional<config::Config> load_config(const std::string& path) {
  if (path.empty()) return config::default_config();
  config::LoadResult result = config::load_config_file(path);
  for (const std::string& warning : result.warnings) log(LogLevel::kWarn, "configuration warning", {{"detail", warning}});
  if (!result.config) {
    for (const config::ConfigError& error : result.errors) log_config_error(error);
    return std::nullopt;
  }
  return std::move(*result.config);
}

/// Loads --web.config.file (or none); nullopt after logging errors.
std::optional<http::WebConfig> load_web_config(const std::string& path) {
  if (path.empty()) return http::WebConfig{};
  http::WebConfigResult loaded = http::load_web_config_file(path);
  for (const std::string& warning : loaded.warnings) log(LogLevel::kWarn, "web configuration warning", {{"detail", warning}});
  if (!loaded.config) {
    for (const config::ConfigError& error : loaded.errors) log_config_error(error);
    return std::nullopt;
  }
  return std::move(*loaded.config);
}

aggregator::AggregatorOptions aggregator_options(const config::Config& cfg, bool exit_records) {
  aggregator::AggregatorOptions options;
  options.max_processes = cfg.max_processes;
  options.max_groups = cfg.max_groups;
  options.lifetime_bounds = cfg.lifetime_buckets;
  options.peak_rss_bounds = cfg.peak_memory_buckets;
  options.read_cgroup = cfg.read_cgroup;
  options.exit_records_expected = exit_records && (cfg.event_mask & connector::event_bits::kExit) != 0;
  // Without fork and exit events the table cannot follow the host: every difference would be "drift".
  const std::uint32_t lifecycle = connector::event_bits::kFork | connector::event_bits::kExit;
  const bool follows_host = (cfg.event_mask & lifecycle) == lifecycle;
  options.audit_interval = follows_host ? std::chrono::seconds(cfg.audit_interval_seconds) : std::chrono::seconds(0);
  for (std::size_t i = 0; i < aggregator::kAttributionLabelCount; ++i) {
    const std::string name = attribution::kLabels[i].name;
    for (const std::string& wanted : cfg.attribution) {
      if (wanted == name) options.attribution[i] = true;
    }
    if (auto it = cfg.attribution_limits.find(name); it != cfg.attribution_limits.end()) {
      options.attribution_limits[i] = it->second;
    }
  }
  return options;
}

/// Signals are handled by the main thread only: blocks them before any thread starts.
sigset_t block_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return signals;
}

/// Opens and subscribes the connector; null after logging why.
std::unique_ptr<connector::ProcConnector> open_connector(const config::Config& cfg) {
  connector::ConnectorOptions options;
  options.receive_buffer_bytes = static_cast<int>(cfg.receive_buffer_bytes);
  SysError error;
  auto connector = connector::ProcConnector::open(options, &error);
  if (!connector) {
    log(LogLevel::kError, "cannot open the process events connector", {{"err", error.message()}, {"hint", no_events_hint()}});
    return nullptr;
  }
  const connector::SubscribeResult subscription = connector->subscribe(cfg.event_mask);
  if (subscription.error) {
    log(LogLevel::kError, "cannot subscribe to process events",
        {{"err", subscription.error.message()}, {"hint", no_events_hint()}});
    return nullptr;
  }
  const bool filtering = cfg.event_mask != connector::event_bits::kAll;
  log(LogLevel::kInfo, "subscribed to process events",
      {{"filter", !filtering                         ? "none"
                  : subscription.kernel_filter_active ? "kernel"
                                                      : "user space (kernel without proc_input)"},
       {"receive_buffer_bytes", std::to_string(connector->receive_buffer_bytes())}});
  return connector;
}

/// Registers for taskstats exit records. Optional: on failure logs once, sets `problem` and
/// returns null; everything else works without it.
std::unique_ptr<taskstats::TaskstatsSource> open_taskstats(const config::Config& cfg, std::string& problem) {
  if (!cfg.taskstats) {
    problem = "taskstats turned off in the configuration";
    log(LogLevel::kInfo, problem);
    return nullptr;
  }
  taskstats::SourceOptions options;
  options.receive_buffer_bytes = static_cast<int>(cfg.receive_buffer_bytes);
  SysError error;
  auto source = taskstats::TaskstatsSource::open(options, &error);
  if (!source) {
    problem = "taskstats exit records unavailable (" + error.message() +
              "); names of processes that exit before /proc is read fall back to their parent's group, and no "
              "procevents_exited_* costs are exported";
    log(LogLevel::kWarn, problem);
    return nullptr;
  }
  log(LogLevel::kInfo, "registered for taskstats exit records",
      {{"cpus", source->cpu_list()}, {"receive_buffer_bytes", std::to_string(source->receive_buffer_bytes())}});
  return source;
}

/// Process-wide health state, written by the main loop and read by /healthz.
struct HealthState {
  std::mutex mutex;
  std::string problem;  // empty = healthy
};

/// Watches that events keep flowing: after kIdleBeforeProbe without any, forks a probe child and
/// reports a dead subscription when not even its events arrive.
class EventFlowWatch {
 public:
  EventFlowWatch(const receiver::Receiver& receiver, HealthState& health)
      : receiver_(receiver), health_(health), started_ns_(steady_ns()) {}

  /// How long the main loop may sleep before check() has something to do: until the probe is due
  /// or, while one runs, until its timeout (at least a second; a timer of seconds, not a poll).
  timespec time_to_next_check() const {
    const std::uint64_t now_ns = steady_ns();
    const std::uint64_t due_ns =
        probe_started_ns_ != 0
            ? probe_started_ns_ + nanoseconds(kProbeTimeout)
            : std::max(receiver_.stats().last_event_monotonic_ns, started_ns_) + nanoseconds(kIdleBeforeProbe);
    const std::uint64_t wait_ns = std::max(due_ns > now_ns ? due_ns - now_ns : 0, nanoseconds(std::chrono::seconds(1)));
    return {static_cast<time_t>(wait_ns / 1'000'000'000), static_cast<long>(wait_ns % 1'000'000'000)};
  }

  void check() {
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

 private:
  template <class Duration>
  static std::uint64_t nanoseconds(Duration d) {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
  }

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
  WebConfigWatch(std::string path, const http::WebConfig& loaded)
      : path_(std::move(path)), files_(files_of(path_, loaded)), stamp_(fingerprint(files_)) {}

  /// Whether there is a file to watch: the main loop then looks every second.
  bool active() const { return !path_.empty(); }

  void check(http::HttpServer& server, bool forced) {
    if (path_.empty()) return;
    const std::string stamp = fingerprint(files_);
    if (!forced && stamp == stamp_) return;
    stamp_ = stamp;
    const std::optional<http::WebConfig> web = load_web_config(path_);
    std::string error;
    if (!web) {
      log(LogLevel::kError, "web configuration reload failed; keeping the previous one", {{"file", path_}});
    } else if (!server.reload(*web, &error)) {
      log(LogLevel::kError, "web configuration reload failed; keeping the previous one", {{"file", path_}, {"err", error}});
    } else {
      files_ = files_of(path_, *web);
      stamp_ = fingerprint(files_);
      log(LogLevel::kInfo, "web configuration reloaded", {{"file", path_}, {"reason", forced ? "SIGHUP" : "changed"}});
    }
  }

 private:
  static std::vector<std::string> files_of(const std::string& path, const http::WebConfig& web) {
    std::vector<std::string> files{path};
    for (const std::string* file : {&web.tls.cert_file, &web.tls.key_file, &web.tls.client_ca_file}) {
      if (!file->empty()) files.push_back(*file);
    }
    return files;
  }

  /// Identity and modification of each file, through symbolic links (a Secret volume swaps a link).
  static std::string fingerprint(const std::vector<std::string>& files) {
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

  const std::string path_;
  std::vector<std::string> files_;
  std::string stamp_;
};

std::string active_config_text(const config::Config& cfg, const Flags& flags) {
  return config::describe(cfg) + "\nflags:\n  --web.listen-address=" + flags.listen_addresses.front() +
         "\n  --web.telemetry-path=" + flags.telemetry_path + "\n  --config.file=" +
         (flags.config_file.empty() ? "(built-in defaults)" : flags.config_file) + "\n";
}

void reload_config(const Flags& flags, aggregator::AggregatorWorker& worker) {
  if (flags.config_file.empty()) {
    log(LogLevel::kInfo, "SIGHUP: no --config.file to reload");
    return;
  }
  std::optional<config::Config> fresh = load_config(flags.config_file);
  if (!fresh) {
    log(LogLevel::kError, "configuration reload failed; keeping the previous configuration", {{"file", flags.config_file}});
    return;
  }
  auto namer = std::make_shared<const naming::GroupNamer>(*fresh);
  const std::vector<std::string> predeclared = namer->predeclared_groups();
  worker.with_aggregator([&](aggregator::Aggregator& a) { a.set_namer(namer, predeclared); });
  log(LogLevel::kInfo, "configuration reloaded (grouping rules; pipeline sizes and events need a restart)",
      {{"file", flags.config_file}});
}

std::string comma_list(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

/// The start-up line: the build and the effective settings, before anything can fail.
void log_start(const Flags& flags) {
  const metrics::BuildInfo build = build_info();
  log(LogLevel::kInfo, "starting procevents_exporter",
      {{"version", build.version},
       {"revision", build.revision},
       {"branch", build.branch},
       {"compiler", build.compiler},
       {"platform", build.os + "/" + build.arch},
       {"listen_address", comma_list(flags.listen_addresses)},
       {"telemetry_path", flags.telemetry_path},
       {"config_file", flags.config_file.empty() ? "(built-in defaults)" : flags.config_file},
       {"web_config_file", flags.web_config_file.empty() ? "(none)" : flags.web_config_file},
       {"procfs", flags.proc_root},
       {"self_check", flags.self_check ? "true" : "false"}});
}

/// The configuration in effect, once loaded.
void log_config(const config::Config& cfg) {
  log(LogLevel::kInfo, "configuration loaded",
      {{"file", cfg.source}, {"events", comma_list(cfg.events)}, {"attribution", comma_list(cfg.attribution)}, {"taskstats", cfg.taskstats ? "true" : "false"},
       {"max_groups", std::to_string(cfg.max_groups)}, {"max_processes", std::to_string(cfg.max_processes)},
       {"ring_capacity", std::to_string(cfg.ring_capacity)}});
}

}  // namespace

int run_exporter(const Flags& flags) {
  // 1. Configuration: any error stops us before we bind anything.
  log_start(flags);
  const std::optional<config::Config> cfg = load_config(flags.config_file);
  if (!cfg) return 2;
  log_config(*cfg);
  const std::optional<http::WebConfig> web = load_web_config(flags.web_config_file);
  if (!web) return 2;
  const sigset_t signals = block_signals();

  // 2. Kernel sources into the ring.
  auto ring = receiver::EventRing::create(cfg->ring_capacity);
  if (!ring) {
    log(LogLevel::kError, "ring_capacity must be a power of two");
    return 2;
  }
  // Taskstats first: every connector exit from now on has its exit record (only records of tasks
  // that exit between the two registrations lack a connector exit).
  std::string taskstats_problem;
  auto taskstats = open_taskstats(*cfg, taskstats_problem);
  const bool exit_records = taskstats != nullptr;
  auto connector = open_connector(*cfg);
  if (!connector) return 1;

  // 3. Self-check on this thread, before the receiver owns the connector; its events go to the ring.
  std::uint64_t self_check_drops = 0;  // events
  std::uint64_t self_check_record_drops = 0;
  if (flags.self_check) {
    const std::string failure = run_self_check(
        *connector,
        [&](const connector::Event& event) {
          // Keep the receiver's order: exit records already queued go first.
          if (taskstats) {
            taskstats->receive_batch(std::chrono::milliseconds(0), [&](const taskstats::ExitRecord& record) {
              if (!ring->try_push(receiver::PipelineItem(record))) ++self_check_record_drops;
            });
          }
          if (!ring->try_push(receiver::PipelineItem(event))) ++self_check_drops;
        },
        kSelfCheckTimeout);
    if (!failure.empty()) {
      log(LogLevel::kError, "self-check failed", {{"err", failure}});
      return 1;
    }
    log(LogLevel::kInfo, "self-check passed: the probe child's events arrived");
  }

  // 4. Receiver -> ring -> aggregator.
  receiver::Receiver receiver(std::move(connector), std::move(taskstats), *ring,
                              receiver::WakePolicy{.is_urgent = &aggregator::Aggregator::is_urgent});
  procfs::ProcfsInspector inspector(flags.proc_root);
  aggregator::AggregatorWorker worker(
      std::make_unique<aggregator::Aggregator>(aggregator_options(*cfg, exit_records),
                                               std::make_shared<const naming::GroupNamer>(*cfg), inspector),
      *ring, [&receiver] { return receiver.loss_signals(); });

  // 5. Metrics -> HTTP.
  procfs::ProcReader proc_reader(flags.proc_root);
  std::mutex proc_reader_mutex;  // scrapes may run on several civetweb threads
  const metrics::BuildInfo build = build_info();
  auto scrape = [&]() {
    const aggregator::Snapshot snapshot = worker.snapshot();
    metrics::PipelineStatus status;
    status.connector = receiver.connector_stats();
    if (receiver.taskstats_active()) status.taskstats = receiver.taskstats_stats();
    status.receiver = receiver.stats();
    status.receiver.ring_full_drops += self_check_drops;
    status.receiver.ring_full_record_drops += self_check_record_drops;
    status.ring_capacity = ring->capacity();
    status.ring_used = ring->size();
    status.ring_high_watermark = ring->high_watermark();
    {
      std::lock_guard lock(proc_reader_mutex);
      status.kernel_forks = proc_reader.read_kernel_forks();
    }
    status.connector_up = receiver.subscribed();
    status.kernel_filter_active = receiver.kernel_filter_active();
    status.receive_buffer_bytes = receiver.receive_buffer_bytes();
    status.taskstats_receive_buffer_bytes = receiver.taskstats_receive_buffer_bytes();
    std::vector<prometheus::MetricFamily> families = metrics::exporter_families(snapshot, status, build, cfg->per_group);
    for (auto& family : metrics::process_self_families(procfs::read_self_usage())) families.push_back(std::move(family));
    return metrics::render_text(families);
  };
  HealthState health;
  auto healthz = [&]() -> http::Health {
    if (!receiver.subscribed()) return {false, "not subscribed to the process events connector"};
    std::lock_guard lock(health.mutex);
    if (!health.problem.empty()) return {false, health.problem};
    // Healthy without taskstats, but say what is missing.
    return {true, taskstats_problem.empty() ? "ok" : "ok; " + taskstats_problem};
  };
  http::ServerOptions server_options;
  server_options.listen_addresses = flags.listen_addresses;
  server_options.telemetry_path = flags.telemetry_path;
  server_options.web = *web;
  server_options.version = kVersion;
  server_options.active_config_text = active_config_text(*cfg, flags);
  std::string http_error;
  auto server = http::HttpServer::start(server_options, scrape, healthz, &http_error);
  if (!server) {
    log(LogLevel::kError, "cannot start the HTTP server", {{"err", http_error}});
    return 1;
  }
  for (const int port : server->listening_ports()) {
    log(LogLevel::kInfo, "listening", {{"port", std::to_string(port)}, {"telemetry_path", flags.telemetry_path},
                                       {"tls", web->tls.enabled() ? "true" : "false"},
                                       {"basic_auth", web->basic_auth_users.empty() ? "false" : "true"}});
  }

  // 6. Signal loop; also watches that events keep flowing.
  EventFlowWatch watch(receiver, health);
  WebConfigWatch web_watch(flags.web_config_file, *web);
  while (true) {
    // A timer of seconds, and none at all while events flow and no web config file is watched.
    timespec wait = watch.time_to_next_check();
    if (web_watch.active() && wait.tv_sec >= 1) wait = {1, 0};
    const int signal_number = sigtimedwait(&signals, nullptr, &wait);
    if (signal_number == SIGINT || signal_number == SIGTERM) {
      log(LogLevel::kInfo, "shutting down", {{"signal", signal_number == SIGINT ? "SIGINT" : "SIGTERM"}});
      break;
    }
    if (signal_number == SIGHUP) reload_config(flags, worker);
    web_watch.check(*server, signal_number == SIGHUP);
    watch.check();
  }

  // 7. Orderly stop: HTTP first (no scrape sees half-destroyed state), then the aggregator, then the
  // receiver (which unsubscribes and deregisters).
  server.reset();
  return 0;
}

}  // namespace procevents::app
