// Package testenv gives acceptance tests what the harness (hack/harness.sh)
// set up: `make testacc` loads .harness/env and sets PACKER_ACC=1.
package testenv

import (
	"os"
	"testing"
)

// Get returns the values of the named harness variables, in order. Without
// PACKER_ACC the test is skipped: `make test` runs unit tests only. With
// PACKER_ACC a missing variable fails the test, because the harness promised
// it.
func Get(t testing.TB, names ...string) []string {
	t.Helper()
	if os.Getenv("PACKER_ACC") == "" {
		t.Skip("acceptance test: set PACKER_ACC=1 and load .harness/env (make testacc)")
	}
	vals := make([]string, len(names))
	for i, n := range names {
		vals[i] = os.Getenv(n)
		if vals[i] == "" {
			t.Fatalf("PACKER_ACC is set but %s is not: run the harness (make harness) and load .harness/env", n)
		}
	}
	return vals
}
