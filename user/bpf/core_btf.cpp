#include "bpf/core_btf.hpp"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/btf.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <optional>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "util/fd.hpp"
#include "util/fs.hpp"

namespace ow::bpf {
namespace {

constexpr const char* kKernelBtf = "/sys/kernel/btf/vmlinux";
constexpr char kIterFunc[] = "bpf_iter_cgroup";
constexpr char kRdonlyCastFunc[] = "bpf_rdonly_cast";  // the snapshot program's kfunc
// Bump when what is cut or kept changes: old caches are then rebuilt.
constexpr const char* kCoreBtfFormat = "oomwatch core btf 5";

// FNV-1a over 8-byte words (then the tail bytes): a checksum, not a MAC.
uint64_t hash_bytes(std::string_view s, uint64_t h = 0xcbf29ce484222325ULL) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0x100000001b3ULL;
  }
  for (; i < s.size(); ++i) h = (h ^ static_cast<unsigned char>(s[i])) * 0x100000001b3ULL;
  return h;
}

bool is_root_kind(const btf_type* t) {
  switch (btf_kind(t)) {
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
    case BTF_KIND_ENUM:
    case BTF_KIND_ENUM64: return true;
    default: return false;
  }
}

std::string_view essential_name(const char* n) {
  std::string_view s(n);
  auto p = s.find("___");
  return p == std::string_view::npos ? s : s.substr(0, p);
}

// Copies kernel types into `out`, what they embed first; pointers become
// pointers to void, which is where the cut is (cycles only go through them).
class SubsetBuilder {
 public:
  SubsetBuilder(const struct btf* src, struct btf* out)
      : src_(src), out_(out), ids_(btf__type_cnt(src), -1) {
    ids_[0] = 0;
  }

  int add(uint32_t id) {
    if (id >= ids_.size()) return -EINVAL;
    if (ids_[id] >= 0) return ids_[id];
    const btf_type* t = btf__type_by_id(src_, id);
    if (!t) return -EINVAL;
    int nid = -EINVAL;
    switch (btf_kind(t)) {
      case BTF_KIND_PTR: nid = btf__add_ptr(out_, 0); break;
      case BTF_KIND_INT:
      case BTF_KIND_FLOAT:
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64:
      case BTF_KIND_FWD: nid = btf__add_type(out_, src_, t); break;
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG: {
        int to = add(t->type);
        if (to < 0) return to;
        nid = btf__add_type(out_, src_, t);
        if (nid > 0) mut(nid)->type = static_cast<uint32_t>(to);
        break;
      }
      case BTF_KIND_ARRAY: {
        const struct btf_array* a = btf_array(t);
        int elem = add(a->type), idx = add(a->index_type);
        if (elem < 0) return elem;
        if (idx < 0) return idx;
        nid = btf__add_type(out_, src_, t);
        if (nid > 0) {
          btf_array(mut(nid))->type = static_cast<uint32_t>(elem);
          btf_array(mut(nid))->index_type = static_cast<uint32_t>(idx);
        }
        break;
      }
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION: {
        std::vector<int> member_ids;
        const struct btf_member* m = btf_members(t);
        for (int i = 0; i < btf_vlen(t); ++i) {
          int mid = add(m[i].type);
          if (mid < 0) return mid;
          member_ids.push_back(mid);
        }
        nid = btf__add_type(out_, src_, t);
        if (nid > 0) {
          struct btf_member* nm = btf_members(mut(nid));
          for (size_t i = 0; i < member_ids.size(); ++i) nm[i].type = static_cast<uint32_t>(member_ids[i]);
        }
        break;
      }
      case BTF_KIND_FUNC_PROTO: {  // a member can only hold one through a pointer, but a typedef may name one
        std::vector<int> param_ids;
        int ret = add(t->type);
        if (ret < 0) return ret;
        const struct btf_param* p = btf_params(t);
        for (int i = 0; i < btf_vlen(t); ++i) {
          int pid = add(p[i].type);
          if (pid < 0) return pid;
          param_ids.push_back(pid);
        }
        nid = btf__add_type(out_, src_, t);
        if (nid > 0) {
          mut(nid)->type = static_cast<uint32_t>(ret);
          struct btf_param* np = btf_params(mut(nid));
          for (size_t i = 0; i < param_ids.size(); ++i) np[i].type = static_cast<uint32_t>(param_ids[i]);
        }
        break;
      }
      default: return -EINVAL;  // FUNC, VAR, DATASEC, DECL_TAG are never embedded in a type
    }
    if (nid > 0) ids_[id] = nid;
    return nid;
  }

 private:
  // A type just added to `out_`, which owns its (writable) copy.
  btf_type* mut(int nid) { return const_cast<btf_type*>(btf__type_by_id(out_, static_cast<uint32_t>(nid))); }

  const struct btf* src_;
  struct btf* out_;
  std::vector<int> ids_;  // src id -> out id, -1 not yet
};

struct KernelBtfHead {
  UniqueFd fd;
  btf_header hdr{};
  uint64_t key = 0;
};

Result<KernelBtfHead> kernel_btf_head(std::string_view object) {
  KernelBtfHead k;
  k.fd = UniqueFd(::open(kKernelBtf, O_RDONLY | O_CLOEXEC));
  if (!k.fd.valid()) return sys_error("no kernel BTF (needs CONFIG_DEBUG_INFO_BTF=y)", kKernelBtf);
  struct stat st{};
  if (::fstat(k.fd.get(), &st) != 0) return sys_error("stat", kKernelBtf);
  if (::pread(k.fd.get(), &k.hdr, sizeof k.hdr, 0) != static_cast<ssize_t>(sizeof k.hdr) || k.hdr.magic != BTF_MAGIC ||
      k.hdr.hdr_len < sizeof k.hdr)
    return app_error("unreadable kernel BTF header in", kKernelBtf);
  std::string tail(static_cast<size_t>(std::min<off_t>(st.st_size, 4096)), '\0');
  if (::pread(k.fd.get(), tail.data(), tail.size(), st.st_size - static_cast<off_t>(tail.size())) !=
      static_cast<ssize_t>(tail.size()))
    return sys_error("read the end of", kKernelBtf);
  utsname u{};
  ::uname(&u);
  uint64_t h = hash_bytes(kCoreBtfFormat);
  for (const char* s : {u.release, u.version, u.machine}) h = hash_bytes(std::string_view(s, std::strlen(s) + 1), h);
  h = hash_bytes(std::string_view(reinterpret_cast<const char*>(&k.hdr), sizeof k.hdr), h);
  h = hash_bytes(std::to_string(st.st_size), h);
  h = hash_bytes(tail, h);
  k.key = hash_bytes(object, h);
  return k;
}

// Whether the type whose record starts `off` bytes into the kernel BTF's
// type section is of `kind` and named `name`: two preads.
bool type_named_at(const KernelBtfHead& k, uint32_t off, unsigned kind, std::string_view name) {
  btf_type t{};
  off_t types = static_cast<off_t>(k.hdr.hdr_len) + k.hdr.type_off;
  if (off + sizeof t > k.hdr.type_len ||
      ::pread(k.fd.get(), &t, sizeof t, types + off) != static_cast<ssize_t>(sizeof t) || btf_kind(&t) != kind ||
      t.name_off + name.size() + 1 > k.hdr.str_len)
    return false;
  std::string got(name.size() + 1, '\0');
  off_t strs = static_cast<off_t>(k.hdr.hdr_len) + k.hdr.str_off;
  return ::pread(k.fd.get(), got.data(), got.size(), strs + t.name_off) == static_cast<ssize_t>(got.size()) &&
         std::string_view(got.data(), name.size()) == name && got.back() == '\0';
}

// A kernel BTF type the cache names: its id and its record's offset. An
// optional one the kernel lacks has id 0 (and offset 0).
struct Named {
  const char* name;
  unsigned kind;
  bool optional = false;
  uint64_t id = 0, off = 0;
};

// bpf_iter_cgroup (the iterator's attach target), the snapshot program's
// cast targets, and the kfunc it casts with (6.2+; 6.1 has none).
constexpr int kNamed = 4;
std::array<Named, kNamed> named_types() {
  return {Named{kIterFunc, BTF_KIND_FUNC}, Named{"cgroup", BTF_KIND_STRUCT}, Named{"mem_cgroup", BTF_KIND_STRUCT},
          Named{kRdonlyCastFunc, BTF_KIND_FUNC, true}};
}

struct Meta {
  uint64_t key = 0, sum = 0;
  std::array<Named, kNamed> types = named_types();
};

std::string format_meta(const Meta& m) {
  std::string out = fmt::format("key {:016x}\nsum {:016x}\n", m.key, m.sum);
  for (const auto& t : m.types) out += fmt::format("{} {} {}\n", t.name, t.id, t.off);
  return out;
}

std::optional<Meta> parse_meta(std::string_view s) {
  Meta m;
  unsigned seen = 0;
  for (auto line : split_lines(s)) {
    auto w = split_ws(line);
    if (w.size() == 2 && w[0] == "key" && parse_hex_u64(w[1], m.key)) {
      seen |= 1;
      continue;
    }
    if (w.size() == 2 && w[0] == "sum" && parse_hex_u64(w[1], m.sum)) {
      seen |= 2;
      continue;
    }
    bool known = false;
    for (size_t i = 0; i < m.types.size(); ++i)
      if (w.size() == 3 && w[0] == m.types[i].name && parse_u64(w[1], m.types[i].id) &&
          parse_u64(w[2], m.types[i].off)) {
        seen |= 4u << i;
        known = true;
      }
    if (!known && !trim(line).empty()) return std::nullopt;
  }
  if (seen != (4u << kNamed) - 1) return std::nullopt;
  for (const auto& t : m.types)
    if ((t.id == 0 && (!t.optional || t.off != 0)) || t.id > INT32_MAX || t.off > UINT32_MAX) return std::nullopt;
  return m;
}

// Every named type still where the meta says, in the kernel's BTF.
bool types_in_place(const KernelBtfHead& k, const Meta& m) {
  for (const auto& t : m.types)
    if (t.id != 0 && !type_named_at(k, static_cast<uint32_t>(t.off), t.kind, t.name)) return false;
  return true;
}

void fill(CoreBtf& c, const Meta& m) {
  c.iter_cgroup_id = static_cast<int>(m.types[0].id);
  c.cgroup_type_id = static_cast<int>(m.types[1].id);
  c.memcg_type_id = static_cast<int>(m.types[2].id);
  c.rdonly_cast_id = static_cast<int>(m.types[3].id);
}

}  // namespace

Result<std::string> core_btf_subset(const struct btf* local, const struct btf* vmlinux) {
  std::set<std::string, std::less<>> roots;
  for (uint32_t id = 1; id < btf__type_cnt(local); ++id) {
    const btf_type* t = btf__type_by_id(local, id);
    if (!t || !is_root_kind(t)) continue;
    auto n = essential_name(btf__name_by_offset(local, t->name_off));
    if (!n.empty()) roots.emplace(n);
  }
  struct btf* out = btf__new_empty();
  if (!out) return sys_error("allocate a BTF");
  SubsetBuilder b(vmlinux, out);
  Result<std::string> r = std::string();
  for (uint32_t id = 1; id < btf__type_cnt(vmlinux) && r; ++id) {
    const btf_type* t = btf__type_by_id(vmlinux, id);
    if (!is_root_kind(t) || roots.find(essential_name(btf__name_by_offset(vmlinux, t->name_off))) == roots.end())
      continue;
    if (int e = b.add(id); e < 0) r = app_error(fmt::format("copy kernel BTF type {} ({})", id, e));
  }
  if (r) {
    uint32_t size = 0;
    const void* raw = btf__raw_data(out, &size);
    if (!raw) r = sys_error("serialize the CO-RE BTF");
    else r = std::string(static_cast<const char*>(raw), size);
  }
  btf__free(out);
  return r;
}

Result<uint64_t> core_btf_key(std::string_view object) {
  auto k = kernel_btf_head(object);
  if (!k) return k.error();
  return k->key;
}

Result<CoreBtf> core_btf_for(const std::string& dir, std::string_view object) {
  auto k = kernel_btf_head(object);
  if (!k) return k.error();
  CoreBtf c;
  c.path = dir + "/vmlinux-core.btf";
  const std::string meta_path = dir + "/vmlinux-core.meta";
  // Only a dir no one else can write: its BTF decides where the program reads.
  if (auto st = mkdir_p(dir, 0700); !st) return st.error();
  struct stat ds{};
  if (::lstat(dir.c_str(), &ds) != 0) return sys_error("stat", dir);
  if (!S_ISDIR(ds.st_mode)) return app_error("BTF cache " + dir + ": not a directory");
  if (auto why = trust_problem(ds.st_uid, ds.st_mode); !why.empty()) return app_error("BTF cache " + dir + ": " + why);
  if (::access(dir.c_str(), W_OK) != 0) return sys_error("BTF cache dir not writable", dir);
  // The cache, when it is this kernel's and this object's and intact.
  if (auto text = read_text(meta_path)) {
    auto m = parse_meta(*text);
    if (m && m->key == k->key) {
      auto blob = read_text(c.path);
      if (blob && hash_bytes(*blob) == m->sum && types_in_place(*k, *m)) {
        fill(c, *m);
        return c;
      }
    }
  }
  // Built from the whole kernel BTF, once.
  struct btf* v = btf__load_vmlinux_btf();
  if (!v) return sys_error("parse the kernel BTF", kKernelBtf);
  Meta m;
  m.key = k->key;
  Result<std::string> blob = std::string();
  for (auto& t : m.types) {
    int id = btf__find_by_name_kind(v, t.name, t.kind);
    if (id <= 0 && t.optional) continue;
    if (id <= 0) {
      blob = t.kind == BTF_KIND_FUNC ? app_error("the kernel has no cgroup iterator (bpf_iter_cgroup, 6.1+)")
                                     : app_error(std::string("the kernel BTF has no struct ") + t.name);
      break;
    }
    t.id = static_cast<uint64_t>(id);
    t.off = static_cast<uint64_t>(reinterpret_cast<const char*>(btf__type_by_id(v, static_cast<uint32_t>(id))) -
                                  reinterpret_cast<const char*>(btf__type_by_id(v, 1)));
  }
  if (blob) {
    // The object's own BTF, from its ELF bytes (opening parses nothing of the kernel's).
    bpf_object* obj = bpf_object__open_mem(object.data(), object.size(), nullptr);
    if (!obj) blob = sys_error("open the BPF object");
    else blob = core_btf_subset(bpf_object__btf(obj), v);
    if (obj) bpf_object__close(obj);
  }
  btf__free(v);
  if (!blob) return blob.error();
  if (!types_in_place(*k, m))
    return app_error("the iterator's and the cast targets' places in the kernel BTF could not be told", kKernelBtf);
  m.sum = hash_bytes(*blob);
  // The BTF first: a reader between the two renames finds the old meta's sum
  // wrong and builds again.
  if (auto st = write_file_atomic(c.path, *blob, 0600, Durability::ProcessDeath); !st) return st.error();
  if (auto st = write_file_atomic(meta_path, format_meta(m), 0600, Durability::ProcessDeath); !st) return st.error();
  fill(c, m);
  c.built = true;
  return c;
}

}  // namespace ow::bpf
