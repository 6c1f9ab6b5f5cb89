// Bad sample files: every problem is an error naming the file and the line,
// never a number guessed from a damaged record.
#include <catch2/catch.hpp>

#include "store/samplefile.hpp"

using namespace ow::store;

namespace {
const std::string kGood = R"({"ts":"2025-11-23T00:00:00.000Z","cgroup":"/a","usage_bytes":100})";

std::string fails(std::string_view text, SampleFormat f, const std::string& name = "f.jsonl") {
  auto r = parse_samples(text, f, name);
  REQUIRE_FALSE(r.ok());
  return r.error().message();
}
}  // namespace

TEST_CASE("a file cut mid-record is refused even when the cut parses", "[samplefile]") {
  // "usage_bytes":100 cut to 10 would be valid JSON... if the brace survived;
  // in CSV the cut is always valid. The missing newline gives both away.
  std::string csv = "ts,cgroup,usage_bytes\n2025-11-23T00:00:00Z,/a,100\n2025-11-23T00:00:01Z,/a,10";
  auto m = fails(csv, SampleFormat::Csv, "f.csv");
  CHECK(m.find("f.csv:3:") != std::string::npos);
  CHECK(m.find("truncated") != std::string::npos);
  auto j = fails(kGood + "\n" + kGood.substr(0, 40), SampleFormat::Jsonl);
  CHECK(j.find("f.jsonl:2:") != std::string::npos);
  auto whole = fails(kGood, SampleFormat::Jsonl);  // complete JSON, but no newline
  CHECK(whole.find("f.jsonl:1:") != std::string::npos);
}

TEST_CASE("malformed JSONL records name the line and the problem", "[samplefile]") {
  struct Case {
    std::string line, needle;
  };
  for (const auto& c : std::vector<Case>{
           {"{not json", "not valid JSON"},
           {"[1,2]", "JSON object"},
           {R"({"cgroup":"/a","usage_bytes":1})", "missing \"ts\""},
           {R"({"ts":"2025-11-23T00:00:00Z","usage_bytes":1})", "missing \"cgroup\""},
           {R"({"ts":"2025-11-23T00:00:00Z","cgroup":"/a"})", "missing \"usage_bytes\""},
           {R"({"ts":"2025-11-23T00:00:00Z","cgroup":"/a","usage_bytes":-1})", "usage_bytes"},
           {R"({"ts":"2025-11-23T00:00:00Z","cgroup":"/a","usage_bytes":1.5})", "usage_bytes"},
           {R"({"ts":"2025-11-23T00:00:00Z","cgroup":"/a","usage_bytes":"12"})", "usage_bytes"},
           {R"({"ts":"2025-11-23T00:00:00Z","cgroup":"/a","usage_bytes":18446744073709551616})", "usage_bytes"},
           {R"({"ts":"2025-11-23T00:00:00Z","cgroup":"/a","usage_bytes":1,"limit_bytes":"unlimited"})", "limit_bytes"},
           {R"({"ts":"2025-02-30T00:00:00Z","cgroup":"/a","usage_bytes":1})", "no such date"},
           {R"({"ts":true,"cgroup":"/a","usage_bytes":1})", "\"ts\""},
           {R"({"ts":"2025-11-23T00:00:00Z","cgroup":"a","usage_bytes":1})", "cgroup"},
       }) {
    INFO(c.line);
    auto m = fails(kGood + "\n\n" + c.line + "\n", SampleFormat::Jsonl);
    CHECK(m.find("f.jsonl:3:") != std::string::npos);  // the blank line still counts
    CHECK(m.find(c.needle) != std::string::npos);
  }
}

TEST_CASE("malformed CSV names the line: fields, numbers, header", "[samplefile]") {
  const std::string h = "ts,cgroup,usage_bytes,limit_bytes\n";
  CHECK(fails(h + "2025-11-23T00:00:00Z,/a,1\n", SampleFormat::Csv, "x.csv").find("x.csv:2: expected 4 fields, got 3") !=
        std::string::npos);
  CHECK(fails(h + "2025-11-23T00:00:00Z,/a,1x,max\n", SampleFormat::Csv, "x.csv").find("usage_bytes") != std::string::npos);
  CHECK(fails(h + "2025-11-23T00:00:00Z,/a,-3,max\n", SampleFormat::Csv, "x.csv").find("x.csv:2:") != std::string::npos);
  CHECK(fails(h + "2025-11-23T00:00:00Z,/a,,max\n", SampleFormat::Csv, "x.csv").find("usage_bytes") != std::string::npos);
  CHECK(fails(h + "2025-11-23T00:00:00Z,\"/a,1,max\n", SampleFormat::Csv, "x.csv").find("unterminated") != std::string::npos);
  CHECK(fails("ts,cgroup\n", SampleFormat::Csv, "x.csv").find("x.csv:1: header: missing column 'usage_bytes'") !=
        std::string::npos);
  CHECK(fails("ts,cgroup,usage_bytes,ts\n", SampleFormat::Csv, "x.csv").find("twice") != std::string::npos);
}

TEST_CASE("empty files and header-only files hold no samples, which is not an error here", "[samplefile]") {
  CHECK(parse_samples("", SampleFormat::Jsonl, "e.jsonl")->empty());
  CHECK(parse_samples("ts,cgroup,usage_bytes\n", SampleFormat::Csv, "e.csv")->empty());
}

TEST_CASE("an unreadable file is an error with errno and the path", "[samplefile]") {
  auto r = read_sample_file("/nonexistent/dir/s.jsonl");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().err == ENOENT);
  CHECK(r.error().message().find("/nonexistent/dir/s.jsonl") != std::string::npos);
}

TEST_CASE("a line longer than the bound is refused with a short line quoting its start", "[samplefile][input]") {
  std::string text = kGood + "\n" + std::string(kMaxSampleLineBytes + 1, '{') + "\n";
  auto r = parse_samples(text, SampleFormat::Jsonl, "l.jsonl");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().usage);
  CHECK(r.error().message().find("l.jsonl:2: a line longer than 1 MiB") != std::string::npos);
  CHECK(r.error().message().size() < 200);
  // The same without its newline: still the bound, not "truncated".
  auto cut = parse_samples(text.substr(0, text.size() - 1), SampleFormat::Jsonl, "l.jsonl");
  REQUIRE_FALSE(cut.ok());
  CHECK(cut.error().message().find("longer than") != std::string::npos);
}
