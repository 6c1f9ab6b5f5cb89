package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"oomwatch/tools/go/gomemlimit"
)

func TestBadFlagsExit2OneLine(t *testing.T) {
	for _, args := range [][]string{
		{"-limit", "lots"},
		{"-mode", "bogus"},
		{"-hold-pct", "0"},
		{"-alloc-pct", "x"},
		{"-nosuchflag"},
		{"extra"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
		if msg := errb.String(); strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "gcexp: ") {
			t.Errorf("%v: want one 'gcexp: ...' line, got %q", args, msg)
		}
	}
}

func TestHelpExit0(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-h"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "usage:") {
		t.Fatalf("-h: exit %d, stdout %q", code, out.String())
	}
}

// Without a cgroup around it the experiment always survives; this checks
// the sequence and the output contract, not the OOM behaviour.
func TestChunkedSurvivesOutsideCgroup(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"-mode", "chunked", "-limit", "16MiB", "-chunk", "256K"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	s := out.String()
	for _, want := range []string{"holding 11744051 bytes (70% of 16.0 MiB)", "hold: 11.2 MiB / 11.2 MiB", "alloc: 6.4 MiB / 6.4 MiB", "survived\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	sink = nil
}

func TestSelfSurvivesOutsideCgroup(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-limit", "8M"}, &out, &errb); code != 0 || !strings.HasSuffix(out.String(), "survived\n") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	sink = nil
}

func TestApplyHintFailsClearly(t *testing.T) {
	// An empty root: no /proc, no hint. -apply-hint must refuse to go on.
	hintOptions = gomemlimit.Options{Root: t.TempDir()}
	defer func() { hintOptions = gomemlimit.Options{} }()
	var out, errb bytes.Buffer
	code := run([]string{"-apply-hint", "-limit", "1M"}, &out, &errb)
	if code != 1 || !strings.HasPrefix(errb.String(), "gcexp: -apply-hint: ") {
		t.Fatalf("exit %d, stderr %q; want 1 and an -apply-hint error", code, errb.String())
	}
}

func TestApplyHint(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	dir, hints := t.TempDir(), t.TempDir()
	id, err := gomemlimit.CgroupID(dir)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(hints, strconv.FormatUint(id, 10)), []byte("52428800\n"), 0o644)
	hintOptions = gomemlimit.Options{CgroupDir: dir, HintDir: hints, Getenv: func(string) string { return "" }}
	defer func() { hintOptions = gomemlimit.Options{} }()

	var out, errb bytes.Buffer
	code := run([]string{"-apply-hint", "-limit", "1M"}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "apply-hint: memory limit set to 52428800 bytes (50.0 MiB)") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	sink = nil
}

func TestChunkSizes(t *testing.T) {
	var out bytes.Buffer
	got := allocChunks(&out, "x", 10<<10, 4<<10)
	if len(got) != 3 || len(got[2]) != 2<<10 {
		t.Fatalf("chunks %d, last %d; want 3 with a 2 KiB tail", len(got), len(got[len(got)-1]))
	}
}
