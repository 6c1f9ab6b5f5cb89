#include "config/config.hpp"

#include <map>
#include <set>

#include "config/values.hpp"
#include "util/fs.hpp"
#include "util/units.hpp"

namespace ow::config {

using namespace detail;

namespace {

using Setter = Status (*)(Config&, const toml::node&, const Where&);

template <typename T, typename F>
Status assign(Result<T> r, F&& set) {
  if (!r) return r.error();
  set(*r);
  return {};
}

// A key whose value converts with Conv and lands in one Config member.
template <auto Conv, auto Member>
Status set(Config& c, const toml::node& n, const Where& w) {
  return assign(Conv(n, w), [&](auto v) { c.*Member = v; });
}

Result<int64_t> positive_duration(const toml::node& n, const Where& w) { return to_duration_ns(n, w, false); }
Result<int64_t> any_duration(const toml::node& n, const Where& w) { return to_duration_ns(n, w, true); }

Result<std::string> one_of(const toml::node& n, const Where& w, std::initializer_list<const char*> allowed) {
  auto s = detail::to_string(n, w);
  if (!s) return s;
  std::string list;
  for (const char* a : allowed) {
    if (*s == a) return s;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  return error_at(w, "'" + *s + "' is not one of " + list);
}

Status set_reservation(Config& c, const toml::node& n, const Where& w) {
  return assign(one_of(n, w, {"physical", "strict"}), [&](const std::string& v) {
    c.reservation = v == "strict" ? policy::Reservation::strict : policy::Reservation::physical;
  });
}

// The levels setup_logging() knows; anything else would silently become info.
Status set_log_level(Config& c, const toml::node& n, const Where& w) {
  return assign(one_of(n, w, {"debug", "info", "warn", "error"}), [&](auto v) { c.log_level = v; });
}

// Only "" (off) is accepted until the agent has an HTTP listener: a key that
// is accepted must work.
Status set_listen(Config& c, const toml::node& n, const Where& w) {
  auto v = n.value_exact<std::string>();
  if (!v) return error_at(w, "want a string (\"\" for none)");
  if (!v->empty()) return error_at(w, "this oomwatch has no HTTP listener yet: remove the key or set it to \"\"");
  c.listen = *v;
  return {};
}

Status set_min_step(Config& c, const toml::node& n, const Where& w) {
  auto v = to_size(n, w);
  if (v && (*v == 0 || *v == kUnlimited)) return error_at(w, "must be a size above zero, not 0 or max");
  return assign(std::move(v), [&](uint64_t b) { c.min_step_bytes = b; });
}

Status set_reserve(Config& c, const toml::node& n, const Where& w) {
  return assign(to_reserve(n, w), [&](Reserve r) {
    c.reserve_fraction = r.fraction;
    c.reserve_bytes = r.bytes;
  });
}

// One entry per top-level key: the file format is this table (plus [[cgroup]]).
const std::map<std::string, Setter, std::less<>> kTopKeys = {
    {"enforce", set<to_bool, &Config::enforce>},
    {"hints", set<to_bool, &Config::hints>},
    {"manage", set<to_strings, &Config::manage>},
    {"reservation", set_reservation},
    {"rescue", set<to_bool, &Config::rescue>},
    {"audit_log", set<detail::to_string, &Config::audit_log>},
    {"interval", set<positive_duration, &Config::interval_ns>},
    {"db", set<detail::to_string, &Config::db>},
    {"listen", set_listen},
    {"log_level", set_log_level},
    {"gomemlimit_interval", set<positive_duration, &Config::gomemlimit_interval_ns>},
    {"v1_pause_deadline", set<positive_duration, &Config::v1_pause_deadline_ns>},
    {"min_step", set_min_step},
    {"cooldown", set<any_duration, &Config::cooldown_ns>},
    {"max_moved_per_minute", set<to_size, &Config::max_moved_per_minute_bytes>},
    {"reserve", set_reserve},
};

std::string known_keys(const std::vector<std::string>& keys) {
  std::string s;
  for (const auto& k : keys) s += (s.empty() ? "" : ", ") + k;
  return s;
}

Result<CgroupEntry> parse_cgroup(const toml::table& t, const std::string& file, const std::string& prefix) {
  static const std::vector<std::string> kKeys = {"path", "floor", "ceiling", "donate", "priority"};
  CgroupEntry e;
  e.line = t.source().begin.line;
  uint32_t floor_line = 0, path_line = e.line;
  auto& pol = e.policy;
  for (const auto& [k, v] : t) {
    std::string key(k.str());
    Where w = where(file, prefix + "." + key, v);
    Status st;
    if (key == "path") {
      path_line = w.line;
      st = assign(detail::to_string(v, w), [&](auto s) { e.path = s; });
    } else if (key == "floor") {
      floor_line = w.line;
      auto b = to_size(v, w);
      if (b && *b == kUnlimited) return error_at(w, "a floor cannot be \"max\"");
      st = assign(std::move(b), [&](uint64_t x) { pol.floor_bytes = x; });
    } else if (key == "ceiling") {
      st = assign(to_size(v, w), [&](uint64_t x) { pol.ceiling_bytes = x; });
    } else if (key == "donate") {
      st = assign(to_bool(v, w), [&](bool x) { pol.may_donate = x; });
    } else if (key == "priority") {
      st = assign(to_int(v, w, -1'000'000, 1'000'000), [&](int64_t x) { pol.priority = static_cast<int>(x); });
    } else {
      return error_at(Where{file, w.key, k.source().begin.line}, "unknown key (known: " + known_keys(kKeys) + ")");
    }
    if (!st) return st.error();
  }
  if (e.path.empty())
    return error_at(Where{file, prefix + ".path", e.line}, "missing (every [[cgroup]] needs a path)");
  if (pol.floor_bytes > pol.ceiling_bytes)
    return error_at(Where{file, prefix + ".floor", floor_line}, "floor " + format_size(pol.floor_bytes) +
                                                                    " is above ceiling " + format_size(pol.ceiling_bytes));
  e.line = path_line;  // later messages point at the path, the cgroup's name
  return e;
}

Status parse_cgroups(Config& c, const toml::node& n, const std::string& file) {
  const auto* arr = n.as_array();
  if (!arr || !arr->is_array_of_tables())
    return error_at(where(file, "cgroup", n), "want [[cgroup]] sections (an array of tables)");
  std::map<std::string, uint32_t> seen;  // path -> line
  for (size_t i = 0; i < arr->size(); ++i) {
    auto e = parse_cgroup(*arr->get(i)->as_table(), file, "cgroup[" + std::to_string(i) + "]");
    if (!e) return e.error();
    if (auto [it, fresh] = seen.emplace(e->path, e->line); !fresh)
      return error_at(Where{file, "cgroup[" + std::to_string(i) + "].path", e->line},
                      "'" + e->path + "' is already configured at line " + std::to_string(it->second));
    c.cgroups.push_back(std::move(*e));
  }
  return {};
}

}  // namespace

Result<Config> parse_config(std::string_view text, const std::string& name) {
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    return app_error(name + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  Config c;
  for (const auto& [k, v] : root) {
    std::string key(k.str());
    Status st;
    if (key == "cgroup") {
      st = parse_cgroups(c, v, name);
    } else if (auto it = kTopKeys.find(key); it != kTopKeys.end()) {
      st = it->second(c, v, where(name, key, v));
    } else {
      std::vector<std::string> keys;
      for (const auto& [known, _] : kTopKeys) keys.push_back(known);
      keys.push_back("[[cgroup]]");
      return error_at(Where{name, key, k.source().begin.line}, "unknown key (known: " + known_keys(keys) + ")");
    }
    if (!st) return st.error();
  }
  return c;
}

Result<Config> load_config(const std::string& path) {
  auto text = read_text(path);
  if (!text) return text.error();
  return parse_config(*text, path);
}

policy::Params to_params(const Config& cfg) {
  policy::Params p;
  p.reservation = cfg.reservation;
  p.reserve_fraction = cfg.reserve_fraction;
  p.reserve_bytes = cfg.reserve_bytes;
  p.min_step_bytes = cfg.min_step_bytes;
  p.cooldown_ns = cfg.cooldown_ns;
  p.max_moved_per_minute_bytes = cfg.max_moved_per_minute_bytes;
  return p;
}

policy::CgroupPolicy cgroup_policy(const Config& cfg, const std::string& path) {
  for (const auto& e : cfg.cgroups)
    if (e.path == path) return e.policy;
  return {};
}

}  // namespace ow::config
