// Package checklist_test runs the cloudimage-checklist provisioner for real:
// on the Debian 12 fixture guest under libvirt, through the builder.
package checklist_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

// One build on the fixture guest: apply (packages from the Debian mirror,
// through QEMU's user networking), apply again (nothing to do, the same
// report), then break the guest (a swap file, the nftables firewall on, a
// pinned MAC) and verify: exactly those three items fail.
func TestChecklistOnDebian(t *testing.T) {
	dir := testenv.VMDir(t)
	name := testenv.DomainName(t)
	report := func(n string) string { return filepath.Join(dir, n+".json") }
	tmpl := testenv.FixtureSource(t, name, filepath.Join(dir, "out"), "skip_compaction = true") + fmt.Sprintf(`
build {
  sources = ["source.cloudimage-libvirt.debian"]
  provisioner "cloudimage-checklist" {
    report_file = %q
  }
  provisioner "cloudimage-checklist" {
    report_file = %q
  }
  provisioner "shell" {
    inline = [
      "DEBIAN_FRONTEND=noninteractive apt-get -q -y install nftables >/dev/null && systemctl enable nftables",
      "dd if=/dev/zero of=/swapfile bs=1M count=32 status=none && chmod 600 /swapfile && mkswap /swapfile >/dev/null && swapon /swapfile",
      "echo '/swapfile none swap sw 0 0' >> /etc/fstab",
      "echo 'SUBSYSTEM==\"net\", ACTION==\"add\", ATTR{address}==\"52:54:00:aa:bb:cc\", NAME=\"eth0\"' > /etc/udev/rules.d/70-persistent-net.rules",
    ]
  }
  provisioner "cloudimage-checklist" {
    mode        = "verify"
    fail_on     = "none"
    report_file = %q
  }
}
`, report("apply"), report("again"), report("broken"))
	if err := os.WriteFile(filepath.Join(dir, "debian.pkr.hcl"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out := testenv.Packer(t, dir, "build", "debian.pkr.hcl")
	t.Logf("packer build took %s", time.Since(start).Round(time.Second))
	if i := strings.Index(out, "Checklist:"); i >= 0 {
		t.Logf("the first run's table:\n%s", out[i:min(len(out), i+2500)])
	}

	apply := testenv.ReadReport(t, report("apply"))
	if len(apply) != 18 {
		t.Errorf("the report has %d items, want 18 (L01-L18)", len(apply))
	}
	if failed := testenv.WithStatus(apply, "fail"); len(failed) > 0 {
		t.Errorf("items failed after apply: %v", failed)
		for _, r := range apply {
			if r.Status == "fail" {
				t.Logf("%s %s:\n%s", r.ID, r.Name, r.Evidence)
			}
		}
	}
	if na := testenv.WithStatus(apply, "not-applicable"); !slices.Equal(na, []string{"L14", "L18"}) {
		t.Errorf("not applicable: %v, want [L14 L18] (no SELinux on Debian; cleaning is sysprep's)", na)
	}

	again := testenv.ReadReport(t, report("again"))
	for i := range again {
		if i < len(apply) && (again[i].ID != apply[i].ID || again[i].Status != apply[i].Status) {
			t.Errorf("second run: %s %s, first: %s %s", again[i].ID, again[i].Status, apply[i].ID, apply[i].Status)
		}
	}
	// The second run's steps: nothing to install, grub not regenerated.
	second := out[strings.Index(out, "Checklist report: "+report("apply")):]
	second = second[:strings.Index(second, "Checklist report: "+report("again"))]
	for _, busy := range []string{"installing", "serial console", "removing swap"} {
		if strings.Contains(second, busy) {
			t.Errorf("the second run did work (%q):\n%s", busy, second)
		}
	}

	broken := testenv.ReadReport(t, report("broken"))
	if failed := testenv.WithStatus(broken, "fail"); !slices.Equal(failed, []string{"L02", "L15", "L16"}) {
		t.Errorf("verify on the broken guest failed %v, want [L02 L15 L16]", failed)
	}
}
