// The files under deploy/: the config example must parse with the real
// parser (every key in it accepted) and hold the defaults the unit relies
// on; the unit passes systemd-analyze verify; the DaemonSet mounts every
// host path the agent opens (python3-yaml reads it, tools/manifest-summary.py).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/daemon.hpp"
#include "config/config.hpp"
#include "helpers.hpp"
#include "util/fs.hpp"
#include "skip.hpp"

using owtest::repo_file;

namespace {
// The DaemonSet as tools/manifest-summary.py reads it (python3-yaml).
nlohmann::json daemonset() {
  if (owtest::run({"python3", "-c", "import yaml"}).exit_code != 0)
    FAIL("python3-yaml is missing (tools/install-deps.sh installs it)");
  auto r = owtest::run({"python3", repo_file("tools/manifest-summary.py"), repo_file("deploy/kubernetes/daemonset.yaml")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}
}  // namespace

TEST_CASE("deploy: the example oomwatch.toml parses with the real config parser", "[deploy]") {
  auto c = ow::config::load_config(repo_file("deploy/oomwatch.toml"));
  INFO((c ? "" : c.error().message()));
  REQUIRE(c);
  CHECK(!c->enforce);
  CHECK(c->listen == "127.0.0.1:9721");
  CHECK(c->metrics_max_cgroups == 2000);
  // The unit's ExecStopPost runs `oomwatch restore` with the default paths.
  CHECK(c->audit_log == ow::config::Config{}.audit_log);
  CHECK(c->db == ow::config::Config{}.db);
}

TEST_CASE("deploy: the systemd unit is Type=notify, restores on stop, and systemd-analyze verifies it", "[deploy]") {
  auto unit = ow::read_text(repo_file("deploy/systemd/oomwatch.service"));
  REQUIRE(unit);
  for (const char* line : {"Type=notify\n", "ExecStart=/usr/local/bin/oomwatch run --config /etc/oomwatch/oomwatch.toml\n",
                           "ExecStopPost=/usr/local/bin/oomwatch restore", "OOMScoreAdjust=-1000\n",
                           "Restart=on-failure\n", "RuntimeDirectoryPreserve=yes\n"}) {
    INFO(line);
    CHECK(unit->find(line) != std::string::npos);
  }
  // Directives that would make cgroupfs read-only must stay out.
  for (const char* bad : {"\nProtectControlGroups=yes", "\nProtectKernelTunables=yes"}) {
    INFO(bad);
    CHECK(unit->find(bad) == std::string::npos);
  }
  if (owtest::run({"sh", "-c", "command -v systemd-analyze"}).exit_code != 0) {
    OWTEST_SKIP("systemd-analyze is not installed: the unit cannot be verified (package systemd)");
  }
  // The binary path pointed at the build (verify checks that it is executable).
  char dir[] = "/tmp/owtest-unit-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  std::string copy = std::string(dir) + "/oomwatch.service", text = *unit;
  for (size_t p; (p = text.find("/usr/local/bin/oomwatch")) != std::string::npos;)
    text.replace(p, std::strlen("/usr/local/bin/oomwatch"), owtest::oomwatch_bin());
  REQUIRE(ow::write_file_atomic(copy, text));
  auto r = owtest::run({"systemd-analyze", "verify", "--man=no", copy}, 60);
  owtest::run({"rm", "-rf", dir});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("oomwatch.service") == std::string::npos);  // no warning about the unit
}

TEST_CASE("deploy: the DaemonSet mounts every host path the agent opens and names its capabilities", "[deploy]") {
  auto j = daemonset();
  const auto& hp = j["host_paths"];
  ow::agent::DaemonOptions d;
  ow::config::Config c;
  auto parent = [](const std::string& p) { return p.substr(0, p.rfind('/')); };
  // The defaults in the code (state dir, pin dir, db, audit log) and the
  // kernel's fixed places: the memory controller's mount, BTF
  // (user/bpf/loader.cpp), tracefs (where the loader looks for and mounts
  // it), and the kubelet's pod logs.
  const std::string paths[] = {"/sys/fs/cgroup", parent(d.pin_dir), "/sys/kernel/btf", "/sys/kernel/tracing",
                               "/var/log/pods", d.state_dir, parent(c.db), parent(c.audit_log)};
  for (const auto& p : paths) {
    INFO(p);
    REQUIRE(hp.contains(p));
    CHECK(hp[p] == p);  // mounted where the agent looks for it
  }
  for (const char* cap : {"BPF", "PERFMON", "SYS_ADMIN", "SYS_RESOURCE"}) {
    INFO(cap);
    CHECK(std::find(j["capabilities"].begin(), j["capabilities"].end(), cap) != j["capabilities"].end());
  }
  CHECK(j["host_pid"] == true);
  CHECK(j["privileged"] == false);
  const auto& args = j["args"];
  auto has_arg = [&](const std::string& a) { return std::find(args.begin(), args.end(), a) != args.end(); };
  CHECK(has_arg("--state-dir=" + d.state_dir));
  CHECK(has_arg("--pin-dir=" + d.pin_dir));
  CHECK(has_arg("--listen=0.0.0.0:9721"));
  CHECK(j["annotations"]["prometheus.io/scrape"] == "true");
  CHECK(j["annotations"]["prometheus.io/port"] == "9721");
  CHECK(j["annotations"]["prometheus.io/path"] == "/metrics");
  // The ConfigMap's config is one the agent accepts.
  auto cfg = ow::config::parse_config(j["config"].get<std::string>(), "configmap oomwatch.toml");
  INFO((cfg ? "" : cfg.error().message()));
  CHECK(cfg);
}

// The systemd guest (tools/vm/systemd-guest.sh) runs the agent under the unit
// as shipped; the DaemonSet has not met a cluster. So the unit is the source
// of truth: the DaemonSet grants the same capabilities, mounts every path the
// unit lets the agent write, and starts it with the same config file.
TEST_CASE("deploy: the DaemonSet grants what the systemd unit grants, and mounts what it may write", "[deploy]") {
  auto j = daemonset();
  auto unit = ow::read_text(repo_file("deploy/systemd/oomwatch.service"));
  REQUIRE(unit);
  auto values = [&](const std::string& key) {
    std::vector<std::string> out;
    size_t at = unit->find("\n" + key + "=");
    REQUIRE(at != std::string::npos);
    size_t from = at + key.size() + 2, to = unit->find('\n', from);
    std::string line = unit->substr(from, to - from);
    for (size_t i = 0; i < line.size();) {
      size_t sp = line.find(' ', i);
      if (sp == std::string::npos) sp = line.size();
      if (sp > i) out.push_back(line.substr(i, sp - i));
      i = sp + 1;
    }
    return out;
  };
  std::vector<std::string> unit_caps;
  for (const auto& c : values("CapabilityBoundingSet")) unit_caps.push_back(c.rfind("CAP_", 0) == 0 ? c.substr(4) : c);
  std::vector<std::string> ds_caps = j["capabilities"].get<std::vector<std::string>>();
  std::sort(unit_caps.begin(), unit_caps.end());
  std::sort(ds_caps.begin(), ds_caps.end());
  CHECK(ds_caps == unit_caps);
  for (const auto& p : values("ReadWritePaths")) {
    INFO(p);
    CHECK(j["host_paths"].contains(p));
  }
  const auto& args = j["args"];
  CHECK(std::find(args.begin(), args.end(), "--config=/etc/oomwatch/oomwatch.toml") != args.end());
  CHECK(unit->find("ExecStart=/usr/local/bin/oomwatch run --config /etc/oomwatch/oomwatch.toml\n") != std::string::npos);
}
