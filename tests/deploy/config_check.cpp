// procevents_deploy_config_check FILE...: loads each file with the exporter's own config loader, the way
// --config.file does, and prints every error and warning. Exit 0 only when every file loads with
// neither: a shipped config (ConfigMap, image default) must not even contain an unknown key.
#include <cstdio>
#include <string>

#include "config/config.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE...\n", argv[0]);
    return 2;
  }
  int problems = 0;
  for (int i = 1; i < argc; ++i) {
    const procevents::config::LoadResult result = procevents::config::load_config_file(argv[i]);
    for (const auto& error : result.errors) std::fprintf(stderr, "error: %s\n", error.to_string().c_str());
    for (const auto& warning : result.warnings) std::fprintf(stderr, "warning: %s\n", warning.c_str());
    problems += static_cast<int>(result.errors.size() + result.warnings.size());
    if (result.config) std::printf("%s: OK\n", argv[i]);
  }
  return problems == 0 ? 0 : 1;
}
