// HistoryStore: the oom_kill table (kills as the kernel reported them).
#include "stats/select.hpp"
#include "store/history.hpp"

namespace ow::store {

Status HistoryStore::insert_kills(std::span<const KillRow> rows) {
  if (opts_.readonly) return app_error("history database opened read-only:", db_.path());
  if (rows.empty()) return {};
  auto txn = Txn::begin(db_, true);
  if (!txn) return txn.error();
  auto st = db_.prepare("INSERT OR REPLACE INTO oom_kill VALUES(?,?,?,?,?,?,?)");
  if (!st) return st.error();
  for (const auto& k : rows) {
    st->bind(1, k.ts_ns).bind(2, std::string_view(k.path)).bind(3, std::string_view(k.victim));
    st->bind_u64(4, k.usage_bytes).bind_u64(5, k.limit_bytes).bind(6, k.pid).bind(7, int64_t{k.memsw});
    if (auto s = st->run(); !s) return s;
  }
  return txn->commit();
}

Result<std::vector<KillRow>> HistoryStore::kills(const stats::TimeRange& r, const std::vector<std::string>& selectors) {
  auto q = db_.prepare("SELECT ts, path, victim, usage, lim, pid, memsw FROM oom_kill WHERE ts >= ? AND ts <= ? "
                       "ORDER BY ts");
  if (!q) return q.error();
  q->bind(1, r.from_ns).bind(2, r.to_ns);
  std::vector<KillRow> out;
  auto rows = q->each_row([&] {
    std::string path(q->text(1));
    if (!selectors.empty() && (path.empty() || !stats::selected(selectors, path))) return;
    KillRow k;
    k.ts_ns = q->i64(0);
    k.path = std::move(path);
    k.victim = std::string(q->text(2));
    q->u64s(3, {&k.usage_bytes, &k.limit_bytes});
    k.pid = q->i64(5);
    k.memsw = q->i64(6) != 0;
    out.push_back(std::move(k));
  });
  if (!rows) return rows.error();
  return out;
}

}  // namespace ow::store
