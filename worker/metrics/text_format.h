#pragma once
// The Prometheus text exposition format (version 0.0.4) of a Snapshot.
// Pure: no shared memory, no clock, so it is tested on made-up snapshots.
#include <string>
#include <vector>

#include "metrics/snapshot.h"

namespace authd::metrics {

// `route_names[i]` labels route index i (0: no route matched). Routes and
// statuses that were never counted are left out; every other metric is
// always present, zero included.
std::string render_text(const Snapshot& snapshot, const std::vector<std::string>& route_names);

// A label value as the format escapes it (backslash, double quote, newline).
std::string escape_label_value(std::string_view value);

}  // namespace authd::metrics
