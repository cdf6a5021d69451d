// Start-up proof that events really arrive: fork a probe child and wait for its events.
//
// A listener outside the host's network, PID or user namespace, or on a kernel without
// CONFIG_PROC_EVENTS, subscribes without any error and then simply receives nothing; only an
// end-to-end probe tells. Runs before the receiver thread starts, on the main thread, and hands
// every event it reads to `deliver` so nothing is lost.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "connector/proc_connector.h"

namespace procevents::app {

/// Returns "" when the probe's fork/exec/exit events (those in the subscription mask) were seen
/// within `timeout`, else a message naming the likely causes.
std::string run_self_check(connector::ProcConnector& connector,
                           const std::function<void(const connector::Event&)>& deliver,
                           std::chrono::milliseconds timeout);

/// The common explanation for "subscribed, but no events".
std::string no_events_hint();

}  // namespace procevents::app
