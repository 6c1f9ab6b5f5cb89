#include "bpfmem/table.hpp"

#include <bpf/libbpf.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "util/units.hpp"
#include "util/text.hpp"

namespace ow::bpfmem {

std::string map_type_name(uint32_t type) {
  const char* s = libbpf_bpf_map_type_str(static_cast<bpf_map_type>(type));
  return s ? s : "type" + std::to_string(type);
}

std::string prog_type_name(uint32_t type) {
  const char* s = libbpf_bpf_prog_type_str(static_cast<bpf_prog_type>(type));
  return s ? s : "type" + std::to_string(type);
}

std::vector<ProcessTotal> by_process(const Table& t) {
  std::map<pid_t, ProcessTotal> acc;
  auto add = [&](const std::vector<Holder>& hs, uint64_t bytes, bool is_map) {
    std::set<pid_t> seen;  // a process holding two fds to one object pays once
    for (const auto& h : hs) {
      if (!seen.insert(h.pid).second) continue;
      auto& p = acc[h.pid];
      p.pid = h.pid;
      if (p.comm.empty()) p.comm = h.comm;
      (is_map ? p.maps : p.progs) += 1;
      p.bytes += bytes;
    }
  };
  for (const auto& m : t.maps) add(m.holders, m.memlock_bytes, true);
  for (const auto& p : t.progs) add(p.holders, p.memlock_bytes, false);
  std::vector<ProcessTotal> out;
  for (auto& [pid, p] : acc) out.push_back(p);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.bytes > b.bytes; });
  return out;
}

std::vector<CgroupTotal> by_cgroup(const Table& t) {
  std::map<uint64_t, CgroupTotal> acc;
  for (const auto& m : t.maps) {
    if (!m.cgroup_known) continue;
    auto& c = acc[m.cgroup_id];
    c.cgroup_id = m.cgroup_id;
    c.cgroup = m.cgroup;
    c.bytes += m.memlock_bytes;
    c.map_ids.push_back(m.id);
  }
  std::vector<CgroupTotal> out;
  for (auto& [id, c] : acc) out.push_back(c);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.bytes > b.bytes; });
  return out;
}

uint64_t map_bytes(const Table& t) {
  uint64_t s = 0;
  for (const auto& m : t.maps) s += m.memlock_bytes;
  return s;
}

uint64_t prog_bytes(const Table& t) {
  uint64_t s = 0;
  for (const auto& p : t.progs) s += p.memlock_bytes;
  return s;
}

uint64_t total_bytes(const Table& t) { return map_bytes(t) + prog_bytes(t); }

uint64_t subtree_map_bytes(const Table& t, const std::string& rel) {
  uint64_t s = 0;
  for (const auto& m : t.maps) {
    if (!m.cgroup_known || m.cgroup.empty()) continue;
    bool in = rel == "/" || m.cgroup == rel || m.cgroup.rfind(rel + "/", 0) == 0;
    if (in) s += m.memlock_bytes;
  }
  return s;
}

std::string held_by(const std::vector<Holder>& holders, const std::vector<std::string>& pinned,
                    const std::vector<uint32_t>& used_by_progs, bool kernel_only) {
  std::vector<std::string> parts;
  for (const auto& h : holders)
    parts.push_back(fmt::format("pid {} ({}) fd {}{}", h.pid, h.comm, h.fd, h.via_link ? " via link" : ""));
  std::vector<std::string> refs;
  for (const auto& p : pinned) refs.push_back("pinned " + p);
  if (!used_by_progs.empty()) {
    std::string s = "used by prog";
    for (size_t i = 0; i < used_by_progs.size(); ++i) s += (i ? "," : " ") + std::to_string(used_by_progs[i]);
    refs.push_back(s);
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "; " : "") + v[i];
    return s;
  };
  if (parts.empty()) {
    if (refs.empty() && kernel_only) refs.push_back("kernel references only: an inner map, or being freed");
    return "no process holds it" + (refs.empty() ? std::string() : " (" + join(refs) + ")");
  }
  parts.insert(parts.end(), refs.begin(), refs.end());
  return join(parts);
}

namespace {
nlohmann::json holders_json(const std::vector<Holder>& hs) {
  auto a = nlohmann::json::array();
  for (const auto& h : hs) {
    nlohmann::json j{{"pid", h.pid}, {"comm", printable(h.comm)}, {"fd", h.fd}};
    if (h.via_link) j["via_link"] = true;
    a.push_back(j);
  }
  return a;
}

// The fields maps and programs share; type_name is the kind's name for o.type.
nlohmann::json object_json(const BpfObject& o, const std::string& type_name) {
  return {{"id", o.id},
          {"type", type_name},
          {"type_id", o.type},
          {"name", printable(o.name)},
          {"memlock_bytes", o.memlock_bytes},
          {"holders", holders_json(o.holders)},
          {"pinned", o.pinned}};
}
}  // namespace

nlohmann::json to_json(const Table& t) {
  nlohmann::json j;
  j["maps"] = nlohmann::json::array();
  for (const auto& m : t.maps) {
    nlohmann::json o = object_json(m, map_type_name(m.type));
    o["key_size"] = m.key_size;
    o["value_size"] = m.value_size;
    o["max_entries"] = m.max_entries;
    o["map_flags"] = m.map_flags;
    o["used_by_progs"] = m.used_by_progs;
    o["held_by"] = held_by(m.holders, m.pinned, m.used_by_progs, m.cgroup_known && m.usercnt == 0);
    if (m.cgroup_known) {
      o["cgroup"] = printable(m.cgroup);
      o["cgroup_id"] = m.cgroup_id;
      if (m.cgroup.empty()) o["cgroup_removed"] = true;
      if (m.uncharged) o["uncharged"] = true;
      o["refcnt"] = m.refcnt;
      o["usercnt"] = m.usercnt;
    } else {
      o["cgroup"] = nullptr;
      o["cgroup_id"] = nullptr;
    }
    j["maps"].push_back(o);
  }
  j["programs"] = nlohmann::json::array();
  for (const auto& p : t.progs) {
    nlohmann::json o = object_json(p, prog_type_name(p.type));
    o["map_ids"] = p.map_ids;
    o["held_by"] = held_by(p.holders, p.pinned, {});
    j["programs"].push_back(o);
  }
  j["by_process"] = nlohmann::json::array();
  for (const auto& p : by_process(t))
    j["by_process"].push_back(
        {{"pid", p.pid}, {"comm", printable(p.comm)}, {"maps", p.maps}, {"programs", p.progs}, {"bytes", p.bytes}});
  j["by_cgroup"] = nlohmann::json::array();
  for (const auto& c : by_cgroup(t))
    j["by_cgroup"].push_back({{"cgroup", printable(c.cgroup)},
                              {"cgroup_id", c.cgroup_id},
                              {"bytes", c.bytes},
                              {"maps", c.map_ids.size()},
                              {"map_ids", c.map_ids}});
  j["map_bytes"] = map_bytes(t);
  j["program_bytes"] = prog_bytes(t);
  j["total_bytes"] = total_bytes(t);
  j["map_source"] = t.map_source;
  if (!t.warnings.empty()) j["warnings"] = t.warnings;
  return j;
}

std::vector<std::string> to_text(const Table& t) {
  std::vector<std::string> out;
  out.push_back(fmt::format("MAPS ({}, {})", t.maps.size(), format_size(map_bytes(t))));
  out.push_back(fmt::format("{:>6}  {:<14} {:<16} {:>5} {:>7} {:>8} {:>10}  {:<28} {}", "ID", "TYPE", "NAME", "KEY",
                            "VALUE", "ENTRIES", "MEMLOCK", "CGROUP", "HELD BY"));
  for (const auto& m : t.maps) {
    std::string cg = !m.cgroup_known ? "?" : m.cgroup.empty() ? "(removed cgroup)" : m.cgroup;
    out.push_back(fmt::format("{:>6}  {:<14} {:<16} {:>5} {:>7} {:>8} {:>10}  {:<28} {}", m.id, map_type_name(m.type),
                              m.name, m.key_size, m.value_size, m.max_entries, format_size(m.memlock_bytes), cg,
                              held_by(m.holders, m.pinned, m.used_by_progs, m.cgroup_known && m.usercnt == 0)));
  }
  out.push_back("");
  out.push_back(fmt::format("PROGRAMS ({}, {})", t.progs.size(), format_size(prog_bytes(t))));
  out.push_back(fmt::format("{:>6}  {:<16} {:<16} {:>10}  {}", "ID", "TYPE", "NAME", "MEMLOCK", "HELD BY"));
  for (const auto& p : t.progs)
    out.push_back(fmt::format("{:>6}  {:<16} {:<16} {:>10}  {}", p.id, prog_type_name(p.type), p.name,
                              format_size(p.memlock_bytes), held_by(p.holders, p.pinned, {})));
  out.push_back("");
  out.push_back("BY PROCESS (objects it holds an fd to; shared objects count for each holder)");
  out.push_back(fmt::format("{:>8}  {:<16} {:>5} {:>6} {:>10}", "PID", "COMM", "MAPS", "PROGS", "BYTES"));
  for (const auto& p : by_process(t))
    out.push_back(fmt::format("{:>8}  {:<16} {:>5} {:>6} {:>10}", p.pid, p.comm, p.maps, p.progs, format_size(p.bytes)));
  out.push_back("");
  out.push_back("BY CHARGED CGROUP (maps)");
  out.push_back(fmt::format("{:>10} {:>5}  {}", "BYTES", "MAPS", "CGROUP"));
  for (const auto& c : by_cgroup(t))
    out.push_back(fmt::format("{:>10} {:>5}  {}", format_size(c.bytes), c.map_ids.size(),
                              c.cgroup.empty() ? "(removed cgroup " + std::to_string(c.cgroup_id) + ")" : c.cgroup));
  out.push_back("");
  out.push_back(fmt::format("TOTAL {} (maps {}, programs {})", format_size(total_bytes(t)), format_size(map_bytes(t)),
                            format_size(prog_bytes(t))));
  for (const auto& w : t.warnings) out.push_back("warning: " + w);
  return out;
}

}  // namespace ow::bpfmem
