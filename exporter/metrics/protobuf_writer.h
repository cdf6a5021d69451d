// The protobuf exposition (Accept: application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;
// encoding=delimited) from the same prometheus-cpp families the text writer renders, so every family
// reaches both formats. Messages are the classes protoc generates from Debian's metrics.proto; each family is
// one message, preceded by its length as a varint, as the Go client writes them. Native histograms, which the
// families cannot hold, come beside them (NativeSamples) and join their samples here.
#pragma once

#include <string>
#include <vector>

#include <prometheus/metric_family.h>

#include "metrics/exposition.h"

namespace procevents::metrics {

/// Appends `families` to `out`, each followed by nothing but its own bytes. `native` must be in exposition
/// order (as exporter_families fills it); a sample without one is a classic histogram.
void write_protobuf(const std::vector<prometheus::MetricFamily>& families, const NativeSamples& native,
                    std::string& out);

}  // namespace procevents::metrics
