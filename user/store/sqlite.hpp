// Thin RAII over the SQLite C API for the history store: errors as values that
// name the database file and SQLite's own message ("database disk image is
// malformed"), so a corrupt file is reported, not crashed on. Not thread-safe;
// one Db per thread.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "util/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace ow::store {

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3_stmt* s, sqlite3* db, const std::string* path) : s_(s), db_(db), path_(path) {}
  Stmt(Stmt&& o) noexcept : s_(std::exchange(o.s_, nullptr)), db_(o.db_), path_(o.path_) {}
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Parameter indexes are 1-based, as in SQLite.
  Stmt& bind(int i, int64_t v);
  Stmt& bind_u64(int i, uint64_t v);  // stored bit-for-bit as int64: UINT64_MAX reads back as -1 in SQL
  Stmt& bind(int i, std::string_view text);
  Stmt& bind_blob(int i, std::string_view bytes);
  // true: a row is ready; false: done. Errors name the database.
  Result<bool> step();
  Status run();  // step to completion, for statements without rows
  // Steps through the rows, calling row() at each (it returns Status, or
  // nothing); stops at the first error, SQLite's or row()'s. Not reset.
  template <typename F>
  Status each_row(F&& row);
  // The first column of the first row as a number (an aggregate such as
  // MIN(ts)); nullopt when there is no row or it is NULL. Resets.
  Result<std::optional<int64_t>> first_i64();
  void reset();  // also clears bindings

  int64_t i64(int col) const;
  uint64_t u64(int col) const { return static_cast<uint64_t>(i64(col)); }
  // Columns first, first + 1, ... into the figures pointed to, in order.
  void u64s(int first, std::initializer_list<uint64_t*> figures) const {
    for (uint64_t* f : figures) *f = u64(first++);
  }
  std::string_view text(int col) const;
  std::string_view blob(int col) const;
  bool is_null(int col) const;

 private:
  sqlite3_stmt* s_ = nullptr;
  sqlite3* db_ = nullptr;
  const std::string* path_ = nullptr;  // owned by the Db, which outlives its statements
};

template <typename F>
Status Stmt::each_row(F&& row) {
  for (;;) {
    auto r = step();
    if (!r) return r.error();
    if (!*r) return {};
    if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
      row();
    } else if (auto st = row(); !st) {
      return st;
    }
  }
}

// Bytes SQLite holds now in this process, every connection together (page
// caches, statements, lookaside).
uint64_t sqlite_memory_bytes();

class Db {
 public:
  // readonly: never creates the file (a missing database is an error, ENOENT).
  static Result<Db> open(const std::string& path, bool readonly);
  Db(Db&& o) noexcept : db_(std::exchange(o.db_, nullptr)), path_(std::move(o.path_)) {}
  Db& operator=(Db&&) = delete;
  Db(const Db&) = delete;
  ~Db();

  Status exec(const std::string& sql);
  Result<Stmt> prepare(const std::string& sql);
  Result<int64_t> query_int(const std::string& sql);  // first column of the first row
  const std::string& path() const { return *path_; }
  bool is_open() const { return db_ != nullptr; }  // false once moved from
  int64_t changes() const;  // rows changed by the last INSERT/UPDATE/DELETE
  // An Error for the last failure: "sqlite <what>: <sqlite message>" + path.
  Error error(const std::string& what) const;

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::make_unique<std::string>(std::move(path))) {}
  sqlite3* db_ = nullptr;
  std::unique_ptr<std::string> path_;  // stable address for Stmt error messages
};

// A transaction that rolls back unless committed, on every path out.
// immediate: take the write lock now (writers), else a read snapshot (readers
// see one consistent state across several queries while the daemon commits).
class Txn {
 public:
  static Result<Txn> begin(Db& db, bool immediate);
  Txn(Txn&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
  Txn& operator=(Txn&&) = delete;
  ~Txn();
  Status commit();

 private:
  explicit Txn(Db* db) : db_(db) {}
  Db* db_ = nullptr;
};

}  // namespace ow::store
