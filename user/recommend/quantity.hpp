// Kubernetes memory quantities: "224Mi", "1Gi", "500M", "129e6", "1.5Gi".
// Pure text <-> bytes, for the recommend output and for requests/limits read
// from `kubectl get pods -o json`.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace ow::recommend {

// The largest binary suffix that divides exactly: 224Mi, 1Gi, 1536Ki, 1000.
std::string quantity(uint64_t bytes);
// Bytes, rounded up when the quantity has a fraction of a byte. Errors name the text.
Result<uint64_t> parse_quantity(std::string_view s);
// 0 -> "0s", 750 s -> "12m30s", 24 h -> "24h"; whole seconds.
std::string duration_text(int64_t ns);

}  // namespace ow::recommend
