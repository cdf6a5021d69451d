// Bounds the values of one label (unit, container_id, pod_uid, user) so that a flood of new
// containers cannot blow up the number of series.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/string_hash.h"

namespace procevents::attribution {

/// The value a label gets once its limit is reached.
inline constexpr std::string_view kOverflowLabelValue = "other";

/// The first `limit` distinct non-empty values pass, and keep passing; later new values become
/// "other" and are counted as overflows. The empty value (no unit, no container, ...) always
/// passes and takes no slot, so host processes never turn into "other".
///
/// Threading: single-threaded (the aggregator's).
class LabelLimiter {
 public:
  explicit LabelLimiter(std::size_t limit) : limit_(limit) {}

  /// `value` itself (as a view into the limiter, valid while it lives), "" or "other".
  std::string_view admit(std::string_view value);

  /// New values refused so far (each refusal counts, also of a value refused before).
  std::uint64_t overflows() const { return overflows_; }
  /// Distinct values admitted (at most the limit).
  std::size_t size() const { return admitted_.size(); }
  std::size_t limit() const { return limit_; }

 private:
  std::size_t limit_;
  std::unordered_set<std::string, TransparentStringHash, std::equal_to<>> admitted_;
  std::uint64_t overflows_ = 0;
};

}  // namespace procevents::attribution
