package verify

import (
	"fmt"
	"strings"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/report"
)

// results collects one result per item, in the checklist's order.
type results map[string]report.Result

func (r results) set(id string, pass bool, format string, a ...any) {
	status := report.Fail
	if pass {
		status = report.Pass
	}
	r[id] = report.Result{ID: id, Name: report.Name(id), Status: status, Evidence: fmt.Sprintf(format, a...)}
}

func (r results) notApplicable(id, format string, a ...any) {
	r[id] = report.Result{ID: id, Name: report.Name(id), Status: report.NotApplicable, Evidence: fmt.Sprintf(format, a...)}
}

// list returns the results of ids in order; an item nothing was found out
// about fails with why.
func (r results) list(ids []string, why string) []report.Result {
	var out []report.Result
	for _, id := range ids {
		res, ok := r[id]
		if !ok {
			res = report.Result{ID: id, Name: report.Name(id), Status: report.Fail, Evidence: why}
		}
		out = append(out, res)
	}
	return out
}

func gib(b uint64) string { return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30)) }

// checkInside sets the items the probe's facts decide.
func (r results) checkInside(f facts, in *instance) {
	// L01
	root := f.get("root_dev")
	dm := strings.TrimSpace(f.get("dm_devices"))
	switch {
	case f.get("root_dm") != "":
		r.set("L01", false, "/ is on device-mapper volume %s (%s)", f.get("root_dm"), f.get("root_source"))
	case dm != "":
		r.set("L01", false, "/ is on %s, but device-mapper devices exist: %s", root, dm)
	case f.get("root_partition") == "":
		r.set("L01", false, "/ is on %s (%s), not a partition", root, f.get("root_source"))
	default:
		r.set("L01", true, "/ (%s) is on partition %s of %s; no device-mapper devices", f.get("root_fstype"), root, f.get("disk_dev"))
	}
	// L02
	swaps, fstab := f.get("swaps"), f.get("fstab_swap")
	r.set("L02", swaps == "" && fstab == "", "active swap: %s; swap in /etc/fstab: %s", or(swaps, "none"), or(fstab, "none"))
	// L03
	id, ds := f.get("instance_id"), f.get("datasource")
	switch {
	case f.get("cloud_init") == "":
		r.set("L03", false, "cloud-init is not installed")
	case id != in.uuid:
		r.set("L03", false, "%s did not take this instance's metadata: instance-id %q, want %s (datasource: %s)", f.get("cloud_init"), id, in.uuid, or(ds, "none"))
	case f.get("boot_finished") == "":
		r.set("L03", false, "%s took the metadata (%s) but did not finish its first boot within cloud_init_timeout", f.get("cloud_init"), ds)
	default:
		r.set("L03", true, "%s ran this instance's metadata: instance-id %s, %s", f.get("cloud_init"), id, ds)
	}
	// L08
	if n, ok := f.nicByMAC(in.mac); ok && len(n.addrs) > 0 {
		r.set("L08", true, "%s (%s, a MAC the image never saw) got %s at boot", n.name, n.mac, strings.Join(n.addrs, " "))
	} else {
		r.set("L08", false, "the NIC with MAC %s has no IPv4 address: %s", in.mac, strings.Join(f["nic"], "; "))
	}
	// L09
	host := f.get("hostname")
	short, _, _ := strings.Cut(host, ".")
	r.set("L09", strings.EqualFold(short, in.hostname), "hostname %q; the metadata's %q", host, in.hostname)
	// L10
	r.grown("L10", f, in.diskBytes)
	// L14
	switch se := f.get("selinux"); se {
	case "none", "":
		r.notApplicable("L14", "SELinux is not installed")
	case "Disabled":
		r.set("L14", true, "getenforce: Disabled")
	default:
		r.set("L14", false, "SELinux: %s", se)
	}
	// L15
	var blocking []string
	if a := f["firewall_active"]; len(a) > 0 {
		blocking = append(blocking, "running: "+strings.Join(a, " "))
	}
	if p := f.get("iptables_policy"); p != "" && p != "ACCEPT" {
		blocking = append(blocking, "iptables INPUT policy "+p)
	}
	if n := f.uint("iptables_blocking"); n > 0 {
		blocking = append(blocking, fmt.Sprintf("%d iptables INPUT rules drop or reject", n))
	}
	if n := f.uint("nft_blocking"); n > 0 {
		blocking = append(blocking, fmt.Sprintf("%d nftables input rules or policies drop or reject", n))
	}
	r.set("L15", len(blocking) == 0, "%s", or(strings.Join(blocking, "; "), "no firewall service runs; INPUT policy "+or(f.get("iptables_policy"), "ACCEPT (no iptables)")))
}

// grown sets id from whether the root partition and filesystem fill a disk
// of want bytes (L10, L17).
func (r results) grown(id string, f facts, want uint64) {
	disk := f.uint("disk_sectors") * 512
	start, size := f.uint("root_start")*512, f.uint("root_sectors")*512
	df := f.uint("df_root_kib") << 10
	if f.get("root_partition") == "" {
		r.set(id, false, "/ is not on a partition (%s): nothing to grow", f.get("root_source"))
		return
	}
	tail := int64(disk) - int64(start+size)
	ev := fmt.Sprintf("disk %s %s; / on %s, %s, ending %d MiB before the disk's end; df /: %s", f.get("disk_dev"), gib(disk), f.get("root_dev"), gib(size), tail>>20, gib(df))
	switch {
	case disk != want:
		r.set(id, false, "the guest sees a %s disk, not %s; %s", gib(disk), gib(want), ev)
	case tail > 16<<20:
		r.set(id, false, "the root partition did not grow: %s", ev)
	case df < size/10*9:
		r.set(id, false, "the root filesystem did not grow with its partition: %s", ev)
	default:
		r.set(id, true, "%s", ev)
	}
}

// checkPins sets L16: MAC addresses in the network configuration that are
// not this instance's were left by the build.
func (r results) checkPins(f facts, in *instance) {
	var stale []string
	for _, p := range f["mac_pin"] {
		file, mac, _ := strings.Cut(p, " ")
		mac = strings.ToLower(mac)
		if mac != in.mac && mac != in.secondMAC {
			stale = append(stale, file+": "+mac)
		}
	}
	if len(stale) > 0 {
		r.set("L16", false, "MAC addresses this instance does not have are pinned: %s", strings.Join(stale, "; "))
		return
	}
	if n := len(f["mac_pin"]); n > 0 {
		r.set("L16", true, "the network configuration names no MAC address but this instance's own (%d times)", n)
		return
	}
	r.set("L16", true, "the network configuration names no MAC address")
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
