// Sample files round-trip: what the writer produces, the reader returns,
// field for field, in JSONL and CSV, through the codecs and through real files.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "store/samplefile.hpp"
#include "util/units.hpp"
#include "util/fs.hpp"

using ow::sampler::Sample;
using ow::sampler::Snapshot;
using namespace ow::store;

namespace {
Sample full(int i) {
  Sample s;
  s.ts_ns = 1763856000'123'000'000LL + i * 1'000'000'007LL;  // ms, then ns-precise times
  s.cgroup = i % 2 ? "/kubepods/pod,1/\"c\"" : "/a/b";
  s.cgroup_id = 1000 + i;
  s.usage_bytes = 100'000'000ull + i;
  s.limit_bytes = i % 3 ? ow::kUnlimited : 512ull << 20;
  s.peak_bytes = 200'000'000ull + i;
  s.high_bytes = i % 2 ? ow::kUnlimited : 400ull << 20;
  s.swap_bytes = i;
  s.failcnt = 2 * i;
  s.ev_low = 3, s.ev_high = 4, s.ev_max = 5, s.ev_oom = 6, s.ev_oom_kill = 7 + i;
  s.inactive_file_bytes = 30'000'000ull + i;
  s.working_set_bytes = s.usage_bytes - s.inactive_file_bytes;
  return s;
}

bool same(const Sample& a, const Sample& b) {
  return a.ts_ns == b.ts_ns && a.cgroup == b.cgroup && a.cgroup_id == b.cgroup_id && a.usage_bytes == b.usage_bytes &&
         a.limit_bytes == b.limit_bytes && a.peak_bytes == b.peak_bytes && a.high_bytes == b.high_bytes &&
         a.swap_bytes == b.swap_bytes && a.failcnt == b.failcnt && a.ev_low == b.ev_low && a.ev_high == b.ev_high &&
         a.ev_max == b.ev_max && a.ev_oom == b.ev_oom && a.ev_oom_kill == b.ev_oom_kill &&
         a.inactive_file_bytes == b.inactive_file_bytes && a.working_set_bytes == b.working_set_bytes;
}

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/owtest-samplefile-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempDir() { (void)!std::system(("rm -rf " + path).c_str()); }
};
}  // namespace

TEST_CASE("JSONL record: the documented keys, null for unlimited, RFC 3339 ts", "[samplefile]") {
  auto j = nlohmann::json::parse(to_jsonl(full(1)));
  CHECK(j["ts"] == "2025-11-23T00:00:01.123000007Z");
  CHECK(j["cgroup"] == "/kubepods/pod,1/\"c\"");
  // No limit is null, as in top --json and monitor --json: a number or null, never a string.
  CHECK(j["limit_bytes"].is_null());
  CHECK(j["high_bytes"].is_null());
  CHECK(j["usage_bytes"] == 100000001);
  for (const char* k : {"cgroup_id", "peak_bytes", "high_bytes", "swap_bytes", "failcnt", "ev_low", "ev_high", "ev_max",
                        "ev_oom", "ev_oom_kill", "inactive_file_bytes", "working_set_bytes"})
    CHECK(j.contains(k));
  CHECK(j["working_set_bytes"] == 100000001ull - 30000001ull);
  CHECK(nlohmann::json::parse(to_jsonl(full(0)))["limit_bytes"] == 512 << 20);
}

TEST_CASE("JSONL and CSV codecs round-trip every field", "[samplefile]") {
  for (int i = 0; i < 6; ++i) {
    Sample s = full(i);
    auto j = from_jsonl(to_jsonl(s));
    REQUIRE(j.ok());
    CHECK(same(*j, s));
    auto row = to_csv(s);
    REQUIRE(row.ok());
    auto c = parse_samples(csv_header() + "\n" + *row + "\n", SampleFormat::Csv, "t.csv");
    REQUIRE(c.ok());
    REQUIRE(c->size() == 1);
    CHECK(same(c->front(), s));
  }
}

TEST_CASE("the writer's files read back identically, both formats", "[samplefile]") {
  TempDir d;
  for (const char* name : {"/s.jsonl", "/s.csv"}) {
    std::string path = d.path + name;
    std::vector<Sample> want;
    {
      auto w = SampleFileWriter::create(path);
      REQUIRE(w.ok());
      for (int snap = 0; snap < 3; ++snap) {
        Snapshot sn;
        sn.ts_ns = 1763856000LL * 1'000'000'000 + snap * 1'000'000'000LL;
        for (int i = 0; i < 4; ++i) {
          Sample s = full(snap * 4 + i);
          if (i == 0) s.ts_ns = 0;  // takes the snapshot's time
          sn.samples.push_back(s);
          want.push_back(s);
          if (i == 0) want.back().ts_ns = sn.ts_ns;
        }
        REQUIRE(w->write(sn).ok());
      }
      REQUIRE(w->close().ok());
    }
    auto got = read_sample_file(path);
    REQUIRE(got.ok());
    REQUIRE(got->size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) CHECK(same((*got)[i], want[i]));
  }
}

TEST_CASE("files written by older oomwatch, with \"max\" for no limit, still read", "[samplefile]") {
  auto j = from_jsonl(R"({"ts":"2025-11-23T00:00:01Z","cgroup":"/a","usage_bytes":5,"limit_bytes":"max",)"
                      R"("high_bytes":"max","peak_bytes":7})");
  REQUIRE(j.ok());
  CHECK(j->limit_bytes == ow::kUnlimited);
  CHECK(j->high_bytes == ow::kUnlimited);
  CHECK(j->peak_bytes == 7);
  CHECK_FALSE(from_jsonl(R"({"ts":1,"cgroup":"/a","usage_bytes":5,"limit_bytes":"none"})").ok());
}

TEST_CASE("readers take unix seconds, null limits, extra keys and columns, CRLF", "[samplefile]") {
  auto j = from_jsonl(R"({"ts":1763856000.5,"cgroup":"/a","usage_bytes":5,"limit_bytes":null,"new_key":[1]})");
  REQUIRE(j.ok());
  CHECK(j->ts_ns == 1763856000'500'000'000LL);
  CHECK(j->limit_bytes == ow::kUnlimited);
  CHECK(j->peak_bytes == 0);  // absent: unknown
  CHECK(j->working_set_bytes == 0);  // absent (files from before the field): 0
  CHECK(j->inactive_file_bytes == 0);
  auto c = parse_samples("usage_bytes,extra,cgroup,ts\r\n7,x,/b,1763856000\r\n", SampleFormat::Csv, "t.csv");
  REQUIRE(c.ok());
  REQUIRE(c->size() == 1);
  CHECK(c->front().usage_bytes == 7);
  CHECK(c->front().cgroup == "/b");
  CHECK(c->front().ts_ns == 1763856000LL * 1'000'000'000);
  CHECK(c->front().limit_bytes == ow::kUnlimited);
}

TEST_CASE("format follows the extension", "[samplefile]") {
  CHECK(*sample_format_for("x.jsonl") == SampleFormat::Jsonl);
  CHECK(*sample_format_for("/d/x.ndjson") == SampleFormat::Jsonl);
  CHECK(*sample_format_for("x.csv") == SampleFormat::Csv);
  CHECK_FALSE(sample_format_for("x.txt").ok());
  CHECK_FALSE(SampleFileWriter::create("/tmp/owtest-x.parquet").ok());
}

TEST_CASE("a cgroup path with a newline cannot go to CSV but round-trips in JSONL", "[samplefile]") {
  Sample s = full(0);
  s.cgroup = "/odd\nname";
  CHECK_FALSE(to_csv(s).ok());
  auto j = from_jsonl(to_jsonl(s));
  REQUIRE(j.ok());
  CHECK(j->cgroup == s.cgroup);
}

TEST_CASE("the file reader reads line by line: lines across its blocks, CSV and JSONL, kept by the filter", "[samplefile]") {
  TempDir d;
  for (SampleFormat f : {SampleFormat::Jsonl, SampleFormat::Csv}) {
    std::string path = d.path + (f == SampleFormat::Jsonl ? "/many.jsonl" : "/many.csv");
    std::string text = f == SampleFormat::Csv ? csv_header() + "\n" : "";
    for (int i = 0; i < 2000; ++i)  // about 700 KB: lines straddle the reader's 64 KiB blocks
      text += (f == SampleFormat::Jsonl ? to_jsonl(full(i)) : *to_csv(full(i))) + "\n";
    {
      FILE* fp = std::fopen(path.c_str(), "w");
      REQUIRE(fp);
      std::fwrite(text.data(), 1, text.size(), fp);
      std::fclose(fp);
    }
    auto whole = parse_samples(text, f, path);
    auto read = read_sample_file(path);
    REQUIRE(whole.ok());
    REQUIRE(read.ok());
    REQUIRE(read->size() == 2000);
    for (size_t i = 0; i < read->size(); ++i) CHECK(same((*read)[i], (*whole)[i]));
    auto kept = read_sample_file(path, [](const Sample& s) { return s.cgroup == "/a/b"; });
    REQUIRE(kept.ok());
    CHECK(kept->size() == 1000);
  }
}

TEST_CASE("the file reader refuses a FIFO at once and a line over its bound before holding it", "[samplefile][input]") {
  TempDir d;
  std::string fifo = d.path + "/s.jsonl";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto f = read_sample_file(fifo);  // no writer: an open that blocked would hang here
  REQUIRE_FALSE(f.ok());
  CHECK(f.error().usage);
  CHECK(f.error().message().find("a FIFO") != std::string::npos);

  std::string path = d.path + "/long.jsonl";
  {
    FILE* fp = std::fopen(path.c_str(), "w");
    REQUIRE(fp);
    std::string good = to_jsonl(full(0)) + "\n";
    std::fwrite(good.data(), 1, good.size(), fp);
    std::string x(kMaxSampleLineBytes + 10, 'x');
    std::fwrite(x.data(), 1, x.size(), fp);
    std::fclose(fp);
  }
  auto l = read_sample_file(path);
  REQUIRE_FALSE(l.ok());
  CHECK(l.error().usage);
  CHECK(l.error().message().find(path + ":2: a line longer than 1 MiB") != std::string::npos);
  CHECK(l.error().message().size() < 300);
}
