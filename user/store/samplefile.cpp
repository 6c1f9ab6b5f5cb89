// Sample files: format choice, the CSV row layout, and parsing line by line
// with "file:line" errors (format in samplefile.hpp). Pure: the file is read
// by samplefile_reader.cpp.
#include "store/samplefile.hpp"

#include <optional>

#include "stats/csv.hpp"
#include "stats/time.hpp"
#include "store/samplefile_fields.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace ow::store {
namespace detail {

Status parse_text_value(const Field& f, std::string_view text, sampler::Sample& out) {
  auto bad = [&](const std::string& why) {
    return app_error("\"" + std::string(f.name) + "\" " + why + ", got '" + std::string(text) + "'");
  };
  switch (f.kind) {
    case FieldKind::Ts: {
      bool numeric = !text.empty() && text.find_first_not_of("0123456789.") == std::string_view::npos;
      auto ts = numeric ? stats::parse_unix_seconds(text) : stats::parse_rfc3339(text);
      if (!ts) return app_error("\"ts\": " + ts.error().message());
      out.ts_ns = *ts;
      return {};
    }
    case FieldKind::Path:
      if (text.empty() || text[0] != '/') return bad("must be a cgroup path starting with '/'");
      out.cgroup = std::string(text);
      return {};
    case FieldKind::Limit:
      if (text == "max") {
        out.*f.member = kUnlimited;
        return {};
      }
      [[fallthrough]];
    case FieldKind::Bytes:
      if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos ||
          !parse_u64(text, out.*f.member))
        return bad(f.kind == FieldKind::Limit ? "must be a non-negative integer or max" : "must be a non-negative integer");
      return {};
  }
  return {};
}

}  // namespace detail

namespace {

struct CsvLayout {
  std::vector<int> field_of_column;  // index into kFields, -1: unknown column, ignored
};

Result<CsvLayout> csv_layout(std::string_view header) {
  auto cols = stats::csv_split(header);
  if (!cols) return app_error("header: " + cols.error().message());
  CsvLayout l;
  std::vector<bool> seen(detail::kFields.size(), false);
  for (const auto& c : *cols) {
    int idx = -1;
    for (size_t i = 0; i < detail::kFields.size(); ++i)
      if (detail::kFields[i].name == c) idx = static_cast<int>(i);
    if (idx >= 0 && seen[idx]) return app_error("header: column '" + c + "' appears twice");
    if (idx >= 0) seen[idx] = true;
    l.field_of_column.push_back(idx);
  }
  for (size_t i = 0; i < detail::kFields.size(); ++i)
    if (detail::kFields[i].required && !seen[i])
      return app_error("header: missing column '" + std::string(detail::kFields[i].name) + "' (expected " +
                       csv_header() + ")");
  return l;
}

Result<sampler::Sample> csv_row(const std::vector<int>& field_of_column, std::string_view line) {
  auto cells = stats::csv_split(line);
  if (!cells) return cells.error();
  if (cells->size() != field_of_column.size())
    return app_error("expected " + std::to_string(field_of_column.size()) + " fields, got " +
                     std::to_string(cells->size()));
  sampler::Sample s = detail::default_sample();
  for (size_t c = 0; c < cells->size(); ++c) {
    int idx = field_of_column[c];
    if (idx < 0) continue;
    const auto& f = detail::kFields[idx];
    if ((*cells)[c].empty() && !f.required) continue;  // empty optional cell: the default
    if (auto st = detail::parse_text_value(f, (*cells)[c], s); !st) return st.error();
  }
  return s;
}

}  // namespace

Result<SampleFormat> sample_format_for(const std::string& path) {
  auto ends = [&](std::string_view ext) {
    return path.size() >= ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
  };
  if (ends(".jsonl") || ends(".ndjson") || ends(".json")) return SampleFormat::Jsonl;
  if (ends(".csv")) return SampleFormat::Csv;
  return app_error("unknown sample file format (want .jsonl or .csv):", path);
}

SampleLineParser::SampleLineParser(SampleFormat f, std::string name) : format_(f), name_(std::move(name)) {}

Error SampleLineParser::at(size_t lineno, const std::string& why) const {
  return app_error(name_ + ":" + std::to_string(lineno) + ": " + why);
}

Status SampleLineParser::feed(std::string_view line, std::vector<sampler::Sample>& out, const SampleFilter& keep) {
  ++lineno_;
  if (line.size() > kMaxSampleLineBytes) return too_long(line, lineno_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return {};  // blank line
  if (format_ == SampleFormat::Csv && !have_columns_) {
    auto l = csv_layout(line);
    if (!l) return at(lineno_, l.error().message());
    columns_ = std::move(l->field_of_column);
    have_columns_ = true;
    return {};
  }
  auto s = format_ == SampleFormat::Jsonl ? from_jsonl(line) : csv_row(columns_, line);
  if (!s) return at(lineno_, s.error().message());
  if (!keep || keep(*s)) out.push_back(std::move(*s));
  return {};
}

Error SampleLineParser::truncated() const {
  return at(lineno_ + 1, "truncated record: no newline at end of file (cut short, or still being written)");
}

Error SampleLineParser::too_long(std::string_view head, size_t lineno) const {
  Error e = at(lineno, "a line longer than " + std::to_string(kMaxSampleLineBytes >> 20) +
                           " MiB, which no sample record is: '" + excerpt(head.substr(0, 48)) + "...'");
  e.usage = true;
  return e;
}

Result<std::vector<sampler::Sample>> parse_samples(std::string_view text, SampleFormat f, const std::string& name) {
  std::vector<sampler::Sample> out;
  SampleLineParser p(f, name);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      if (text.size() - pos > kMaxSampleLineBytes) return p.too_long(text.substr(pos), p.lines() + 1);
      return p.truncated();
    }
    if (auto st = p.feed(text.substr(pos, nl - pos), out); !st) return st.error();
    pos = nl + 1;
  }
  return out;
}

}  // namespace ow::store
