// Requests and limits from `kubectl get pods -o json` text.
#include <catch2/catch.hpp>

#include "k8s/pods.hpp"

using namespace ow::k8s;

TEST_CASE("pods file: requests and limits by pod uid and container", "[k8s]") {
  auto p = parse_pods_json(R"({"kind":"List","items":[
    {"metadata":{"name":"web","uid":"u1"},"spec":{"containers":[
      {"name":"app","resources":{"requests":{"memory":"256Mi","cpu":"1"},"limits":{"memory":"1Gi"}}},
      {"name":"side","resources":{}},
      {"name":"raw","resources":{"requests":{"memory":134217728}}}]}},
    {"metadata":{"name":"db","uid":"u2"},"spec":{"containers":[{"name":"pg","resources":{"limits":{"memory":"500M"}}}]}}]})");
  REQUIRE(p.ok());
  CHECK(p->size() == 4);
  CHECK(*p->at({"u1", "app"}).request_bytes == 256ull << 20);
  CHECK(*p->at({"u1", "app"}).limit_bytes == 1ull << 30);
  CHECK_FALSE(p->at({"u1", "side"}).request_bytes);
  CHECK(*p->at({"u1", "raw"}).request_bytes == 134217728);
  CHECK(*p->at({"u2", "pg"}).limit_bytes == 500'000'000);
  CHECK_FALSE(p->at({"u2", "pg"}).request_bytes);
  auto one = parse_pods_json(R"({"kind":"Pod","metadata":{"uid":"u3"},"spec":{"containers":[{"name":"c"}]}})");
  REQUIRE(one.ok());
  CHECK(one->count({"u3", "c"}) == 1);
}

TEST_CASE("pods file: errors say what is wrong", "[k8s]") {
  struct Row {
    const char* text;
    const char* says;
  };
  const Row rows[] = {
      {"{nope", "pods file is not JSON"},
      {"[]", "want a Pod or a List of Pods"},
      {R"({"kind":"Service"})", "want a Pod or a List of Pods"},
      {R"({"kind":5})", "want a Pod or a List of Pods"},
      {R"({"items":[{"metadata":{"uid":7}}]})", "a pod without metadata.uid"},
      {R"({"items":[{"metadata":{"uid":"u","name":"p"},"spec":{"containers":[{"name":"c","resources":{"limits":{"memory":-1}}}]}}]})",
       "limits.memory: bad quantity ''"},
      {R"({"items":[{"spec":{}}]})", "an item without metadata"},
      {R"({"items":[{"metadata":{"name":"x"}}]})", "a pod without metadata.uid"},
      {R"({"items":[{"metadata":{"name":"web","uid":"u"},"spec":{"containers":[{"name":"app","resources":{"requests":{"memory":"12Q"}}}]}}]})",
       "pod web container app requests.memory: bad quantity '12Q'"},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    auto p = parse_pods_json(r.text);
    REQUIRE_FALSE(p.ok());
    CHECK(p.error().message().find(r.says) != std::string::npos);
  }
}
