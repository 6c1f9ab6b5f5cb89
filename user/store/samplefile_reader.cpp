// Reading a sample file (stats --input): its lines go to SampleLineParser as
// they are read, so what the file costs is the samples kept and one line,
// however long the file (a long collect writes hundreds of MiB).
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "store/samplefile.hpp"
#include "util/fs.hpp"

namespace ow::store {

Result<std::vector<sampler::Sample>> read_sample_file(const std::string& path, const SampleFilter& keep) {
  auto f = sample_format_for(path);
  if (!f) return f.error();
  // A FIFO, device or directory is refused at once, without blocking.
  auto fd = open_input_file(path, "sample file");
  if (!fd) return fd.error();
  std::vector<sampler::Sample> out;
  SampleLineParser p(*f, path);
  // Line by line: what is held is the samples kept and one line (a line is
  // at most kMaxSampleLineBytes), never the file.
  std::string partial;  // a line begun in an earlier block
  std::vector<char> block(64 << 10);
  for (;;) {
    ssize_t n = ::read(fd->get(), block.data(), block.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read sample file", path);
    }
    if (n == 0) break;
    std::string_view b(block.data(), static_cast<size_t>(n));
    size_t pos = 0;
    while (pos < b.size()) {
      size_t nl = b.find('\n', pos);
      std::string_view part = b.substr(pos, (nl == std::string_view::npos ? b.size() : nl) - pos);
      if (partial.size() + part.size() > kMaxSampleLineBytes) {
        partial.append(part.substr(0, 64));
        return p.too_long(partial, p.lines() + 1);
      }
      if (nl == std::string_view::npos) {
        partial.append(part);
        break;
      }
      Status st;
      if (partial.empty()) {
        st = p.feed(part, out, keep);
      } else {
        partial.append(part);
        st = p.feed(partial, out, keep);
        partial.clear();
      }
      if (!st) return st.error();
      pos = nl + 1;
    }
  }
  if (!partial.empty()) return p.truncated();
  return out;
}

}  // namespace ow::store
