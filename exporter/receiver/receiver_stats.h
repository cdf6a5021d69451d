// The receiver's own counters (the sources' counters are connector::ConnectorStats and
// taskstats::SourceStats); a header of plain data so the metrics layer can take it whole.
#pragma once

#include <cstdint>

namespace procevents::receiver {

struct ReceiverStats {
  std::uint64_t ring_full_drops = 0;            // connector events dropped because the ring was full
  std::uint64_t ring_full_record_drops = 0;     // exit records dropped because the ring was full
  std::uint64_t connector_receive_errors = 0;   // recv errors other than ENOBUFS
  std::uint64_t taskstats_receive_errors = 0;
  std::uint64_t last_event_monotonic_ns = 0;    // steady clock of the last received connector event
};

}  // namespace procevents::receiver
