#include "bpf/obj.hpp"

#include <bpf/libbpf.h>

#include "util/fd.hpp"
#include "util/fs.hpp"

namespace ow::bpf {

Status run_iter(bpf_link* link, std::string_view what, const std::string& path, std::string* out) {
  UniqueFd it(bpf_iter_create(bpf_link__fd(link)));
  if (!it.valid()) return sys_error("create " + std::string(what), path);
  std::string printed;
  if (!read_all(it.get(), out ? *out : printed)) return sys_error("read " + std::string(what), path);
  return {};
}

}  // namespace ow::bpf
