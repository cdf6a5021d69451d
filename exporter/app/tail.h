// `procevents_exporter --tail`: one JSON object per event on stdout, like forkstat but machine-readable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "connector/event.h"

namespace procevents::app {

struct TailOptions {
  std::uint32_t event_mask = 0;  // 0 = all events
  int receive_buffer_bytes = 0;
  double seconds = 0;            // stop after this long; 0 = until SIGINT/SIGTERM
};

/// Formats one event as a single JSON line (no newline) into `out`; returns the length used,
/// or 0 if `out` is too small. Never allocates.
std::size_t format_event_json(const connector::Event& event, std::span<char> out) noexcept;

/// Formats `{"event":"lost","count":N}`.
std::size_t format_lost_json(std::uint64_t count, std::span<char> out) noexcept;

/// Runs the tail until stopped; returns the process exit status.
int run_tail(const TailOptions& options);

}  // namespace procevents::app
