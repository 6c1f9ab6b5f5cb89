// Names of Kubernetes (and runtime) container cgroups kept between reads of
// the kubelet's log tree, for views that show many cgroups every refresh
// (`top`) and for the agent's audit lines, which are written on the rescue's
// time-critical path and must not list directories.
//
// learn() is given the paths of a snapshot and reads the log tree at most
// once per call, and only when a Kubernetes path's pod uid (or container id)
// is not named yet; names are kept by pod uid and container id, and only for
// the paths of the latest call (pods that are gone are forgotten). A pod or
// container the logs do not name yet (the kubelet makes a container's log
// link after the container) is looked for again at most every kRetryNs.
// lookup() does no I/O: a parse of the path and two map look-ups.
// Thread-safe: one thread learns (the agent's snapshot thread), others look up.
#pragma once
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "k8s/event_identity.hpp"
#include "k8s/kubelet_logs.hpp"
#include "util/result.hpp"

namespace ow::k8s {

class NameCache {
 public:
  using Reader = std::function<Result<KubeletNames>()>;
  static constexpr int64_t kRetryNs = 10'000'000'000;  // 10 s

  // Reads read_kubelet_logs(log_dir).
  explicit NameCache(std::string log_dir);
  // The reader injected (tests count its calls).
  explicit NameCache(Reader read) : read_(std::move(read)) {}

  // now_ns: any monotonic clock. Returns true when it read the log tree. A
  // tree that cannot be read is no names (logged by the caller if it wants).
  bool learn(const std::vector<std::string>& paths, int64_t now_ns);
  // What identify() gives with the names learned so far.
  EventIdentity lookup(const std::string& path) const;
  size_t reads() const;

 private:
  Reader read_;
  mutable std::mutex mu_;
  KubeletNames names_;                  // only the pods and containers of the latest learn()
  std::set<std::string> missing_;       // uids and ids the last read did not name
  int64_t last_read_ns_ = 0;
  bool read_once_ = false;
  size_t reads_ = 0;
};

}  // namespace ow::k8s
