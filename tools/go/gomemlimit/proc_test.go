package gomemlimit

import (
	"reflect"
	"testing"
)

// Captured on the hybrid (v1 memory) build host.
const hybridCgroup = `9:name=systemd:/
8:pids:/
4:memory:/process_api/b43cf6c72348f986a4094c47f64edaa8
3:cpuset:/
1:cpu:/
0::/
`

const hybridMountinfo = `23 1 254:0 / / rw,relatime - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

const v2Cgroup = "0::/system.slice/app.service\n"

const v2Mountinfo = `24 1 8:1 / / rw - ext4 /dev/sda1 rw
30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`

func TestParseProcCgroup(t *testing.T) {
	got, err := ParseProcCgroup("4:cpu,memory:/a:b\n0::/\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []CgroupEntry{
		{HierarchyID: 4, Controllers: []string{"cpu", "memory"}, Path: "/a:b"},
		{HierarchyID: 0, Path: "/"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for _, bad := range []string{"garbage\n", "x:memory:/\n"} {
		if _, err := ParseProcCgroup(bad); err == nil {
			t.Errorf("ParseProcCgroup(%q): want error", bad)
		}
	}
}

func TestMemoryCgroupPath(t *testing.T) {
	for _, tc := range []struct {
		name, text, path string
		v2               bool
	}{
		{"hybrid prefers v1 memory over 0::", hybridCgroup, "/process_api/b43cf6c72348f986a4094c47f64edaa8", false},
		{"pure v2", v2Cgroup, "/system.slice/app.service", true},
	} {
		e, err := ParseProcCgroup(tc.text)
		if err != nil {
			t.Fatal(err)
		}
		p, v2, err := MemoryCgroupPath(e)
		if err != nil || p != tc.path || v2 != tc.v2 {
			t.Errorf("%s: got (%q, %v, %v), want (%q, %v, nil)", tc.name, p, v2, err, tc.path, tc.v2)
		}
	}
	e, _ := ParseProcCgroup("3:cpu:/\n")
	if _, _, err := MemoryCgroupPath(e); err == nil {
		t.Error("no memory line and no v2 line: want error")
	}
}

func TestParseMountInfo(t *testing.T) {
	m, err := ParseMountInfo(`36 35 98:0 /mnt\0401 /mnt\040two rw,noatime master:1 shared:2 - cgroup cgroup rw,memory` + "\n")
	if err != nil {
		t.Fatal(err)
	}
	want := Mount{Root: "/mnt 1", MountPoint: "/mnt two", FSType: "cgroup", Options: []string{"rw", "memory"}}
	if len(m) != 1 || !reflect.DeepEqual(m[0], want) {
		t.Fatalf("got %+v, want %+v", m, want)
	}
	if _, err := ParseMountInfo("1 2 3:4 / /x rw no-separator\n"); err == nil {
		t.Error("missing '-' separator: want error")
	}
}

func TestParseMounts(t *testing.T) {
	m, err := ParseMounts("cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n")
	if err != nil {
		t.Fatal(err)
	}
	want := Mount{Root: "/", MountPoint: "/sys/fs/cgroup/memory", FSType: "cgroup", Options: []string{"rw", "relatime", "memory"}}
	if len(m) != 1 || !reflect.DeepEqual(m[0], want) {
		t.Fatalf("got %+v, want %+v", m, want)
	}
}

func TestCgroupDir(t *testing.T) {
	hybrid, _ := ParseMountInfo(hybridMountinfo)
	v2, _ := ParseMountInfo(v2Mountinfo)
	// A container without a cgroup namespace sees its own subtree mounted.
	docker, _ := ParseMountInfo("50 40 0:32 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n")
	for _, tc := range []struct {
		name   string
		mounts []Mount
		path   string
		v2     bool
		want   string
	}{
		{"v1", hybrid, "/process_api/x", false, "/sys/fs/cgroup/memory/process_api/x"},
		{"v1 root cgroup", hybrid, "/", false, "/sys/fs/cgroup/memory"},
		{"v2", v2, "/system.slice/app.service", true, "/sys/fs/cgroup/system.slice/app.service"},
		{"v2 on hybrid uses unified", hybrid, "/user.slice", true, "/sys/fs/cgroup/unified/user.slice"},
		{"subtree mount", docker, "/docker/abc", false, "/sys/fs/cgroup/memory"},
		{"below subtree mount", docker, "/docker/abc/child", false, "/sys/fs/cgroup/memory/child"},
	} {
		got, err := CgroupDir(tc.mounts, tc.path, tc.v2)
		if err != nil || got != tc.want {
			t.Errorf("%s: got (%q, %v), want %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := CgroupDir(docker, "/docker/abcdef", false); err == nil {
		t.Error("path outside the mounted subtree (prefix, not component): want error")
	}
	if _, err := CgroupDir(v2, "/x", false); err == nil {
		t.Error("no v1 memory mount: want error")
	}
}
