#!/bin/sh
# Regenerate vmlinux/<arch>/vmlinux.h from the running kernel's BTF.
# CO-RE relocations make the header portable: it only needs to be recent enough
# to name every type and field the BPF programs read (flavors cover older layouts).
set -eu
arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
out=${1:-$(dirname "$0")/../vmlinux/$arch/vmlinux.h}
btf=${BTF:-/sys/kernel/btf/vmlinux}
[ -r "$btf" ] || { echo "no BTF at $btf: needs CONFIG_DEBUG_INFO_BTF" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
bpftool btf dump file "$btf" format c > "$out.tmp" && mv "$out.tmp" "$out"
echo "wrote $out from $btf ($(uname -r))"
