#!/bin/sh
# What `make ARCH=arm64` needs on an x86-64 Debian machine, from Debian's
# archive only (tools/install-deps.sh is the native build's list and is
# unchanged by this). Idempotent: does nothing when everything is present.
#
#   tools/install-cross-deps.sh arm64 [SYSROOT]
#
# 1. The cross toolchain, installed with apt-get (root): gcc/g++/binutils
#    for aarch64-linux-gnu (their libc6-dev-arm64-cross brings the static
#    glibc and libstdc++), and qemu-system-aarch64 for the arm64 tier.
# 2. With SYSROOT: the arm64 -dev packages oomwatch links statically,
#    fetched with `apt-get download PKG:arm64` and unpacked with `dpkg -x`
#    into SYSROOT (the Makefile passes build-arm64/sysroot), never
#    installed. Installing them with apt-get is not possible side by side
#    with the native ones: libevent-dev and libyaml-cpp-dev are not
#    Multi-Arch: same, so `apt-get install libevent-dev:arm64` removes the
#    amd64 package the native build needs, and the Multi-Arch: same ones
#    force the amd64 twin to the arm64 version (an upgrade of the native
#    build's libssl.a, zlib ...). Downloading needs no root once arm64 is a
#    dpkg architecture (step 1 adds it).
#
# CROSS_DEPS_NO_INSTALL=1 (how the build calls it): never install, only say
# what is missing; the sysroot needs no root.
#
# Versions are what apt's lists hold when the sysroot is made; SYSROOT/.packages
# records them. `rm -rf SYSROOT` (or `make ARCH=arm64 clean`) to fetch again.
set -eu
arch=${1:-}
sysroot=${2:-}
case $arch in
arm64) triplet=aarch64-linux-gnu ;;
*) echo "usage: $0 arm64 [SYSROOT]" >&2; exit 2 ;;
esac

# --- 1. toolchain (host packages) -------------------------------------------
# qemu-system-arm (qemu-system-aarch64): the arm64 test tier's guest.
PKGS="gcc-$triplet g++-$triplet binutils-$triplet qemu-system-arm"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
has_arch() { dpkg --print-foreign-architectures | grep -qx "$arch"; }
if [ -n "$missing" ] || ! has_arch; then
  if [ "$(id -u)" != 0 ] || [ "${CROSS_DEPS_NO_INSTALL:-0}" = 1 ]; then
    has_arch || echo "arm64 is not a dpkg architecture (needed to download :$arch packages)" >&2
    [ -n "$missing" ] && echo "missing packages:$missing" >&2
    echo "HINT: as root: make ARCH=$arch deps (or $0 $arch)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! has_arch; then
    echo "adding dpkg architecture $arch"
    dpkg --add-architecture "$arch"
  fi
  apt-get update -qq
  if [ -n "$missing" ]; then
    echo "installing:$missing"
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
  fi
fi
[ -n "$sysroot" ] || exit 0

# --- 2. sysroot (arm64 -dev packages, unpacked) -----------------------------
# The static archives of Makefile's LDLIBS and the headers of the libraries
# user/ includes; the header-only ones (Architecture: all) too, so the cross
# compiler never needs the host's /usr/include. linux-libc-dev:arm64 is the
# same uapi release as the native build's (the toolchain's own is 6.1.4).
SYSROOT_PKGS="libbpf-dev libelf-dev zlib1g-dev libzstd-dev libsqlite3-dev
libevent-dev libncurses-dev libyaml-cpp-dev libssl-dev libcrypt-dev linux-libc-dev
libfmt-dev libspdlog-dev libcli11-dev nlohmann-json3-dev libtomlplusplus-dev
catch2"
want=$(for p in $SYSROOT_PKGS; do echo "$p"; done | sort)
if [ -f "$sysroot/.complete" ] && [ "$(cut -d' ' -f1 "$sysroot/.packages" 2>/dev/null | sort)" = "$want" ]; then
  exit 0
fi
dl=$sysroot.download
rm -rf "$sysroot" "$dl"
mkdir -p "$dl"
# An arch-all package (the header-only ones) is downloaded under its own
# name, the others as PKG:ARCH.
# shellcheck disable=SC2086
names=$(apt-cache show --no-all-versions $SYSROOT_PKGS |
  awk -v arch="$arch" '/^Package: / { p = $2 } /^Architecture: / { print ($2 == "all") ? p : p ":" arch }') ||
  { echo "apt knows not all of: $SYSROOT_PKGS (apt-get update?)" >&2; exit 1; }
# shellcheck disable=SC2086
echo "sysroot $sysroot: downloading" $names
# shellcheck disable=SC2086
(cd "$dl" && apt-get download -q -o APT::Sandbox::User="$(id -un)" $names) >"$dl/apt.log" 2>&1 ||
  { cat "$dl/apt.log" >&2; exit 1; }
mkdir -p "$sysroot"
for deb in "$dl"/*.deb; do
  dpkg -x "$deb" "$sysroot"
  echo "$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version) $(dpkg-deb -f "$deb" Architecture)" >>"$sysroot/.packages"
done
rm -rf "$dl"
touch "$sysroot/.complete"
echo "sysroot $sysroot: $(wc -l <"$sysroot/.packages") packages, $(du -sh "$sysroot" | cut -f1)"
