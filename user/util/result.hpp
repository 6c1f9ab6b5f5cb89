// Result<T>: recoverable errors as values. An Error carries the errno (0 when
// the failure is not a system error), what was being done, and the path or
// object it was done to, so one line tells an operator what went wrong; and
// whether the caller's own input was at fault (a usage error) rather than the
// node or a service it talked to, so a command can pick its exit code from
// the error instead of from its text.
#pragma once
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace ow {

struct Error {
  int err = 0;          // errno, or 0
  std::string what;     // "write memory.limit_in_bytes"
  std::string path;     // "/sys/fs/cgroup/memory/a"
  bool usage = false;   // the input was wrong (a query a server refused), not the environment

  std::string message() const {
    std::string m = what;
    if (!path.empty()) m += " " + path;
    if (err) m += std::string(": ") + std::strerror(err);
    return m;
  }
};

inline Error sys_error(std::string what, std::string path = {}, int e = errno) {
  return Error{e, std::move(what), std::move(path)};
}
inline Error app_error(std::string what, std::string path = {}) {
  return Error{0, std::move(what), std::move(path)};
}
inline Error usage_error(std::string what, std::string path = {}) {
  return Error{0, std::move(what), std::move(path), true};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T v) : v_(std::move(v)) {}
  Result(Error e) : v_(std::move(e)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }
  T value_or(T d) const { return ok() ? value() : d; }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : e_(std::move(e)), ok_(false) {}
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return e_; }

 private:
  Error e_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace ow
