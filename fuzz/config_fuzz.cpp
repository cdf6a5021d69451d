// libFuzzer target: any bytes as a config file and as a web config file; errors, never crashes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config.h"
#include "config/group_namer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto result = procevents::config::load_config_string(text, "fuzz.yml");
  if (result.config) {
    // A config that loads must also name processes without trouble.
    const procevents::config::GroupNamer namer(*result.config);
    const std::string args[] = {"/usr/bin/python3", "--config", "/etc/x.yml"};
    procevents::config::ProcessIdentity p;
    p.comm = "python3";
    p.cmdline = args;
    (void)namer.name_for(p);
  }
  (void)procevents::config::load_web_config_string(text, "fuzz-web.yml");
  return 0;
}
