package builder_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

// communicator = "none": the ks file ends in poweroff, and the builder
// waits for the guest to power itself off, then exports the disk.
func TestBuildWithoutCommunicator(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_ISO", "CLOUDIMAGE_FIXTURE_RAWGZ")
	dir := testenv.VMDir(t)
	httpDir := installerHTTP(t, dir, "poweroff")
	name := testenv.DomainName(t)
	tmpl := fmt.Sprintf(`
source "cloudimage-libvirt" "none" {
  iso_url          = %q
  iso_checksum     = "none"
  domain_type      = "qemu"
  network_mode     = "user"
  vm_name          = %q
  cpus             = 2
  disk_size        = "2G"
  disk_format      = "raw"
  http_directory   = %q
  boot_wait        = "2s"
  boot_command     = ["install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"]
  communicator     = "none"
  output_directory = %q
}
build {
  sources = ["source.cloudimage-libvirt.none"]
}
`, env[0], name, httpDir, filepath.Join(dir, "out"))
	must(t, os.WriteFile(filepath.Join(dir, "none.pkr.hcl"), []byte(tmpl), 0o644))

	start := time.Now()
	out := build(t, dir, "none.pkr.hcl")
	t.Logf("packer build took %s", time.Since(start).Round(time.Second))
	assertOutput(t, out, "Waiting for the guest to power itself off", "The guest has shut down")
	console, err := os.ReadFile(filepath.Join(dir, "out", "console.log"))
	must(t, err)
	if !strings.Contains(string(console), "cloudimage-installer: done, poweroff") {
		t.Errorf("console.log lacks the installer's poweroff")
	}
	info, err := image.Inspect(t.Context(), filepath.Join(dir, "out", name+".raw"))
	must(t, err)
	if info.Format != "raw" || info.VirtualSize != 2<<30 {
		t.Errorf("exported disk: %+v, want raw of 2 GiB", info)
	}
	// The installed partition table is in the exported image.
	if got := testenv.Run(t, "sfdisk", "--dump", filepath.Join(dir, "out", name+".raw")); !strings.Contains(got, "type=83") {
		t.Errorf("the exported disk has no Linux partition:\n%s", got)
	}
	assertNoLeftovers(t, name)
}
