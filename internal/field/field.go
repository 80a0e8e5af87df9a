// Package field checks configuration values the components share, with
// errors that name the field and what it allows.
package field

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// OneOf returns an error naming field unless value is one of allowed.
func OneOf(field, value string, allowed []string) error {
	if slices.Contains(allowed, value) {
		return nil
	}
	return fmt.Errorf("%s %q is not one of %s", field, value, strings.Join(allowed, ", "))
}

// ParseSize reads a size as disk_size takes it: MiB without a suffix, else
// K, M, G or T, optionally followed by "iB" or "B" (all binary units).
func ParseSize(s string) (uint64, error) {
	bad := fmt.Errorf("%q is not a size: use a number of MiB or a number with K, M, G or T (10G)", s)
	units := map[string]uint64{"": 1 << 20, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
	upper := strings.ToUpper(s)
	num := strings.TrimRight(upper, "KMGTIB")
	suffix := upper[len(num):]
	if rest, ok := strings.CutSuffix(suffix, "IB"); ok && rest != "" {
		suffix = rest
	} else if rest, ok := strings.CutSuffix(suffix, "B"); ok && rest != "" {
		suffix = rest
	}
	unit, ok := units[suffix]
	n, err := strconv.ParseUint(num, 10, 64)
	if !ok || err != nil || n == 0 {
		return 0, bad
	}
	if n > math.MaxUint64/unit {
		return 0, fmt.Errorf("%q is too large a size", s)
	}
	return n * unit, nil
}
