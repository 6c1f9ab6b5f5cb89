// The model behind `oomwatch top`: rows of memory cgroups built from
// consecutive snapshots, with rates, the kernel's event counters (or their
// growth since the first snapshot),
// sorted, filtered, shown flat or as a tree, and cut to a page. Pure: no I/O,
// no clock (timestamps come from the snapshots), so tests feed it literals.
// The ncurses screen (tui.cpp) and the --batch text/JSON (frame.cpp) both
// render what rows() returns.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "k8s/event_identity.hpp"
#include "sampler/sample.hpp"

namespace ow::view {

enum class SortKey { Usage, Percent, Growth, Name };
// "usage", "percent", "growth", "name"; nullopt for anything else.
std::optional<SortKey> parse_sort_key(const std::string& s);
std::vector<std::string> sort_key_names();  // what parse_sort_key accepts, in the `s` key's order
const char* sort_key_name(SortKey k);
SortKey next_sort_key(SortKey k);  // the `s` key cycles usage -> percent -> growth -> name

// A figure that does not exist is nullopt (shown "-", null in JSON); a
// limit that is not set is kUnlimited (shown "max", null in JSON).
struct Row {
  std::string path;  // relative to the hierarchy root, "/a/b"
  uint64_t cgroup_id = 0;
  int depth = 0;     // tree view: levels below the shallowest shown ancestor
  uint64_t usage_bytes = 0, working_set_bytes = 0, limit_bytes = 0;
  uint64_t peak_bytes = 0;                // 0: the kernel keeps no watermark (v2 before 5.19)
  std::optional<uint64_t> high_bytes;     // v2 memory.high; nullopt on v1, which has none
  double percent = -1;       // usage / limit * 100; -1 when unlimited
  double ws_percent = -1;    // working set / limit * 100; -1 when unlimited
  std::optional<double> growth_bps;  // bytes per second between the last two snapshots; none before the second
  // The kernel's counters (v1 failcnt and oom_control oom_kill, v2
  // memory.events max and oom_kill), or with ModelOptions::since_start their
  // growth since top started.
  uint64_t max_events = 0;
  uint64_t oom_kills = 0;
  std::optional<uint64_t> gomemlimit_bytes;  // the agent's published hint, if any
  // The name an operator knows, for a Kubernetes pod or container cgroup
  // ("shop/web-1/app", "shop/web-1") or a runtime's container outside
  // Kubernetes ("container 0123456789ab"); empty for any other cgroup.
  std::string name;
  k8s::EventIdentity who;  // what the name came from (top --json's kubernetes/container objects)
};

// Row::name of an identity: k8s::display_name, or "container " and the id's first 12 characters.
std::string identity_name(const k8s::EventIdentity& who);

struct ModelOptions {
  // MAX and OOM counted from top's first snapshot instead of the kernel's
  // totals (--since-start).
  bool since_start = false;
  // The hierarchy has memory.high (cgroup v2); on v1 HIGH does not exist.
  bool has_high = true;
};

// An OOM kill or an agent action for the pane under the table.
struct Event {
  int64_t ts_ns = 0;
  std::string cgroup;
  std::string kind;    // "oom_kill" (own counters), or the audit trigger ("oom_kill", "pressure", ...)
  std::string detail;  // "1 kill", "applied +64MiB from siblings", ...
  std::string source;  // "counters" or "audit"
};

struct ViewOptions {
  SortKey sort = SortKey::Usage;
  std::string filter;  // substring of the path or the name; empty: all
  bool tree = false;
  size_t top = 0;      // at most this many rows (0: all); --top N and the screen's height
  size_t offset = 0;   // paging: rows skipped before the first shown
};

struct Page {
  std::vector<Row> rows;
  size_t matched = 0;  // rows that passed the filter, before offset/top
  size_t total = 0;    // cgroups in the last snapshot
};

class TopModel {
 public:
  explicit TopModel(ModelOptions o = {}) : opts_(o) {}
  // Snapshots in ascending time. The first one sets the baseline of the
  // "since start" counters (and of the pane's kills); a cgroup first seen
  // later starts at its own first sample; a path recreated with a new
  // cgroup_id starts again.
  void update(const sampler::Snapshot& snap);
  // hints: cgroup_id -> published GOMEMLIMIT bytes.
  void set_hints(std::map<uint64_t, uint64_t> hints) { hints_ = std::move(hints); }
  // names: path -> identity, for the cgroups that have one (k8s/name_cache.hpp).
  // The filter matches a row's name as well as its path.
  void set_names(std::map<std::string, k8s::EventIdentity> names) { names_ = std::move(names); }
  Page rows(const ViewOptions& o) const;
  // OOM kills seen by the snapshot counters, newest last (at most kMaxEvents).
  const std::deque<Event>& events() const { return events_; }
  int64_t last_ts_ns() const { return last_ts_; }
  size_t snapshots() const { return snapshots_; }
  static constexpr size_t kMaxEvents = 200;

 private:
  struct Track {
    sampler::Sample last;
    int64_t prev_ts_ns = 0;
    uint64_t prev_usage = 0;
    bool has_prev = false;
    uint64_t base_failcnt = 0, base_max = 0, base_oom_kill = 0;
    uint64_t max_events = 0, oom_kills = 0;
  };
  ModelOptions opts_;
  std::map<std::string, Track> tracks_;
  std::map<uint64_t, uint64_t> hints_;
  std::map<std::string, k8s::EventIdentity> names_;
  std::deque<Event> events_;
  int64_t last_ts_ = 0;
  size_t snapshots_ = 0;
};

// Merges the pane's two sources by time (newest last) and keeps the newest n.
std::vector<Event> merge_events(const std::deque<Event>& counters, const std::vector<Event>& audit, size_t n);

}  // namespace ow::view
