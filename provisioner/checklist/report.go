package checklist

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// table renders the results for the Packer UI: one line per item, with the
// first line of its evidence.
func table(results []Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-4s %-14s %-15s %s\n", "id", "item", "status", "evidence")
	for _, r := range results {
		first, _, _ := strings.Cut(r.Evidence, "\n")
		fmt.Fprintf(&b, "%-4s %-14s %-15s %s\n", r.ID, r.Name, r.Status, first)
	}
	return strings.TrimRight(b.String(), "\n")
}

// writeReport writes the results as JSON, one object per item.
func writeReport(path string, results []Result) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("report_file: %w", err)
		}
	}
	data, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("report_file: %w", err)
	}
	return nil
}

// failures returns the items that failed, as "ID name: first evidence line".
func failures(results []Result) []string {
	var failed []string
	for _, r := range results {
		if r.Status == "fail" {
			first, _, _ := strings.Cut(r.Evidence, "\n")
			failed = append(failed, fmt.Sprintf("%s %s: %s", r.ID, r.Name, first))
		}
	}
	return failed
}
