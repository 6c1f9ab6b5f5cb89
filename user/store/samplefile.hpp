// Sample files: what `collect --out FILE` writes and `stats --input FILE` reads.
// One record per cgroup per sample, in either format (chosen by extension):
//
//   FILE.jsonl  {"ts":"2025-11-23T00:46:12.345Z","cgroup":"/a","cgroup_id":1234,
//                "usage_bytes":1048576,"limit_bytes":null,"peak_bytes":2097152,
//                "high_bytes":null,"swap_bytes":0,"failcnt":0,"ev_low":0,
//                "ev_high":0,"ev_max":0,"ev_oom":0,"ev_oom_kill":0,
//                "inactive_file_bytes":524288,"working_set_bytes":524288}
//   FILE.csv    the same names as a header line, then one row per record.
//
// inactive_file_bytes: hierarchical inactive page cache (v1 memory.stat
//     total_inactive_file, v2 inactive_file); working_set_bytes: usage_bytes
//     minus it, floored at 0 (cAdvisor's working set). 0 in files written
//     before these fields existed.
// ts: RFC 3339 UTC, 3/6/9 fraction digits as needed to be exact (stats/time.hpp);
//     readers also accept unix seconds (a JSON number, or digits in CSV).
// limit_bytes, high_bytes: null in JSONL when unlimited (or, for high_bytes,
//     absent: v1), like every JSON oomwatch prints; "max" in CSV (cgroupfs'
//     own spelling). The JSONL reader also takes "max": files written before
//     JSONL used null hold it.
// Required on read: ts, cgroup, usage_bytes. Others default: limits unlimited,
// peak 0 (unknown), counters 0. Unknown keys/columns are ignored (newer writers).
// Bytes are non-negative integers: 1.5, -1, 1e9 are refused, not rounded.
//
// A bad record is an error naming the file and line, never a guessed number. A
// file that does not end in a newline was cut short (or is still being written):
// its last line is refused even if it happens to parse.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sampler/sample.hpp"
#include "util/fd.hpp"
#include "util/result.hpp"

namespace ow::store {

enum class SampleFormat { Jsonl, Csv };

// ".jsonl", ".ndjson", ".json" -> Jsonl; ".csv" -> Csv; anything else -> error.
Result<SampleFormat> sample_format_for(const std::string& path);

// Pure codecs: one record, no line terminator. Parse errors do not name the
// file or line; parse_samples adds those.
std::string to_jsonl(const sampler::Sample& s);
// Appends the record to `out` (no allocation once `out` has grown), with `ts`
// the sample's timestamp already formatted (RFC 3339): the writer formats it
// once per snapshot, which at 1,000 cgroups and 10 Hz is most of the cost.
void append_jsonl(std::string& out, const sampler::Sample& s, std::string_view ts);
Result<sampler::Sample> from_jsonl(std::string_view line);
std::string csv_header();
// Error when the cgroup path holds CR/LF: a CSV record must stay on one line.
Result<std::string> to_csv(const sampler::Sample& s);
Status append_csv(std::string& out, const sampler::Sample& s, std::string_view ts);

// No record is longer than this (a cgroup path is at most a few KiB): a
// longer line is refused (a usage error) before it is held whole.
constexpr size_t kMaxSampleLineBytes = 1u << 20;

// Which records a reader keeps (all when empty): a reader that wants a few
// cgroups holds only theirs.
using SampleFilter = std::function<bool(const sampler::Sample&)>;

// A sample file's lines, parsed one at a time in order: what the file costs
// is the samples kept, not its text. Errors name the file and line.
class SampleLineParser {
 public:
  SampleLineParser(SampleFormat f, std::string name);
  // The next line, without its '\n'; a record is appended to out when keep
  // takes it.
  Status feed(std::string_view line, std::vector<sampler::Sample>& out, const SampleFilter& keep = {});
  // The lines fed so far.
  size_t lines() const { return lineno_; }
  // The error for a last line without its newline (the file was cut short).
  Error truncated() const;
  // The error for line lineno longer than kMaxSampleLineBytes, quoting the
  // start of it (head may be only its start).
  Error too_long(std::string_view head, size_t lineno) const;

 private:
  Error at(size_t lineno, const std::string& why) const;
  SampleFormat format_;
  std::string name_;
  bool have_columns_ = false;  // CSV: the header has been read
  std::vector<int> columns_;   // CSV: the field of each column, -1 for an unknown one
  size_t lineno_ = 0;
};

// Whole file content; `name` is used in errors ("name:LINE: ...").
Result<std::vector<sampler::Sample>> parse_samples(std::string_view text, SampleFormat f, const std::string& name);
// Reads and parses line by line, keeping the records keep takes. A file that
// is not a regular file (a FIFO, a directory) is refused at once without
// blocking (a usage error); an unreadable file is an error with errno and
// path.
Result<std::vector<sampler::Sample>> read_sample_file(const std::string& path, const SampleFilter& keep = {});

// Writes snapshots as they come: each snapshot is one write(2) of whole lines,
// so a reader never sees a half record unless the writer dies mid-write (and
// then the missing newline gives it away). Not thread-safe.
class SampleFileWriter {
 public:
  // Creates or truncates path; CSV gets its header at once.
  static Result<SampleFileWriter> create(const std::string& path);
  // A sample with ts_ns 0 takes the snapshot's ts_ns.
  Status write(const sampler::Snapshot& snap);
  // fsync and close. The destructor only closes (no fsync, errors lost).
  Status close();
  SampleFormat format() const { return format_; }
  const std::string& path() const { return path_; }

 private:
  SampleFileWriter(UniqueFd fd, SampleFormat f, std::string path)
      : fd_(std::move(fd)), format_(f), path_(std::move(path)) {}
  Status write_all(std::string_view data);
  UniqueFd fd_;
  std::string buf_;  // one snapshot's lines; kept between writes for its capacity
  SampleFormat format_;
  std::string path_;
};

}  // namespace ow::store
