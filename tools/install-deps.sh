#!/bin/sh
# Installs what building and testing oomwatch needs, from Debian's archive only.
# Idempotent: does nothing when everything is present (make run / make test call it).
set -eu
PKGS="make g++ clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libzstd-dev
pkg-config libspdlog-dev libfmt-dev catch2 libcli11-dev nlohmann-json3-dev
libtomlplusplus-dev libsqlite3-dev golang-go qemu-system-x86 busybox-static cpio
lld libclang-rt-14-dev
libevent-dev prometheus curl help2man python3-yaml systemd
libncurses-dev ncurses-base tmux chromium libjs-dygraphs"
# recommend --overrides in YAML: libyaml-cpp-dev has the static archive.
PKGS="$PKGS libyaml-cpp-dev"
# /metrics over TLS with basic auth: static OpenSSL and libxcrypt (bcrypt);
# the openssl CLI makes the tests' certificates.
PKGS="$PKGS libssl-dev libcrypt-dev openssl"
# The systemd guest's Debian root filesystem (tools/vm/systemd-guest.sh).
PKGS="$PKGS mmdebstrap e2fsprogs"
# A real container runtime for the tests (test_containerd): containerd with
# its shim and ctr, and runc; their rootfs is busybox-static's.
PKGS="$PKGS containerd runc"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing packages:$missing" >&2
  echo "HINT: run as root, or: sudo apt-get install -y$missing" >&2
  exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
