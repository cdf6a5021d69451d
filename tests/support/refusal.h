// A row of a refusal table, shared by the tests of every loader and parser of configuration text.
#pragma once

namespace procevents::testing {

/// An input that must be refused, and text its (first) error must contain.
struct Refusal {
  const char* input;
  const char* reason;
};

}  // namespace procevents::testing
