#include "config/config.hpp"

#include <charconv>
#include <cstdio>
#include <optional>
#include <span>

#include <map>
#include <set>

#include "config/values.hpp"
#include "util/fs.hpp"
#include "util/listen.hpp"
#include "util/text.hpp"
#include "util/units.hpp"

namespace ow::config {

using namespace detail;

Result<double> parse_cpu_budget(std::string_view text) {
  std::string_view t = text;
  if (!t.empty() && t.back() == '%') t.remove_suffix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size() || !(v >= 0 && v <= kMaxCpuBudgetPct))
    return usage_error("'" + excerpt(text) + "' is not a percent of one core from 0 (off) to 100, such as 1 or 0.5%");
  return v;
}

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

Result<std::string> one_of(const toml::node& n, const Where& w, std::span<const char* const> allowed) {
  auto s = detail::to_string(n, w);
  if (!s) return s;
  std::string list;
  for (const char* a : allowed) {
    if (*s == a) return s;
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  return error_at(w, "'" + excerpt(*s) + "' is not one of " + list);
}

Result<std::string> one_of(const toml::node& n, const Where& w, std::initializer_list<const char*> allowed) {
  return one_of(n, w, std::span<const char* const>(allowed.begin(), allowed.size()));
}

Status set_reservation(Config& c, const toml::node& n, const Where& w) {
  return assign(one_of(n, w, {"physical", "strict"}), [&](const std::string& v) {
    c.reservation = v == "strict" ? policy::Reservation::strict : policy::Reservation::physical;
  });
}

// The levels setup_logging() knows; anything else would silently become info.
Status set_log_level(Config& c, const toml::node& n, const Where& w) {
  return assign(one_of(n, w, kLogLevels), [&](auto l) { c.log_level = l; });
}

Status set_interval(Config& c, const toml::node& n, const Where& w) {
  auto v = positive_duration(n, w);
  if (v && *v < kMinIntervalNs) return error_at(w, "is below 50ms: the walk would cost more than it measures");
  return assign(std::move(v), [&](int64_t ns) { c.interval_ns = ns; });
}

// A number (percent of one core) or a string such as "1%".
Status set_cpu_budget(Config& c, const toml::node& n, const Where& w) {
  std::optional<double> v;
  if (auto i = n.value_exact<int64_t>()) v = static_cast<double>(*i);
  else if (auto f = n.value_exact<double>()) v = *f;
  if (v) {
    if (!(*v >= 0 && *v <= kMaxCpuBudgetPct))
    {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%g", *v);
      return error_at(w, std::string("want a percent of one core from 0 (off) to 100, got ") + buf);
    }
    c.cpu_budget_pct = *v;
    return {};
  }
  auto s = n.value_exact<std::string>();
  if (!s) return error_at(w, "want a percent of one core such as 1 or \"0.5%\" (0: off)");
  auto p = parse_cpu_budget(*s);
  if (!p) return error_at(w, p.error().message());
  c.cpu_budget_pct = *p;
  return {};
}

// "" (off) or a numeric ADDR:PORT for /metrics (util/listen.hpp).
Status set_listen(Config& c, const toml::node& n, const Where& w) {
  auto v = n.value_exact<std::string>();
  if (!v) return error_at(w, "want a string such as \"127.0.0.1:9721\" (\"\" for none)");
  if (!v->empty())
    if (auto a = parse_listen(*v); !a) return error_at(w, a.error().message());
  c.listen = *v;
  return {};
}

Status set_loop_priority(Config& c, const toml::node& n, const Where& w) {
  return assign(one_of(n, w, {"fifo", "nice", "normal"}),
                [&](const std::string& v) { c.loop_priority = *parse_loop_priority(v); });
}

Status set_metrics_max_cgroups(Config& c, const toml::node& n, const Where& w) {
  return assign(to_int(n, w, 1, 1'000'000), [&](int64_t v) { c.metrics_max_cgroups = static_cast<size_t>(v); });
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
    {"interval", set_interval},
    {"cpu_budget", set_cpu_budget},
    {"db", set<detail::to_string, &Config::db>},
    {"listen", set_listen},
    {"metrics_max_cgroups", set_metrics_max_cgroups},
    {"web_config_file", set<detail::to_string, &Config::web_config_file>},
    {"log_level", set_log_level},
    {"loop_priority", set_loop_priority},
    {"gomemlimit_interval", set<positive_duration, &Config::gomemlimit_interval_ns>},
    {"v1_pause_deadline", set<positive_duration, &Config::v1_pause_deadline_ns>},
    {"min_step", set_min_step},
    {"cooldown", set<any_duration, &Config::cooldown_ns>},
    {"max_moved_per_minute", set<to_size, &Config::max_moved_per_minute_bytes>},
    {"reserve", set_reserve},
    {"horizon", set<any_duration, &Config::horizon_ns>},
    {"donor_window", set<positive_duration, &Config::donor_window_ns>},
    {"donor_min_history", set<any_duration, &Config::donor_min_history_ns>},
    {"trace_max_duration", set<positive_duration, &Config::trace_max_duration_ns>},
    {"trace_on_incident", set<any_duration, &Config::trace_on_incident_ns>},
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
                      "'" + excerpt(e->path, 200) + "' is already configured at line " + std::to_string(it->second));
    c.cgroups.push_back(std::move(*e));
  }
  return {};
}

// [recommend]: a table of its own keys; unknown ones are errors as at the top.
Status parse_recommend(Config& c, const toml::node& n, const std::string& file) {
  static const std::vector<std::string> kKeys = {"interval", "pods_log_dir", "enforce"};
  const auto* t = n.as_table();
  if (!t) return error_at(where(file, "recommend", n), "want a [recommend] table");
  for (const auto& [k, v] : *t) {
    std::string key(k.str());
    Where w = where(file, "recommend." + key, v);
    Status st;
    if (key == "interval")
      st = assign(positive_duration(v, w), [&](int64_t x) { c.recommend_interval_ns = x; });
    else if (key == "enforce")
      st = assign(to_bool(v, w), [&](bool x) { c.recommend_enforce = x; });
    else if (key == "pods_log_dir")
      st = assign(detail::to_string(v, w), [&](const std::string& x) { c.recommend_pods_log_dir = x; });
    else
      return error_at(Where{file, w.key, k.source().begin.line}, "unknown key (known: " + known_keys(kKeys) + ")");
    if (!st) return st.error();
  }
  return {};
}

}  // namespace

// toml++ 3.3 reaches __builtin_unreachable (undefined behaviour) on some
// non-ASCII characters where it looks for whitespace or a value's end (its
// generated is_non_ascii_horizontal_whitespace table is wrong for e.g.
// U+0408; reported to toml++ upstream), also in its error paths. So toml++ is only
// ever given ASCII: a non-ASCII character inside a basic string ("...",
// """...""") becomes its \uXXXX / \UXXXXXXXX escape, which means the same
// string; in a comment it becomes '?'; anywhere else (literal strings, keys,
// bare values) it is refused, as are control characters (TOML allows none
// but tab). Should this
// scan misjudge where a string is, toml++ sees an escape outside a string and
// reports a parse error; it never sees the bytes that trip it.
struct AsciiToml {
  std::string text;
  uint32_t bad_line = 0;  // first line refused (0: none)
};

static AsciiToml asciify_toml(std::string_view t) {
  AsciiToml r;
  r.text.reserve(t.size());
  enum { code, comment, basic, literal, ml_basic, ml_literal } st = code;
  uint32_t line = 1;
  auto refuse = [&] {
    r.bad_line = line;
    return r;
  };
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      ++line;
      if (st == comment || st == basic || st == literal) st = code;  // an unterminated string is toml++'s to report
      r.text += c;
      continue;
    }
    if ((u < 0x20 && c != '\t' && c != '\r') || u == 0x7f) return refuse();
    if (u >= 0x80 && st == comment) {
      r.text += '?';  // a comment's text is ignored anyway
      continue;
    }
    if (u >= 0x80) {
      if (st != basic && st != ml_basic) return refuse();
      // t is valid UTF-8 (checked by the caller): decode one code point.
      size_t n = u >= 0xF0 ? 4 : u >= 0xE0 ? 3 : 2;
      uint32_t cp = u & (n == 4 ? 0x07 : n == 3 ? 0x0F : 0x1F);
      for (size_t k = 1; k < n && i + k < t.size(); ++k) cp = cp << 6 | (static_cast<unsigned char>(t[i + k]) & 0x3F);
      char esc[16];
      std::snprintf(esc, sizeof esc, cp > 0xFFFF ? "\\U%08X" : "\\u%04X", cp);
      r.text += esc;
      i += n - 1;
      continue;
    }
    r.text += c;
    auto starts = [&](const char* three) { return t.substr(i, 3) == three; };
    switch (st) {
      case code:
        if (c == '#') {
          st = comment;
        } else if (starts("\"\"\"")) {
          st = ml_basic;
          r.text += "\"\"";
          i += 2;
        } else if (starts("'''")) {
          st = ml_literal;
          r.text += "''";
          i += 2;
        } else if (c == '"') {
          st = basic;
        } else if (c == '\'') {
          st = literal;
        }
        break;
      case comment:
        break;
      case basic:
      case ml_basic:
        if (c == '\\' && i + 1 < t.size() && static_cast<unsigned char>(t[i + 1]) < 0x80 && t[i + 1] != '\n') {
          r.text += t[++i];  // an escaped ASCII character (\" does not end the string)
        } else if (st == basic && c == '"') {
          st = code;
        } else if (st == ml_basic && starts("\"\"\"")) {
          st = code;
          r.text += "\"\"";
          i += 2;
        }
        break;
      case literal:
        if (c == '\'') st = code;
        break;
      case ml_literal:
        if (starts("'''")) {
          st = code;
          r.text += "''";
          i += 2;
        }
        break;
    }
  }
  return r;
}

Result<Config> parse_config(std::string_view text, const std::string& name) {
  if (!valid_utf8(text)) return app_error(name + ": not UTF-8 (a TOML file must be)");
  auto ascii = asciify_toml(text);
  if (ascii.bad_line)
    return app_error(name + ":" + std::to_string(ascii.bad_line) +
                     ": a control character, or a non-ASCII character outside a \"double-quoted\" string");
  toml::table root;
  try {
    root = toml::parse(ascii.text, name);
  } catch (const toml::parse_error& e) {
    return app_error(name + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  } catch (const std::exception& e) {
    return app_error(name + ": not valid TOML (" + e.what() + ")");
  }
  Config c;
  for (const auto& [k, v] : root) {
    std::string key(k.str());
    Status st;
    if (key == "cgroup") {
      st = parse_cgroups(c, v, name);
    } else if (key == "recommend") {
      st = parse_recommend(c, v, name);
    } else if (auto it = kTopKeys.find(key); it != kTopKeys.end()) {
      st = it->second(c, v, where(name, key, v));
    } else {
      std::vector<std::string> keys;
      for (const auto& [known, _] : kTopKeys) keys.push_back(known);
      keys.push_back("[[cgroup]]");
      keys.push_back("[recommend]");
      return error_at(Where{name, key, k.source().begin.line}, "unknown key (known: " + known_keys(keys) + ")");
    }
    if (!st) return st.error();
  }
  return c;
}

Result<Config> load_config(const std::string& path) {
  auto text = read_input_file(path, kMaxConfigBytes, "the config file");
  if (!text) return text.error();
  return parse_config(*text, path);
}

policy::Params to_params(const Config& cfg) {
  policy::Params p;
  static_cast<policy::Knobs&>(p) = cfg;
  return p;
}

policy::CgroupPolicy cgroup_policy(const Config& cfg, const std::string& path) {
  for (const auto& e : cfg.cgroups)
    if (e.path == path) return e.policy;
  return {};
}

}  // namespace ow::config
