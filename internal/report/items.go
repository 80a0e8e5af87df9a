// Package report holds what the checklist provisioner and the verify
// post-processor share: the checklist's items (CHECKLIST.md) and the report
// they write, one result per item.
package report

// Item is one requirement of the OpenStack image checklist
// (CHECKLIST.md), by its id.
type Item struct {
	ID, Name string
	Windows  bool
}

// Items are the checklist's items, in its order.
var Items = []Item{
	{ID: "L01", Name: "no-lvm"},
	{ID: "L02", Name: "no-swap"},
	{ID: "L03", Name: "cloud-init"},
	{ID: "L04", Name: "root-password"},
	{ID: "L05", Name: "ssh-password"},
	{ID: "L06", Name: "ssh-key"},
	{ID: "L07", Name: "guest-agent"},
	{ID: "L08", Name: "dhcp"},
	{ID: "L09", Name: "metadata"},
	{ID: "L10", Name: "growroot"},
	{ID: "L11", Name: "nic-hotplug"},
	{ID: "L12", Name: "console-log"},
	{ID: "L13", Name: "httpd"},
	{ID: "L14", Name: "selinux-off"},
	{ID: "L15", Name: "firewall-off"},
	{ID: "L16", Name: "no-mac"},
	{ID: "L17", Name: "flavor-resize"},
	{ID: "L18", Name: "clean"},
	{ID: "W01", Name: "account", Windows: true},
	{ID: "W02", Name: "extend-disk", Windows: true},
	{ID: "W03", Name: "dhcp", Windows: true},
	{ID: "W04", Name: "guest-agent", Windows: true},
	{ID: "W05", Name: "flavor-resize", Windows: true},
	{ID: "W06", Name: "rdp", Windows: true},
	{ID: "W07", Name: "firewall-off", Windows: true},
	{ID: "W08", Name: "virtio", Windows: true},
}

// IDs returns the ids of the Linux or the Windows items.
func IDs(windows bool) []string {
	var ids []string
	for _, it := range Items {
		if it.Windows == windows {
			ids = append(ids, it.ID)
		}
	}
	return ids
}

// Name returns the item's name, or "" for an unknown id.
func Name(id string) string {
	for _, it := range Items {
		if it.ID == id {
			return it.Name
		}
	}
	return ""
}

// Known reports whether id is an item of the checklist.
func Known(id string) bool { return Name(id) != "" }
