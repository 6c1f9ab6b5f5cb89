// Command gcexp runs the Go GC experiment: a Go program
// whose heap goal outruns its cgroup limit is OOM-killed although most of
// its heap is garbage, unless GOMEMLIMIT (or oomwatch's hint) makes the GC
// run in time.
//
// Unlike the original it does not create a cgroup: oomwatch runs it in one,
//
//	oomwatch exec --memory 64M -- gcexp -limit 64MiB -mode chunked
//
// and -limit only sizes the allocations.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"oomwatch/tools/go/gomemlimit"
)

// hintOptions says where -apply-hint looks; tests point it at a temp tree.
var hintOptions gomemlimit.Options

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type config struct {
	limit     sizeFlag
	mode      string
	holdPct   int
	allocPct  int
	chunk     sizeFlag
	addr      string
	applyHint bool
}

func parseFlags(args []string) (config, error) {
	c := config{limit: 32 << 20, chunk: 1 << 20}
	fs := flag.NewFlagSet("gcexp", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are printed by run, on one line
	fs.Var(&c.limit, "limit", "memory limit that sizes the allocations (the cgroup limit is set from outside)")
	fs.StringVar(&c.mode, "mode", "self", "self | interactive | chunked")
	fs.IntVar(&c.holdPct, "hold-pct", 70, "chunked: percent of -limit held, then dropped")
	fs.IntVar(&c.allocPct, "alloc-pct", 40, "chunked: percent of -limit allocated after the drop")
	fs.Var(&c.chunk, "chunk", "chunked: chunk size")
	fs.StringVar(&c.addr, "addr", "127.0.0.1:1112", "interactive: listen address")
	fs.BoolVar(&c.applyHint, "apply-hint", false, "apply oomwatch's GOMEMLIMIT hint for this cgroup first")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case c.mode != "self" && c.mode != "interactive" && c.mode != "chunked":
		return c, fmt.Errorf("bad -mode %q: want self, interactive or chunked", c.mode)
	case c.holdPct <= 0 || c.holdPct > 1000:
		return c, fmt.Errorf("bad -hold-pct %d: want 1..1000", c.holdPct)
	case c.allocPct <= 0 || c.allocPct > 1000:
		return c, fmt.Errorf("bad -alloc-pct %d: want 1..1000", c.allocPct)
	}
	return c, nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, `usage: gcexp [-limit SIZE] [-mode self|interactive|chunked] [-apply-hint]
             [-hold-pct N] [-alloc-pct N] [-chunk SIZE] [-addr HOST:PORT]
Run it inside a memory cgroup, e.g. oomwatch exec --memory 64M -- gcexp -limit 64MiB.
SIZE is bytes or K/M/G (KiB/MiB/GiB), powers of 1024.`)
}

func run(args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "gcexp: %v\n", err)
		return 2
	}

	if c.applyHint {
		applied, err := gomemlimit.Apply(hintOptions)
		if err != nil {
			// Asked for but not applied: going on would measure the
			// wrong configuration.
			fmt.Fprintf(stderr, "gcexp: -apply-hint: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "apply-hint: memory limit set to %d bytes (%s)\n", applied, mib(applied))
	}
	lim := debug.SetMemoryLimit(-1)
	if lim == gomemlimit.NoLimit {
		fmt.Fprintf(stdout, "gcexp: mode=%s limit=%s runtime memory limit=off\n", c.mode, mib(int64(c.limit)))
	} else {
		fmt.Fprintf(stdout, "gcexp: mode=%s limit=%s runtime memory limit=%d (%s)\n", c.mode, mib(int64(c.limit)), lim, mib(lim))
	}

	switch c.mode {
	case "self":
		runSelf(stdout, int64(c.limit))
	case "chunked":
		runChunked(stdout, int64(c.limit), c.holdPct, c.allocPct, int64(c.chunk))
	case "interactive":
		return serve(c.addr, stdout, stderr)
	}
	return 0
}

func serve(addr string, stdout, stderr io.Writer) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "gcexp: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "interactive: listening on http://%s (/add?bytes=N /rel?bytes=N /gc /stats /reset)\n", ln.Addr())
	srv := &http.Server{Handler: (&server{}).routes(), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintf(stderr, "gcexp: %v\n", err)
		return 1
	}
	return 0
}
