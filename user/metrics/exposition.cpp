#include "metrics/exposition.hpp"

#include <fmt/format.h>

#include <cmath>

#include "util/names.hpp"
#include "util/text.hpp"

namespace ow::metrics {
namespace {

void append_labels(std::string& out, const Labels& labels, const char* extra_name = nullptr,
                   const std::string& extra_value = {}) {
  if (labels.empty() && !extra_name) return;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    out += escape_label_value(v);
    out += '"';
  }
  if (extra_name) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;  // le values are formatted numbers: nothing to escape
    out += '"';
  }
  out += '}';
}

constexpr Named<Type> kTypes[] = {{Type::counter, "counter"}, {Type::gauge, "gauge"}, {Type::histogram, "histogram"}};

}  // namespace

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds.size() && v > bounds[i]) ++i;
  counts[i]++;
  sum += v;
  count++;
}

std::string escape_label_value(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size();) {
    char c = raw[i];
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else if (size_t n = utf8_seq_len(raw, i); n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for one byte that starts no valid sequence
    } else {
      out.append(raw.substr(i, n));
      i += n;
      continue;
    }
    ++i;
  }
  return out;
}

std::string escape_help(std::string_view raw) {
  std::string out;
  for (char c : raw) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

std::string render(const std::vector<Family>& families) {
  std::string out;
  for (const auto& f : families) {
    if (f.samples.empty() && f.histograms.empty()) continue;
    out += "# HELP " + f.name + " " + escape_help(f.help) + "\n";
    out += "# TYPE " + f.name + " " + name_of(kTypes, f.type, "untyped") + "\n";
    for (const auto& s : f.samples) {
      out += f.name;
      append_labels(out, s.labels);
      out += ' ';
      out += format_value(s.value);
      out += '\n';
    }
    for (const auto& [labels, h] : f.histograms) {
      uint64_t cum = 0;
      for (size_t i = 0; i < h.bounds.size(); ++i) {
        cum += i < h.counts.size() ? h.counts[i] : 0;
        out += f.name + "_bucket";
        append_labels(out, labels, "le", format_value(h.bounds[i]));
        out += ' ' + std::to_string(cum) + '\n';
      }
      out += f.name + "_bucket";
      append_labels(out, labels, "le", "+Inf");
      out += ' ' + std::to_string(h.count) + '\n';
      out += f.name + "_sum";
      append_labels(out, labels);
      out += ' ' + format_value(h.sum) + '\n';
      out += f.name + "_count";
      append_labels(out, labels);
      out += ' ' + std::to_string(h.count) + '\n';
    }
  }
  return out;
}

}  // namespace ow::metrics
