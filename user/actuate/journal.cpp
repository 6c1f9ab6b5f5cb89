#include "actuate/journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "util/fd.hpp"
#include "util/fs.hpp"

namespace ow::actuate {

Status Journal::load() {
  entries_.clear();
  auto t = read_text(path_);
  if (!t) return t.error().err == ENOENT ? Status{} : Status{t.error()};
  try {
    auto j = nlohmann::json::parse(*t);
    for (const auto& e : j.at("settings"))
      entries_[e.at("cgroup").get<std::string>() + "\n" + e.at("file").get<std::string>()] =
          Saved{e.at("file").get<std::string>(), e.at("original").get<std::string>()};
  } catch (const std::exception& ex) {
    return app_error(std::string("corrupt journal (") + ex.what() + "):", path_);
  }
  return {};
}

Status Journal::save() const {
  nlohmann::json j{{"settings", nlohmann::json::array()}};
  for (const auto& [k, v] : entries_)
    j["settings"].push_back({{"cgroup", k.substr(0, k.find('\n'))}, {"file", v.file}, {"original", v.original}});
  auto dir = path_.substr(0, path_.rfind('/'));
  if (!dir.empty()) {
    auto s = mkdir_p(dir);
    if (!s) return s;
  }
  // write + fsync + rename: the journal is either the old or the new one
  std::string tmp = path_ + ".tmp";
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.valid()) return sys_error("open", tmp);
    std::string s = j.dump() + "\n";
    if (::write(fd.get(), s.data(), s.size()) != static_cast<ssize_t>(s.size())) return sys_error("write", tmp);
    if (::fsync(fd.get()) != 0) return sys_error("fsync", tmp);
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) return sys_error("rename", path_);
  return {};
}

Status Journal::remember(const std::string& rel, const std::string& file, const std::string& original) {
  auto key = rel + "\n" + file;
  if (entries_.count(key)) return {};
  entries_[key] = Saved{file, original};
  return save();
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
