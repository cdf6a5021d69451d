// procevents_exporter: flags in, one of three modes out (help/version, --tail, exporter).
#include <cstdio>
#include <string>

#include "app/build_info.h"
#include "app/config_check.h"
#include "app/exporter_app.h"
#include "app/flags.h"
#include "app/healthcheck.h"
#include "app/tail.h"

int main(int argc, char** argv) {
  using namespace procevents::app;
  std::string error;
  const auto flags = parse_flags(argc, argv, error);
  if (!flags) {
    std::fprintf(stderr, "procevents_exporter: %s\n\n%s", error.c_str(), usage_text().c_str());
    return 2;
  }
  if (flags->help) {
    std::fputs(usage_text().c_str(), stdout);
    return 0;
  }
  if (flags->version) {
    std::fputs(version_text().c_str(), stdout);
    return 0;
  }
  if (flags->config_check) return run_config_check(*flags);
  if (!flags->healthcheck_url.empty()) return run_healthcheck(flags->healthcheck_url);
  set_log_level(flags->log_level);
  set_log_format(flags->log_format);
  if (flags->tail) {
    TailOptions options;
    unsigned mask = 0;
    if (!parse_event_list(flags->tail_events, mask, error)) {
      std::fprintf(stderr, "procevents_exporter: --tail.events: %s\n", error.c_str());
      return 2;
    }
    options.event_mask = mask;
    options.seconds = flags->tail_seconds;
    return run_tail(options);
  }
  return run_exporter(*flags);
}
