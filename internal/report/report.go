package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/atomicfile"
)

// Statuses of a Result.
const (
	Pass          = "pass"
	Fail          = "fail"
	NotApplicable = "not-applicable"
)

// Result is one item's outcome: the report's unit.
type Result struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Status   string `json:"status"` // pass, fail or not-applicable
	Evidence string `json:"evidence"`
}

// Table renders the results for the Packer UI: one line per item, with the
// first line of its evidence.
func Table(results []Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-4s %-14s %-15s %s\n", "id", "item", "status", "evidence")
	for _, r := range results {
		first, _, _ := strings.Cut(r.Evidence, "\n")
		fmt.Fprintf(&b, "%-4s %-14s %-15s %s\n", r.ID, r.Name, r.Status, first)
	}
	return strings.TrimRight(b.String(), "\n")
}

// Write writes the results to path as JSON, one object per item.
func Write(path string, results []Result) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("report_file: %w", err)
		}
	}
	data, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("report_file: %w", err)
	}
	return nil
}

// Failures returns the items that failed, as "ID name: first evidence line".
func Failures(results []Result) []string {
	var failed []string
	for _, r := range results {
		if r.Status == Fail {
			first, _, _ := strings.Cut(r.Evidence, "\n")
			failed = append(failed, fmt.Sprintf("%s %s: %s", r.ID, r.Name, first))
		}
	}
	return failed
}
