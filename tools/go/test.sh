#!/bin/sh
# Usage: tools/go/test.sh [go test flags] — runs the Go unit tests.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
cd "$here"
exec go test "$@" ./...
