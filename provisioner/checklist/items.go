package checklist

import "github.com/cloudimage/packer-plugin-cloudimage/internal/report"

// Result is one item's outcome: the report's unit.
type Result = report.Result

// itemsFor returns the ids of the Linux or the Windows items.
func itemsFor(windows bool) []string { return report.IDs(windows) }

func itemName(id string) string { return report.Name(id) }
