// What travels from the receiver to the aggregator: a connector event or a taskstats exit record,
// in the order the receiver collected them (see Receiver for the order guarantee).
#pragma once

#include <type_traits>
#include <variant>

#include "connector/event.h"
#include "ring/spsc_ring.h"
#include "taskstats/exit_record.h"

namespace procevents::receiver {

using PipelineItem = std::variant<connector::Event, taskstats::ExitRecord>;
static_assert(std::is_trivially_copyable_v<PipelineItem>, "items travel through the ring by memcpy");

/// The one ring type between the receiver and the aggregator.
using EventRing = ring::SpscRing<PipelineItem>;

}  // namespace procevents::receiver
