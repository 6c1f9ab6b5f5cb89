#include "metrics/exposition.hpp"

#include <fmt/format.h>

#include <cmath>

#include "util/names.hpp"

namespace ow::metrics {
namespace {

// Length of the well-formed UTF-8 sequence at s[i], 0 when there is none
// (the same rules as util/text.hpp valid_utf8: no overlongs, no surrogates,
// nothing above U+10FFFF).
size_t utf8_len(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else
    return 0;
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

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
    } else if (size_t n = utf8_len(raw, i); n == 0) {
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
