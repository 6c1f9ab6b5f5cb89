// oomwatch gomemlimit --cgroup P [--json] [--margin F] [--ratio F] [--publish | --unpublish]
// Without --json: only the hint in decimal bytes, for GOMEMLIMIT=$(oomwatch gomemlimit --cgroup P).
// With --json: the hint and every component (gomemlimit/calc.hpp).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "bpf/loader.hpp"
#include "bpfmem/collect.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/options.hpp"
#include "gomemlimit/hint.hpp"
#include "gomemlimit/inputs.hpp"
#include "gomemlimit/publish.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

namespace ow::cli {
namespace {

struct GoMemOpts {
  std::string cgroup;
  bool json = false;
  gomemlimit::CalcParams params;
  bool publish = false, unpublish = false;
  gomemlimit::PublishOptions pub;
};

// The bpf-mem table, for the eBPF bytes charged to the cgroup: needs root
// and the bpf_map iterator; without them the hint says eBPF is unmeasured.
Result<bpfmem::Table> ebpf_table(const cg::Hierarchy& h) {
  if (::geteuid() != 0) return app_error("not root");
  bpf::LoaderOptions lo;
  lo.oom_events = false;
  lo.bpfmem = true;
  auto l = bpf::Loader::open(lo);
  if (!l) return l.error();
  cg::IdCache ids(h);
  return bpfmem::collect(**l, ids);
}

int run_unpublish(const GoMemOpts& o, const cg::Hierarchy& h, const std::string& rel, uint64_t id) {
  if (int rc = require_root("gomemlimit --unpublish")) return rc;
  auto p = gomemlimit::Publisher::open(o.pub, false);
  if (!p) return fail(kExitEnv, p.error());
  auto r = (*p)->unpublish({h.abs(rel), id});
  if (!r.all_ok()) return fail(kExitEnv, "unpublish " + rel + ": " + r.failures());
  if (o.json) print_line(json_line(nlohmann::json{{"cgroup", rel}, {"cgroup_id", id}, {"unpublished", true}}));
  return kExitOk;
}

int run_gomemlimit(const GoMemOpts& o) {
  if (auto v = gomemlimit::validate(o.params); !v) return fail(kExitUsage, v.error());
  if (o.publish && o.unpublish) return fail(kExitUsage, "--publish and --unpublish exclude each other");
  auto h = memory_hierarchy();
  if (!h) return fail(kExitEnv, h.error());
  std::string rel;
  if (int rc = resolve_flag(*h, "--cgroup", o.cgroup, rel)) return rc;
  auto id = h->id_of(rel);
  if (!id) return fail(kExitEnv, id.error());
  if (o.unpublish) return run_unpublish(o, *h, rel, *id);
  if (o.publish)
    if (int rc = require_root("gomemlimit --publish (xattr, /run and the pinned BPF map)")) return rc;

  auto table = ebpf_table(*h);
  auto hint = gomemlimit::hint_for(*h, rel, table ? &*table : nullptr, o.params);
  if (!hint) return fail(kExitEnv, hint.error());
  if (!table) hint->ebpf_source = "unavailable: " + table.error().message();
  if (!hint->ebpf_measured)
    spdlog::warn("{}: eBPF memory not measured ({}); the hint leaves no room for it", rel, hint->ebpf_source);
  const auto& b = hint->breakdown;

  nlohmann::json j = gomemlimit::to_json(b, rel, *id);
  j["ebpf_source"] = hint->ebpf_source;
  j["ebpf_maps"] = hint->ebpf_maps;
  if (!b.ok) {
    if (o.json) print_line(json_line(j));
    return fail(kExitEnv, rel + ": " + b.error,
                "raise the cgroup's limit, or lower --margin / --cache-fraction if the reserve is too cautious");
  }
  if (o.publish) {
    auto p = gomemlimit::Publisher::open(o.pub, true);
    gomemlimit::PublishReport r;
    if (p) {
      r = (*p)->publish({h->abs(rel), *id}, b);
    } else {
      // The map is out of reach; the xattr and the file may still work.
      auto no_map = gomemlimit::Publisher::open(o.pub, false);
      if (!no_map) return fail(kExitEnv, no_map.error());
      r = (*no_map)->publish({h->abs(rel), *id}, b);
      r.map = p.error();
    }
    if (!r.any_ok()) return fail(kExitEnv, "publish the hint for " + rel + ": " + r.failures());
    if (!r.all_ok()) spdlog::warn("{}: hint published, but not everywhere: {}", rel, r.failures());
    j["published"] = {{"xattr", r.xattr.ok()}, {"file", r.file.ok()}, {"bpf_map", r.map.ok()},
                      {"pin", o.pub.pin_path}, {"hint_file", o.pub.hint_dir + "/" + std::to_string(*id)}};
  }
  print_line(o.json ? json_line(j) : std::to_string(b.gomemlimit_bytes));
  return kExitOk;
}

}  // namespace

void add_gomemlimit(CLI::App* sub, Action& action) {
  auto* o = on_run<GoMemOpts>(sub, action, run_gomemlimit);
  add_cgroup_flag(sub, o->cgroup, "the memory cgroup")->required();
  sub->add_flag("--json", o->json, "the hint and every component in bytes, one JSON object");
  sub->add_option("--margin", o->params.margin_fraction, "safety margin, a fraction of the limit")
      ->capture_default_str();
  sub->add_option("--ratio", o->params.ratio, "share of what is left that the Go heap may use")->capture_default_str();
  sub->add_option("--cache-fraction", o->params.cache_fraction,
                  "share of clean page cache kept in reserve (dirty and writeback pages always are)")
      ->capture_default_str();
  sub->add_flag("--publish", o->publish,
                "publish the hint once: xattr user.oomwatch.gomemlimit, /run/oomwatch/gomemlimit/<id>, pinned map");
  sub->add_flag("--unpublish", o->unpublish, "remove the cgroup's published hint from all three places");
  sub->add_option("--hint-dir", o->pub.hint_dir, "directory of the hint files")
      ->type_name("DIR")->capture_default_str();
  sub->add_option("--pin", o->pub.pin_path, "bpffs path of the pinned hint map")
      ->type_name("FILE")->capture_default_str();
}

}  // namespace ow::cli
