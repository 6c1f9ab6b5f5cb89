# Sourced by build.sh and test.sh. CI runs as root with a minimal
# environment (HOME may be unset, no network): give the go command writable
# caches and forbid any module download; the module uses the standard
# library only.
export GOCACHE="${GOCACHE:-/tmp/oomwatch-gocache}"
export GOPATH="${GOPATH:-/tmp/oomwatch-gopath}"
export GOFLAGS="${GOFLAGS:--mod=mod}"
export GOPROXY=off
export GOTOOLCHAIN=local
