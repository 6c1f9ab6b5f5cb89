package gomemlimit

import (
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"testing"
	"time"
)

// fakeTree lays out /proc/self and a v1 memory cgroup under a temp root and
// returns the options pointing at it and the cgroup dir.
func fakeTree(t *testing.T, env string) (Options, string) {
	t.Helper()
	root := t.TempDir()
	self := filepath.Join(root, "proc/self")
	cg := filepath.Join(root, "sys/fs/cgroup/memory/process_api/x")
	for _, d := range []string{self, cg} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"cgroup":    "4:memory:/process_api/x\n0::/\n",
		"mountinfo": hybridMountinfo,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(self, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Options{Root: root, Getenv: func(string) string { return env }}, cg
}

// keepLimit restores the runtime limit a test changes.
func keepLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
}

func TestFindCgroupDir(t *testing.T) {
	o, cg := fakeTree(t, "")
	got, err := o.FindCgroupDir()
	if err != nil || got != cg {
		t.Fatalf("got %q, %v; want %q", got, err, cg)
	}
	// mountinfo unreadable: /proc/self/mounts is the fallback.
	self := filepath.Join(o.Root, "proc/self")
	os.Remove(filepath.Join(self, "mountinfo"))
	os.WriteFile(filepath.Join(self, "mounts"), []byte("cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n"), 0o644)
	got, err = o.FindCgroupDir()
	if err != nil || got != cg {
		t.Fatalf("mounts fallback: got %q, %v; want %q", got, err, cg)
	}
}

func TestApplyFromFile(t *testing.T) {
	keepLimit(t)
	o, cg := fakeTree(t, "")
	writeHintFile(t, filepath.Join(o.Root, DefaultHintDir), cg, "52428800\n")
	got, err := Apply(o)
	if err != nil || got != 52428800 {
		t.Fatalf("Apply = %d, %v; want 52428800", got, err)
	}
	if cur := debug.SetMemoryLimit(-1); cur != 52428800 {
		t.Fatalf("runtime limit %d, want 52428800", cur)
	}
}

func TestApplyCappedByEnv(t *testing.T) {
	keepLimit(t)
	o, cg := fakeTree(t, "40MiB")
	writeHintFile(t, filepath.Join(o.Root, DefaultHintDir), cg, "52428800\n")
	if got, err := Apply(o); err != nil || got != 40<<20 {
		t.Fatalf("Apply = %d, %v; want %d (GOMEMLIMIT caps the hint)", got, err, 40<<20)
	}
}

func TestApplyBadHintKeepsLimit(t *testing.T) {
	keepLimit(t)
	debug.SetMemoryLimit(123 << 20)
	o, cg := fakeTree(t, "")
	for _, content := range []string{"0\n", "-1\n", "junk\n"} {
		writeHintFile(t, filepath.Join(o.Root, DefaultHintDir), cg, content)
		if _, err := Apply(o); err == nil {
			t.Errorf("hint %q: want error", content)
		}
		if cur := debug.SetMemoryLimit(-1); cur != 123<<20 {
			t.Errorf("hint %q changed the limit to %d", content, cur)
		}
	}
}

func TestApplyXattr(t *testing.T) {
	keepLimit(t)
	o, cg := fakeTree(t, "")
	setXattrOrSkip(t, cg, "52428800")
	if got, err := Apply(o); err != nil || got != 52428800 {
		t.Fatalf("Apply = %d, %v; want 52428800", got, err)
	}
}

func TestFollow(t *testing.T) {
	keepLimit(t)
	o, cg := fakeTree(t, "")
	hintDir := filepath.Join(o.Root, DefaultHintDir)
	writeHintFile(t, hintDir, cg, "52428800\n")
	debug.SetMemoryLimit(NoLimit)

	type change struct{ old, new int64 }
	changes := make(chan change, 8)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Follow(ctx, o, 5*time.Millisecond, func(old, new int64) { changes <- change{old, new} })
		close(done)
	}()
	defer func() { cancel(); <-done }()

	expect := func(want change) {
		t.Helper()
		select {
		case got := <-changes:
			if got != want {
				t.Fatalf("change %+v, want %+v", got, want)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("no change to %d", want.new)
		}
	}
	expect(change{NoLimit, 52428800})
	writeHintFile(t, hintDir, cg, "41943040\n")
	expect(change{52428800, 41943040})
	// A vanished hint keeps the limit; the next valid one is followed.
	id, _ := CgroupID(cg)
	os.Remove(filepath.Join(hintDir, strconv.FormatUint(id, 10)))
	time.Sleep(30 * time.Millisecond)
	writeHintFile(t, hintDir, cg, "62914560\n")
	expect(change{41943040, 62914560})
}
