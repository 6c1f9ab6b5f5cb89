package gomemlimit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

const (
	// XattrName is the extended attribute oomwatch sets on the cgroup dir.
	XattrName = "user.oomwatch.gomemlimit"
	// DefaultHintDir holds one file per cgroup, named by cgroup id.
	DefaultHintDir = "/run/oomwatch/gomemlimit"
)

// ErrNoHint means neither the xattr nor the hint file exists: oomwatch
// publishes nothing for this cgroup (or is not running).
var ErrNoHint = errors.New("no gomemlimit hint published")

// Hint is a value read from one of the two publication places.
type Hint struct {
	Bytes  int64
	Source string // "xattr:<dir>" or the hint file path
}

// ReadHint reads the hint for cgroup directory dir: the xattr if present,
// else hintDir/<inode of dir>. A present but invalid xattr is an error
// rather than a reason to try the file, so that a publisher bug shows up
// instead of being masked by a possibly stale file.
func ReadHint(dir, hintDir string) (Hint, error) {
	val, err := getxattr(dir, XattrName)
	switch {
	case err == nil:
		n, perr := ParseHint(val)
		if perr != nil {
			return Hint{}, fmt.Errorf("%s on %s: %w", XattrName, dir, perr)
		}
		return Hint{Bytes: n, Source: "xattr:" + dir}, nil
	case errors.Is(err, syscall.ENODATA), errors.Is(err, syscall.ENOTSUP):
		// No xattr here (or the filesystem has none): use the file.
	default:
		return Hint{}, fmt.Errorf("read %s on %s: %w", XattrName, dir, err)
	}

	id, err := CgroupID(dir)
	if err != nil {
		return Hint{}, err
	}
	path := filepath.Join(hintDir, strconv.FormatUint(id, 10))
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Hint{}, fmt.Errorf("%w for %s (no xattr, no %s)", ErrNoHint, dir, path)
	}
	if err != nil {
		return Hint{}, err
	}
	n, err := ParseHint(b)
	if err != nil {
		return Hint{}, fmt.Errorf("%s: %w", path, err)
	}
	return Hint{Bytes: n, Source: path}, nil
}

// ParseHint parses decimal ASCII bytes. Surrounding whitespace and a
// trailing NUL (some tools store C strings in xattrs) are tolerated; zero,
// negative and non-decimal values are not.
func ParseHint(b []byte) (int64, error) {
	s := strings.TrimSpace(strings.TrimRight(string(b), "\x00"))
	if !allDigits(s) {
		return 0, fmt.Errorf("hint %q: want decimal bytes", s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("hint %q: out of range", s)
	}
	if n <= 0 {
		return 0, fmt.Errorf("hint %q: must be positive", s)
	}
	return n, nil
}

// CgroupID returns the id oomwatch names hint files by: the inode number of
// the cgroup directory, which equals the kernel's cgroup id on kernfs.
func CgroupID(dir string) (uint64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return 0, &os.PathError{Op: "stat", Path: dir, Err: err}
	}
	return st.Ino, nil
}

// getxattr reads a whole attribute value, retrying if it grows between the
// size probe and the read.
func getxattr(path, name string) ([]byte, error) {
	for i := 0; i < 3; i++ {
		sz, err := syscall.Getxattr(path, name, nil)
		if err != nil {
			return nil, err
		}
		buf := make([]byte, sz)
		n, err := syscall.Getxattr(path, name, buf)
		if errors.Is(err, syscall.ERANGE) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:n], nil
	}
	return nil, syscall.ERANGE
}
