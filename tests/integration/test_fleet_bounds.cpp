// What a large Prometheus answer costs the real `oomwatch recommend`: a
// valid ~150 MB query_range answer, streamed chunked as Prometheus sends it,
// must leave the whole process's peak resident set within 3x of the answer
// (docs/safety.md states the multiple and the body bound it gives).
#include <catch2/catch.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "helpers.hpp"

namespace {

constexpr int64_t kEnd = 1760000000;  // seconds: the window's end (--end)
constexpr int kPoints = 720;          // 6h at 30s
constexpr int kWorkloads = 50;

bool send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

void append_int(std::string& s, int64_t v) {
  char b[24];
  auto r = std::to_chars(b, b + sizeof b, v);
  s.append(b, r.ptr);
}

// A Prometheus that answers the working set's query_range with `series`
// series of kPoints samples each (generated as they are sent, one chunk per
// series), instant queries with `instant_bytes` of one-sample series (none
// when 0), and every other query with no series. It counts the big range
// answer's bytes.
struct BigProm {
  int lfd = -1, port = 0;
  int series;
  uint64_t instant_bytes;
  std::atomic<uint64_t> big_bytes{0};
  std::thread t;

  explicit BigProm(int n, uint64_t instant = 0) : series(n), instant_bytes(instant) {
    lfd = owtest::listen_loopback(port);
    t = std::thread([this] {
      for (;;) {
        int c = ::accept(lfd, nullptr, nullptr);
        if (c < 0) return;  // shut down by the destructor
        serve(c);
        ::close(c);
      }
    });
  }
  ~BigProm() {
    ::shutdown(lfd, SHUT_RDWR);  // wakes accept
    t.join();
    ::close(lfd);
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port); }

  void serve(int c) {
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      req.append(buf, static_cast<size_t>(n));
    }
    std::string line = req.substr(0, req.find("\r\n"));
    bool range = line.find("/api/v1/query_range?") != std::string::npos;
    if (range && line.find("container_memory_working_set_bytes") != std::string::npos) {
      big(c);
      return;
    }
    if (!range && instant_bytes) {
      big_instant(c);
      return;
    }
    std::string body = std::string(R"({"status":"success","data":{"resultType":")") + (range ? "matrix" : "vector") +
                       R"(","result":[]}})";
    send_all(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n\r\n" + body);
  }

  // Chunked, without a Content-Length, as Prometheus sends a large answer.
  static bool chunk(int c, const std::string& data, uint64_t& total) {
    total += data.size();
    char head[32];
    int n = std::snprintf(head, sizeof head, "%zx\r\n", data.size());
    return send_all(c, std::string(head, static_cast<size_t>(n)) + data + "\r\n");
  }
  static bool chunked_head(int c) {
    return send_all(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                       "Connection: close\r\n\r\n");
  }

  // kube-state-metrics-like series, one sample each, until instant_bytes.
  void big_instant(int c) {
    uint64_t total = 0;
    if (!chunked_head(c) || !chunk(c, R"({"status":"success","data":{"resultType":"vector","result":[)", total)) return;
    std::string s;
    for (int i = 0; total < instant_bytes;) {
      s.clear();
      for (int k = 0; k < 1000; ++k, ++i) {
        if (i) s += ',';
        s += R"({"metric":{"container":"app","namespace":"big","pod":"web-7d4b9c8f6-)";
        append_int(s, i);
        s += R"(","resource":"memory","unit":"byte","job":"kube-state-metrics"},"value":[1760000000,"268435456"]})";
      }
      if (!chunk(c, s, total)) return;  // the client gave up: what this test wants
    }
    if (chunk(c, "]}}", total)) send_all(c, "0\r\n\r\n");
  }

  void big(int c) {
    uint64_t total = 0;
    auto chunk = [&](const std::string& data) { return BigProm::chunk(c, data, total); };
    if (!chunked_head(c) || !chunk(R"({"status":"success","data":{"resultType":"matrix","result":[)")) return;
    const char* alnum = "bcdfghjklmnpqrstvwxz2456789";  // a generated pod suffix: no vowels
    std::string s;
    for (int i = 0; i < series; ++i) {
      s.clear();
      if (i) s += ',';
      std::string suffix;
      for (int k = 0, v = i; k < 5; ++k, v /= 27) suffix += alnum[v % 27];
      s += R"({"metric":{"__name__":"container_memory_working_set_bytes","container":"app","namespace":"big","pod":"web)";
      append_int(s, i % kWorkloads);
      s += "-7d4b9c8f6-" + suffix + R"("},"values":[)";
      for (int k = 0; k < kPoints; ++k) {
        if (k) s += ',';
        s += '[';
        append_int(s, kEnd - 21600 + 30 * (k + 1));
        s += ",\"";
        append_int(s, 100'000'000 + ((i * 31 + k * 7) % 1000) * 4096);
        s += "\"]";
      }
      s += "]}";
      if (!chunk(s)) return;
    }
    if (!chunk("]}}")) return;
    send_all(c, "0\r\n\r\n");
    big_bytes = total;
  }
};

}  // namespace

// [nosan]: the bound checked is the process's peak RSS, which ASan's shadow
// memory and quarantine multiply; the native integration tier runs it.
TEST_CASE("fleet: a 150 MB answer costs the whole process at most 3x its size", "[fleet][integration][bounds][nosan]") {
  // 8200 series of 720 samples: about 150 MB of JSON.
  BigProm prom(8200);
  auto r = owtest::run({owtest::oomwatch_bin(), "recommend", "--prometheus", prom.base(), "--window", "6h", "--step",
                        "30s", "--end", std::to_string(kEnd), "--format", "json", "--retries", "0", "--timeout", "120s"},
                       300);
  INFO(r.err.substr(0, 2000));
  REQUIRE(r.exit_code == 0);
  const uint64_t answer = prom.big_bytes.load();
  REQUIRE(answer > 140'000'000);
  auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["containers"].size() == kWorkloads);
  std::printf("large answer: %.1f MB, peak RSS %.1f MB (%.2fx), %.1f s\n", answer / 1e6, r.max_rss_bytes / 1e6,
              static_cast<double>(r.max_rss_bytes) / static_cast<double>(answer), r.wall_s);
  CHECK(r.max_rss_bytes > 0);
  CHECK(r.max_rss_bytes <= 3 * answer);
}

TEST_CASE("fleet: an instant answer over its 64 MiB bound is refused with one line, read no further",
          "[fleet][integration][bounds][nosan]") {
  // A small working set, then a 200 MB answer to the first instant query.
  BigProm prom(kWorkloads, 200'000'000);
  auto r = owtest::run({owtest::oomwatch_bin(), "recommend", "--prometheus", prom.base(), "--window", "6h", "--step",
                        "30s", "--end", std::to_string(kEnd), "--retries", "0", "--timeout", "120s"},
                       300);
  INFO(r.err.substr(0, 2000));
  CHECK(r.exit_code == 1);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK_THAT(r.err, Catch::Contains("answer larger than 64 MiB") && Catch::Contains("last_over_time("));
  std::printf("instant answer over its bound: peak RSS %.1f MB, %.1f s\n", r.max_rss_bytes / 1e6, r.wall_s);
  CHECK(r.max_rss_bytes < 3 * (64u << 20));
}
