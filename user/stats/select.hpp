// Which cgroups a `--cgroup P` selects: P and its descendants, matched on the
// path string (samples in files and the store carry paths, not live cgroups, so
// a cgroup that has since vanished can still be asked about).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace ow::stats {

// User input -> the path form samples carry ("/a/b"): an absolute cgroupfs path
// under `mount` (the memory hierarchy's mount point; "" when unknown) loses the
// mount prefix; a missing leading '/' is added; repeated and trailing '/' go.
std::string normalize_cgroup_arg(std::string_view arg, std::string_view mount);

// "/a" selects "/a" and "/a/b", not "/ab". "/" selects everything.
bool selects(std::string_view selector, std::string_view path);
// No selectors: everything.
bool selected(const std::vector<std::string>& selectors, std::string_view path);

}  // namespace ow::stats
