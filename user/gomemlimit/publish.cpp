#include "gomemlimit/publish.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "bpf/bpffs.hpp"
#include "bpf/obj.hpp"
#include "oomwatch.h"
#include "oomwatch.skel.h"
#include "util/clock.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"

namespace ow::gomemlimit {

static_assert(sizeof(ow_gomemlimit_hint) == 40, "ABI of struct ow_gomemlimit_hint changed: update both sides");

namespace {

// The hint map with the BTF of oomwatch's object: everything else in the
// object is left out (no program loaded, no other map created).
Result<UniqueFd> create_hint_map() {
  oomwatch_bpf* s = oomwatch_bpf__open();
  if (!s) return sys_error("open BPF skeleton");
  bpf_program* p;
  bpf_object__for_each_program(p, s->obj) bpf_program__set_autoload(p, false);
  bpf_map* m;
  bpf_object__for_each_map(m, s->obj) {
    if (m != s->maps.gomemlimit_hints && !bpf_map__is_internal(m)) bpf_map__set_autocreate(m, false);
  }
  int err = oomwatch_bpf__load(s);
  if (err) {
    oomwatch_bpf__destroy(s);
    return sys_error("create the gomemlimit_hints map", {}, -err);
  }
  UniqueFd fd(::fcntl(bpf_map__fd(s->maps.gomemlimit_hints), F_DUPFD_CLOEXEC, 0));
  int dup_errno = errno;
  oomwatch_bpf__destroy(s);
  if (!fd.valid()) return sys_error("dup map fd", {}, dup_errno);
  return fd;
}

bool shape_ok(int fd) {
  auto info = bpf::obj_info<bpf_map_info>(fd);
  return info && info->type == BPF_MAP_TYPE_HASH && info->key_size == sizeof(__u64) &&
         info->value_size == sizeof(ow_gomemlimit_hint);
}

// The refusal of every place when there is no hint to publish; nullopt when there is one.
std::optional<PublishReport> refusal(const Breakdown& b) {
  if (b.ok && b.gomemlimit_bytes != 0) return std::nullopt;
  auto e = app_error("refusing to publish: " + (b.error.empty() ? std::string("no hint") : b.error));
  return PublishReport{e, e, e};
}

// The hint files are read by workloads that are not root: 0644, not
// oomwatch's usual 0640 (util/fs.hpp).
Status write_atomic(const std::string& dir, const std::string& name, const std::string& content) {
  if (auto s = mkdir_p(dir); !s) return s;
  return write_file_atomic(dir + "/" + name, content, 0644);
}

}  // namespace

std::string PublishReport::failures() const {
  std::string s;
  auto add = [&](const char* what, const Status& st) {
    if (st.ok()) return;
    if (!s.empty()) s += "; ";
    s += std::string(what) + ": " + st.error().message();
  };
  add("xattr", xattr);
  add("file", file);
  add("bpf map", map);
  return s;
}

Result<std::unique_ptr<Publisher>> Publisher::open(const PublishOptions& opts, bool create) {
  std::unique_ptr<Publisher> p(new Publisher());
  p->opts_ = opts;
  UniqueFd fd(bpf_obj_get(opts.pin_path.c_str()));
  if (fd.valid() && !shape_ok(fd.get())) {
    spdlog::warn("replacing {}: not a gomemlimit hint map of this oomwatch version", opts.pin_path);
    fd.reset();
    ::unlink(opts.pin_path.c_str());
  }
  if (!fd.valid() && create) {
    if (auto s = bpf::ensure_pin_dir(parent_dir(opts.pin_path)); !s) return s.error();
    auto created = create_hint_map();
    if (!created) return created.error();
    if (bpf_obj_pin(created->get(), opts.pin_path.c_str()) == 0) {
      fd = std::move(*created);
    } else if (errno == EEXIST) {
      fd.reset(bpf_obj_get(opts.pin_path.c_str()));  // another publisher won the race
      if (!fd.valid()) return sys_error("open pinned map", opts.pin_path);
    } else {
      return sys_error("pin map at", opts.pin_path);
    }
  }
  p->map_ = std::move(fd);
  return p;
}

PublishReport Publisher::publish(const Target& t, const Breakdown& b) {
  if (auto no = refusal(b)) return *no;
  PublishReport r;
  std::string v = std::to_string(b.gomemlimit_bytes);
  // The file first: it is also the record `oomwatch restore` and the guardian
  // withdraw hints from (failsafe/restore.hpp), so no xattr exists without one.
  r.file = write_atomic(opts_.hint_dir, std::to_string(t.cgroup_id), v + "\n");
  if (::setxattr(t.cgroup_dir.c_str(), opts_.xattr_name.c_str(), v.data(), v.size(), 0) != 0)
    r.xattr = sys_error("set " + opts_.xattr_name + " on", t.cgroup_dir);
  r.map = update_map(t, b);
  if (r.any_ok()) published_[t.cgroup_id] = t;
  return r;
}

PublishReport Publisher::confirm(const Target& t, const Breakdown& b) {
  if (auto no = refusal(b)) return *no;
  PublishReport r;
  r.map = update_map(t, b);
  published_[t.cgroup_id] = t;
  return r;
}

Status Publisher::update_map(const Target& t, const Breakdown& b) {
  if (!map_.valid()) return app_error("no pinned hint map at", opts_.pin_path);
  ow_gomemlimit_hint h{};
  h.hint_bytes = b.gomemlimit_bytes;
  h.effective_limit_bytes = b.effective_limit_bytes;
  h.ebpf_bytes = b.ebpf_bytes;
  h.nonheap_bytes = b.nonheap_bytes - b.ebpf_bytes;
  h.ts_ns = static_cast<uint64_t>(wall_ns());
  __u64 key = t.cgroup_id;
  if (bpf_map_update_elem(map_.get(), &key, &h, BPF_ANY) != 0) return sys_error("update pinned map", opts_.pin_path);
  return {};
}

PublishReport Publisher::unpublish(const Target& t) {
  PublishReport r;
  if (::removexattr(t.cgroup_dir.c_str(), opts_.xattr_name.c_str()) != 0 && errno != ENODATA && errno != ENOENT)
    r.xattr = sys_error("remove " + opts_.xattr_name + " from", t.cgroup_dir);
  std::string f = opts_.hint_dir + "/" + std::to_string(t.cgroup_id);
  if (::unlink(f.c_str()) != 0 && errno != ENOENT) r.file = sys_error("remove", f);
  ::rmdir(opts_.hint_dir.c_str());  // only when no other hint is left; recreated on publish
  if (map_.valid()) {
    __u64 key = t.cgroup_id;
    if (bpf_map_delete_elem(map_.get(), &key) != 0 && errno != ENOENT)
      r.map = sys_error("delete from pinned map", opts_.pin_path);
    else if (opts_.unpin_when_empty)
      r.map = unpin_if_empty();
  }
  published_.erase(t.cgroup_id);
  return r;
}

Status Publisher::unpin_if_empty() {
  __u64 k;
  if (bpf_map_get_next_key(map_.get(), nullptr, &k) == 0) return {};  // other cgroups' hints remain
  if (::unlink(opts_.pin_path.c_str()) != 0 && errno != ENOENT) return sys_error("unpin", opts_.pin_path);
  ::rmdir(parent_dir(opts_.pin_path).c_str());  // only when empty: others may pin there too
  return {};
}

Status Publisher::shutdown() {
  Status first;
  auto targets = published_;
  for (const auto& [id, t] : targets) {
    auto r = unpublish(t);
    if (!r.all_ok() && first.ok()) first = app_error("unpublish " + t.cgroup_dir + ": " + r.failures());
  }
  if (::unlink(opts_.pin_path.c_str()) != 0 && errno != ENOENT && first.ok())
    first = sys_error("unpin", opts_.pin_path);
  ::rmdir(parent_dir(opts_.pin_path).c_str());
  map_.reset();
  return first;
}

}  // namespace ow::gomemlimit
