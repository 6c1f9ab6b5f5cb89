// owalloc: the memory of a test workload, and nothing else. The tests fork,
// move the child into a cgroup and exec this program, so the pages charged
// there are exactly the ones a profile asks for: no copy-on-write of the test
// binary's heap, no sanitizer shadow or allocator pages (the tests may run
// under ASan; this program never is: the Makefile builds it with its own
// flags), no page cache whose activity the kernel decides.
//
//   owalloc [--shmem] [--stay] TARGET:STEP_MS:HOLD ...
//
// Each stage grows (or shrinks) to TARGET bytes in 4 MiB chunks, one per
// STEP_MS, every page written; then writes one byte to fd 3 (when open) to
// say the stage's target is reached, and holds HOLD milliseconds, or with
// HOLD "w" until a byte arrives on stdin (EOF: the test went away, exit).
// --shmem: memfd pages (shmem) instead of private anonymous ones. --stay:
// after the last stage, wait to be killed instead of exiting 0.
// Exit 2: bad arguments; 4: a chunk could not be mapped.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

constexpr uint64_t kChunk = 4ull << 20;

struct Stage {
  uint64_t target;
  long step_ms;
  long hold_ms;  // -1: wait for a byte on stdin
};

bool parse_stage(const char* s, Stage& out) {
  char* end = nullptr;
  out.target = std::strtoull(s, &end, 10);
  if (end == s || *end != ':') return false;
  s = end + 1;
  out.step_ms = std::strtol(s, &end, 10);
  if (end == s || *end != ':' || out.step_ms < 0) return false;
  s = end + 1;
  if (std::strcmp(s, "w") == 0) {
    out.hold_ms = -1;
    return true;
  }
  out.hold_ms = std::strtol(s, &end, 10);
  return end != s && *end == 0 && out.hold_ms >= 0;
}

void sleep_ms(long ms) {
  if (ms > 0) ::usleep(static_cast<useconds_t>(ms) * 1000);
}

}  // namespace

int main(int argc, char** argv) {
  bool shmem = false, stay = false;
  std::vector<Stage> stages;
  for (int i = 1; i < argc; i++) {
    Stage s{};
    if (std::strcmp(argv[i], "--shmem") == 0) shmem = true;
    else if (std::strcmp(argv[i], "--stay") == 0) stay = true;
    else if (parse_stage(argv[i], s)) stages.push_back(s);
    else return 2;
  }
  bool report = ::fcntl(3, F_GETFD) != -1;
  std::vector<void*> chunks;
  chunks.reserve(4096);
  for (const auto& s : stages) {
    while (chunks.size() * kChunk < s.target) {
      void* p = MAP_FAILED;
      if (shmem) {
        int m = ::memfd_create("owalloc", 0);
        if (m >= 0 && ::ftruncate(m, kChunk) == 0)
          p = ::mmap(nullptr, kChunk, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
        if (m >= 0) ::close(m);  // the mapping keeps the pages
      } else {
        p = ::mmap(nullptr, kChunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      }
      if (p == MAP_FAILED) return 4;
      std::memset(p, 0x5a, kChunk);
      chunks.push_back(p);
      sleep_ms(s.step_ms);
    }
    while (!chunks.empty() && chunks.size() * kChunk > s.target + kChunk - 1) {
      ::munmap(chunks.back(), kChunk);
      chunks.pop_back();
    }
    if (report) {
      char c = 'r';
      if (::write(3, &c, 1) != 1) report = false;  // nobody listens any more
    }
    if (s.hold_ms < 0) {
      char c;
      if (::read(0, &c, 1) != 1) return 0;
    } else {
      sleep_ms(s.hold_ms);
    }
  }
  if (stay)
    for (;;) ::pause();
  return 0;
}
