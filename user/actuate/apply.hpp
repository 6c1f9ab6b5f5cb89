// Applies limit changes safely. Callers order the changes (donors first, then
// the receiver, so the parent is never overcommitted by oomwatch); every write
// is read back; a failed write (EBUSY: v1 refuses a limit below usage; ENOENT:
// the cgroup vanished) rolls back what was already done, in reverse. An intent
// file written before the first change makes a crash mid-plan recoverable:
// recover_intent() at the next start finishes nothing and undoes everything
// that is not as the plan left it.
//
// cgroup v2 donors. v2 does not refuse a memory.max below usage: it reclaims
// and then OOM-kills the donor. A plan is made from usage read a moment
// earlier, and a donor may have grown since, so on v2 a donor (a change whose
// limit goes down) is lowered in steps:
//   1. memory.high = new (the kernel reclaims synchronously in that write, and
//      never OOM-kills for memory.high);
//   2. memory.current read: only when it is at most new - kV2DonorMarginBytes
//      (page-rounded) and did not rise by more than that margin during step 1
//      is memory.max = new written (and read back);
//   3. memory.high is put back: to min(h0, new) when the h0 found before the
//      plan was below the old limit (someone's guard; the caller re-derives
//      its own guard afterwards), else to h0 (normally "max").
// A donor failing step 2 is SKIPPED, not an error: memory.high goes back to
// h0, memory.max is not touched, the plan goes on with the other changes, and
// the receiver's raise is cut by what the skipped donors did not give (see
// LimitChange::receiver). v1 is unchanged: every change is one checked write.
// The fault point "limit_written" (util/fault.hpp) follows the plan's first
// limit write; for a v2 donor that is before its memory.high is put back.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgroup/hierarchy.hpp"
#include "util/result.hpp"

namespace ow::actuate {

// v2 donors: memory.max is lowered only when usage, after the memory.high
// reclaim, is at least this much (rounded up to whole pages) below the new
// limit. It absorbs the per-CPU charge batches memory.current does not show
// yet and the growth between that read and the memory.max write.
inline constexpr uint64_t kV2DonorMarginBytes = 1ull << 20;
// kV2DonorMarginBytes rounded up to this machine's page size.
uint64_t v2_donor_margin_bytes();

struct LimitChange {
  std::string cgroup;  // relative path
  uint64_t old_limit_bytes = 0;
  uint64_t new_limit_bytes = 0;
  // The change whose limit goes up with what the donors give (the caller sets
  // it; at most one per plan, after the donors). On v2 its raise is cut by
  // the planned cuts of skipped donors: new = old + (planned raise - skipped
  // cuts), and it is not written at all when that leaves no raise. A raise
  // without this flag is written as planned.
  bool receiver = false;
};

// One limit (or, on v2, memory.high) that recover_intent() looked at.
struct Recovered {
  std::string cgroup;           // relative path
  uint64_t plan_old_bytes = 0;  // the plan's before and after
  uint64_t plan_new_bytes = 0;
  uint64_t before_bytes = 0;    // the limit found, and the limit left
  uint64_t after_bytes = 0;
  // "restored", "kept" (undo would cut below usage + margin), "failed: ...";
  // "high_restored" when only memory.high was put back (the limit was as before).
  std::string result;
  // v2 donors: memory.high put back to its value before the plan (the intent's
  // "high"), because a crash left it at the plan's transient value.
  bool high_restored = false;
  uint64_t high_before_bytes = 0;  // found (the plan's new limit) and left
  uint64_t high_after_bytes = 0;
};

struct ApplyResult {
  bool ok = false;                   // true also when v2 donors were skipped
  std::vector<LimitChange> applied;  // in order, as written (a receiver with its cut raise); empty after a rollback
  std::string error;                 // the failed write, when !ok
  bool rolled_back = false;
  // v2 donors that were not lowered (memory.max untouched, memory.high put
  // back), as planned; skip_reasons[i] says why skipped[i] was skipped (its
  // usage after the memory.high reclaim). Always empty on v1.
  std::vector<LimitChange> skipped;
  std::vector<std::string> skip_reasons;
  uint64_t withheld_bytes = 0;  // the skipped donors' planned cuts, in sum
};

// One change as the intent file stores it. high_bytes: a v2 donor's
// memory.high before the plan (kUnlimited = "max"); absent for other changes,
// on v1, and in intent files written before it existed.
struct IntentEntry {
  LimitChange change;
  std::optional<uint64_t> high_bytes;
};
// The intent file's line: [{"cgroup":..,"old":..,"new":..[,"high":N|"max"]}...]
std::string encode_intent(const std::vector<IntentEntry>& plan);
// false for a torn or foreign file. Reads files with and without "high".
bool decode_intent(std::string_view text, std::vector<IntentEntry>& out);

class Actuator {
 public:
  // intent_path: "" disables the intent file (tests of pure ordering).
  Actuator(cg::Hierarchy h, std::string intent_path) : h_(std::move(h)), intent_(std::move(intent_path)) {}
  ApplyResult apply(const std::vector<LimitChange>& plan);
  // After a crash: undo a half-applied plan left in the intent file, each
  // write read back. An undo never lowers a limit below the cgroup's usage
  // plus a margin (max(8 MiB, 10 % of usage)): it stops at that floor, or
  // keeps the current limit when that is already at or below it. A plan the
  // intent shows fully applied is left as it is. On v2, a donor's memory.high
  // still at the plan's transient value (its new limit) is put back to the
  // intent's "high" (to min(high, new) for a finished plan whose "high" was a
  // guard below the old limit); any other memory.high was written after the
  // plan (the journal's restore, a guard) and is left alone. Returns what was
  // looked at (empty when there was no intent), for the caller to audit.
  Result<std::vector<Recovered>> recover_intent();

 private:
  // What lower_v2_donor() did with one donor.
  struct DonorStep {
    enum { lowered, skipped, failed } outcome = failed;
    bool max_written = false;   // memory.max is at the new limit (a rollback must raise it again)
    uint64_t high0 = 0;         // memory.high before (kUnlimited = "max")
    std::string why;            // the skip reason or the error
  };
  Status write_checked(const std::string& rel, uint64_t bytes);
  Status write_high_checked(const std::string& rel, uint64_t bytes);
  // The value read back after writing bytes to rel's `file`: an error unless
  // it is what the kernel stores for bytes.
  Status check_read_back(const Result<uint64_t>& back, uint64_t bytes, const std::string& rel,
                         const std::string& file) const;
  // first_limit: no limit of the plan was written before (the "limit_written" fault point).
  DonorStep lower_v2_donor(const LimitChange& c, std::optional<uint64_t> high0, bool first_limit);
  Status save_intent(const std::vector<IntentEntry>& plan);
  void clear_intent();
  cg::Hierarchy h_;
  std::string intent_;
};

}  // namespace ow::actuate
