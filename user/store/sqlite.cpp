#include "store/sqlite.hpp"

#include <sqlite3.h>
#include <unistd.h>

namespace ow::store {
namespace {

Error db_error(sqlite3* db, const std::string& path, const std::string& what) {
  const char* msg = db ? sqlite3_errmsg(db) : "out of memory";
  return app_error(what + ": " + msg + ":", path);
}

}  // namespace

uint64_t sqlite_memory_bytes() { return static_cast<uint64_t>(sqlite3_memory_used()); }

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    if (s_) sqlite3_finalize(s_);
    s_ = std::exchange(o.s_, nullptr);
    db_ = o.db_;
    path_ = o.path_;
  }
  return *this;
}

Stmt::~Stmt() {
  if (s_) sqlite3_finalize(s_);
}

Stmt& Stmt::bind(int i, int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}
Stmt& Stmt::bind_u64(int i, uint64_t v) { return bind(i, static_cast<int64_t>(v)); }
Stmt& Stmt::bind(int i, std::string_view t) {
  sqlite3_bind_text(s_, i, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::bind_blob(int i, std::string_view b) {
  sqlite3_bind_blob(s_, i, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
  return *this;
}

Result<bool> Stmt::step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error e = db_error(db_, path_ ? *path_ : "", "sqlite step");
  sqlite3_reset(s_);
  return e;
}

Result<std::optional<int64_t>> Stmt::first_i64() {
  auto r = step();
  if (!r) return r.error();
  std::optional<int64_t> v;
  if (*r && !is_null(0)) v = i64(0);
  reset();
  return v;
}

Status Stmt::run() {
  if (auto st = each_row([] {}); !st) return st;
  reset();
  return {};
}

void Stmt::reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

bool Stmt::is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
int64_t Stmt::i64(int col) const { return sqlite3_column_int64(s_, col); }
std::string_view Stmt::text(int col) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
  return p ? std::string_view(p, sqlite3_column_bytes(s_, col)) : std::string_view();
}
std::string_view Stmt::blob(int col) const {
  auto* p = static_cast<const char*>(sqlite3_column_blob(s_, col));
  return p ? std::string_view(p, sqlite3_column_bytes(s_, col)) : std::string_view();
}

Result<Db> Db::open(const std::string& path, bool readonly) {
  // SQLite reports a missing file as "unable to open database file"; check
  // first so the error carries ENOENT/EACCES and the operator sees why.
  if (readonly && ::access(path.c_str(), R_OK) != 0) return sys_error("open history database", path);
  sqlite3* db = nullptr;
  int flags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  // NOFOLLOW: a symlink planted at the database path is refused, not written through.
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, nullptr);
  if (rc != SQLITE_OK) {
    Error e = db_error(db, path, "open history database");
    sqlite3_close(db);
    return e;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 5000);  // the daemon may be mid-commit when `stats` reads
  return Db(db, path);
}

Db::~Db() {
  if (db_) sqlite3_close_v2(db_);
}

Status Db::exec(const std::string& sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : sqlite3_errmsg(db_);
    sqlite3_free(msg);
    return app_error("sqlite exec: " + m + ":", *path_);
  }
  return {};
}

Result<Stmt> Db::prepare(const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
    return db_error(db_, *path_, "sqlite prepare");
  return Stmt(s, db_, path_.get());
}

Result<int64_t> Db::query_int(const std::string& sql) {
  auto st = prepare(sql);
  if (!st) return st.error();
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return app_error("no result for '" + sql + "' in", *path_);
  return st->i64(0);
}

int64_t Db::changes() const { return sqlite3_changes64(db_); }

Result<Txn> Txn::begin(Db& db, bool immediate) {
  if (auto st = db.exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN"); !st) return st.error();
  return Txn(&db);
}

Txn::~Txn() {
  if (db_) (void)db_->exec("ROLLBACK");
}

Status Txn::commit() {
  Db* db = std::exchange(db_, nullptr);
  if (auto st = db->exec("COMMIT"); !st) {
    (void)db->exec("ROLLBACK");
    return st;
  }
  return {};
}

Error Db::error(const std::string& what) const { return db_error(db_, *path_, what); }

}  // namespace ow::store
