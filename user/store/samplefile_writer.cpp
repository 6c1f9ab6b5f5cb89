#include <fcntl.h>
#include <unistd.h>

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
  while (!data.empty()) {
    ssize_t n = ::write(fd_.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("write sample file", path_);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status SampleFileWriter::write(const sampler::Snapshot& snap) {
  std::string buf;
  for (const auto& s0 : snap.samples) {
    const sampler::Sample* s = &s0;
    sampler::Sample stamped;
    if (s->ts_ns == 0) {
      stamped = s0;
      stamped.ts_ns = snap.ts_ns;
      s = &stamped;
    }
    if (format_ == SampleFormat::Jsonl) {
      buf += to_jsonl(*s);
    } else {
      auto row = to_csv(*s);
      if (!row) return row.error();
      buf += *row;
    }
    buf += '\n';
  }
  return write_all(buf);
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
