// What an authenticated scrape of /metrics costs the agent's server thread:
// MetricsServer in this process over TLS with basic auth (a bcrypt hash of
// cost 10, as `htpasswd -nbBC 10` makes), 500 cgroups published, scraped N
// times by one curl that keeps its connection as Prometheus does. CPU is
// this process's (the server thread's; curl is another process), per
// scrape: TLS without auth, auth with the cache of verified credentials,
// and auth with the cache off (bcrypt every scrape). Certificates come from
// the openssl CLI in a temp dir, removed at the end.
#include <crypt.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cstdlib>
#include <fstream>

#include "exporter/server.hpp"
#include "bench_util.hpp"
#include "util/log.hpp"

using namespace ow;

namespace {

double cpu_s() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    ::close(fd);
    return -1;
  }
  ::close(fd);
  return ntohs(sa.sin_port);
}

bool sh(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

// CPU seconds of this process per scrape, over n scrapes on one connection; -1 on failure.
double per_scrape(const std::string& dir, const std::map<std::string, std::string>& users, bool cache, int n,
                  const std::string& cred) {
  exporter::MetricsOptions o;
  auto addr = parse_listen("127.0.0.1:" + std::to_string(free_port()));
  if (!addr) return -1;
  o.addr = *addr;
  exporter::WebConfig w;
  w.tls = true;
  w.cert_file = dir + "/server.crt";
  w.key_file = dir + "/server.key";
  auto tls = exporter::MetricsTls::make(w);
  if (!tls) {
    std::fprintf(stderr, "%s\n", tls.error().message().c_str());
    return -1;
  }
  o.tls = *tls;
  o.users = users;
  o.auth_cache = cache;
  auto s = exporter::MetricsServer::start(std::move(o));
  if (!s) return -1;
  auto snap = std::make_shared<sampler::Snapshot>();
  for (int i = 0; i < 500; i++) {
    sampler::Sample x;
    x.cgroup = "/kubepods/pod" + std::to_string(i);
    x.usage_bytes = 100u << 20;
    x.limit_bytes = 1u << 30;
    snap->samples.push_back(x);
  }
  (*s)->publish_snapshot(std::move(snap));
  std::string url = "https://" + (*s)->addr().str() + "/metrics";
  std::string cmd = "curl -sS --fail --cacert " + dir + "/ca.crt " + (cred.empty() ? "" : "-u '" + cred + "'") + " -o /dev/null";
  for (int i = 0; i < n; i++) cmd += " -o /dev/null " + url;
  sh(cmd + " >/dev/null");  // warm: the first connection, the first bcrypt
  double c0 = cpu_s();
  if (!sh(cmd)) return -1;
  return (cpu_s() - c0) / n;
}

}  // namespace

int main() {
  spdlog::set_level(spdlog::level::warn);
  char tmpl[] = "/tmp/owbench-tls-XXXXXX";
  if (!::mkdtemp(tmpl)) return 1;
  const std::string dir = tmpl;
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes ";
  bool ok = sh("cd " + dir + " && openssl req -x509" + ec + "-keyout ca.key -out ca.crt -days 1 -subj /CN=ca 2>/dev/null"
               " && openssl req" + ec + "-keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null"
               " && echo subjectAltName=IP:127.0.0.1 > ext && openssl x509 -req -in server.csr -CA ca.crt"
               " -CAkey ca.key -CAcreateserial -out server.crt -days 1 -extfile ext 2>/dev/null");
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  crypt_data cd{};
  const char* h = ok && crypt_gensalt_rn("$2y$", 10, nullptr, 0, salt, sizeof salt)
                      ? crypt_rn("bench pass", salt, &cd, sizeof cd)
                      : nullptr;
  if (!ok || !h || h[0] != '$') {
    std::fprintf(stderr, "bench_metrics_auth: cannot make the certificates or the hash\n");
    sh("rm -rf " + dir);
    return 1;
  }
  std::map<std::string, std::string> users{{"prom", h}};
  const int n = 40;
  double plain = per_scrape(dir, {}, true, n, "");
  double cached = per_scrape(dir, users, true, n, "prom:bench pass");
  double uncached = per_scrape(dir, users, false, n, "prom:bench pass");
  sh("rm -rf " + dir);  // on every path from here
  if (plain < 0 || cached < 0 || uncached < 0) {
    std::fprintf(stderr, "bench_metrics_auth: a scrape failed\n");
    return 1;
  }
  std::printf("CPU per scrape (500 cgroups, TLS, one kept connection, %d scrapes): no auth %.2f ms, basic auth "
              "cached %.2f ms, basic auth uncached (bcrypt cost 10 each) %.2f ms\n",
              n, plain * 1e3, cached * 1e3, uncached * 1e3);
  bench::row("authenticated scrape, CPU (TLS, cache)", bench::fmt("%.2f ms", cached * 1e3),
             "< no-auth + 1 ms", cached < plain + 1e-3);
  bench::row("authenticated scrape, CPU (TLS, no cache)", bench::fmt("%.2f ms", uncached * 1e3), "(reference)", true);
  return 0;
}
