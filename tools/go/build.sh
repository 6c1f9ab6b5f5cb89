#!/bin/sh
# Usage: tools/go/build.sh OUTDIR — builds a static OUTDIR/gcexp.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
. "$here/env.sh"
cd "$here"
# CGO_ENABLED=0: the binary is copied into a busybox initramfs for the VM
# tier, where no libc is available.
CGO_ENABLED=0 go build -trimpath -o "$out/gcexp" ./cmd/gcexp
echo "built $out/gcexp"
