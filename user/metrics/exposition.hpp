// The Prometheus text exposition format, version 0.0.4: families of samples
// with HELP and TYPE lines, label values escaped, histograms as cumulative
// _bucket series ending in le="+Inf" plus _sum and _count. Pure: builds a
// string, no I/O. The agent's metric families are made in metrics/registry.
//
// Label values carry kernel bytes (cgroup names may hold any byte but '/'
// and '\n'), but the format wants UTF-8: backslash, double quote and newline
// are escaped as \\, \" and \n, and every byte that is not part of a
// well-formed UTF-8 sequence becomes U+FFFD, so no name can break a scrape.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ow::metrics {

enum class Type { counter, gauge, histogram };

using Labels = std::vector<std::pair<std::string, std::string>>;  // name, value (raw bytes)

// Bucket counts per upper bound, not cumulative; render() accumulates.
struct Histogram {
  std::vector<double> bounds;   // ascending upper bounds, +Inf implied
  std::vector<uint64_t> counts;  // bounds.size() + 1: the last one is above every bound
  double sum = 0;
  uint64_t count = 0;
  explicit Histogram(std::vector<double> b = {}) : bounds(std::move(b)), counts(bounds.size() + 1, 0) {}
  void observe(double v);
};

struct Sample {
  Labels labels;
  double value = 0;
};

struct Family {
  std::string name;  // counters end in _total (checked by the tests of every family the agent renders)
  std::string help;
  Type type = Type::gauge;
  std::vector<Sample> samples;                           // counter, gauge
  std::vector<std::pair<Labels, Histogram>> histograms;  // histogram
};

// A label value as the format writes it between the quotes.
std::string escape_label_value(std::string_view raw);
// HELP text: backslash and newline escaped.
std::string escape_help(std::string_view raw);
// A sample value: integers without a fraction, "+Inf", "-Inf", "NaN".
std::string format_value(double v);

// Families in the given order; a family with no sample is left out whole
// (no HELP/TYPE lines for a metric that has nothing to say).
std::string render(const std::vector<Family>& families);

}  // namespace ow::metrics
