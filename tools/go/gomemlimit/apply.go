package gomemlimit

import (
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"
)

// DefaultInterval is Follow's period when given a non-positive one.
const DefaultInterval = 10 * time.Second

// Options says where to look. The zero value is right in production.
type Options struct {
	// Root is prepended to every absolute path read: /proc/self/*, the
	// cgroup mount points and HintDir. Tests point it at a fake tree.
	Root string
	// CgroupDir, when set, is the memory cgroup directory (used as is,
	// without Root) and discovery through /proc is skipped.
	CgroupDir string
	// HintDir defaults to DefaultHintDir.
	HintDir string
	// Getenv reads GOMEMLIMIT; nil means os.Getenv.
	Getenv func(string) string
	// OnError, if set, receives Follow's read errors (Follow keeps the
	// current limit on error and has no other way to report them).
	OnError func(error)
}

// FindCgroupDir locates the process's own memory cgroup directory from
// /proc/self/cgroup and /proc/self/mountinfo (or /proc/self/mounts).
func (o Options) FindCgroupDir() (string, error) {
	if o.CgroupDir != "" {
		return o.CgroupDir, nil
	}
	b, err := os.ReadFile(o.path("/proc/self/cgroup"))
	if err != nil {
		return "", err
	}
	entries, err := ParseProcCgroup(string(b))
	if err != nil {
		return "", err
	}
	cgPath, v2, err := MemoryCgroupPath(entries)
	if err != nil {
		return "", err
	}
	mounts, err := o.readMounts()
	if err != nil {
		return "", err
	}
	dir, err := CgroupDir(mounts, cgPath, v2)
	if err != nil {
		return "", err
	}
	return o.path(dir), nil
}

func (o Options) readMounts() ([]Mount, error) {
	if b, err := os.ReadFile(o.path("/proc/self/mountinfo")); err == nil {
		return ParseMountInfo(string(b))
	}
	b, err := os.ReadFile(o.path("/proc/self/mounts"))
	if err != nil {
		return nil, err
	}
	return ParseMounts(string(b))
}

func (o Options) path(abs string) string {
	if o.Root == "" {
		return abs
	}
	return filepath.Join(o.Root, abs)
}

// Target reads the hint and returns the limit Apply would set, without
// setting it.
func Target(o Options) (int64, Hint, error) {
	dir, err := o.FindCgroupDir()
	if err != nil {
		return 0, Hint{}, err
	}
	hintDir := o.HintDir
	if hintDir == "" {
		hintDir = DefaultHintDir
	}
	h, err := ReadHint(dir, o.path(hintDir))
	if err != nil {
		return 0, Hint{}, err
	}
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	limit, err := Effective(h.Bytes, getenv("GOMEMLIMIT"))
	if err != nil {
		return 0, h, err
	}
	return limit, h, nil
}

// Apply reads the hint once and sets it as the runtime's memory limit,
// capped by GOMEMLIMIT. On error the current limit is left unchanged.
func Apply(o Options) (applied int64, err error) {
	limit, _, err := Target(o)
	if err != nil {
		return 0, err
	}
	debug.SetMemoryLimit(limit)
	return limit, nil
}

// Follow applies the hint now and then every interval until ctx is done,
// calling onChange (if non-nil) whenever the runtime's limit changes. A
// missing or bad hint keeps the current limit: dropping back to "no limit"
// because oomwatch restarted would be the riskier choice.
func Follow(ctx context.Context, o Options, interval time.Duration, onChange func(old, new int64)) {
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		followOnce(o, onChange)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func followOnce(o Options, onChange func(old, new int64)) {
	limit, _, err := Target(o)
	if err != nil {
		if o.OnError != nil {
			o.OnError(err)
		}
		return
	}
	if old := debug.SetMemoryLimit(limit); old != limit && onChange != nil {
		onChange(old, limit)
	}
}
