#include "app/exporter_app.h"

#include <signal.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "aggregator/aggregator.h"
#include "aggregator/aggregator_worker.h"
#include "app/build_info.h"
#include "app/config_files.h"
#include "app/log.h"
#include "app/scope.h"
#include "app/self_check.h"
#include "app/version.h"
#include "app/watches.h"
#include "config/config.h"
#include "connector/proc_connector.h"
#include "http/http_server.h"
#include "metrics/exposition.h"
#include "naming/group_namer.h"
#include "procfs/procfs.h"
#include "live/live_collector.h"
#include "procfs/procfs_inspector.h"
#include "receiver/receiver.h"
#include "taskstats/taskstats_source.h"

namespace procevents::app {

namespace {

constexpr auto kSelfCheckTimeout = std::chrono::milliseconds(5000);

aggregator::AggregatorOptions aggregator_options(const config::Config& cfg, const Flags& flags, bool exit_records,
                                                ResolvedScope scope, procfs::UsageParts live_parts) {
  aggregator::AggregatorOptions options;
  options.kubelet = {.pod_logs = flags.pod_logs, .container_logs = flags.container_logs};
  options.scope = std::move(scope.scope);
  options.scope_directory = std::move(scope.directory);
  options.first_sight_parts = live_parts;
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

std::string active_config_text(const config::Config& cfg, const Flags& flags) {
  std::string text = config::describe(cfg) + "\nflags:\n";
  for (const std::string& address : flags.listen_addresses) text += "  --web.listen-address=" + address + "\n";
  return text + "  --web.telemetry-path=" + flags.telemetry_path + "\n  --config.file=" +
         (flags.config_file.empty() ? "(built-in defaults)" : flags.config_file) + "\n  --web.config.file=" +
         (flags.web_config_file.empty() ? "(none)" : flags.web_config_file) + "\n";
}

void reload_config(const Flags& flags, aggregator::AggregatorWorker& worker, ConfigStatus& status) {
  if (flags.config_file.empty()) {
    log(LogLevel::kInfo, "SIGHUP: no --config.file to reload");
    return;
  }
  std::optional<config::Config> fresh = load_config(flags.config_file);
  status.loaded(ConfigStatus::kConfig, fresh.has_value());
  if (!fresh) {
    log(LogLevel::kError, "configuration reload failed; keeping the previous configuration", {{"file", flags.config_file}});
    return;
  }
  // The landing page shows the file as loaded; pipeline sizes and events stay as started (see below).
  status.set_text(active_config_text(*fresh, flags));
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

/// Events and exit records the self-check queued but the ring refused: ring-full drops like the receiver's.
struct SelfCheckDrops {
  std::uint64_t events = 0;
  std::uint64_t records = 0;
};

/// The start-up self-check, on this thread before the receiver owns the sources; its events go to
/// the ring. False after logging the failure.
bool self_check(connector::ProcConnector& connector, taskstats::TaskstatsSource* taskstats, receiver::EventRing& ring,
                SelfCheckDrops& drops) {
  const std::string failure = run_self_check(
      connector,
      [&](const connector::Event& event) {
        // Keep the receiver's order: exit records already queued go first.
        if (taskstats) {
          taskstats->receive_batch(std::chrono::milliseconds(0), [&](const taskstats::ExitRecord& record) {
            if (!ring.try_push(receiver::PipelineItem(record))) ++drops.records;
          });
        }
        if (!ring.try_push(receiver::PipelineItem(event))) ++drops.events;
      },
      kSelfCheckTimeout);
  if (!failure.empty()) {
    log(LogLevel::kError, "self-check failed", {{"err", failure}});
    return false;
  }
  log(LogLevel::kInfo, "self-check passed: the probe child's events arrived");
  return true;
}

/// /proc/stat's fork count for scrapes, which may run on several civetweb threads at once.
class KernelForksReader {
 public:
  explicit KernelForksReader(const std::string& proc_root) : reader_(proc_root) {}
  std::optional<std::uint64_t> read() {
    std::lock_guard lock(mutex_);
    return reader_.read_kernel_forks();
  }

 private:
  procfs::ProcReader reader_;
  std::mutex mutex_;
};

/// What the sources, the receiver, the ring and the kernel say now (metrics::PipelineStatus).
metrics::PipelineStatus pipeline_status(const receiver::Receiver& receiver, const receiver::EventRing& ring,
                                        const SelfCheckDrops& self_check_drops, KernelForksReader& kernel_forks) {
  metrics::PipelineStatus status;
  status.connector = receiver.connector_stats();
  if (receiver.taskstats_active()) status.taskstats = receiver.taskstats_stats();
  status.receiver = receiver.stats();
  status.receiver.ring_full_drops += self_check_drops.events;
  status.receiver.ring_full_record_drops += self_check_drops.records;
  status.ring_capacity = ring.capacity();
  status.ring_used = ring.size();
  status.ring_high_watermark = ring.high_watermark();
  status.kernel_forks = kernel_forks.read();
  status.connector_up = receiver.subscribed();
  status.kernel_filter_active = receiver.kernel_filter_active();
  status.receive_buffer_bytes = receiver.receive_buffer_bytes();
  status.taskstats_receive_buffer_bytes = receiver.taskstats_receive_buffer_bytes();
  return status;
}

/// The /metrics body in the negotiated format: the exporter's families, then this process's process_*
/// families. A protobuf scrape also gets the groups' native histograms.
std::string render_metrics(const aggregator::Snapshot& snapshot, const metrics::PipelineStatus& status,
                           const metrics::BuildInfo& build, const config::GroupDetails& per_group,
                           http::ExpositionFormat format, bool process_exporter_names) {
  const bool protobuf = format == http::ExpositionFormat::kProtobuf;
  metrics::NativeSamples native;
  std::vector<prometheus::MetricFamily> families = metrics::exporter_families(
      snapshot, status, build, per_group, protobuf ? &native : nullptr, process_exporter_names);
  for (auto& family : metrics::process_self_families(procfs::read_self_usage())) families.push_back(std::move(family));
  return protobuf ? metrics::render_protobuf(families, native) : metrics::render_text(families);
}

/// /healthz: subscribed, and events arrive (HealthState).
http::Health health_report(const receiver::Receiver& receiver, HealthState& health, const std::string& taskstats_problem) {
  if (!receiver.subscribed()) return {false, "not subscribed to the process events connector"};
  std::lock_guard lock(health.mutex);
  if (!health.problem.empty()) return {false, health.problem};
  // Healthy without taskstats, but say what is missing.
  return {true, taskstats_problem.empty() ? "ok" : "ok; " + taskstats_problem};
}

/// Starts /metrics, /healthz and the landing page and logs each port; null after logging why not.
std::unique_ptr<http::HttpServer> start_http(const Flags& flags, const ConfigStatus& config_status, const http::WebConfig& web,
                                             http::HttpServer::ScrapeFn scrape, http::HttpServer::HealthFn healthz) {
  http::ServerOptions server_options;
  server_options.listen_addresses = flags.listen_addresses;
  server_options.telemetry_path = flags.telemetry_path;
  server_options.web = web;
  server_options.version = kVersion;
  server_options.active_config = [&config_status] { return config_status.text(); };
  std::string http_error;
  auto server = http::HttpServer::start(server_options, std::move(scrape), std::move(healthz), &http_error);
  if (!server) {
    log(LogLevel::kError, "cannot start the HTTP server", {{"err", http_error}});
    return nullptr;
  }
  for (const int port : server->listening_ports()) {
    log(LogLevel::kInfo, "listening", {{"port", std::to_string(port)}, {"telemetry_path", flags.telemetry_path},
                                       {"tls", web.tls.enabled() ? "true" : "false"},
                                       {"basic_auth", web.basic_auth_users.empty() ? "false" : "true"}});
  }
  return server;
}

/// Waits for SIGINT or SIGTERM. Meanwhile SIGHUP reloads the configuration, a changed web config
/// file is re-read, and the event flow is watched.
void serve_until_stopped(const sigset_t& signals, const Flags& flags, const http::WebConfig& web,
                         const receiver::Receiver& receiver, aggregator::AggregatorWorker& worker,
                         http::HttpServer& server, HealthState& health, ConfigStatus& config_status) {
  EventFlowWatch watch(receiver, health);
  WebConfigWatch web_watch(flags.web_config_file, web);
  while (true) {
    // A timer of seconds, and none at all while events flow and no web config file is watched.
    timespec wait = watch.time_to_next_check();
    if (web_watch.active() && wait.tv_sec >= 1) wait = {1, 0};
    const int signal_number = sigtimedwait(&signals, nullptr, &wait);
    if (signal_number == SIGINT || signal_number == SIGTERM) {
      log(LogLevel::kInfo, "shutting down", {{"signal", signal_number == SIGINT ? "SIGINT" : "SIGTERM"}});
      return;
    }
    if (signal_number == SIGHUP) reload_config(flags, worker, config_status);
    if (const std::optional<bool> reloaded = web_watch.check(server, signal_number == SIGHUP)) {
      config_status.loaded(ConfigStatus::kWebConfig, *reloaded);
    }
    watch.check();
  }
}

}  // namespace

int run_exporter(const Flags& flags) {
  // 1. Configuration: any error stops us before we bind anything.
  log_start(flags);
  const std::optional<config::Config> cfg = load_config(flags.config_file);
  if (!cfg) return 2;
  log_config(*cfg);
  std::optional<ResolvedScope> scope = resolve_scope(*cfg, flags.proc_root);
  if (!scope) return 2;
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
  SelfCheckDrops self_check_drops;
  if (flags.self_check && !self_check(*connector, taskstats.get(), *ring, self_check_drops)) return 1;

  // 4. Receiver -> ring -> aggregator.
  receiver::Receiver receiver(std::move(connector), std::move(taskstats), *ring,
                              receiver::WakePolicy{.is_urgent = &aggregator::Aggregator::is_urgent});
  procfs::ProcfsInspector inspector(flags.proc_root);
  const procfs::UsageParts live_parts = live::usage_parts(cfg->per_group, flags.process_exporter_names);
  aggregator::AggregatorWorker worker(
      std::make_unique<aggregator::Aggregator>(aggregator_options(*cfg, flags, exit_records, std::move(*scope), live_parts),
                                               std::make_shared<const naming::GroupNamer>(*cfg), inspector),
      *ring, [&receiver] { return receiver.loss_signals(); });

  // 5. Metrics -> HTTP.
  KernelForksReader kernel_forks(flags.proc_root);
  ConfigStatus config_status(active_config_text(*cfg, flags), !flags.web_config_file.empty());
  const metrics::BuildInfo build = build_info();
  live::LiveCollector live_collector(
      {.proc_root = flags.proc_root, .parts = live_parts, .boot_time_seconds = double(inspector.boot_time_seconds())});
  auto scrape = [&](http::ExpositionFormat format) {
    aggregator::Snapshot snapshot = worker.snapshot();  // first: the status then counts at least as much
    live_collector.collect(snapshot);  // the live processes, read on this thread while events flow
    metrics::PipelineStatus status = pipeline_status(receiver, *ring, self_check_drops, kernel_forks);
    status.config_reloads = config_status.reloads();
    return render_metrics(snapshot, status, build, cfg->per_group, format, flags.process_exporter_names);
  };
  HealthState health;
  auto healthz = [&] { return health_report(receiver, health, taskstats_problem); };
  auto server = start_http(flags, config_status, *web, scrape, healthz);
  if (!server) return 1;

  // 6. Signal loop; also watches that events keep flowing.
  serve_until_stopped(signals, flags, *web, receiver, worker, *server, health, config_status);

  // 7. Orderly stop: HTTP first (no scrape sees half-destroyed state), then the aggregator, then the
  // receiver (which unsubscribes and deregisters).
  server.reset();
  return 0;
}

}  // namespace procevents::app
