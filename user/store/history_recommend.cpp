// HistoryStore: the recommendation table (audit of what the agent proposed).
#include "stats/select.hpp"
#include "store/history.hpp"

namespace ow::store {

Status HistoryStore::insert_recommendations(std::span<const RecommendationRow> rows) {
  if (opts_.readonly) return app_error("history database opened read-only:", db_.path());
  auto txn = Txn::begin(db_, true);
  if (!txn) return txn.error();
  auto st = db_.prepare("INSERT OR REPLACE INTO recommendation VALUES(?,?,?,?,?,?,?,?,?,?)");
  if (!st) return st.error();
  for (const auto& r : rows) {
    st->bind(1, r.ts_ns).bind(2, r.path).bind_u64(3, r.request_bytes).bind_u64(4, r.limit_bytes);
    st->bind_u64(5, r.ws_avg_bytes).bind_u64(6, r.ws_p95_bytes).bind_u64(7, r.ws_max_bytes).bind(8, r.window_ns);
    st->bind(9, std::string_view(r.confidence)).bind(10, std::string_view(r.rationale));
    if (auto s = st->run(); !s) return s;
  }
  return txn->commit();
}

Result<std::map<std::string, RecommendationRow>> HistoryStore::last_recommendations(
    const std::vector<std::string>& selectors) {
  auto q = db_.prepare(
      "SELECT r.ts, r.path, request, lim, ws_avg, ws_p95, ws_max, window_ns, confidence, rationale FROM recommendation r "
      "JOIN (SELECT path, MAX(ts) AS ts FROM recommendation GROUP BY path) m ON r.path = m.path AND r.ts = m.ts");
  if (!q) return q.error();
  std::map<std::string, RecommendationRow> out;
  auto rows = q->each_row([&] {
    RecommendationRow r;
    r.path = std::string(q->text(1));
    if (!stats::selected(selectors, r.path)) return;
    r.ts_ns = q->i64(0);
    q->u64s(2, {&r.request_bytes, &r.limit_bytes, &r.ws_avg_bytes, &r.ws_p95_bytes, &r.ws_max_bytes});
    r.window_ns = q->i64(7);
    r.confidence = std::string(q->text(8));
    r.rationale = std::string(q->text(9));
    out[r.path] = std::move(r);
  });
  if (!rows) return rows.error();
  return out;
}

}  // namespace ow::store
