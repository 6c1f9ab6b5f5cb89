// Raw SQL on a history database behind the store's back: for tests that
// inspect what it wrote, or damage or downgrade it.
#pragma once
#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <cstdint>
#include <string>

namespace owtest {

// Runs stmt (one or more statements); a failure fails the test.
inline void sql(const std::string& db, const std::string& stmt) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  CHECK(sqlite3_exec(h, stmt.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(h);
}

// The first column of q's first row; -1 when there is none (or q fails).
inline int64_t sql_int(const std::string& db, const std::string& q) {
  sqlite3* h = nullptr;
  sqlite3_open(db.c_str(), &h);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(h, q.c_str(), -1, &st, nullptr);
  int64_t n = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  sqlite3_close(h);
  return n;
}

}  // namespace owtest
