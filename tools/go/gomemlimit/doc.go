// Package gomemlimit applies the memory-limit hint that the oomwatch daemon
// publishes for a Go program's own memory cgroup, and follows its changes.
//
// The Go heap cannot see memory charged to the same cgroup by others: eBPF
// maps, kernel memory, cgo allocations. A GOMEMLIMIT set to a fixed fraction
// of the cgroup limit is therefore either too high (the OOM killer wins) or
// too low (the GC runs constantly). oomwatch measures what the heap cannot see
// and publishes a limit that leaves room for it; this package reads it.
//
// Publication contract (written by oomwatch, read here):
//
//   - the extended attribute "user.oomwatch.gomemlimit" on the process's
//     memory cgroup directory, value = decimal bytes as ASCII ("52428800");
//   - the file /run/oomwatch/gomemlimit/<cgroup_id>, decimal bytes and a
//     newline, where cgroup_id is the inode number of the cgroup directory.
//
// The xattr is preferred (it travels with the cgroup and needs no shared
// /run); the file is the fallback for filesystems or runtimes where user
// xattrs are unavailable.
//
// The hint never raises the limit above what the program asked for itself
// through the GOMEMLIMIT environment variable: the effective limit is
// min(hint, GOMEMLIMIT) when GOMEMLIMIT is set.
package gomemlimit
