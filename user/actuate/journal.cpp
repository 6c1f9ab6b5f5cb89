#include "actuate/journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "util/fs.hpp"
#include "util/text.hpp"

namespace ow::actuate {

// The file: JSON lines, replayed in order. A setting is one line
//   {"cgroup":C,"file":F,"original":V}  (+ "subtree":true,"keep":[...])
// and a cgroup that is gone one line {"forget":C}. Appending a line is one
// write(2), whatever the journal holds; the file is rewritten (atomically)
// only when lines of forgotten settings outnumber the live ones. An older
// agent's single {"settings":[...]} object loads too.
namespace {

nlohmann::json entry_json(const std::string& rel, const Saved& v) {
  nlohmann::json e{{"cgroup", encode_bytes(rel)}, {"file", v.file}, {"original", v.original}};
  if (v.subtree) {
    e["subtree"] = true;
    e["keep"] = nlohmann::json::array();
    for (const auto& r : v.keep) e["keep"].push_back(encode_bytes(r));
  }
  return e;
}

std::string decoded(const nlohmann::json& v) {
  std::string out;
  if (!decode_bytes(v.get<std::string>(), out)) throw std::runtime_error("bad cgroup encoding");
  return out;
}

}  // namespace

void Journal::apply(const nlohmann::json& e) {
  if (auto f = e.find("forget"); f != e.end()) {
    drop(decoded(*f));
    return;
  }
  std::string rel = decoded(e.at("cgroup"));
  auto file = e.at("file").get<std::string>();
  Saved sv{file, e.at("original").get<std::string>()};
  sv.subtree = e.value("subtree", false);
  if (auto k = e.find("keep"); k != e.end())
    for (const auto& x : *k) sv.keep.push_back(decoded(x));
  entries_.emplace(rel + "\n" + file, std::move(sv));  // the first original of a setting is kept
}

bool Journal::drop(const std::string& rel) {
  const std::string prefix = rel + "\n";
  bool any = false;
  for (auto it = entries_.lower_bound(prefix); it != entries_.end() && it->first.rfind(prefix, 0) == 0;) {
    it = entries_.erase(it);
    any = true;
  }
  return any;
}

Status Journal::load() {
  entries_.clear();
  lines_ = 0;
  fd_.reset();
  auto t = read_text(path_);
  if (!t) return t.error().err == ENOENT ? Status{} : Status{t.error()};
  auto lines = split_lines(*t);
  for (size_t i = 0; i < lines.size(); ++i) {
    try {
      auto j = nlohmann::json::parse(lines[i]);
      if (auto st = j.find("settings"); st != j.end())
        for (const auto& e : *st) apply(e);
      else
        apply(j);
      ++lines_;
    } catch (const std::exception& ex) {
      // A last line cut short: the agent died inside the write, before it
      // changed the setting that line was for (it changes after the write).
      if (i + 1 == lines.size() && (*t).back() != '\n') {
        ++lines_;
        continue;
      }
      return app_error(std::string("corrupt journal (line ") + std::to_string(i + 1) + ": " + ex.what() + "):",
                       path_);
    }
  }
  return {};
}

Status Journal::append(const std::vector<nlohmann::json>& lines) {
  if (!fd_.valid()) {
    if (auto dir = parent_dir(path_); !dir.empty())
      if (auto s = mkdir_p(dir); !s) return s;
    fd_ = UniqueFd(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, kFileMode));
    if (!fd_.valid()) return sys_error("open", path_);
  }
  std::string buf;
  for (const auto& l : lines) buf += json_line(l) + "\n";
  if (!write_all(fd_.get(), buf)) return sys_error("write", path_);
  lines_ += lines.size();
  if (lines_ > 2 * entries_.size() + 64) return save();
  return {};
}

Status Journal::save() {
  std::string buf;
  for (const auto& [k, v] : entries_) buf += json_line(entry_json(k.substr(0, k.find('\n')), v)) + "\n";
  if (auto dir = parent_dir(path_); !dir.empty())
    if (auto s = mkdir_p(dir); !s) return s;
  // the journal on disk is either the old or the new one, never half
  auto s = write_file_atomic(path_, buf, kFileMode, Durability::ProcessDeath);
  if (!s) return s;
  fd_.reset();  // the next append opens the new file
  lines_ = entries_.size();
  return {};
}

Status Journal::remember(const std::string& rel, const std::string& file, const std::string& original) {
  auto key = rel + "\n" + file;
  if (entries_.count(key)) return {};
  auto it = entries_.emplace(key, Saved{file, original}).first;
  return append({entry_json(rel, it->second)});
}

Status Journal::remember_subtree(const std::string& rel, const std::string& original, std::vector<std::string> keep) {
  auto key = rel + "\nmemory.oom_control";
  if (entries_.count(key)) return {};
  Saved sv{"memory.oom_control", original};
  sv.subtree = true;
  sv.keep = std::move(keep);
  auto it = entries_.emplace(key, std::move(sv)).first;
  return append({entry_json(rel, it->second)});
}

void Journal::forget(const std::string& rel) {
  // A failed append leaves a line that restores a cgroup that is gone: the
  // write finds it missing and drops it.
  if (drop(rel)) (void)append({nlohmann::json{{"forget", encode_bytes(rel)}}});
}

namespace {

// Descendants of rel that inherited oom_kill_disable 1 from it: back to 0.
// own: whether a descendant has an entry of its own (restored by it).
template <class Own>
int restore_descendants(const cg::Hierarchy& h, const std::string& rel, const std::vector<std::string>& keep,
                        const Own& own, Error& first, bool& failed) {
  int n = 0;
  for (const auto& [id, d] : h.walk(rel)) {
    if (d == rel || own(d) || std::find(keep.begin(), keep.end(), d) != keep.end()) continue;
    auto ev = h.events(d);
    if (!ev || !ev->oom_kill_disable) continue;  // gone, or nothing to put back
    if (auto s = h.set_oom_kill_disable(d, false); s)
      ++n;
    else if (s.error().err != ENOENT && !failed) {
      first = s.error();
      failed = true;
    }
  }
  return n;
}

}  // namespace

Status Journal::remember(const std::vector<Entry>& entries) {
  std::vector<nlohmann::json> lines;
  for (const auto& e : entries) {
    auto [it, added] = entries_.emplace(e.rel + "\n" + e.file, Saved{e.file, e.original});
    if (added) lines.push_back(entry_json(e.rel, it->second));
  }
  return lines.empty() ? Status{} : append(lines);
}

Result<int> Journal::restore(const cg::Hierarchy& h) {
  auto r = restore_by_kind(h);
  if (!r) return r.error();
  return r->total();
}

Result<Journal::Restored> Journal::restore_by_kind(const cg::Hierarchy& h) {
  Restored done;
  Error first;
  bool failed = false;
  for (auto it = entries_.begin(); it != entries_.end();) {
    std::string rel = it->first.substr(0, it->first.find('\n'));
    std::string file = h.abs(rel) + "/" + it->second.file;
    auto s = write_text(file, it->second.original);
    if (s || s.error().err == ENOENT) {
      int n = s.ok();
      if (s && it->second.subtree)
        n += restore_descendants(
            h, rel, it->second.keep,
            [&](const std::string& d) { return entries_.count(d + "\n" + it->second.file) > 0; }, first, failed);
      (it->second.file == "memory.high" ? done.memory_high : done.oom_kill_disable) += n;
      it = entries_.erase(it);
    } else {
      if (!failed) first = s.error();
      failed = true;
      ++it;
    }
  }
  Status sv;
  if (entries_.empty()) {
    fd_.reset();
    lines_ = 0;
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) sv = sys_error("remove", path_);
  } else {
    sv = save();
  }
  if (failed) return first;
  if (!sv) return sv.error();
  return done;
}

}  // namespace ow::actuate
