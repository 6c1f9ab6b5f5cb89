// The columns of a sample file, shared by the JSONL and CSV codecs so both
// spell and order them the same way. Internal to user/store/samplefile*.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>

#include "sampler/sample.hpp"
#include "util/result.hpp"
#include "util/units.hpp"

namespace ow::store::detail {

enum class FieldKind {
  Ts,     // RFC 3339 (or unix seconds on read)
  Path,   // the cgroup path string
  Bytes,  // non-negative integer
  Limit,  // non-negative integer, or "max" for kUnlimited
};

struct Field {
  std::string_view name;
  FieldKind kind;
  uint64_t sampler::Sample::*member;  // nullptr for Ts and Path
  bool required;
};

using S = sampler::Sample;
inline constexpr std::array<Field, 16> kFields{{
    {"ts", FieldKind::Ts, nullptr, true},
    {"cgroup", FieldKind::Path, nullptr, true},
    {"cgroup_id", FieldKind::Bytes, &S::cgroup_id, false},
    {"usage_bytes", FieldKind::Bytes, &S::usage_bytes, true},
    {"limit_bytes", FieldKind::Limit, &S::limit_bytes, false},
    {"peak_bytes", FieldKind::Bytes, &S::peak_bytes, false},
    {"high_bytes", FieldKind::Limit, &S::high_bytes, false},
    {"swap_bytes", FieldKind::Bytes, &S::swap_bytes, false},
    {"failcnt", FieldKind::Bytes, &S::failcnt, false},
    {"ev_low", FieldKind::Bytes, &S::ev_low, false},
    {"ev_high", FieldKind::Bytes, &S::ev_high, false},
    {"ev_max", FieldKind::Bytes, &S::ev_max, false},
    {"ev_oom", FieldKind::Bytes, &S::ev_oom, false},
    {"ev_oom_kill", FieldKind::Bytes, &S::ev_oom_kill, false},
    // Added later: absent in older files (read as 0).
    {"inactive_file_bytes", FieldKind::Bytes, &S::inactive_file_bytes, false},
    {"working_set_bytes", FieldKind::Bytes, &S::working_set_bytes, false},
}};

// Defaults for absent optional fields: no limit, counters and peak 0.
inline sampler::Sample default_sample() {
  sampler::Sample s;
  s.limit_bytes = kUnlimited;
  s.high_bytes = kUnlimited;
  return s;
}

// Text of a Ts/Bytes/Limit value as it appears in CSV (and JSON strings):
// strict, the whole text must be the value.
Status parse_text_value(const Field& f, std::string_view text, sampler::Sample& out);

}  // namespace ow::store::detail
