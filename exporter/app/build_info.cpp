#include "app/build_info.h"

#include "app/version.h"

namespace procevents::app {

metrics::BuildInfo build_info() { return {kVersion, kRevision, kBranch, kCompiler, kOs, kArch}; }

std::string version_text() {
  return std::string("procevents_exporter, version ") + kVersion + " (branch: " + kBranch + ", revision: " + kRevision +
         ")\n  build date:       " + kBuildDate + "\n  compiler:         " + kCompiler +
         "\n  platform:         " + kOs + "/" + kArch + "\n";
}

}  // namespace procevents::app
