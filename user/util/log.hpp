// Operator log (stderr via spdlog). Events, samples and decisions go to sinks,
// not here. libbpf's own print callback is routed into the same logger so its
// output obeys the log level instead of spraying verifier dumps on stderr.
#pragma once
#include <spdlog/spdlog.h>

namespace ow {

// level: "debug", "info", "warn", "error"; unknown -> info. When stderr is
// systemd's journal stream (JOURNAL_STREAM names stderr's device and inode),
// each line starts with its syslog priority ("<4>warning ...") and no time
// (journald stamps it), so `journalctl -p warning` finds the warnings.
void setup_logging(const std::string& level);

// The syslog priority journald reads from a "<N>" prefix: trace and debug 7,
// info 6, warn 4, error 3, critical 2.
int syslog_priority(spdlog::level::level_enum l);

// stderr is systemd's journal stream (checked once).
bool stderr_is_journal();

// JOURNAL_STREAM's value ("DEV:INODE", decimal) names this device and inode.
bool journal_stream_is(const char* env, unsigned long long dev, unsigned long long ino);

}  // namespace ow
