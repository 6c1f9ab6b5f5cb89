#include "bpfmem/kernel.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "bpf/loader.hpp"
#include "bpf/obj.hpp"
#include "bpfmem/fdinfo.hpp"
#include "oomwatch.skel.h"
#include "util/fd.hpp"
#include "util/fs.hpp"
#include "util/text.hpp"

namespace ow::bpfmem {

static_assert(sizeof(ow_bpf_map_rec) == 72, "ABI of struct ow_bpf_map_rec changed: update both sides");

namespace {

std::optional<uint64_t> fd_memlock(int fd) {
  auto t = read_text("/proc/self/fdinfo/" + std::to_string(fd));
  if (!t) return std::nullopt;
  return FdInfo::parse(*t).u64("memlock");
}

FdKind fd_kind(int fd) {
  char buf[64];
  ssize_t n = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), buf, sizeof buf - 1);
  if (n <= 0) return FdKind::NotBpf;
  return classify_fd_target(std::string_view(buf, static_cast<size_t>(n)));
}

}  // namespace

Result<std::vector<ow_bpf_map_rec>> parse_map_records(const std::string& bytes) {
  if (bytes.size() % sizeof(ow_bpf_map_rec) != 0)
    return app_error("bpf_map iterator output of " + std::to_string(bytes.size()) + " bytes is not whole records");
  std::vector<ow_bpf_map_rec> out(bytes.size() / sizeof(ow_bpf_map_rec));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

Result<std::vector<ow_bpf_map_rec>> read_map_records(const bpf::Loader& loader) {
  if (!loader.bpfmem_loaded()) return app_error("the bpf_map iterator is not loaded on this kernel");
  bpf_link* link = bpf_program__attach_iter(loader.skel()->progs.bpfmem_dump_map, nullptr);
  if (!link) return sys_error("attach bpf_map iterator");
  Link owned(link);
  std::string bytes;
  if (auto st = bpf::run_iter(link, "bpf_map iterator", {}, &bytes); !st) return st.error();
  return parse_map_records(bytes);
}

Result<std::vector<ow_bpf_map_rec>> list_maps_by_id() {
  std::vector<ow_bpf_map_rec> out;
  __u32 id = 0;
  while (bpf_map_get_next_id(id, &id) == 0) {
    UniqueFd fd(bpf_map_get_fd_by_id(id));
    if (!fd.valid()) {
      if (errno == ENOENT) continue;
      return sys_error("open map by id " + std::to_string(id));
    }
    auto info = bpf::obj_info<bpf_map_info>(fd.get());
    if (!info) continue;
    ow_bpf_map_rec r{};
    r.id = info->id;
    r.map_type = info->type;
    r.key_size = info->key_size;
    r.value_size = info->value_size;
    r.max_entries = info->max_entries;
    r.map_flags = info->map_flags;
    std::memcpy(r.name, info->name, sizeof r.name);
    out.push_back(r);
  }
  if (errno != ENOENT) return sys_error("list bpf maps");
  return out;
}

std::optional<uint64_t> map_memlock(uint32_t id) {
  UniqueFd fd(bpf_map_get_fd_by_id(id));
  if (!fd.valid()) return std::nullopt;
  return fd_memlock(fd.get());
}

std::vector<ProgInfo> list_progs() {
  std::vector<ProgInfo> out;
  __u32 id = 0;
  while (bpf_prog_get_next_id(id, &id) == 0) {
    UniqueFd fd(bpf_prog_get_fd_by_id(id));
    if (!fd.valid()) continue;  // unloaded meanwhile
    auto info = bpf::obj_info<bpf_prog_info>(fd.get());
    if (!info) continue;
    ProgInfo p;
    p.id = info->id;
    p.type = info->type;
    p.name = std::string(field_bytes(info->name));
    p.memlock_bytes = fd_memlock(fd.get()).value_or(0);
    if (info->nr_map_ids > 0) {
      std::vector<__u32> ids(info->nr_map_ids);
      bpf_prog_info again{};
      again.nr_map_ids = info->nr_map_ids;
      again.map_ids = reinterpret_cast<__u64>(ids.data());
      __u32 len = sizeof again;
      if (bpf_obj_get_info_by_fd(fd.get(), &again, &len) == 0) {
        ids.resize(std::min<size_t>(ids.size(), again.nr_map_ids));
        p.map_ids.assign(ids.begin(), ids.end());
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

Pins walk_pins(const std::string& root) {
  Pins pins;
  int budget = 100000;  // entries: a pathological bpffs must not hang the table
  std::function<void(const std::string&, int)> walk = [&](const std::string& dir, int depth) {
    if (depth > 16) return;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    std::vector<std::pair<std::string, bool>> entries;
    while (dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      if (--budget < 0) break;
      entries.emplace_back(dir + "/" + e->d_name, e->d_type == DT_DIR);
    }
    ::closedir(d);
    for (const auto& [path, is_dir] : entries) {
      if (is_dir) {
        walk(path, depth + 1);
        continue;
      }
      UniqueFd fd(bpf_obj_get(path.c_str()));
      if (!fd.valid()) continue;
      switch (fd_kind(fd.get())) {
        case FdKind::Map:
          if (auto info = bpf::obj_info<bpf_map_info>(fd.get())) pins.maps[info->id].push_back(path);
          break;
        case FdKind::Prog:
          if (auto info = bpf::obj_info<bpf_prog_info>(fd.get())) pins.progs[info->id].push_back(path);
          break;
        case FdKind::Link:
          if (auto info = bpf::obj_info<bpf_link_info>(fd.get()); info && info->prog_id)
            pins.progs[info->prog_id].push_back(path + " (link)");
          break;
        default:
          break;
      }
    }
  };
  walk(root, 0);
  return pins;
}

OwnIds own_ids(const bpf::Loader& loader) {
  OwnIds ids;
  bpf_object* obj = loader.skel()->obj;
  bpf_map* m;
  bpf_object__for_each_map(m, obj) {
    if (auto info = bpf::obj_info<bpf_map_info>(bpf_map__fd(m))) ids.maps.insert(info->id);
  }
  bpf_program* p;
  bpf_object__for_each_program(p, obj) {
    if (auto info = bpf::obj_info<bpf_prog_info>(bpf_program__fd(p))) ids.progs.insert(info->id);
  }
  return ids;
}

}  // namespace ow::bpfmem
