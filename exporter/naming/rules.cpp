#include "naming/rules.h"

namespace procevents::naming {

std::vector<Matcher> default_process_names() {
  Matcher every;
  every.name.source = "{{.Comm}}";
  every.name.parts.push_back({NameTemplate::Kind::kComm, ""});
  every.cmdline.push_back(*CmdlineRegex::compile(".+", nullptr));
  std::vector<Matcher> names;
  names.push_back(std::move(every));
  return names;
}

}  // namespace procevents::naming
