// The fleet path's pure parts: Prometheus answers (success, error bodies,
// NaN/Inf), URL escaping, workload names from pod names, pooling and its
// figures, range splitting.
#include <catch2/catch.hpp>

#include "fleet/aggregate.hpp"
#include "fleet/prom_api.hpp"
#include "fleet/prom_source.hpp"
#include "fleet/workload.hpp"

using namespace ow::fleet;

TEST_CASE("fleet: Prometheus answers parsed, errors one line each", "[fleet]") {
  auto m = parse_answer(200, R"({"status":"success","data":{"resultType":"matrix","result":[
    {"metric":{"namespace":"a","pod":"p"},"values":[[1700000000,"1048576"],[1700000030.5,"2.097152e+06"]]}]}})", "q");
  REQUIRE(m);
  REQUIRE(m->size() == 1);
  CHECK((*m)[0].labels.at("pod") == "p");
  REQUIRE((*m)[0].points.size() == 2);
  CHECK((*m)[0].points[1].ts_ms == 1700000030500);
  CHECK((*m)[0].points[1].value == 2097152.0);
  auto v = parse_answer(200, R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[5,"3"]}]}})", "q");
  REQUIRE(v);
  CHECK((*v)[0].points[0].value == 3);
  auto empty = parse_answer(200, R"({"status":"success","data":{"resultType":"matrix","result":[]}})", "q");
  REQUIRE(empty);
  CHECK(empty->empty());

  struct Bad {
    int status;
    const char* body;
    const char* says;
    bool usage = false;  // the caller's query (or URL) was refused: exit 2, not 1
  };
  const Bad bad[] = {
      {400, R"({"status":"error","errorType":"bad_data","error":"parse error at char 5"})",
       "Prometheus: bad_data: parse error at char 5 (HTTP 400) for q", true},
      {422, R"({"status":"error","errorType":"execution","error":"query processing would load too many samples"})",
       "Prometheus: execution: query processing would load too many samples (HTTP 422) for q", true},
      {404, "404 page not found", "Prometheus answered HTTP 404 for q", true},
      {503, "Service Unavailable", "Prometheus answered HTTP 503 for q"},
      {503, R"({"status":"error","errorType":"unavailable","error":"shutting down"})", "unavailable: shutting down (HTTP 503)"},
      {200, "not json", "Prometheus answer is not JSON for q"},
      {200, R"({"status":"success","data":{"resultType":"scalar","result":[1,"2"]}})", "result type 'scalar'"},
      {200, R"({"status":"success","data":{"resultType":"string","result":[]}})", "result type 'string'"},
      {200, R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"pod":"x"},"value":[5,"NaN"]}]}})",
       "NaN value at 5 in {pod=\"x\"} for q: no figure is made from it"},
      {200, R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[5,"+Inf"]}]}})", "+Inf value"},
      {200, R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[5,"-1"]}]}})", "negative value -1"},
      {200, R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[5,"1x"]}]}})", "not a number"},
      {200, R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[5]}]}})", "malformed sample"},
      {200, R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}})", "malformed sample"},
      {200, R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{}}]}})", "without values"},
      {200, R"({"status":"success","data":{"resultType":"matrix","result":[7]}})", "not a series"},
      {200, R"({"status":"success","data":{"resultType":"matrix"}})", "no data.result"},
      {200, R"({"status":"success"})", "no data.result"},
      {200, R"({"status":"error"})", "Prometheus: no error text (HTTP 200)"},
  };
  for (const auto& b : bad) {
    INFO(b.body);
    auto r = parse_answer(b.status, b.body, "q");
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message(), Catch::Contains(b.says));
    CHECK(r.error().usage == b.usage);
    CHECK(r.error().message().find('\n') == std::string::npos);
  }
}

TEST_CASE("fleet: answers parsed as they are read, keys in any order, the first bad series the error", "[fleet]") {
  // resultType after result, and metric after the samples: the same series.
  auto late = parse_answer(200, R"({"data":{"result":[{"values":[[1,"2"],[2,"3"]],"metric":{"pod":"p","n":7}}],
    "resultType":"matrix"},"status":"success"})", "q");
  REQUIRE(late);
  REQUIRE(late->size() == 1);
  CHECK((*late)[0].labels == Labels{{"pod", "p"}});  // a number is no label
  CHECK((*late)[0].points.size() == 2);
  auto late_bad = parse_answer(200, R"({"data":{"result":[{"values":[[1,"NaN"]],"metric":{"pod":"p"}}],
    "resultType":"matrix"},"status":"success"})", "q");
  REQUIRE_FALSE(late_bad);
  CHECK_THAT(late_bad.error().message(), Catch::Contains("NaN value at 1 in {pod=\"p\"}"));
  // The first bad series in order is the error, whatever follows.
  auto first = parse_answer(200, R"({"status":"success","data":{"resultType":"matrix","result":[
    {"metric":{"pod":"a"},"values":[[1,"1"]]},{"metric":{"pod":"b"},"values":[[1,"-1"]]},
    {"metric":{"pod":"c"},"values":[[1,"NaN"]]},7]}})", "q");
  REQUIRE_FALSE(first);
  CHECK_THAT(first.error().message(), Catch::Contains("negative value -1 in {pod=\"b\"}"));
  // Unknown keys and values nested deep anywhere are skipped, however deep.
  std::string deep = std::string(200000, '[') + std::string(200000, ']');
  auto skipped = parse_answer(200, R"({"status":"success","warnings":)" + deep + R"(,"data":{"resultType":"vector",
    "result":[{"metric":{"x":{"y":[1]}},"value":[5,"3"],"extra":)" + deep + "}]}}", "q");
  REQUIRE(skipped);
  CHECK((*skipped)[0].labels.empty());
  CHECK((*skipped)[0].points[0].value == 3);
  // Samples that are not [number, string] pairs.
  for (const char* v : {R"([5,"3",1])", R"(["5","3"])", R"([5,3])", R"([[5],"3"])", R"({"a":1})", "[]"}) {
    INFO(v);
    auto m = parse_answer(200, std::string(R"({"status":"success","data":{"resultType":"vector","result":[{"value":)") + v +
                                   "}]}}", "q");
    REQUIRE_FALSE(m);
    CHECK_THAT(m.error().message(), Catch::Contains("malformed sample"));
  }
  // A body cut short is not JSON, whatever came before the cut.
  auto cut = parse_answer(200, R"({"status":"success","data":{"resultType":"vector","result":[{"value":[5,"3"]})", "q");
  REQUIRE_FALSE(cut);
  CHECK_THAT(cut.error().message(), Catch::Contains("not JSON"));
}

TEST_CASE("fleet: URLs escaped, times and durations in Prometheus's syntax", "[fleet]") {
  CHECK(url_escape("a{b=\"c d\"}[5m]&x") == "a%7Bb%3D%22c%20d%22%7D%5B5m%5D%26x");
  CHECK(build_url("http://h:9090/prom/", "/api/v1/query", {{"query", "up{a=\"1\"}"}, {"time", "12.5"}}) ==
        "http://h:9090/prom/api/v1/query?query=up%7Ba%3D%221%22%7D&time=12.5");
  CHECK(prom_time(1700000000000) == "1700000000");
  CHECK(prom_time(1700000000050) == "1700000000.050");
  CHECK(prom_duration(30000) == "30s");
  CHECK(prom_duration(29999) == "29s999ms");
  CHECK(prom_duration(999) == "999ms");
  CHECK(prom_duration(21600000) == "21600s");
  CHECK(matchers({"a=\"1\"", "", "b!=\"\""}) == "a=\"1\",b!=\"\"");
}

TEST_CASE("fleet: the workload of a pod, from its name", "[fleet]") {
  struct Row {
    const char *pod, *kind, *name;
  };
  const Row rows[] = {
      {"web-7d4b9c8f6-bcdfg", "Deployment", "web"},
      {"my-api-server-5c6d7f8b9-xz2k4", "Deployment", "my-api-server"},
      {"db-0", "StatefulSet", "db"},
      {"kafka-broker-12", "StatefulSet", "kafka-broker"},
      {"node-exporter-x7k2p", "DaemonSet", "node-exporter"},
      {"standalone", "Pod", "standalone"},
      {"debug-shell", "Pod", "debug-shell"},   // "shell": vowels, not a generated suffix
      {"web-abcde", "Pod", "web-abcde"},       // vowels: not generated
      {"hello-00001-deployment-6b7c8d9f5-qwrtz", "Deployment", "hello-00001-deployment"},
      {"-0", "Pod", "-0"},
  };
  for (const auto& r : rows) {
    INFO(r.pod);
    auto w = workload_of_pod(r.pod);
    CHECK(w.kind == r.kind);
    CHECK(w.name == r.name);
  }
  CHECK(knative_service_of("hello-00001-deployment") == "hello");
  CHECK(knative_service_of("my-svc-00012-deployment") == "my-svc");
  CHECK(knative_service_of("web") == "");
  CHECK(knative_service_of("web-deployment") == "");
  CHECK(knative_service_of("web-v1-deployment") == "");
}

TEST_CASE("fleet: series pooled per workload container; pod-level series skipped; owner label names the workload", "[fleet]") {
  LabelNames n;
  auto s = [](Labels l, std::vector<Point> p) { return Series{std::move(l), std::move(p)}; };
  std::vector<Series> in = {
      s({{"namespace", "a"}, {"pod", "web-7d4b9c8f6-bcdfg"}, {"container", "app"}, {"id", "1"}}, {{1000, 10}, {2000, 20}}),
      s({{"namespace", "a"}, {"pod", "web-7d4b9c8f6-bcdfg"}, {"container", "app"}, {"id", "2"}}, {{3000, 30}}),  // restart
      s({{"namespace", "a"}, {"pod", "web-7d4b9c8f6-hjklm"}, {"container", "app"}}, {{1500, 40}}),
      s({{"namespace", "a"}, {"pod", "web-7d4b9c8f6-hjklm"}, {"container", "POD"}}, {{1500, 999}}),
      s({{"namespace", "a"}, {"pod", "web-7d4b9c8f6-hjklm"}, {"container", ""}}, {{1500, 999}}),
      s({{"namespace", "a"}, {"pod", "x-1"}, {"container", "c"}, {"oaas_io_owner", "fn-class"}}, {{1000, 1}}),
      s({{"pod", "nons"}, {"container", "c"}}, {{1000, 1}}),
      s({{"namespace", "kn"}, {"pod", "hello-00001-deployment-6b7c8d9f5-qwrtz"}, {"container", "user-container"}}, {{1, 1}}),
  };
  auto g = group_series(in, n);
  REQUIRE(g.size() == 3);
  const Group& web = g.at(Key{"a", "web", "app"});
  CHECK(web.kind == "Deployment");
  CHECK(web.pods.size() == 2);
  CHECK(web.series == 3);
  REQUIRE(web.points.size() == 4);
  CHECK(web.points[1].ts_ms == 1500);  // in time order
  CHECK(g.at(Key{"a", "fn-class", "c"}).kind == "StatefulSet");
  CHECK(g.at(Key{"kn", "hello", "user-container"}).kind == "Service");
  auto w = group_series(in, n, false);  // revision-level: no container needed
  CHECK(w.count(Key{"a", "web", ""}) == 1);
}

TEST_CASE("fleet: pooled figures: mean rounded down, nearest-rank p95, max, window (start, end]", "[fleet]") {
  std::vector<Point> pts;
  for (int i = 1; i <= 100; ++i) pts.push_back({i * 1000LL, static_cast<double>(i * 1048576)});
  pts.push_back({0, 5e9});  // at the start: outside (start, end]
  auto f = window_figures(pts, 0, 100000);
  CHECK(f.samples == 100);
  CHECK(f.ws_avg_bytes == 5050 * 1048576ull / 100);
  CHECK(f.ws_p95_bytes == 95 * 1048576ull);
  CHECK(f.ws_max_bytes == 100 * 1048576ull);
  CHECK(f.covered_ns == 99LL * 1'000'000'000);
  CHECK(f.window_ns == 100LL * 1'000'000'000);
  auto three = window_figures({{1, 1}, {2, 2}, {3, 4}}, 0, 10);
  CHECK(three.ws_avg_bytes == 2);  // 7/3 rounded down
  CHECK(three.ws_p95_bytes == 4);  // ceil(0.95 × 3) = 3rd
  CHECK(window_figures({}, 0, 10).samples == 0);
  auto sp = spread({3, 1, 2, 10});
  CHECK(sp.p95 == 10);
  CHECK(sp.max == 10);
}

TEST_CASE("fleet: ranges split under the points limit on one step grid", "[fleet]") {
  auto r = split_range(0, 21599000, 1000, 11000);  // 21600 points
  REQUIRE(r.size() == 2);
  CHECK(r[0] == std::pair<int64_t, int64_t>{0, 10999000});
  CHECK(r[1] == std::pair<int64_t, int64_t>{11000000, 21599000});
  CHECK(split_range(0, 10999000, 1000, 11000).size() == 1);  // exactly 11000 points
  auto small = split_range(30000, 21600000, 30000, 100);
  size_t points = 0;
  for (auto [s, e] : small) points += (e - s) / 30000 + 1;
  CHECK(points == 720);
  CHECK(small.size() == 8);
  CHECK(default_step_ms(6 * 3600000LL) == 30000);
  CHECK(default_step_ms(7 * 24 * 3600000LL) == 55000);  // 7 d at 30 s would be 20160 points
  int64_t week = 7 * 24 * 3600000LL;
  CHECK(week / default_step_ms(week) + 1 <= 11000);
}

TEST_CASE("fleet: a key's revision is the last change of its pods' largest value", "[fleet]") {
  const Key a{"ns", "w", "c"}, b{"ns", "v", "c"};
  Series resized{{}, {{1, 100}, {2, 100}, {3, 200}, {4, 200}}};
  Series old_pod{{}, {{1, 100}, {2, 100}, {3, 100}, {4, 100}}};  // still at the old value: the largest moved at 3
  Series gone{{}, {{1, 50}, {2, 50}}};
  Series replaced{{}, {{3, 50}, {4, 50}}};  // a new pod at the same value: no revision
  auto m = last_changes({{a, &resized}, {a, &old_pod}, {b, &gone}, {b, &replaced}});
  CHECK(m.size() == 1);
  CHECK(m[a] == 3);
  Series back{{}, {{1, 1}, {2, 2}, {3, 1}, {4, 1}}};  // changed and changed back: the last change counts
  CHECK(last_changes({{a, &back}})[a] == 3);
  Series big_leaves{{}, {{1, 300}, {2, 300}}};  // the pod with the larger value leaves at 3: the largest falls
  CHECK(last_changes({{a, &old_pod}, {a, &big_leaves}})[a] == 3);
  Series one{{}, {{7, 5}}};
  CHECK(last_changes({{a, &one}}).empty());  // one point: nothing to compare with
  CHECK(last_changes({}).empty());
}
