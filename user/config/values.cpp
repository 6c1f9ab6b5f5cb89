#include "config/values.hpp"

#include <cmath>
#include <cstdlib>

#include "util/units.hpp"

namespace ow::config::detail {

Where where(const std::string& file, std::string key, const toml::node& n) {
  return Where{file, std::move(key), n.source().begin.line};
}

Error error_at(const Where& w, const std::string& msg) {
  return app_error(w.file + ":" + std::to_string(w.line) + ": " + w.key + ": " + msg);
}

namespace {

std::string got(const toml::node& n) {
  std::string t(toml::impl::node_type_friendly_names[static_cast<int>(n.type())]);
  return "got " + t;
}

}  // namespace

Result<bool> to_bool(const toml::node& n, const Where& w) {
  if (auto v = n.value_exact<bool>()) return *v;
  return error_at(w, "want true or false, " + got(n));
}

Result<std::string> to_string(const toml::node& n, const Where& w) {
  auto v = n.value_exact<std::string>();
  if (!v) return error_at(w, "want a string, " + got(n));
  if (v->empty()) return error_at(w, "must not be empty");
  return *v;
}

Result<int64_t> to_int(const toml::node& n, const Where& w, int64_t lo, int64_t hi) {
  auto v = n.value_exact<int64_t>();
  if (!v) return error_at(w, "want an integer, " + got(n));
  if (*v < lo || *v > hi)
    return error_at(w, std::to_string(*v) + " is out of range [" + std::to_string(lo) + ", " +
                           std::to_string(hi) + "]");
  return *v;
}

Result<uint64_t> to_size(const toml::node& n, const Where& w) {
  if (auto i = n.value_exact<int64_t>()) {
    if (*i < 0) return error_at(w, "size " + std::to_string(*i) + " is negative");
    return static_cast<uint64_t>(*i);
  }
  auto s = n.value_exact<std::string>();
  if (!s) return error_at(w, "want a size such as \"64M\" or an integer of bytes, " + got(n));
  auto r = parse_size(*s);
  if (!r) return error_at(w, r.error().message());
  return *r;
}

Result<int64_t> to_duration_ns(const toml::node& n, const Where& w, bool allow_zero) {
  int64_t ns;
  if (auto i = n.value_exact<int64_t>()) {
    if (*i < 0) return error_at(w, "duration " + std::to_string(*i) + " is negative");
    if (*i > INT64_MAX / 1'000'000'000) return error_at(w, "duration " + std::to_string(*i) + "s is too long");
    ns = *i * 1'000'000'000;
  } else if (auto s = n.value_exact<std::string>()) {
    auto r = parse_duration(*s);
    if (!r) return error_at(w, r.error().message());
    ns = r->count();
  } else {
    return error_at(w, "want a duration such as \"500ms\" or an integer of seconds, " + got(n));
  }
  if (ns == 0 && !allow_zero) return error_at(w, "must be greater than zero");
  return ns;
}

Result<std::vector<std::string>> to_strings(const toml::node& n, const Where& w) {
  const auto* arr = n.as_array();
  if (!arr) return error_at(w, "want an array of strings, " + got(n));
  std::vector<std::string> out;
  for (size_t i = 0; i < arr->size(); ++i) {
    const auto& e = *arr->get(i);
    auto s = to_string(e, where(w.file, w.key + "[" + std::to_string(i) + "]", e));
    if (!s) return s.error();
    out.push_back(*s);
  }
  return out;
}

Result<Reserve> to_reserve(const toml::node& n, const Where& w) {
  if (auto f = n.value_exact<double>()) {
    if (!(*f >= 0 && *f < 1)) return error_at(w, "fraction " + std::to_string(*f) + " is not in [0, 1)");
    return Reserve{*f, 0};
  }
  auto s = n.value_exact<std::string>();
  if (s && !s->empty() && s->back() == '%') {
    std::string num = s->substr(0, s->size() - 1);
    char* end = nullptr;
    double pct = std::strtod(num.c_str(), &end);
    if (num.empty() || *end != '\0' || !std::isfinite(pct) || pct < 0 || pct >= 100)
      return error_at(w, "bad percentage '" + *s + "' (want e.g. \"5%\", below 100%)");
    return Reserve{pct / 100, 0};
  }
  auto b = to_size(n, w);
  if (!b) return b.error();
  if (*b == kUnlimited) return error_at(w, "reserve cannot be \"max\"");
  return Reserve{0, *b};
}

}  // namespace ow::config::detail
