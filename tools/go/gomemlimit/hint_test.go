package gomemlimit

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

func TestParseHint(t *testing.T) {
	for in, want := range map[string]int64{"52428800": 52428800, "52428800\n": 52428800, "4096\x00": 4096, " 1 ": 1} {
		got, err := ParseHint([]byte(in))
		if err != nil || got != want {
			t.Errorf("ParseHint(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "-5", "50MiB", "1e6", "99999999999999999999"} {
		if got, err := ParseHint([]byte(bad)); err == nil {
			t.Errorf("ParseHint(%q) = %d; want error", bad, got)
		}
	}
}

// writeHintFile publishes a hint for dir the way oomwatch does.
func writeHintFile(t *testing.T, hintDir, dir, content string) {
	t.Helper()
	id, err := CgroupID(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(hintDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(hintDir, strconv.FormatUint(id, 10)), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// setXattrOrSkip sets the hint xattr, skipping the test only when the
// filesystem cannot hold user xattrs.
func setXattrOrSkip(t *testing.T, dir, value string) {
	t.Helper()
	err := syscall.Setxattr(dir, XattrName, []byte(value), 0)
	if errors.Is(err, syscall.ENOTSUP) {
		t.Skipf("user xattrs not supported on %s", dir)
	}
	if err != nil {
		t.Fatalf("setxattr: %v", err)
	}
}

func TestReadHintFileFallback(t *testing.T) {
	dir, hintDir := t.TempDir(), filepath.Join(t.TempDir(), "hints")
	if _, err := ReadHint(dir, hintDir); !errors.Is(err, ErrNoHint) {
		t.Fatalf("nothing published: got %v, want ErrNoHint", err)
	}
	writeHintFile(t, hintDir, dir, "52428800\n")
	h, err := ReadHint(dir, hintDir)
	if err != nil || h.Bytes != 52428800 {
		t.Fatalf("got %+v, %v; want 52428800 from the file", h, err)
	}
	writeHintFile(t, hintDir, dir, "lots\n")
	if _, err := ReadHint(dir, hintDir); err == nil {
		t.Fatal("unparsable file: want error")
	}
}

func TestReadHintXattrPreferred(t *testing.T) {
	dir, hintDir := t.TempDir(), t.TempDir()
	writeHintFile(t, hintDir, dir, "1048576\n")
	setXattrOrSkip(t, dir, "52428800")
	h, err := ReadHint(dir, hintDir)
	if err != nil || h.Bytes != 52428800 || h.Source != "xattr:"+dir {
		t.Fatalf("got %+v, %v; want 52428800 from the xattr", h, err)
	}
	// A broken xattr is reported, not papered over with the file.
	setXattrOrSkip(t, dir, "0")
	if _, err := ReadHint(dir, hintDir); err == nil {
		t.Fatal("zero xattr: want error")
	}
}
