package main

import (
	"fmt"
	"io"
	"runtime"
)

const pageSize = 4096

// sink keeps the current allocation reachable so that neither the compiler
// nor the GC can drop it before the experiment means to.
var sink [][]byte

// touch writes one byte per page. Fresh large spans come zeroed from the
// kernel and are not written by make, so without this the pages would not
// be resident and the cgroup would never be charged for them.
func touch(b []byte) {
	for i := 0; i < len(b); i += pageSize {
		b[i] = 1
	}
}

func memLine(w io.Writer, what string) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(w, "%s: HeapAlloc=%s HeapSys=%s HeapReleased=%s Sys=%s NumGC=%d NextGC=%s\n",
		what, mib(int64(ms.HeapAlloc)), mib(int64(ms.HeapSys)), mib(int64(ms.HeapReleased)),
		mib(int64(ms.Sys)), ms.NumGC, mib(int64(ms.NextGC)))
}

// runSelf is the self-directed experiment: a spike of 90% of the
// limit, released, then a 10% allocation. Without a memory limit the GC goal
// set during the spike lies far beyond the cgroup limit, so the runtime
// grows the heap instead of collecting the released slab, and the process
// may be OOM-killed although it holds 9x more free heap than it asks for.
func runSelf(w io.Writer, limit int64) {
	big := limit * 90 / 100
	fmt.Fprintf(w, "self: allocating %d bytes (90%% of %s)\n", big, mib(limit))
	sink = [][]byte{make([]byte, big)}
	touch(sink[0])
	memLine(w, "self: after 90% slab")

	sink = nil
	small := limit * 10 / 100
	fmt.Fprintf(w, "self: released %d bytes, allocating %d bytes (10%%)\n", big, small)
	sink = [][]byte{make([]byte, small)}
	touch(sink[0])
	memLine(w, "self: after 10% slab")
	fmt.Fprintln(w, "survived")
}

// runChunked is the deterministic variant used by tests: many equal chunks
// instead of one slab, so the heap's growth and the GC pacer behave the
// same from run to run.
func runChunked(w io.Writer, limit int64, holdPct, allocPct int, chunk int64) {
	hold := limit * int64(holdPct) / 100
	fmt.Fprintf(w, "chunked: holding %d bytes (%d%% of %s) in %d-byte chunks\n", hold, holdPct, mib(limit), chunk)
	sink = allocChunks(w, "hold", hold, chunk)
	memLine(w, "chunked: held")

	// Drop every reference: the held memory is garbage from now on, and
	// only a GC can make it reusable.
	sink = nil
	alloc := limit * int64(allocPct) / 100
	fmt.Fprintf(w, "chunked: dropped %d bytes, allocating %d bytes (%d%%)\n", hold, alloc, allocPct)
	sink = allocChunks(w, "alloc", alloc, chunk)
	memLine(w, "chunked: allocated")
	fmt.Fprintln(w, "survived")
}

// allocChunks allocates total bytes in chunks (the last one may be short),
// touching each, and reports progress about every 8 MiB so that the output
// of an OOM-killed run shows how far it got.
func allocChunks(w io.Writer, phase string, total, chunk int64) [][]byte {
	var out [][]byte
	var done, reported int64
	for done < total {
		n := chunk
		if total-done < n {
			n = total - done
		}
		b := make([]byte, n)
		touch(b)
		out = append(out, b)
		done += n
		if done-reported >= 8<<20 || done == total {
			fmt.Fprintf(w, "%s: %s / %s\n", phase, mib(done), mib(total))
			reported = done
		}
	}
	return out
}
