#include <fcntl.h>
#include <unistd.h>

#include "stats/time.hpp"
#include "store/samplefile.hpp"
#include "util/fs.hpp"

namespace ow::store {

Result<SampleFileWriter> SampleFileWriter::create(const std::string& path) {
  auto f = sample_format_for(path);
  if (!f) return f.error();
  auto opened = create_file(path);  // kFileMode, never through a symlink
  if (!opened) return opened.error();
  UniqueFd fd(*opened);
  SampleFileWriter w(std::move(fd), *f, path);
  if (*f == SampleFormat::Csv) {
    if (auto st = w.write_all(csv_header() + "\n"); !st) return st.error();
  }
  return w;
}

Status SampleFileWriter::write_all(std::string_view data) {
  if (!fd_.valid()) return app_error("write to closed sample file", path_);
  if (!ow::write_all(fd_.get(), data)) return sys_error("write sample file", path_);
  return {};
}

Status SampleFileWriter::write(const sampler::Snapshot& snap) {
  buf_.clear();
  std::string snap_ts = stats::format_rfc3339(snap.ts_ns), own_ts;
  for (const auto& s : snap.samples) {
    // A sample with ts_ns 0 takes the snapshot's; one with its own is formatted apart.
    std::string_view ts = snap_ts;
    if (s.ts_ns != 0 && s.ts_ns != snap.ts_ns) ts = own_ts = stats::format_rfc3339(s.ts_ns);
    if (format_ == SampleFormat::Jsonl) {
      append_jsonl(buf_, s, ts);
    } else if (auto st = append_csv(buf_, s, ts); !st) {
      return st.error();
    }
    buf_ += '\n';
  }
  return write_all(buf_);
}

Status SampleFileWriter::close() {
  if (!fd_.valid()) return {};
  int rc = ::fsync(fd_.get());
  int e = errno;
  int fd = fd_.release();
  if (::close(fd) != 0) return sys_error("close sample file", path_);
  if (rc != 0) return sys_error("fsync sample file", path_, e);
  return {};
}

}  // namespace ow::store
