package main

import "testing"

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"4096": 4096, "100B": 100, "64K": 64 << 10, "64k": 64 << 10, "64KiB": 64 << 10,
		"32M": 32 << 20, "32MiB": 32 << 20, "1.5G": 3 << 29, "2GiB": 2 << 30, "1T": 1 << 40,
	} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "-1", "M", "32MB", "1.5", "1e6", "0x10", "infM", "nanK", "-2M", "0.0000001K", "32 M", "9999999999T"} {
		if got, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) = %d; want error", bad, got)
		}
	}
}
