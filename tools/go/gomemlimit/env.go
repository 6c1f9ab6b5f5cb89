package gomemlimit

import (
	"fmt"
	"math"
	"strconv"
)

// NoLimit is the value the runtime uses for "no memory limit" (GOMEMLIMIT
// unset or "off"); debug.SetMemoryLimit(-1) reports it in that case.
const NoLimit = math.MaxInt64

// ParseGOMEMLIMIT parses a GOMEMLIMIT value with the runtime's own syntax:
// plain bytes ("1048576"), a "B" suffix, or a binary unit "KiB", "MiB",
// "GiB", "TiB"; "off" means no limit. Decimal units ("MB") and spaces are
// rejected, as the runtime rejects them: a value the runtime would refuse at
// start must not be honoured here either.
func ParseGOMEMLIMIT(s string) (int64, error) {
	if s == "off" {
		return NoLimit, nil
	}
	num, mult := s, uint64(1)
	switch {
	case len(s) > 3 && s[len(s)-2:] == "iB":
		switch s[len(s)-3] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		default:
			return 0, fmt.Errorf("GOMEMLIMIT %q: unknown unit (want B, KiB, MiB, GiB, TiB or off)", s)
		}
		num = s[:len(s)-3]
	case len(s) > 1 && s[len(s)-1] == 'B':
		num = s[:len(s)-1]
	}
	if !allDigits(num) {
		return 0, fmt.Errorf("GOMEMLIMIT %q: want bytes with optional B/KiB/MiB/GiB/TiB suffix, or off", s)
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("GOMEMLIMIT %q: out of range", s)
	}
	return int64(n * mult), nil
}

// Effective applies the rule that a hint never raises the limit above the
// one the program chose through GOMEMLIMIT: it returns min(hint, env) when
// env is non-empty, and hint otherwise.
func Effective(hint int64, env string) (int64, error) {
	if hint <= 0 {
		return 0, fmt.Errorf("hint %d: must be positive", hint)
	}
	if env == "" {
		return hint, nil
	}
	limit, err := ParseGOMEMLIMIT(env)
	if err != nil {
		return 0, err
	}
	if limit < hint {
		return limit, nil
	}
	return hint, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
