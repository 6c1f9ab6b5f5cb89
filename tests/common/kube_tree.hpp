// A Kubernetes pod as the node shows it, for tests: the cgroupfs driver's
// cgroups (kubepods/burstable/pod<uid>/<container id>) under a test cgroup,
// and the kubelet's log tree (pods/<ns>_<pod>_<uid>/<container>/0.log and the
// containers/<pod>_<ns>_<container>-<id>.log link) under a temp directory.
// Pod shop/web-1, container app. The cgroups go with their parent
// (ScopedCgroup removes children bottom-up); the logs with the directory.
#pragma once
#include <unistd.h>

#include <fstream>
#include <string>

#include "cgroup/hierarchy.hpp"
#include "util/fs.hpp"

namespace owtest {

struct KubePod {
  static constexpr const char* kUid = "1b6e3c1a-8f2e-4a51-9d37-0c2f6a8e9b10";
  static constexpr const char* kContainerId = "4f9c1d2e3b4a5968778695a4b3c2d1e0f9e8d7c6b5a4938271605f4e3d2c1b0a";
  std::string pod, ctr;  // the pod's and the container's cgroup (relative paths)
  std::string logs;      // the kubelet log directory ([recommend] pods_log_dir)
  bool ok = false;

  KubePod(const ow::cg::Hierarchy& h, const std::string& parent, const std::string& dir) {
    std::string uid = kUid, cid = kContainerId;
    pod = parent + "/kubepods/burstable/pod" + uid;
    ctr = pod + "/" + cid;
    for (const std::string& p : {parent + "/kubepods", parent + "/kubepods/burstable", pod, ctr})
      if (!h.create(p).ok()) return;
    logs = dir + "/log";
    if (!ow::mkdir_p(logs + "/pods/shop_web-1_" + uid + "/app").ok() || !ow::mkdir_p(logs + "/containers").ok()) return;
    std::string log0 = logs + "/pods/shop_web-1_" + uid + "/app/0.log";
    std::ofstream(log0) << "hello\n";
    ok = ::symlink(log0.c_str(), (logs + "/containers/web-1_shop_app-" + cid + ".log").c_str()) == 0;
  }
};

}  // namespace owtest
