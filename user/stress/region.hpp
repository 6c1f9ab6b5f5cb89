// Memory a worker holds, one object per kind. Every method returns only when
// the pages it names are charged to the caller's memory cgroup (touched, or in
// the page cache), because memory that is reserved but never touched is what
// made early stress tests measure nothing.
// Used inside the worker process only; not thread-safe.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "stress/strategy.hpp"
#include "util/result.hpp"

namespace ow::stress {

class Region {
 public:
  virtual ~Region() = default;
  // Adds one chunk of `bytes` (whole pages) and charges it.
  virtual Status grow(uint64_t bytes) = 0;
  // Frees chunk i's pages and charges them again: sustained pressure without
  // growing (a stress worker's cycle).
  virtual Status recycle(size_t i) = 0;
  // Keeps pages recently used so reclaim prefers others (file: re-read).
  virtual Status keepalive() { return {}; }

  size_t chunks() const { return chunks_.size(); }
  uint64_t bytes() const { return bytes_; }

 protected:
  struct Chunk {
    uint64_t offset;  // in the file or memfd; 0 for anon
    uint64_t len;
    char* addr;       // mapping, or nullptr (file)
  };
  std::vector<Chunk> chunks_;
  uint64_t bytes_ = 0;
};

// Writes to one byte per page: enough to fault each page in (reads would map
// the shared zero page and charge nothing).
void touch_pages(char* p, uint64_t len, uint64_t page_bytes);
uint64_t page_size();

std::unique_ptr<Region> make_anon_region();
Result<std::unique_ptr<Region>> make_shmem_region();
// The file lives in dir (disk-backed), unnamed (O_TMPFILE) when the filesystem
// allows, so a SIGKILLed worker leaves no file behind.
Result<std::unique_ptr<Region>> make_file_region(const std::string& dir);

}  // namespace ow::stress
