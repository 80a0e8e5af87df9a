package verify

import (
	"os"
	"strings"
	"testing"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/report"
)

func TestConfigDefaults(t *testing.T) {
	var c Config
	if err := c.prepare(map[string]interface{}{"packer_build_name": "b"}); err != nil {
		t.Fatal(err)
	}
	if c.DomainType != "kvm" || c.NetworkMode != "user" || c.Datasource != "configdrive" || c.SSHUsername != "root" ||
		c.increase != 2<<30 || c.resize != 1<<30 || c.ReportFile != "verify-b.json" || c.Hostname != "cloudimage-verify-b" || c.FailOn != "required" {
		t.Errorf("defaults: %+v", c)
	}
}

func TestDefaultHostnameFromVMName(t *testing.T) {
	var c Config
	if err := c.prepare(map[string]interface{}{"vm_name": "My_build.v2-" + strings.Repeat("x", 40)}); err != nil {
		t.Fatal(err)
	}
	if want := "My-build-v2-" + strings.Repeat("x", 40); c.Hostname != want {
		t.Errorf("hostname %q, want %q", c.Hostname, want)
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	for field, value := range map[string]interface{}{
		"domain_type":        "xen",
		"network_mode":       "nat",
		"datasource":         "ec2",
		"disk_size_increase": "lots",
		"resize_increase":    "-1G",
		"hostname":           "under_score",
		"skip_items":         []string{"L99"},
		"fail_on":            "any",
		"libvirt_uri":        "xen:///system",
		"net_device":         "ne2k",
		"disk_interface":     "nvme",
		"cdrom_interface":    "floppy",
		"firmware":           "coreboot",
		"network_bridge":     "br0",
		"vm_name":            "../etc/x",
		"machine_type":       "virt",
		// Written into user-data and the probe's shell as it is.
		"ssh_username": "root; rm -rf /",
	} {
		var c Config
		err := c.prepare(map[string]interface{}{field: value})
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s = %v: error %v, want one naming %s", field, value, err, field)
		}
	}
}

func TestInstanceFiles(t *testing.T) {
	c := Config{Hostname: "h1", SSHUsername: "root", Datasource: "configdrive"}
	in, err := newInstance(&c)
	if err != nil {
		t.Fatal(err)
	}
	files, label := in.files()
	meta := files["openstack/latest/meta_data.json"]
	if label != "config-2" || !strings.Contains(meta, in.uuid) || !strings.Contains(meta, `"hostname":"h1"`) || !strings.Contains(meta, "ssh-rsa ") {
		t.Errorf("config drive %s: meta_data.json %s", label, meta)
	}
	if ud := files["openstack/latest/user_data"]; !strings.HasPrefix(ud, "#cloud-config\n") || !strings.Contains(ud, "root:"+in.password) {
		t.Errorf("user_data %s", ud)
	}
	if nd := files["openstack/latest/network_data.json"]; !strings.Contains(nd, in.mac) || !strings.Contains(nd, "ipv4_dhcp") {
		t.Errorf("network_data.json %s", nd)
	}
	c.Datasource = "nocloud"
	in.datasource = "nocloud"
	files, label = in.files()
	if label != "cidata" || !strings.Contains(files["meta-data"], "instance-id: "+in.uuid) || files["user-data"] == "" {
		t.Errorf("nocloud %s: %v", label, files)
	}
}

// The evaluation of the probe's facts, on the facts of a grown Debian guest
// and of one with swap, LVM, a firewall and a stale MAC.
func TestCheckInside(t *testing.T) {
	in := &instance{uuid: "u-1", hostname: "h1", mac: "52:54:00:00:00:01", secondMAC: "52:54:00:00:00:02", diskBytes: 5 << 30}
	good := parseFacts(`hostname=h1
root_dev=vda1
root_partition=1
root_start=2048
root_sectors=10483679
disk_dev=vda
disk_sectors=10485760
root_fstype=ext4
dm_devices=
df_root_kib=5090000
swaps=
fstab_swap=
cloud_init=/usr/bin/cloud-init 22.4.2
instance_id=u-1
datasource=DataSourceConfigDrive [net,ver=2][source=/dev/sr0]
boot_finished=yes
nic=ens3 52:54:00:00:00:01 10.0.2.15/24
mac_pin=/etc/systemd/network/10-cloud-init-ens3.network 52:54:00:00:00:01
selinux=none
iptables_policy=ACCEPT
iptables_blocking=0
`)
	r := results{}
	r.checkInside(good, in)
	r.checkPins(good, in)
	for _, id := range []string{"L01", "L02", "L03", "L08", "L09", "L10", "L15", "L16"} {
		if r[id].Status != report.Pass {
			t.Errorf("good %s: %+v", id, r[id])
		}
	}
	if r["L14"].Status != report.NotApplicable {
		t.Errorf("L14 without SELinux: %+v", r["L14"])
	}

	bad := parseFacts(`hostname=localhost
root_dev=dm-0
root_dm=vg-root
dm_devices=dm-0
df_root_kib=2000000
swaps=/swapfile
fstab_swap=/swapfile
cloud_init=/usr/bin/cloud-init 22.4.2
instance_id=i-old
nic=ens3 52:54:00:00:00:01
mac_pin=/etc/udev/rules.d/70-persistent-net.rules 52:54:00:aa:bb:cc
selinux=Enforcing
firewall_active=firewalld
iptables_policy=DROP
`)
	r = results{}
	r.checkInside(bad, in)
	r.checkPins(bad, in)
	for _, id := range []string{"L01", "L02", "L03", "L08", "L09", "L10", "L14", "L15", "L16"} {
		if r[id].Status != report.Fail {
			t.Errorf("bad %s: %+v", id, r[id])
		}
	}
	if !strings.Contains(r["L16"].Evidence, "52:54:00:aa:bb:cc") || !strings.Contains(r["L15"].Evidence, "firewalld") {
		t.Errorf("evidence: L16 %q, L15 %q", r["L16"].Evidence, r["L15"].Evidence)
	}
}

func TestConsoleLog(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/console.log"
	for text, want := range map[string]bool{
		"[    0.000000] Linux version 6.1.0\r\n[   20.1] cloud-init[400]: Cloud-init v. 22.4.2 running 'init'\r\n": true,
		"[    0.000000] Linux version 6.1.0\r\nDebian GNU/Linux 12 h1 ttyS0\r\n\r\nh1 login: ":                     true,
		"SeaBIOS (version 1.16)\r\nBooting from Hard Disk...\r\n":                                                  false,
	} {
		if err := writeFile(path, text); err != nil {
			t.Fatal(err)
		}
		if ok, ev := consoleLog(path); ok != want {
			t.Errorf("consoleLog(%q) = %v (%s), want %v", text, ok, ev, want)
		}
	}
}

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o644) }

// q35 has no IDE controller: an IDE config drive or disk on it is refused,
// whether machine_type is set or comes from the artifact.
func TestQ35WithIDE(t *testing.T) {
	var c Config
	err := c.prepare(map[string]interface{}{"machine_type": "q35", "cdrom_interface": "ide"})
	if err == nil || !strings.Contains(err.Error(), `cdrom_interface "ide": machine_type "q35" (q35) has no IDE controller`) {
		t.Errorf("prepare: %v", err)
	}
	c = Config{}
	if err := c.prepare(map[string]interface{}{"disk_interface": "ide"}); err != nil {
		t.Fatal(err)
	}
	c.MachineType = "pc-q35-7.2" // the artifact's
	if err := c.checkBuses(); err == nil || !strings.Contains(err.Error(), "disk_interface") {
		t.Errorf("checkBuses: %v", err)
	}
}

// The default vm_name is a domain name whatever the build's name.
func TestDefaultVMName(t *testing.T) {
	var c Config
	if err := c.prepare(map[string]interface{}{"packer_build_name": "cloudimage-libvirt.debian 12/" + strings.Repeat("x", 80)}); err != nil {
		t.Fatal(err)
	}
	if len(c.VMName) != 63 || !strings.HasPrefix(c.VMName, "cloudimage-verify-cloudimage-libvirt-debian-12-x") {
		t.Errorf("vm_name %q", c.VMName)
	}
}
