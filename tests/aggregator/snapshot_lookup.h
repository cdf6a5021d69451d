// Looking up a group of an aggregator snapshot by name, for the aggregator's tests.
#pragma once

#include <string>

#include "aggregator/snapshot.h"

namespace procevents::testing {

/// The group named `name`, or null.
inline const aggregator::GroupSnapshot* group(const aggregator::Snapshot& s, const std::string& name) {
  for (const auto& g : s.groups) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

}  // namespace procevents::testing
