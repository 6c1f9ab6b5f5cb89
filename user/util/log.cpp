#include "util/log.hpp"

#include <bpf/libbpf.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "util/text.hpp"

namespace ow {
namespace {

int libbpf_print(enum libbpf_print_level level, const char* fmt, va_list args) {
  char buf[1024];
  int n = std::vsnprintf(buf, sizeof buf, fmt, args);
  if (n <= 0) return n;
  std::string line(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
  while (!line.empty() && line.back() == '\n') line.pop_back();
  // libbpf warns about every failed probe and fallback; oomwatch reports what
  // matters itself, so libbpf's warnings are debug detail for the operator.
  switch (level) {
    case LIBBPF_WARN: spdlog::debug("libbpf: {}", line); break;
    case LIBBPF_INFO: spdlog::debug("libbpf: {}", line); break;
    default: spdlog::trace("libbpf: {}", line); break;
  }
  return n;
}

// Every message as printable() writes it: a log line carries cgroup and
// process names, any byte but '/' from a tenant, and a line must stay one
// line with no escape sequence reaching the operator's terminal, whichever
// call site formatted the name. printable() output passes through unchanged.
class PrintableSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit PrintableSink(spdlog::sink_ptr inner) : inner_(std::move(inner)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string_view text(msg.payload.data(), msg.payload.size());
    std::string safe = printable(text);
    if (safe == text) {
      inner_->log(msg);
      return;
    }
    spdlog::details::log_msg m = msg;
    m.payload = safe;
    inner_->log(m);
  }
  void flush_() override { inner_->flush(); }
  void set_pattern_(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter_(std::unique_ptr<spdlog::formatter> f) override { inner_->set_formatter(std::move(f)); }

 private:
  spdlog::sink_ptr inner_;
};

// %J: the "<N>" syslog priority prefix journald reads.
class PriorityFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string p = "<" + std::to_string(syslog_priority(msg.level)) + ">";
    dest.append(p.data(), p.data() + p.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<PriorityFlag>(); }
};

bool stderr_is_journal_now() {
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return journal_stream_is(std::getenv("JOURNAL_STREAM"), st.st_dev, st.st_ino);
}

}  // namespace

bool stderr_is_journal() {
  static const bool journal = stderr_is_journal_now();
  return journal;
}

int syslog_priority(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace:
    case spdlog::level::debug: return 7;
    case spdlog::level::info: return 6;
    case spdlog::level::warn: return 4;
    case spdlog::level::err: return 3;
    case spdlog::level::critical: return 2;
    default: return 6;
  }
}

bool journal_stream_is(const char* env, unsigned long long dev, unsigned long long ino) {
  if (env == nullptr) return false;
  char* end = nullptr;
  unsigned long long d = std::strtoull(env, &end, 10);
  if (end == env || *end != ':') return false;
  const char* rest = end + 1;
  unsigned long long i = std::strtoull(rest, &end, 10);
  if (end == rest || *end != '\0') return false;
  return d == dev && i == ino;
}

void setup_logging(const std::string& level) {
  auto inner = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("oomwatch", std::make_shared<PrintableSink>(inner));
  if (stderr_is_journal_now()) {
    auto f = std::make_unique<spdlog::pattern_formatter>();
    f->add_flag<PriorityFlag>('J').set_pattern("%J%l %v");
    logger->set_formatter(std::move(f));
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level.empty() ? "info" : level));
  if (spdlog::get_level() == spdlog::level::off && level != "off") spdlog::set_level(spdlog::level::info);
  libbpf_set_print(libbpf_print);
}

}  // namespace ow
