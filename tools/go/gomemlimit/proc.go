package gomemlimit

import (
	"fmt"
	"strconv"
	"strings"
)

// CgroupEntry is one line of /proc/<pid>/cgroup:
// "hierarchy-ID:controller-list:cgroup-path".
type CgroupEntry struct {
	HierarchyID int
	Controllers []string // empty for the cgroup v2 line ("0::/path")
	Path        string
}

// ParseProcCgroup parses the text of /proc/<pid>/cgroup.
func ParseProcCgroup(text string) ([]CgroupEntry, error) {
	return parseLines(text, func(n int, line string) (CgroupEntry, error) {
		// The path is last and may itself contain ':', hence SplitN.
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			return CgroupEntry{}, fmt.Errorf("cgroup line %d: want id:controllers:path, got %q", n, line)
		}
		id, err := strconv.Atoi(f[0])
		if err != nil {
			return CgroupEntry{}, fmt.Errorf("cgroup line %d: bad hierarchy id %q", n, f[0])
		}
		var ctrl []string
		if f[1] != "" {
			ctrl = strings.Split(f[1], ",")
		}
		return CgroupEntry{HierarchyID: id, Controllers: ctrl, Path: f[2]}, nil
	})
}

// MemoryCgroupPath picks the entry that holds the memory controller. A v1
// line listing "memory" wins: when the memory controller is bound to a v1
// hierarchy it cannot also be enabled on v2, even though hybrid systems still
// print a "0::" line. Without one, the v2 line is used.
func MemoryCgroupPath(entries []CgroupEntry) (path string, v2 bool, err error) {
	for _, e := range entries {
		if contains(e.Controllers, "memory") {
			return e.Path, false, nil
		}
	}
	for _, e := range entries {
		if e.HierarchyID == 0 && len(e.Controllers) == 0 {
			return e.Path, true, nil
		}
	}
	return "", false, fmt.Errorf("no memory cgroup in /proc/self/cgroup")
}

// Mount is the part of a mountinfo (or mounts) line needed to locate a
// cgroup hierarchy.
type Mount struct {
	Root       string   // path inside the filesystem that is mounted ("/" unless bind-mounted)
	MountPoint string   // where it is mounted
	FSType     string   // "cgroup" or "cgroup2" for cgroupfs
	Options    []string // super options; v1 cgroupfs lists its controllers here
}

// ParseMountInfo parses /proc/<pid>/mountinfo:
// "36 35 98:0 /root /mnt rw,noatime shared:1 - cgroup cgroup rw,memory".
func ParseMountInfo(text string) ([]Mount, error) {
	return parseLines(text, func(n int, line string) (Mount, error) {
		f := strings.Fields(line)
		// The number of optional fields varies; "-" separates them from
		// fstype, source and super options.
		sep := -1
		for j := 6; j < len(f); j++ {
			if f[j] == "-" {
				sep = j
				break
			}
		}
		if sep < 0 || sep+1 >= len(f) {
			return Mount{}, fmt.Errorf("mountinfo line %d: malformed: %q", n, line)
		}
		m := Mount{
			Root:       unescapeOctal(f[3]),
			MountPoint: unescapeOctal(f[4]),
			FSType:     f[sep+1],
		}
		if sep+3 < len(f) {
			m.Options = strings.Split(f[sep+3], ",")
		}
		return m, nil
	})
}

// ParseMounts parses /proc/<pid>/mounts ("src mountpoint fstype opts 0 0"),
// the fallback when mountinfo is unreadable. It has no root field, so Root
// is "/", which is right unless the hierarchy is bind-mounted from a subdir.
func ParseMounts(text string) ([]Mount, error) {
	return parseLines(text, func(n int, line string) (Mount, error) {
		f := strings.Fields(line)
		if len(f) < 4 {
			return Mount{}, fmt.Errorf("mounts line %d: malformed: %q", n, line)
		}
		return Mount{
			Root:       "/",
			MountPoint: unescapeOctal(f[1]),
			FSType:     f[2],
			Options:    strings.Split(f[3], ","),
		}, nil
	})
}

// parseLines parses each non-empty line of text, numbered from 1, into one
// value; the first error is returned alone.
func parseLines[T any](text string, parse func(n int, line string) (T, error)) ([]T, error) {
	var out []T
	for i, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		v, err := parse(i+1, line)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// CgroupDir joins a cgroup path from /proc/self/cgroup with the mount of its
// hierarchy. The path is relative to the hierarchy root, while a mount may
// expose only a subtree (Root), as in containers without a cgroup namespace;
// the first mount whose Root is a prefix of the path is used.
func CgroupDir(mounts []Mount, cgPath string, v2 bool) (string, error) {
	found := false
	for _, m := range mounts {
		if v2 && m.FSType != "cgroup2" {
			continue
		}
		if !v2 && (m.FSType != "cgroup" || !contains(m.Options, "memory")) {
			continue
		}
		found = true
		rel, ok := under(cgPath, m.Root)
		if !ok {
			continue
		}
		return joinAbs(m.MountPoint, rel), nil
	}
	kind := "cgroup v1 memory"
	if v2 {
		kind = "cgroup2"
	}
	if found {
		return "", fmt.Errorf("cgroup %q is outside every mounted %s hierarchy", cgPath, kind)
	}
	return "", fmt.Errorf("no %s mount found", kind)
}

// under reports whether p lies in root (path-component-wise) and returns the
// remainder, e.g. under("/a/b", "/a") = "/b"; under("/ab", "/a") fails.
func under(p, root string) (string, bool) {
	if root == "/" || root == "" {
		return p, true
	}
	root = strings.TrimSuffix(root, "/")
	if p == root {
		return "/", true
	}
	if strings.HasPrefix(p, root+"/") {
		return p[len(root):], true
	}
	return "", false
}

func joinAbs(dir, rel string) string {
	if rel == "/" || rel == "" {
		return dir
	}
	return strings.TrimSuffix(dir, "/") + rel
}

// unescapeOctal undoes the kernel's \ooo escaping of space, tab, newline and
// backslash in mount paths.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
