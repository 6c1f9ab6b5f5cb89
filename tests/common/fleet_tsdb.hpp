// The fleet tests' data: series generated here (several namespaces, pods
// that restart, a pod OOM-killed, Knative revisions with concurrency and
// queue depth), written as OpenMetrics, turned into a TSDB by Debian's
// promtool and served by Debian's prometheus on 127.0.0.1 (FleetProm); and
// the seed's formulas worked out on the same samples (expected()), never by
// the engine under test. Removed with the Prometheus on every path.
#pragma once
#include <catch2/catch.hpp>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "openmetrics.hpp"
#include "prometheus.hpp"

namespace fleettest {

using json = nlohmann::json;

constexpr uint64_t kMi = 1ull << 20;
constexpr int64_t kWindow = 6 * 3600, kShort = 15 * 60, kEvery = 30;
constexpr int kFull = static_cast<int>(kWindow / kEvery) - 1;  // k = 0..719: every 30 s of the 6 h
constexpr int kRevisedK = 20;  // a revision at end - 10m15s: inside the 30 min cooldown

// One series segment of a container: samples k = from..to (k = 0 is the
// newest, at end - 15 s), base + noise below amp.
struct Seg {
  std::string id;
  int from, to;
  uint64_t base_mi, amp_mi;
  std::optional<std::pair<int, uint64_t>> peak;  // (k, bytes): one sample set by hand
};
struct Ctr {
  std::string ns, pod, container, workload;  // workload: what the pod name means, written out by hand
  std::vector<Seg> segs;
  std::optional<uint64_t> request_mi, limit_mi;
  std::string owner;  // the oaas_io_owner label, when the series carry it
  // (k, MiB): the memory request was this before sample k and request_mi
  // from k on (an in-place resize): a revision inside the cooldown.
  std::optional<std::pair<int, uint64_t>> request_before;
};

inline const std::vector<Ctr>& containers() {
  static const std::vector<Ctr> c = {
      // A Deployment: two pods, one container restarted half-way (a new series).
      {"shop", "web-7d4b9c8f6-bcdfg", "app", "web", {{"a1", 360, kFull, 150, 40, {}}, {"a2", 0, 359, 160, 30, {}}}, 128, 256},
      {"shop", "web-7d4b9c8f6-hjklm", "app", "web", {{"b1", 0, kFull, 140, 50, {}}}, 128, 256},
      // A StatefulSet: db-1 is OOM-killed at k = 200 (its peak), and restarts.
      // Both pods' request went from 192Mi to 256Mi 10 min before the end.
      {"shop", "db-0", "postgres", "db", {{"d0", 0, kFull, 150, 20, {}}}, 256, 512, "", {{kRevisedK, 192}}},
      {"shop", "db-1", "postgres", "db", {{"d1", 201, kFull, 160, 30, {}}, {"d1k", 200, 200, 0, 1, {{200, 520 * kMi}}},
                                          {"d2", 0, 190, 140, 10, {}}}, 256, 512, "", {{kRevisedK, 192}}},
      // A DaemonSet pod seen for 2 h of the 6: low confidence; no kube-state-metrics.
      {"pay", "worker-x7k2p", "agent", "worker", {{"w1", 0, 239, 50, 10, {}}}, {}, {}},
      // Knative revisions: hello's memory is near its limit, calm's far from it.
      {"kn", "hello-00001-deployment-6b7c8d9f5-qwrtz", "user-container", "hello", {{"h1", 0, kFull, 231, 9, {}}}, 200, 256},
      {"kn", "hello-00001-deployment-6b7c8d9f5-qwrtz", "queue-proxy", "hello", {{"h2", 0, kFull, 20, 5, {}}}, 32, 64},
      {"kn", "calm-00002-deployment-5f6g7h8j9-zxcvb", "user-container", "calm", {{"c1", 0, kFull, 150, 50, {}}}, 256, 512,
       "", {{kRevisedK, 224}}},
      // Series carrying the owner label (relabelled from oaas.io/owner): it names the workload.
      {"oaas", "fn-runtime-0", "function", "fn-class", {{"f1", 0, kFull, 90, 20, {}}}, 128, 256, "fn-class"},
  };
  return c;
}

inline int64_t ts_of(int64_t end, int k) { return end - 15 - kEvery * k; }

inline uint64_t value(const Seg& s, int k) {
  if (s.peak && s.peak->first == k) return s.peak->second;
  return s.base_mi * kMi + owtest::mix(std::hash<std::string>{}(s.id) * 1000003 + k) % (s.amp_mi * kMi);
}

// Knative per-pod series: lo + noise in [0, span].
inline double knative_value(const std::string& what, const std::string& pod, int k, int lo, int span) {
  return lo + static_cast<double>(owtest::mix(std::hash<std::string>{}(what + pod) + k) % (span + 1));
}
struct KnPod {
  std::string ns, pod, revision, svc;
  int conc_lo, conc_span, queue_lo, queue_span;
};
inline const std::vector<KnPod>& kn_pods() {
  static const std::vector<KnPod> p = {
      {"kn", "hello-00001-deployment-6b7c8d9f5-qwrtz", "hello-00001", "hello", 8, 8, 0, 2},
      {"kn", "calm-00002-deployment-5f6g7h8j9-zxcvb", "calm-00002", "calm", 10, 20, 1, 4},
  };
  return p;
}

// kube-state-metrics has no pod labels: its series never carry the owner.
inline std::string lbl(const Ctr& c, bool with_owner = true) {
  return "namespace=\"" + c.ns + "\",pod=\"" + c.pod + "\",container=\"" + c.container + "\"" +
         (c.owner.empty() || !with_owner ? "" : ",oaas_io_owner=\"" + c.owner + "\"");
}

// The generated TSDB served by a real Prometheus.
struct FleetProm {
  owtest::Prometheus prom;
  int64_t end = 0;
  bool ok = false;
  std::string err;
  FleetProm() {
    end = (::time(nullptr) / 60) * 60 - 120;
    std::vector<owtest::OmFamily> f(8);
    f[0].name = "container_memory_working_set_bytes";
    f[1].name = "container_memory_rss";
    f[2].name = "kube_pod_container_resource_requests";
    f[3].name = "kube_pod_container_resource_limits";
    f[4].name = "kube_pod_container_status_last_terminated_reason";
    f[5].name = "revision_app_request_concurrency";
    f[6].name = "revision_queue_depth";
    f[7].name = "container_oom_events";  // cAdvisor's counter, as OpenMetrics names its family
    f[7].type = "counter";
    auto full = [&](double v) {
      std::vector<std::pair<int64_t, double>> p;
      for (int k = kFull; k >= 0; --k) p.push_back({ts_of(end, k), v});
      return p;
    };
    std::set<std::string> pods_seen;
    for (const auto& c : containers()) {
      for (const auto& s : c.segs) {
        owtest::OmSeries ws{lbl(c) + ",id=\"/" + s.id + "\"", {}}, rss{ws.labels, {}};
        for (int k = s.to; k >= s.from; --k) {
          ws.points.push_back({ts_of(end, k), static_cast<double>(value(s, k))});
          rss.points.push_back({ts_of(end, k), static_cast<double>(value(s, k) * 9 / 10)});
        }
        f[0].series.push_back(ws);
        f[1].series.push_back(rss);
      }
      if (c.request_mi) {
        auto req = full(static_cast<double>(*c.request_mi * kMi));
        if (c.request_before)  // k runs down as p runs up: p = kFull - k
          for (int k = kFull; k > c.request_before->first; --k)
            req[static_cast<size_t>(kFull - k)].second = static_cast<double>(c.request_before->second * kMi);
        f[2].series.push_back({lbl(c, false) + ",resource=\"memory\",unit=\"byte\"", req});
        f[2].series.push_back({lbl(c, false) + ",resource=\"cpu\",unit=\"core\"", full(4096 * kMi)});  // not memory: ignored
      }
      if (c.limit_mi) f[3].series.push_back({lbl(c, false) + ",resource=\"memory\",unit=\"byte\"", full(static_cast<double>(*c.limit_mi * kMi))});
      if (pods_seen.insert(c.pod).second && c.ns == "shop") {
        // cAdvisor's pod-level series, far above any container: must be skipped.
        f[0].series.push_back({"namespace=\"shop\",pod=\"" + c.pod + "\",container=\"\",id=\"/pod\"", full(900 * kMi)});
        f[0].series.push_back({"namespace=\"shop\",pod=\"" + c.pod + "\",container=\"POD\",id=\"/pause\"", full(900 * kMi)});
      }
    }
    // db-1 was OOM-killed at k = 200; db-0 once ended normally.
    std::vector<std::pair<int64_t, double>> killed;
    for (int k = 199; k >= 0; --k) killed.push_back({ts_of(end, k), 1});
    f[4].series.push_back({"namespace=\"shop\",pod=\"db-1\",container=\"postgres\",reason=\"OOMKilled\"", killed});
    f[4].series.push_back({"namespace=\"shop\",pod=\"db-0\",container=\"postgres\",reason=\"Completed\"", full(1)});
    // The same kill as a counter: 0 before, 1 from the kill on; db-0 never killed.
    owtest::OmSeries ctr{"namespace=\"shop\",pod=\"db-1\",container=\"postgres\"", {}};
    for (int k = kFull; k >= 0; --k) ctr.points.push_back({ts_of(end, k), k <= 200 ? 1.0 : 0.0});
    f[7].series.push_back(ctr);
    f[7].series.push_back({"namespace=\"shop\",pod=\"db-0\",container=\"postgres\"", full(0)});
    for (const auto& p : kn_pods()) {
      std::string l = "namespace=\"" + p.ns + "\",pod=\"" + p.pod + "\",revision_name=\"" + p.revision + "\"";
      owtest::OmSeries c{l, {}}, q{l, {}};
      for (int k = kFull; k >= 0; --k) {
        c.points.push_back({ts_of(end, k), knative_value("c", p.pod, k, p.conc_lo, p.conc_span)});
        q.points.push_back({ts_of(end, k), knative_value("q", p.pod, k, p.queue_lo, p.queue_span)});
      }
      f[5].series.push_back(c);
      f[6].series.push_back(q);
    }
    // A series holding a NaN, in a namespace of its own.
    owtest::OmSeries nan{"namespace=\"bad\",pod=\"nan-0\",container=\"x\",id=\"/nan\"", {}};
    for (int k = 10; k >= 0; --k) nan.points.push_back({ts_of(end, k), k == 5 ? std::nan("") : 100.0 * kMi});
    f[0].series.push_back(nan);
    err = owtest::serve_families(prom, f);
    ok = err.empty();
  }
};


// --- the seed's formulas, worked out here on the generated samples ---

struct Fig {
  uint64_t avg = 0, p95 = 0, max = 0, n = 0;
  int64_t first = 0, last = 0;
};
inline Fig fig(std::vector<std::pair<int64_t, uint64_t>> pts, int64_t after) {
  Fig f;
  std::vector<uint64_t> v;
  f.first = INT64_MAX;
  f.last = INT64_MIN;
  unsigned __int128 sum = 0;
  for (auto [t, x] : pts)
    if (t > after) {
      v.push_back(x);
      sum += x;
      f.first = std::min(f.first, t);
      f.last = std::max(f.last, t);
    }
  std::sort(v.begin(), v.end());
  f.n = v.size();
  if (v.empty()) return f;
  f.avg = static_cast<uint64_t>(sum / v.size());
  size_t rank = (95 * v.size() + 99) / 100;  // nearest rank: ceil(0.95 n)
  f.p95 = v[rank - 1];
  f.max = v.back();
  return f;
}
inline std::string fmt_mib(uint64_t b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fMi", static_cast<double>(b) / kMi);
  return buf;
}
inline uint64_t times(uint64_t b, uint64_t pm) { return (b * pm + 999) / 1000; }
inline uint64_t up16(uint64_t b) { return (b + 16 * kMi - 1) / (16 * kMi) * (16 * kMi); }

struct Expect {
  Fig lw, sw;
  uint64_t request = 0, limit = 0;
  bool low = false;
  std::optional<uint64_t> oom_used;
  std::optional<uint64_t> cur_request, cur_limit;
  uint64_t rss_max = 0;
  size_t pods = 0, series = 0;
};

inline std::map<std::string, Expect> expected(int64_t end) {
  std::map<std::string, std::vector<std::pair<int64_t, uint64_t>>> pts;
  std::map<std::string, uint64_t> rss, oom;
  std::map<std::string, std::set<std::string>> pods;
  std::map<std::string, size_t> series;
  std::map<std::string, Expect> out;
  for (const auto& c : containers()) {
    std::string name = c.ns + "/" + c.workload + "/" + c.container;
    pods[name].insert(c.pod);
    for (const auto& s : c.segs) {
      ++series[name];
      for (int k = s.from; k <= s.to; ++k) {
        pts[name].push_back({ts_of(end, k), value(s, k)});
        rss[name] = std::max(rss[name], value(s, k) * 9 / 10);
        if (c.pod == "db-1") oom[name] = std::max(oom[name], value(s, k));
      }
    }
    Expect& e = out[name];
    if (c.request_mi) e.cur_request = *c.request_mi * kMi;
    if (c.limit_mi) e.cur_limit = *c.limit_mi * kMi;
  }
  for (auto& [name, e] : out) {
    e.lw = fig(pts[name], end - kWindow);
    e.sw = fig(pts[name], end - kShort);
    e.rss_max = rss[name];
    e.pods = pods[name].size();
    e.series = series[name];
    if (oom.count(name)) e.oom_used = oom[name];
    int64_t covered = e.lw.last - e.lw.first;
    e.low = covered < kWindow / 2 || covered < 1800;
    uint64_t p95 = std::max(e.lw.p95, e.sw.p95), avg = std::max(e.lw.avg, e.sw.avg), mx = std::max(e.lw.max, e.sw.max);
    uint64_t req = std::max({times(p95, e.low ? 1400 : 1200), times(avg, 1500), 64 * kMi});
    e.request = std::clamp(up16(req), 64 * kMi, 4096 * kMi);
    uint64_t lim = std::max(times(mx, e.low ? 1300 : 1100), times(e.request, 1500));
    if (e.oom_used) lim = std::max({lim, *e.oom_used + 100 * kMi, times(*e.oom_used, 1200)});
    e.limit = std::max(std::clamp(up16(lim), 128 * kMi, 8192 * kMi), e.request);
  }
  return out;
}

inline double p95_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[(95 * v.size() + 99) / 100 - 1];
}

inline owtest::CmdResult recommend(const FleetProm& fp, std::vector<std::string> extra) {
  std::vector<std::string> argv{owtest::oomwatch_bin(), "recommend", "--prometheus", fp.prom.base(), "--window", "6h",
                                "--short-window", "15m", "--end", std::to_string(fp.end)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return owtest::run(argv, 120);
}

inline const json* find(const json& doc, const std::string& name) {
  for (const auto& c : doc["containers"])
    if (c.value("name", "") == name) return &c;
  return nullptr;
}


}  // namespace fleettest
