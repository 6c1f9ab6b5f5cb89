// Whether a pin dir can work (bpf/bpffs.hpp check_pin_dir), on real
// filesystems and without changing anything: a plain dir is refused with the
// mount that fixes it, a dir on bpffs (or to be made under /sys/fs/bpf)
// passes, and nothing is created either way.
#include <catch2/catch.hpp>
#include <stdlib.h>

#include "bpf/bpffs.hpp"
#include "helpers.hpp"
#include "util/fs.hpp"

using namespace ow;

TEST_CASE("pin dir: one off bpffs is refused with the fix, and nothing is created", "[bpffs]") {
  char t[] = "/tmp/owtest-bpffs-XXXXXX";
  REQUIRE(::mkdtemp(t));
  const std::string dir = t;
  auto missing = bpf::check_pin_dir(dir + "/a/pins");
  auto there = bpf::check_pin_dir(dir);
  const bool made = owtest::exists(dir + "/a");
  owtest::run({"rm", "-rf", dir});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message() == "--pin-dir " + dir + "/a/pins is not on a bpf filesystem (" + dir +
                                         " is not one): mount bpffs there (mkdir -p " + dir + "/a/pins && mount -t bpf bpf " +
                                         dir + "/a/pins) or pick a dir under /sys/fs/bpf (or --pin-dir none)");
  REQUIRE_FALSE(there);
  CHECK(there.error().message() == "--pin-dir " + dir + " is not on a bpf filesystem (" + dir +
                                       " is not one): mount bpffs there (mount -t bpf bpf " + dir +
                                       ") or pick a dir under /sys/fs/bpf (or --pin-dir none)");
  CHECK_FALSE(made);
}

TEST_CASE("pin dir: one under /sys/fs/bpf passes (bpffs is there, or will be mounted there)", "[bpffs]") {
  CHECK(bpf::check_pin_dir("/sys/fs/bpf/owtest-never-made/x"));
  CHECK_FALSE(owtest::exists("/sys/fs/bpf/owtest-never-made"));
}
