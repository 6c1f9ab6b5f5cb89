// Databases the store must refuse with a clear error naming the file: garbage,
// someone else's SQLite file, a newer schema, a damaged bucket.
#include <catch2/catch.hpp>


#include "store/history.hpp"
#include "test_store_sql.hpp"
#include "test_store_tmp.hpp"
#include "util/fs.hpp"

using namespace ow::store;
using owtest::sql;

namespace {
std::string open_error(const std::string& path, bool readonly = false) {
  StoreOptions o;
  o.readonly = readonly;
  auto h = HistoryStore::open(path, o);
  REQUIRE_FALSE(h.ok());
  return h.error().message();
}
}  // namespace

TEST_CASE("a garbage file is reported as not a database, by name", "[store]") {
  owtest::TempDir d;
  std::string p = d / "junk.db";
  REQUIRE(ow::append_line_fsync(p, std::string(8192, 'x')).ok());
  for (bool ro : {true, false}) {
    auto m = open_error(p, ro);
    CHECK(m.find("not a database") != std::string::npos);
    CHECK(m.find(p) != std::string::npos);
  }
}

TEST_CASE("a damaged page inside a real database is reported, not read as numbers", "[store]") {
  owtest::TempDir d;
  std::string p = d / "h.db";
  {
    auto h = HistoryStore::open(p);
    REQUIRE(h.ok());
    ow::sampler::Snapshot s;
    for (int i = 0; i < 2000; ++i) {
      s.ts_ns = 1'000'000'000LL * (1763856000 + i);
      s.samples = {ow::sampler::Sample{0, 1, "/a", 4096u * i}};
      REQUIRE(h->insert(s).ok());
    }
  }
  sql(p, "PRAGMA wal_checkpoint(TRUNCATE)");
  // Overwrite pages 3.. (the raw table's b-tree) with garbage.
  auto text = ow::read_text(p);
  REQUIRE(text.ok());
  std::string damaged = text->substr(0, 2 * 4096) + std::string(text->size() - 2 * 4096, '\xa5');
  REQUIRE(ow::write_text(p, damaged).ok());
  StoreOptions ro;
  ro.readonly = true;
  auto h = HistoryStore::open(p, ro);
  if (!h.ok()) {
    CHECK(h.error().message().find(p) != std::string::npos);
    return;
  }
  auto w = h->window_stats({}, {});
  REQUIRE_FALSE(w.ok());
  CHECK(w.error().message().find(p) != std::string::npos);
  CHECK(w.error().message().find("malformed") != std::string::npos);
}

TEST_CASE("someone else's SQLite database is not taken over", "[store]") {
  owtest::TempDir d;
  std::string p = d / "other.db";
  sql(p, "CREATE TABLE t(x)");
  auto m = open_error(p);
  CHECK(m.find("not an oomwatch history database") != std::string::npos);
  std::string q = d / "other2.db";
  sql(q, "PRAGMA application_id=1234; PRAGMA user_version=1");
  CHECK(open_error(q).find("application_id") != std::string::npos);
}

TEST_CASE("a newer schema is refused with the versions named", "[store]") {
  owtest::TempDir d;
  std::string p = d / "h.db";
  REQUIRE(HistoryStore::open(p).ok());
  sql(p, "PRAGMA user_version=99");
  auto m = open_error(p);
  CHECK(m.find("schema 99") != std::string::npos);
  CHECK(m.find("upgrade") != std::string::npos);
}

TEST_CASE("an empty file opened read-only is 'nothing recorded', not a crash", "[store]") {
  owtest::TempDir d;
  std::string p = d / "empty.db";
  sql(p, "");
  CHECK(open_error(p, true).find("nothing recorded") != std::string::npos);
}

TEST_CASE("a damaged bucket sketch is an error naming the database", "[store]") {
  owtest::TempDir d;
  std::string p = d / "h.db";
  {
    auto h = HistoryStore::open(p);
    REQUIRE(h.ok());
    ow::sampler::Snapshot s;
    for (int i = 0; i < 120; ++i) {
      s.ts_ns = 1'000'000'000LL * (1763856000 + i);
      s.samples = {ow::sampler::Sample{0, 1, "/a", 4096}};
      REQUIRE(h->insert(s).ok());
    }
    REQUIRE(h->maintain(1'000'000'000LL * (1763856000 + 3 * 3600)).ok());
  }
  sql(p, "UPDATE bucket SET sketch = x'05ff'; UPDATE hour SET sketch = x'05ff'");
  auto h = HistoryStore::open(p);
  REQUIRE(h.ok());
  auto w = h->window_stats({}, {});  // the whole hour: its hour row
  REQUIRE_FALSE(w.ok());
  CHECK(w.error().message().find("corrupt hour row") != std::string::npos);
  CHECK(w.error().message().find(p) != std::string::npos);
  auto m = h->window_stats({1'000'000'000LL * 1763856000, 1'000'000'000LL * (1763856000 + 600)}, {});  // buckets
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().message().find("corrupt bucket row") != std::string::npos);
}
