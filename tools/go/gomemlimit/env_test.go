package gomemlimit

import "testing"

func TestParseGOMEMLIMIT(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"52428800", 52428800},
		{"100B", 100},
		{"64KiB", 64 << 10},
		{"50MiB", 50 << 20},
		{"2GiB", 2 << 30},
		{"1TiB", 1 << 40},
		{"off", NoLimit},
		{"9223372036854775807", NoLimit},
	} {
		got, err := ParseGOMEMLIMIT(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseGOMEMLIMIT(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "B", "MiB", "-1", "+5", "50MB", "50M", "50 MiB", "1.5GiB", "50PiB", "Off",
		"9223372036854775808", "8388608TiB"} {
		if got, err := ParseGOMEMLIMIT(bad); err == nil {
			t.Errorf("ParseGOMEMLIMIT(%q) = %d; want error", bad, got)
		}
	}
}

func TestEffective(t *testing.T) {
	for _, tc := range []struct {
		hint int64
		env  string
		want int64
	}{
		{50 << 20, "", 50 << 20},      // no env: the hint
		{50 << 20, "60MiB", 50 << 20}, // hint lower: lowered
		{80 << 20, "60MiB", 60 << 20}, // hint higher: never raise above env
		{80 << 20, "off", 80 << 20},   // off is no cap
		{80 << 20, "62914560", 62914560},
	} {
		got, err := Effective(tc.hint, tc.env)
		if err != nil || got != tc.want {
			t.Errorf("Effective(%d, %q) = %d, %v; want %d", tc.hint, tc.env, got, err, tc.want)
		}
	}
	if _, err := Effective(0, ""); err == nil {
		t.Error("zero hint: want error")
	}
	if _, err := Effective(-1, "1MiB"); err == nil {
		t.Error("negative hint: want error")
	}
	if _, err := Effective(1, "junk"); err == nil {
		t.Error("bad env: want error")
	}
}
