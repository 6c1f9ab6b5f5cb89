// Small file helpers that return errors as values (cgroupfs and procfs files).
#pragma once
#include <sys/stat.h>
#include <sys/types.h>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/fd.hpp"
#include "util/result.hpp"

namespace ow {

// Modes of everything oomwatch creates, whichever command creates it first:
// files (audit log, journal, intent, history database, sample files, lock,
// ready) 0640, directories 0755. Directories are traversable because the
// GOMEMLIMIT hint files (0644, the one exception) under the state dir are
// read by workloads that are not root; what the files say stays root's.
constexpr unsigned kFileMode = 0640;
constexpr unsigned kDirMode = 0755;
// The agent's state directory unless told otherwise: journal, intent, lock,
// and the GOMEMLIMIT hint files (gomemlimit/publish.hpp).
inline constexpr const char* kDefaultStateDir = "/run/oomwatch";

Result<std::string> read_text(const std::string& path);
// Appends what fd gives until its end to out, through EINTR. False on a read
// error (errno set) or, with *over set, once out would pass max bytes.
bool read_all(int fd, std::string& out, uint64_t max = UINT64_MAX, bool* over = nullptr);
// Writes all of data to fd, through short writes and EINTR; false with errno
// set when a write fails.
bool write_all(int fd, std::string_view data);
// A file an operator names on the command line or in the config (config,
// pods list, overrides, Knative Services): it must be a regular file of at
// most max_bytes. A FIFO, device or directory is refused without blocking
// (opened O_NONBLOCK) and without reading; a larger file is refused from its
// size, and one that grows past the bound while read stops there. The error
// is a usage error that names the path, what it is and the bound.
Result<std::string> read_input_file(const std::string& path, uint64_t max_bytes, std::string_view what);
// Its first half, for a reader of an unbounded file that it reads in parts
// (sample files): opened O_NONBLOCK, and refused unless it is a regular file
// (a usage error naming the path and what it is). out, when given, gets its stat.
Result<UniqueFd> open_input_file(const std::string& path, std::string_view what, struct stat* out = nullptr);
// The bounds of read_input_file's callers (docs/safety.md lists them).
constexpr uint64_t kMaxConfigBytes = 1ull << 20;     // config file, overrides
constexpr uint64_t kMaxListBytes = 64ull << 20;      // pods list, Knative Services
// Writes the whole string in one write(2): cgroupfs treats each write as one value.
Status write_text(const std::string& path, std::string_view s);
// Appends one line (a newline is added when missing) and fsyncs. The file is
// created with kFileMode; a symlink at path is refused (ELOOP), never followed.
Status append_line_fsync(const std::string& path, std::string_view line);
// The same without the fsync: in the kernel's page cache at return, so it
// survives the process (SIGKILL, a crash), not a power cut.
Status append_line(const std::string& path, std::string_view line);
// Replaces path atomically: a temporary beside it (O_EXCL, O_NOFOLLOW), write,
// fsync, rename over path, fsync of the directory. A reader sees the old or the
// new content, never half; a crash leaves at most a stray temporary.
enum class Durability {
  PowerCut,      // the two fsyncs: the new content survives a power cut
  ProcessDeath,  // no fsync: the new content survives the writer's death (it is in
                 // the page cache), not a power cut; for state that a reboot makes moot
};
Status write_file_atomic(const std::string& path, std::string_view data, unsigned mode = kFileMode,
                         Durability d = Durability::PowerCut);
// Opens path for writing (create or truncate) without following a symlink.
Result<int> create_file(const std::string& path, unsigned mode = kFileMode);
// A file oomwatch keeps its own records in (the audit log, the history
// database): created with kFileMode when missing, opened never through a
// symlink and never blocking, and refused (an error "refusing <what> <path>:
// why") unless it is a regular file owned by this process's user that no
// group or other user may write: records in any other file could be forged
// or could block the agent (a FIFO). The fd is closed again.
Status check_record_file(const std::string& path, std::string_view what);
// The same for a directory of state files (journal, intent, lock): a
// directory owned by this user, not writable by group or others.
Status check_state_dir(const std::string& path);
// Why a file or directory with this stat cannot hold this user's records
// ("" when it can): another owner, or a group/other write bit.
std::string trust_problem(uid_t owner, unsigned mode);
// Trims ASCII whitespace at both ends.
std::string_view trim(std::string_view s);
// The non-empty pieces of s between separators: "/a//b/" by '/' is {"a", "b"}.
std::vector<std::string_view> split(std::string_view s, char sep);
// Its lines, empty ones left out.
inline std::vector<std::string_view> split_lines(std::string_view s) { return split(s, '\n'); }
std::vector<std::string_view> split_ws(std::string_view s);
bool parse_u64(std::string_view s, uint64_t& out);
// Hex digits only (either case, no 0x, at most 16): /proc/net/tcp ports, /proc/locks devices.
bool parse_hex_u64(std::string_view s, uint64_t& out);
// Creates path and its missing parents with mode (existing ones are left alone).
Status mkdir_p(const std::string& path, unsigned mode = kDirMode);
// The directory part of path ("" when it has none).
std::string parent_dir(const std::string& path);

}  // namespace ow
