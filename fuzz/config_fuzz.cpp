// libFuzzer target: any bytes as a config file and as a web config file. A loader must answer with
// errors, never a crash, hang or escaping exception; a config that loads must also describe itself
// and name processes without trouble.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/config.h"
#include "http/web_config_loader.h"
#include "naming/group_namer.h"

namespace {

void require(bool ok, const char* invariant) {
  if (!ok) {
    std::fprintf(stderr, "config_fuzz: broken invariant: %s\n", invariant);
    std::abort();
  }
}

volatile std::size_t g_sink;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace procevents::config;
  using procevents::http::load_web_config_string;
  using procevents::http::WebConfigResult;
  using procevents::naming::GroupNamer;
  using procevents::naming::ProcessIdentity;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const LoadResult result = load_config_string(text, "fuzz.yml");
  require(result.config.has_value() == result.errors.empty(), "a config is returned exactly when there are no errors");
  for (const ConfigError& error : result.errors) {
    require(!error.message.empty(), "an error says what is wrong");
    require(error.line >= 0 && error.column >= 0, "positions are 1-based or 0");
    g_sink = g_sink + error.to_string().size();
  }
  if (result.config) {
    const Config& config = *result.config;
    g_sink = g_sink + describe(config).size();
    const GroupNamer namer(config);
    g_sink = g_sink + namer.predeclared_groups().size();
    // Short, fixed identities: the point is the config's matchers and templates, not regex speed.
    const std::string args[] = {"/usr/bin/python3", "--config", "/etc/x.yml"};
    ProcessIdentity python;
    python.comm = "python3";
    python.pid = 4242;
    python.start_time_ns = 1'796'165'173'120'000'000;  // {{.StartTime}} renders a real time
    python.cmdline = args;
    python.username = "root";
    python.cgroup = "0::/system.slice/demo.service";
    python.unit = "demo.service";
    const ProcessIdentity empty;
    const ProcessIdentity* identities[] = {&python, &empty};
    for (const ProcessIdentity* identity : identities) {
      const auto name = namer.name_for(*identity);
      if (name) {
        require(!name->empty(), "a group name is never empty");
        g_sink = g_sink + name->size();
      }
    }
  }

  const WebConfigResult web = load_web_config_string(text, "fuzz-web.yml");
  require(web.config.has_value() == web.errors.empty(), "a web config is returned exactly when there are no errors");
  for (const ConfigError& error : web.errors) g_sink = g_sink + error.to_string().size();
  return 0;
}
