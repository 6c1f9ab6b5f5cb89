package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// parseSize accepts plain bytes or a binary unit, as oomwatch's CLI does:
// "4096", "64K", "32M", "1.5G", "32MiB", "100B". K, M, G and T are powers
// of 1024 with or without "iB"; fractions are allowed with a unit.
func parseSize(s string) (int64, error) {
	num, mult := s, float64(1)
	upper := strings.ToUpper(s)
	for i, u := range []string{"K", "M", "G", "T"} {
		if strings.HasSuffix(upper, u+"IB") {
			num, mult = s[:len(s)-3], math.Pow(1024, float64(i+1))
			break
		}
		if strings.HasSuffix(upper, u) {
			num, mult = s[:len(s)-1], math.Pow(1024, float64(i+1))
			break
		}
	}
	if mult == 1 && strings.HasSuffix(upper, "B") {
		num = s[:len(s)-1]
	}
	if mult == 1 {
		// Bytes must be whole; ParseInt also rejects "1e6" and "0x10".
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("bad size %q: want a positive byte count such as 4096, 64K, 32MiB", s)
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || strings.ContainsAny(num, "eEnNxX") || !(f > 0) || f*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("bad size %q: want a positive byte count such as 4096, 64K, 32MiB", s)
	}
	if n := int64(f * mult); n > 0 {
		return n, nil
	}
	return 0, fmt.Errorf("bad size %q: less than one byte", s)
}

// sizeFlag is a flag.Value holding a byte count.
type sizeFlag int64

func (f *sizeFlag) String() string { return strconv.FormatInt(int64(*f), 10) }

func (f *sizeFlag) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*f = sizeFlag(n)
	return nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
