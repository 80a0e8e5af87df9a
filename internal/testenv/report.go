package testenv

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// Result is one item of a report of the checklist provisioner or the
// verify post-processor, as a test reads the JSON.
type Result struct {
	ID, Name, Status, Evidence string
}

// ReadReport reads a report file.
func ReadReport(t *testing.T, path string) []Result {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r []Result
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r
}

// WithStatus returns the ids of the results with status.
func WithStatus(rs []Result, status string) []string {
	var ids []string
	for _, r := range rs {
		if r.Status == status {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// Table renders results a line each, with the first line of the evidence.
func Table(rs []Result) string {
	var b strings.Builder
	for _, r := range rs {
		first, _, _ := strings.Cut(r.Evidence, "\n")
		fmt.Fprintf(&b, "%-4s %-14s %-15s %s\n", r.ID, r.Name, r.Status, first)
	}
	return b.String()
}
