// Root, real cgroups, the real binary, a real Prometheus: `oomwatch run
// --listen` is scraped every second by Debian's prometheus (its own config
// and TSDB in a temp dir, on 127.0.0.1), while a cgroup outside the managed
// subtree is OOM-killed and a managed child is rescued; PromQL then shows
// the counters and gauges moving. promtool checks the agent's output, with a
// cgroup whose name needs escaping. Everything started is stopped and
// removed by destructors, on every path.
#include <catch2/catch.hpp>
#include <arpa/inet.h>
#include <crypt.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "kube_tree.hpp"
#include "prometheus.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"
#include "workload.hpp"

using nlohmann::json;

namespace {
constexpr uint64_t kMiB = 1 << 20;

std::string http_get(const std::string& url) {
  auto r = owtest::run({"curl", "-sS", "--max-time", "5", "--fail", url}, 10);
  return r.exit_code == 0 ? r.out : "";
}

// The agent, stopped with SIGTERM (so it puts the node back) by its destructor.
struct Agent {
  owtest::TmpTree dir{"owtest-prom-agent"};
  std::unique_ptr<owtest::Background> bg;
  std::string state() const { return dir.path + "/state"; }
  void start(const std::vector<std::string>& extra) {
    std::vector<std::string> argv{owtest::oomwatch_bin(), "run", "--interval", "200ms", "--db", "none",
                                  "--audit-log", dir.path + "/audit.jsonl", "--state-dir", state(), "--pin-dir",
                                  "none"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    bg = owtest::start(argv);
  }
  bool ready() const {
    return owtest::wait_for([&] { return owtest::exists(state() + "/ready") || !owtest::alive(bg->pid); }, 30000) &&
           owtest::alive(bg->pid);
  }
  // SIGTERM; true when the agent exited (metrics server stopped, node put
  // back) within 10 s.
  bool stop() {
    if (!bg) return true;
    ::kill(bg->pid, SIGTERM);
    bool gone = owtest::wait_for([&] { return !owtest::alive(bg->pid); }, 10000);
    bg.reset();
    return gone;
  }
  ~Agent() { stop(); }
};

// A client that connects and sends half a request, then nothing: it must
// not hold up the agent (its rescue path, or other scrapes).
struct StalledClient {
  int fd = -1;
  explicit StalledClient(int port) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    const char half[] = "GET /metr";
    REQUIRE(::send(fd, half, sizeof half - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof half - 1));
  }
  ~StalledClient() { ::close(fd); }
};

std::string procs(const ow::cg::Hierarchy& h, const std::string& rel) { return h.abs(rel) + "/cgroup.procs"; }
std::string sel(const std::string& cgroup) { return "{cgroup=\"" + cgroup + "\"}"; }

}  // namespace

TEST_CASE("metrics: Prometheus scrapes the agent and sees an OOM kill and a rescue move the counters",
          "[integration][prometheus][hosttools]") {
  REQUIRE(owtest::exists("/usr/bin/prometheus"));  // tools/install-deps.sh installs it
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(512 * kMiB, "owtest-prom");
  auto a = owtest::child(h, parent.path(), "a", 48 * kMiB);
  auto k = owtest::make_cgroup(16 * kMiB, "owtest-promkill");  // not managed: the kernel kills in it
  int mport = owtest::free_port();
  Agent ag;
  ag.start({"--enforce", "--manage", parent.path(), "--listen", "127.0.0.1:" + std::to_string(mport)});
  INFO(ag.bg->err());
  REQUIRE(ag.ready());
  REQUIRE(owtest::armed(h, a.path()));
  owtest::Prometheus prom;
  prom.start(mport);
  INFO(prom.bg->err());
  REQUIRE(prom.until("up{job=\"oomwatch\"}", [](double v) { return v == 1; }));
  // Before: the figures Prometheus has for the cgroups, before anything happens.
  REQUIRE(prom.until("oomwatch_cgroup_oom_kills_total" + sel(k.path()), [](double v) { return v == 0; }));
  REQUIRE(prom.until("oomwatch_prevented_oom_kills_total", [](double v) { return v == 0; }));
  REQUIRE(prom.until("oomwatch_cgroup_memory_limit_bytes" + sel(a.path()), [](double v) { return v == 48 * kMiB; }));
  CHECK(prom.query("oomwatch_build_info{version!=\"\",commit!=\"\"}") == 1.0);
  CHECK(prom.until("oomwatch_tracked_cgroups", [](double v) { return v >= 3; }));
  CHECK(prom.until("process_resident_memory_bytes", [](double v) { return v > 1 * kMiB; }));
  CHECK(prom.until("oomwatch_snapshots_total", [](double v) { return v >= 2; }));

  {
    StalledClient stalled1(mport), stalled2(mport);
    owtest::Workload killed(procs(h, k.path()), {{64 * kMiB, 0, 0}});
    owtest::Workload rescued(procs(h, a.path()), {{40 * kMiB, 0, 500}, {80 * kMiB, 20, 2500}});
    REQUIRE(killed.wait(30000));
    CHECK(killed.killed());
    REQUIRE(rescued.wait(30000));
    CHECK(rescued.exited_ok());
  }
  // After: the kill, the rescue and its latency, seen through PromQL.
  CHECK(prom.until("oomwatch_cgroup_oom_kills_total" + sel(k.path()), [](double v) { return v >= 1; }));
  CHECK(prom.until("oomwatch_cgroup_oom_kills_total" + sel(a.path()), [](double v) { return v == 0; }));
  CHECK(prom.until("oomwatch_cgroup_memory_max_events_total" + sel(k.path()), [](double v) { return v >= 1; }));
  CHECK(prom.until("oomwatch_cgroup_memory_limit_bytes" + sel(a.path()), [](double v) { return v > 48 * kMiB; }));
  // Held for 2.5 s at 80 MiB: scraped above the 48 MiB it started with.
  CHECK(prom.until("max_over_time(oomwatch_cgroup_memory_usage_bytes" + sel(a.path()) + "[1m])",
                   [](double v) { return v >= 64 * kMiB; }));
  CHECK(prom.until("oomwatch_prevented_oom_kills_total", [](double v) { return v >= 1; }));
  CHECK(prom.until("sum(oomwatch_actions_total{result=\"applied\"})", [](double v) { return v >= 1; }));
  CHECK(prom.until("oomwatch_rescue_latency_seconds_count", [](double v) { return v >= 1; }));
  CHECK(prom.until("oomwatch_rescue_latency_seconds_bucket{le=\"+Inf\"}", [](double v) { return v >= 1; }));
  CHECK(prom.until("oomwatch_rescue_latency_seconds_sum", [](double v) { return v > 0 && v < 5; }));
  CHECK(prom.query("oomwatch_ringbuf_dropped_events_total") == 0.0);
  CHECK(prom.query("up{job=\"oomwatch\"}") == 1.0);
  auto ev = h.events(a.path());
  REQUIRE(ev);
  CHECK(ev->oom_kill == 0);
  CHECK(ag.stop());
}

TEST_CASE("metrics: promtool accepts the agent's output, escaping included; bad --listen is refused",
          "[integration][prometheus][hosttools]") {
  REQUIRE(owtest::exists("/usr/bin/promtool"));
  auto h = owtest::hierarchy();
  auto parent = owtest::make_cgroup(256 * kMiB, "owtest-promtool");
  // A name with a quote, a backslash and bytes that are not UTF-8.
  std::string odd = parent.path() + "/odd\"q\\b\xff\xfe";
  REQUIRE(::mkdir(h.abs(odd).c_str(), 0755) == 0);
  struct Rm {
    std::string p;
    ~Rm() { ::rmdir(p.c_str()); }
  } rm{h.abs(odd)};
  int mport = owtest::free_port();
  Agent ag;
  ag.start({"--listen", "127.0.0.1:" + std::to_string(mport)});
  INFO(ag.bg->err());
  REQUIRE(ag.ready());
  std::string url = "http://127.0.0.1:" + std::to_string(mport) + "/metrics";
  std::string body;
  REQUIRE(owtest::wait_for([&] { return (body = http_get(url)).find(parent.path()) != std::string::npos; }, 10000));
  CHECK(ow::valid_utf8(body));
  CHECK(body.find("odd\\\"q\\\\b\xef\xbf\xbd\xef\xbf\xbd\"") != std::string::npos);
  owtest::TmpTree tmp{"owtest-promtool"};
  std::string file = tmp.path + "/metrics.txt";
  std::ofstream(file) << body;
  auto check = owtest::run({"sh", "-c", "promtool check metrics < '" + file + "'"}, 30);
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
  auto hdr = owtest::run({"curl", "-sS", "-o", "/dev/null", "-D", "-", url}, 10);
  CHECK_THAT(hdr.out, Catch::Contains("text/plain; version=0.0.4"));
  auto nf = owtest::run({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url + "x"}, 10);
  CHECK(nf.out == "404");
  auto post = owtest::run({"curl", "-s", "-X", "POST", "-o", "/dev/null", "-w", "%{http_code}", url}, 10);
  CHECK(post.out == "405");
  // The port is taken now: a second agent says which address, and exits 1.
  owtest::TmpTree d2{"owtest-prom-second"};
  auto busy = owtest::run({owtest::oomwatch_bin(), "run", "--db", "none", "--audit-log", d2.path + "/a.jsonl",
                           "--state-dir", d2.path + "/state", "--pin-dir", "none", "--listen",
                           "127.0.0.1:" + std::to_string(mport)},
                          30);
  CHECK(busy.exit_code == 1);
  CHECK_THAT(busy.err, Catch::Contains("127.0.0.1:" + std::to_string(mport)) && Catch::Contains("in use"));
  auto bad = owtest::run({owtest::oomwatch_bin(), "run", "--listen", "localhost:9721"}, 10);
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("--listen: 'localhost:9721': not a numeric IPv4 address"));
  CHECK(ag.stop());
}

// Kubernetes cgroups (the cgroupfs driver's layout, under the test's cgroup)
// are exported with namespace, pod and container labels from the kubelet's
// log tree ([recommend] pods_log_dir), so they join with kube-state-metrics.
TEST_CASE("metrics: Kubernetes cgroups carry namespace, pod and container labels",
          "[integration][prometheus][hosttools]") {
  auto h = owtest::hierarchy();
  auto c = owtest::make_cgroup(ow::kUnlimited, "owtest-promk8s");
  owtest::TmpTree dir("owtest-promk8s");
  owtest::KubePod k(h, c.path(), dir.path);
  REQUIRE(k.ok);
  const std::string &pod = k.pod, &ctr = k.ctr, &logs = k.logs;
  std::ofstream(dir.path + "/oomwatch.toml") << "[recommend]\npods_log_dir = \"" << logs << "\"\n";
  int mport = owtest::free_port();
  Agent ag;
  ag.start({"--listen", "127.0.0.1:" + std::to_string(mport), "--config", dir.path + "/oomwatch.toml"});
  INFO(ag.bg->err());
  REQUIRE(ag.ready());
  std::string url = "http://127.0.0.1:" + std::to_string(mport) + "/metrics", body;
  REQUIRE(owtest::wait_for([&] { return (body = http_get(url)).find(ctr) != std::string::npos; }, 10000));
  std::string line;
  for (auto l : ow::split_lines(body))
    if (l.rfind("oomwatch_cgroup_memory_usage_bytes{", 0) == 0 && l.find(ctr + "\"") != std::string_view::npos)
      line = std::string(l);
  INFO(line);
  CHECK_THAT(line, Catch::Contains("namespace=\"shop\"") && Catch::Contains("pod=\"web-1\"") &&
                       Catch::Contains("container=\"app\""));
  std::string pod_line;  // the pod's own cgroup: namespace and pod, no container
  for (auto l : ow::split_lines(body))
    if (l.rfind("oomwatch_cgroup_memory_usage_bytes{", 0) == 0 && l.find(pod + "\"") != std::string_view::npos)
      pod_line = std::string(l);
  CHECK_THAT(pod_line, Catch::Contains("pod=\"web-1\"") && !Catch::Contains("container="));
  CHECK(ag.stop());
}

// The recommender's latest limit for a managed child shows up as a gauge.
TEST_CASE("metrics: the agent's recommendations are exported", "[integration][prometheus][hosttools]") {
  auto h = owtest::hierarchy();
  auto c = owtest::make_cgroup(ow::kUnlimited, "owtest-promrec");
  auto kid = owtest::child(h, c.path(), "app", 256 * kMiB);
  owtest::Workload w(h.abs(kid.path()) + "/cgroup.procs", {{48 * kMiB, 0, 0}}, false, true);
  owtest::TmpTree dir("owtest-promrec");
  std::string cfg = dir.path + "/oomwatch.toml";
  std::ofstream(cfg) << "[recommend]\ninterval = \"1s\"\npods_log_dir = \"" << dir.path << "/nolog\"\n";
  int mport = owtest::free_port();
  auto agent = owtest::start({owtest::oomwatch_bin(), "run", "--interval", "100ms", "--db", dir.path + "/history.db",
                              "--audit-log", dir.path + "/audit.jsonl", "--state-dir", dir.path + "/state",
                              "--pin-dir", "none", "--config", cfg, "--manage", c.path(), "--listen",
                              "127.0.0.1:" + std::to_string(mport)});
  std::string url = "http://127.0.0.1:" + std::to_string(mport) + "/metrics", line;
  auto exported = [&] {
    std::string body = http_get(url);  // named: the lines below view it
    for (auto l : ow::split_lines(body))
      if (l.rfind("oomwatch_cgroup_recommended_limit_bytes{", 0) == 0 && l.find(kid.path() + "\"") != std::string_view::npos)
        return line = std::string(l), true;
    return false;
  };
  REQUIRE(owtest::wait_for(exported, 30000));
  agent->stop();
  auto r = owtest::run({owtest::oomwatch_bin(), "recommend", "--db", dir.path + "/history.db", "--cgroup", kid.path(),
                        "--format", "json"});
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  uint64_t stored = 0;
  for (const auto& x : j["containers"])
    if (x.value("cgroup", "") == kid.path() && x.contains("last_recommendation"))
      stored = x["last_recommendation"].value("limit_bytes", uint64_t{0});
  INFO(line << "\n" << r.out);
  CHECK(line.substr(line.rfind(' ') + 1) == std::to_string(stored));
}

TEST_CASE("metrics: HEAD gives the length and no body; exactly /metrics; every refusal closes the connection; a "
          "listener beyond loopback is warned about",
          "[integration][prometheus]") {
  int mport = owtest::free_port();
  Agent ag;
  ag.start({"--listen", "0.0.0.0:" + std::to_string(mport)});
  INFO(ag.bg->err());
  REQUIRE(ag.ready());
  CHECK_THAT(ag.bg->err(), Catch::Contains("reachable beyond this host, unencrypted (no TLS) and unauthenticated (no basic auth)"));
  auto head = owtest::http_exchange(mport, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  INFO(head.data.substr(0, 400));
  REQUIRE(head.data.rfind("HTTP/1.1 200", 0) == 0);
  auto end = head.data.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  CHECK(head.data.size() == end + 4);  // no body
  auto cl = head.data.find("Content-Length: ");
  REQUIRE(cl != std::string::npos);
  CHECK(std::stoul(head.data.substr(cl + 16)) > 100);  // what GET would send
  for (const char* req : {"GET //metrics HTTP/1.1\r\nHost: x\r\n\r\n", "GET /metricsx HTTP/1.1\r\nHost: x\r\n\r\n",
                          "TRACE / HTTP/1.1\r\nHost: x\r\n\r\n",
                          "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"}) {
    INFO(req);
    // HTTP/1.1 keeps a connection by default: only the server's close ends this read.
    auto x = owtest::http_exchange(mport, req, 5000);
    INFO(x.data.substr(0, 200));
    CHECK((x.data.rfind("HTTP/1.1 404", 0) == 0 || x.data.rfind("HTTP/1.1 405", 0) == 0));
    CHECK(x.closed);
  }
  // The path is the one that counts, not a query after it.
  CHECK_FALSE(owtest::http_get(mport, "/metrics?x=1").empty());
  CHECK(ag.stop());
}

TEST_CASE("metrics: CONNECT is answered 405 and the connection closed", "[integration][prometheus][connect]") {
  int mport = owtest::free_port();
  Agent ag;
  ag.start({"--listen", "127.0.0.1:" + std::to_string(mport)});
  INFO(ag.bg->err());
  REQUIRE(ag.ready());
  // Read until the server closes: libevent keeps a CONNECT connection open
  // as a tunnel unless the server shuts it.
  auto x = owtest::http_exchange(mport, "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n", 5000);
  INFO(x.data.substr(0, 300));
  CHECK(x.data.rfind("HTTP/1.1 405", 0) == 0);
  CHECK(x.data.find("Allow: GET, HEAD") != std::string::npos);
  CHECK(x.closed);
  CHECK(ag.stop());
}

namespace {

// A CA, a server certificate for 127.0.0.1 (subjectAltName IP) and a client
// certificate, made with the openssl CLI in a temp dir; a bcrypt hash made
// with libxcrypt. Everything under dir, removed by TmpTree.
struct Pki {
  owtest::TmpTree dir{"owtest-tls"};
  std::string at(const std::string& f) const { return dir.path + "/" + f; }
  void openssl(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = owtest::run(argv, 30);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  // A key and a certificate signed by the CA (self-signed for "ca").
  void cert(const std::string& name, const std::string& cn, const std::string& ext) {
    openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", at(name + ".key"),
             "-out", at(name + ".csr"), "-subj", "/CN=" + cn});
    std::ofstream(at(name + ".ext")) << ext << "\n";
    openssl({"x509", "-req", "-in", at(name + ".csr"), "-CA", at("ca.crt"), "-CAkey", at("ca.key"), "-CAcreateserial",
             "-out", at(name + ".crt"), "-days", "2", "-extfile", at(name + ".ext")});
  }
  Pki() {
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
             at("ca.key"), "-out", at("ca.crt"), "-days", "2", "-subj", "/CN=owtest-ca"});
    cert("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1");
    cert("client", "owtest-client", "extendedKeyUsage=clientAuth");
    cert("other", "127.0.0.1", "subjectAltName=IP:127.0.0.1");  // its key is not the server's
  }
  void write(const std::string& name, const std::string& text) { std::ofstream(at(name)) << text; }
};

std::string bcrypt_hash(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  REQUIRE(crypt_gensalt_rn("$2y$", 10, nullptr, 0, salt, sizeof salt));
  crypt_data cd{};
  const char* h = crypt_rn(password.c_str(), salt, &cd, sizeof cd);
  REQUIRE((h && h[0] == '$'));
  return h;
}

// curl over TLS trusting the test's CA; its stdout is the status code then the body.
owtest::CmdResult curl_tls(const Pki& pki, int port, const std::vector<std::string>& extra) {
  std::vector<std::string> argv{"curl", "-sS", "--max-time", "5", "--cacert", pki.at("ca.crt"), "-w", "%{http_code}\n",
                                "-o", "/dev/null", "-D", "-"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("https://127.0.0.1:" + std::to_string(port) + "/metrics");
  return owtest::run(argv, 10);
}

}  // namespace

TEST_CASE("metrics: Prometheus scrapes the agent over TLS with basic auth; a wrong password is down with a 401",
          "[integration][prometheus][tls][hosttools]") {
  REQUIRE(owtest::exists("/usr/bin/prometheus"));
  Pki pki;
  const std::string hash = bcrypt_hash("s3cret pass");
  // Paths relative to the web config file's directory, as the toolkit reads them.
  pki.write("web.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS12\n"
                       "basic_auth_users:\n  prom: " + hash + "\n");
  int mport = owtest::free_port();
  Agent ag;
  ag.start({"--listen", "0.0.0.0:" + std::to_string(mport), "--web-config-file", pki.at("web.yml")});
  INFO(ag.bg->err());
  REQUIRE(ag.ready());
  CHECK_THAT(ag.bg->err(), Catch::Contains("metrics on https://0.0.0.0:" + std::to_string(mport) + "/metrics (basic auth)"));
  CHECK_THAT(ag.bg->err(), !Catch::Contains("reachable beyond this host"));  // TLS and authentication: no warning

  const std::string target = "127.0.0.1:" + std::to_string(mport);
  auto job = [&](const std::string& name, const std::string& password) {
    return "  - job_name: " + name + "\n    scheme: https\n    tls_config:\n      ca_file: " + pki.at("ca.crt") +
           "\n    basic_auth:\n      username: prom\n      password: '" + password + "'\n    static_configs:\n"
           "      - targets: ['" + target + "']\n";
  };
  owtest::Prometheus prom;
  prom.start_jobs(job("oomwatch_tls", "s3cret pass") + job("oomwatch_wrongpw", "s3cret"));
  // Both targets reported: the right one up, the wrong password down with the agent's 401.
  nlohmann::json good = nlohmann::json::object(), bad = nlohmann::json::object();
  REQUIRE(owtest::wait_for(
      [&] {
        auto d = prom.api("/api/v1/targets");
        if (!d.is_object() || !d["activeTargets"].is_array()) return false;
        for (const auto& t : d["activeTargets"]) {
          auto jobname = t["labels"].value("job", "");
          if (jobname == "oomwatch_tls") good = t;
          if (jobname == "oomwatch_wrongpw") bad = t;
        }
        return good.value("health", "") == "up" && bad.value("health", "") == "down";
      },
      30000));
  INFO(good.dump() << "\n" << bad.dump());
  CHECK_THAT(bad.value("lastError", ""), Catch::Contains("401"));
  // A known oomwatch metric, scraped over TLS, is queryable.
  CHECK(prom.until("oomwatch_build_info{job=\"oomwatch_tls\"}", [](double v) { return v == 1; }));
  CHECK(prom.until("oomwatch_snapshots_total{job=\"oomwatch_tls\"}", [](double v) { return v > 0; }));
  CHECK_FALSE(prom.query("oomwatch_build_info{job=\"oomwatch_wrongpw\"}"));

  // Without credentials: 401 with the challenge, and the connection closed.
  auto none = curl_tls(pki, mport, {});
  INFO(none.out << none.err);
  CHECK_THAT(none.out, Catch::EndsWith("401\n"));
  CHECK_THAT(none.out, Catch::Contains("WWW-Authenticate: Basic realm=\"oomwatch\""));
  CHECK_THAT(none.out, Catch::Contains("Connection: close"));
  CHECK_THAT(curl_tls(pki, mport, {"-u", "prom:s3cret pass"}).out, Catch::EndsWith("200\n"));
  CHECK_THAT(curl_tls(pki, mport, {"-u", "nobody:s3cret pass"}).out, Catch::EndsWith("401\n"));
  // Plain HTTP to the TLS port: no metrics, and the server closes.
  auto plain = owtest::http_exchange(mport, "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " +
                                                std::string("cHJvbTpzM2NyZXQgcGFzcw==") + "\r\n\r\n",
                                     5000);
  CHECK(plain.data.find("oomwatch_") == std::string::npos);
  CHECK(plain.closed);
  // CONNECT over TLS: 405, and the server closes (s_client ends only then).
  auto c = owtest::run({"sh", "-c",
                        "printf 'CONNECT 127.0.0.1:22 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' | openssl s_client -quiet "
                        "-connect " + target + " -CAfile " + pki.at("ca.crt") + " 2>/dev/null"},
                       10);
  INFO(c.out);
  CHECK(c.exit_code < 128);  // ended by the server's close, not killed at the timeout
  CHECK(c.out.rfind("HTTP/1.1 405", 0) == 0);
  CHECK(ag.stop());
}

TEST_CASE("metrics: client certificates (RequireAndVerifyClientCert), TLS 1.3 only; TLS alone is warned about",
          "[integration][prometheus][tls][hosttools]") {
  Pki pki;
  pki.write("web.yml", "tls_server_config:\n  cert_file: " + pki.at("server.crt") + "\n  key_file: server.key\n"
                       "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  min_version: TLS13\n");
  pki.write("tlsonly.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n");
  int mport = owtest::free_port();
  {
    Agent ag;
    ag.start({"--listen", "0.0.0.0:" + std::to_string(mport), "--web-config-file", pki.at("web.yml")});
    INFO(ag.bg->err());
    REQUIRE(ag.ready());
    CHECK_THAT(ag.bg->err(), !Catch::Contains("reachable beyond this host"));
    auto with = curl_tls(pki, mport, {"--cert", pki.at("client.crt"), "--key", pki.at("client.key")});
    INFO(with.out << with.err);
    CHECK_THAT(with.out, Catch::EndsWith("200\n"));
    CHECK(curl_tls(pki, mport, {}).exit_code != 0);  // no client certificate: the handshake fails
    // A certificate the CA did not sign.
    pki.openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                 pki.at("self.key"), "-out", pki.at("self.crt"), "-days", "2", "-subj", "/CN=self"});
    CHECK(curl_tls(pki, mport, {"--cert", pki.at("self.crt"), "--key", pki.at("self.key")}).exit_code != 0);
    CHECK(curl_tls(pki, mport, {"--tls-max", "1.2", "--cert", pki.at("client.crt"), "--key", pki.at("client.key")})
              .exit_code != 0);
    CHECK(ag.stop());
  }
  Agent ag;
  ag.start({"--listen", "0.0.0.0:" + std::to_string(mport), "--web-config-file", pki.at("tlsonly.yml")});
  INFO(ag.bg->err());
  REQUIRE(ag.ready());
  CHECK_THAT(ag.bg->err(), Catch::Contains("reachable beyond this host, unauthenticated"));
  CHECK(ag.stop());
}

TEST_CASE("metrics: a bad web config file stops run at start with one line and exit 2",
          "[integration][prometheus][tls][hosttools]") {
  Pki pki;
  const std::string hash = bcrypt_hash("x");
  pki.write("missing-cert.yml", "tls_server_config:\n  cert_file: nope.crt\n  key_file: server.key\n");
  pki.write("wrong-key.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: other.key\n");
  pki.write("bad-yaml.yml", "tls_server_config: [cert_file: \n");
  pki.write("key-as-cert.yml", "tls_server_config:\n  cert_file: server.key\n  key_file: server.key\n");
  pki.write("unsupported.yml", "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                               "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n");
  pki.write("not-bcrypt.yml", "basic_auth_users:\n  prom: plain\n");
  pki.write("good.yml", "basic_auth_users:\n  prom: " + hash + "\n");
  ::mkdir(pki.at("dir.yml").c_str(), 0755);
  const std::string listen = "127.0.0.1:" + std::to_string(owtest::free_port());
  struct Case {
    std::string file, says;
  };
  for (const auto& c : std::vector<Case>{{"missing-cert.yml", "nope.crt"},
                                         {"wrong-key.yml", "does not match the certificate"},
                                         {"bad-yaml.yml", "YAML line"},
                                         {"key-as-cert.yml", "no PEM certificate"},
                                         {"unsupported.yml", "cipher_suites: not supported by oomwatch"},
                                         {"not-bcrypt.yml", "not a bcrypt hash"},
                                         {"dir.yml", "must be a regular file"},
                                         {"absent.yml", "absent.yml"}}) {
    auto r = owtest::run({owtest::oomwatch_bin(), "run", "--listen", listen, "--db", "none", "--state-dir",
                          pki.at("state"), "--pin-dir", "none", "--web-config-file", pki.at(c.file)},
                         20);
    INFO(c.file << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(c.says));
    CHECK_THAT(r.err, Catch::Contains(pki.at(c.file)));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  // A web config without a listener protects nothing: refused, not ignored.
  auto r = owtest::run({owtest::oomwatch_bin(), "run", "--db", "none", "--state-dir", pki.at("state"), "--pin-dir",
                        "none", "--web-config-file", pki.at("good.yml")},
                       20);
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("no /metrics listener"));
}
