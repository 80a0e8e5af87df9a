package verify_test

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

// The checklist provisioner again, on the main job's image booted by the
// builder (an overlay, with a NoCloud CD for cloud-init): the apply the
// main job ran has left nothing to do, so this run installs nothing, does
// not regenerate grub and reports what the main job's run reported. Then
// the guest is broken (a swap file, the nftables firewall on, a pinned
// MAC) and the checklist in verify mode fails exactly those three items.
// (The main job's build checked the first apply, on the fixture guest as
// its installer left it.)
func checklistAgain(t *testing.T, j mainJob) {
	l := testenv.Connect(t)
	dir := testenv.VMDir(t)
	vm := testenv.DomainName(t)
	report := func(n string) string { return filepath.Join(dir, n+".json") }
	tmpl := fmt.Sprintf(`
source "cloudimage-libvirt" "again" {
  disk_image_url      = %q
  disk_image_checksum = "none"
  use_backing_file    = true
  domain_type         = "qemu"
  network_mode        = "user"
  vm_name             = %q
  cpus                = 2
  memory              = 1536
  cd_label            = "cidata"
  cd_content = {
    "meta-data" = "instance-id: %s\n"
    "user-data" = "#cloud-config\nssh_pwauth: true\n"
  }
  ssh_username     = "root"
  ssh_password     = "cloudimage-example"
  ssh_timeout      = "15m"
  shutdown_command = "systemctl poweroff"
  skip_compaction  = true
  output_directory = %q
}
build {
  sources = ["source.cloudimage-libvirt.again"]
  provisioner "cloudimage-checklist" {
    report_file = %q
  }
  provisioner "shell" {
    inline = [
      "export DEBIAN_FRONTEND=noninteractive; apt-get -q -y install nftables >/dev/null || { apt-get -q update >/dev/null && apt-get -q -y install nftables >/dev/null; }",
      "systemctl enable nftables",
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
`, j.image, vm, vm, filepath.Join(dir, "out"), report("again"), report("broken"))
	if err := os.WriteFile(filepath.Join(dir, "again.pkr.hcl"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out := testenv.Packer(t, dir, "build", "again.pkr.hcl")
	t.Logf("packer build took %s", time.Since(start).Round(time.Second))

	// The run's steps: nothing to install, grub not regenerated.
	from, to := strings.Index(out, "Applying and checking"), strings.Index(out, "Checklist report: "+report("again"))
	if from < 0 || to < from {
		t.Fatalf("no checklist run in the build's output:\n%s", out)
	}
	run := out[from:to]
	for _, busy := range []string{"installing", "serial console", "removing swap"} {
		if strings.Contains(run, busy) {
			t.Errorf("the run on the finished image did work (%q):\n%s", busy, run)
		}
	}
	first := testenv.ReadReport(t, j.checklistReport)
	again := testenv.ReadReport(t, report("again"))
	t.Logf("the run on the finished image:\n%s", testenv.Table(again))
	if len(again) != len(first) {
		t.Errorf("%d items, the main job's run %d", len(again), len(first))
	}
	for i := range again {
		if i < len(first) && (again[i].ID != first[i].ID || again[i].Status != first[i].Status) {
			t.Errorf("on the finished image: %s %s; the main job's run: %s %s", again[i].ID, again[i].Status, first[i].ID, first[i].Status)
		}
	}

	broken := testenv.ReadReport(t, report("broken"))
	t.Logf("verify mode on the broken guest:\n%s", testenv.Table(broken))
	if failed := testenv.WithStatus(broken, "fail"); !slices.Equal(failed, []string{"L02", "L15", "L16"}) {
		t.Errorf("verify on the broken guest failed %v, want [L02 L15 L16]", failed)
	}
	testenv.AssertNoLeftovers(t, l, vm)
}
