#include "actuate/journal.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "util/fs.hpp"
#include "util/text.hpp"

namespace ow::actuate {

Status Journal::load() {
  entries_.clear();
  auto t = read_text(path_);
  if (!t) return t.error().err == ENOENT ? Status{} : Status{t.error()};
  try {
    auto j = nlohmann::json::parse(*t);
    for (const auto& e : j.at("settings")) {
      std::string rel;
      if (!decode_bytes(e.at("cgroup").get<std::string>(), rel)) throw std::runtime_error("bad cgroup encoding");
      auto file = e.at("file").get<std::string>();
      Saved sv{file, e.at("original").get<std::string>()};
      sv.subtree = e.value("subtree", false);
      if (auto k = e.find("keep"); k != e.end())
        for (const auto& x : *k) {
          std::string kr;
          if (!decode_bytes(x.get<std::string>(), kr)) throw std::runtime_error("bad cgroup encoding");
          sv.keep.push_back(std::move(kr));
        }
      entries_[rel + "\n" + file] = std::move(sv);
    }
  } catch (const std::exception& ex) {
    return app_error(std::string("corrupt journal (") + ex.what() + "):", path_);
  }
  return {};
}

Status Journal::save() const {
  nlohmann::json j{{"settings", nlohmann::json::array()}};
  for (const auto& [k, v] : entries_) {
    nlohmann::json e{{"cgroup", encode_bytes(k.substr(0, k.find('\n')))}, {"file", v.file}, {"original", v.original}};
    if (v.subtree) {
      e["subtree"] = true;
      e["keep"] = nlohmann::json::array();
      for (const auto& r : v.keep) e["keep"].push_back(encode_bytes(r));
    }
    j["settings"].push_back(std::move(e));
  }
  if (auto dir = parent_dir(path_); !dir.empty())
    if (auto s = mkdir_p(dir); !s) return s;
  // the journal on disk is either the old or the new one, never half
  return write_file_atomic(path_, json_line(j) + "\n", kFileMode, Durability::ProcessDeath);
}

Status Journal::remember(const std::string& rel, const std::string& file, const std::string& original) {
  auto key = rel + "\n" + file;
  if (entries_.count(key)) return {};
  entries_[key] = Saved{file, original};
  return save();
}

Status Journal::remember_subtree(const std::string& rel, const std::string& original, std::vector<std::string> keep) {
  auto key = rel + "\nmemory.oom_control";
  if (entries_.count(key)) return {};
  Saved sv{"memory.oom_control", original};
  sv.subtree = true;
  sv.keep = std::move(keep);
  entries_[key] = std::move(sv);
  return save();
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
  bool added = false;
  for (const auto& e : entries) {
    auto key = e.rel + "\n" + e.file;
    if (entries_.count(key)) continue;
    entries_[key] = Saved{e.file, e.original};
    added = true;
  }
  return added ? save() : Status{};
}

Result<int> Journal::restore(const cg::Hierarchy& h) {
  int n = 0;
  Error first;
  bool failed = false;
  for (auto it = entries_.begin(); it != entries_.end();) {
    std::string rel = it->first.substr(0, it->first.find('\n'));
    std::string file = h.abs(rel) + "/" + it->second.file;
    auto s = write_text(file, it->second.original);
    if (s || s.error().err == ENOENT) {
      n += s.ok();
      if (s && it->second.subtree)
        n += restore_descendants(
            h, rel, it->second.keep,
            [&](const std::string& d) { return entries_.count(d + "\n" + it->second.file) > 0; }, first, failed);
      it = entries_.erase(it);
    } else {
      if (!failed) first = s.error();
      failed = true;
      ++it;
    }
  }
  auto sv = entries_.empty() ? Status(::unlink(path_.c_str()) == 0 || errno == ENOENT ? Status{} : sys_error("remove", path_))
                             : save();
  if (failed) return first;
  if (!sv) return sv.error();
  return n;
}

}  // namespace ow::actuate
