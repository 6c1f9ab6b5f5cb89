// libFuzzer target: sample files (`collect --out`, `stats --input`):
// store::parse_samples in both formats, and the CSV field splitter under it.
// A file may be refused with "name:LINE: ..." but never crash or throw, and
// every record it accepts must survive the writers: to_jsonl and to_csv read
// back to the same record.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "stats/csv.hpp"
#include "store/samplefile.hpp"
#include "util/text.hpp"
#include "fuzz_check.hpp"

using namespace ow;


namespace {

bool same(const sampler::Sample& a, const sampler::Sample& b) {
  return a.ts_ns == b.ts_ns && a.cgroup_id == b.cgroup_id && a.cgroup == b.cgroup && a.usage_bytes == b.usage_bytes &&
         a.limit_bytes == b.limit_bytes && a.peak_bytes == b.peak_bytes && a.high_bytes == b.high_bytes &&
         a.swap_bytes == b.swap_bytes && a.failcnt == b.failcnt && a.ev_low == b.ev_low && a.ev_high == b.ev_high &&
         a.ev_max == b.ev_max && a.ev_oom == b.ev_oom && a.ev_oom_kill == b.ev_oom_kill &&
         a.inactive_file_bytes == b.inactive_file_bytes && a.working_set_bytes == b.working_set_bytes;
}

void roundtrip(const sampler::Sample& s) {
  CHECK(!s.cgroup.empty() && s.cgroup[0] == '/');
  // JSONL: a cgroup path that is not UTF-8 is written with U+FFFD (lossy by design).
  std::string j = store::to_jsonl(s);
  CHECK(j.find('\n') == std::string::npos);
  auto back = store::from_jsonl(j);
  CHECK(back.ok());
  if (valid_utf8(s.cgroup)) CHECK(same(*back, s));
  auto file = store::parse_samples(j + "\n", store::SampleFormat::Jsonl, "rt.jsonl");
  CHECK(file.ok() && file->size() == 1);

  auto c = store::to_csv(s);
  if (s.cgroup.find_first_of("\r\n") != std::string::npos) {
    CHECK(!c.ok());
    return;
  }
  CHECK(c.ok());
  auto csv = store::parse_samples(store::csv_header() + "\n" + *c + "\n", store::SampleFormat::Csv, "rt.csv");
  CHECK(csv.ok() && csv->size() == 1 && same((*csv)[0], s));
}

void fuzz_csv_split(std::string_view line) {
  auto f = stats::csv_split(line);
  if (!f) return;
  CHECK(!f->empty());
  std::string joined;
  for (size_t i = 0; i < f->size(); ++i) joined += (i ? "," : "") + stats::csv_field((*f)[i]);
  auto again = stats::csv_split(joined);
  CHECK(again.ok() && *again == *f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto fmt : {store::SampleFormat::Jsonl, store::SampleFormat::Csv}) {
    const std::string name = fmt == store::SampleFormat::Jsonl ? "fuzz.jsonl" : "fuzz.csv";
    auto r = store::parse_samples(text, fmt, name);
    if (!r) {
      CHECK(r.error().message().rfind(name + ":", 0) == 0);
      continue;
    }
    for (const auto& s : *r) roundtrip(s);
  }
  fuzz_csv_split(text.substr(0, text.find('\n')));
  return 0;
}
