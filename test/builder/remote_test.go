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

// A remote-style URI (qemu+tcp:// to libvirtd on loopback): the builder
// cannot use this machine's files in place, so it uploads the ISO, the CD
// and the floppy into the storage pool, downloads the finished disk, and
// deletes every volume it made, an additional ISO's among them. With
// communicator = "none" the ks file ends in poweroff, and the builder
// waits for the guest to power itself off; the disk is raw. The domain
// has no VNC: boot_wait = "auto" watches its screen through libvirt's
// screenshots, and the boot command is typed through the libvirt
// connection, and reaches the guest key for key.
func TestBuildOverTCP(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_ISO", "CLOUDIMAGE_FIXTURE_RAWGZ", "CLOUDIMAGE_LIBVIRT_TCP_URI")
	dir := testenv.VMDir(t)
	httpDir := installerHTTP(t, dir, "poweroff")
	name := testenv.DomainName(t)
	tmpl := fmt.Sprintf(`
source "cloudimage-libvirt" "tcp" {
  libvirt_uri      = %q
  iso_url          = %q
  iso_checksum     = "none"
  domain_type      = "qemu"
  network_mode     = "user"
  vm_name          = %q
  cpus             = 2
  disk_size        = "2G"
  disk_format      = "raw"
  http_directory   = %q
  cd_content       = { "meta-data" = "instance-id: %s\n" }
  cd_label         = "cidata"
  floppy_content   = { "hello.txt" = "hello" }
  additional_iso_files {
    iso_url      = %q
    iso_checksum = "none"
  }
  boot_wait        = "auto"
  boot_command     = ["install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg %s<enter>"]
  disable_vnc      = true
  communicator     = "none"
  output_directory = %q
}
build { sources = ["source.cloudimage-libvirt.tcp"] }
`, env[2], env[0], name, httpDir, name, extraISO(t, dir, "DRIVERS", name), typedMarker, filepath.Join(dir, "out"))
	must(t, os.WriteFile(filepath.Join(dir, "tcp.pkr.hcl"), []byte(tmpl), 0o644))

	start := time.Now()
	out := build(t, dir, "tcp.pkr.hcl")
	t.Logf("packer build took %s", time.Since(start).Round(time.Second))
	assertOutput(t, out,
		"Uploading installer.iso to volume "+name+"-iso.iso",
		"to volume "+name+"-cd.iso",
		"to volume "+name+"-floppy",
		"Uploading drivers.iso to volume "+name+"-iso1.iso",
		"Downloading volume "+name+".raw",
		"The boot screen was ready after",
		"Waiting for the guest to power itself off",
		"The guest has shut down",
	)
	disk := filepath.Join(dir, "out", name+".raw")
	info, err := image.Inspect(t.Context(), disk, "raw")
	must(t, err)
	if info.Format != "raw" || info.VirtualSize != 2<<30 {
		t.Errorf("exported disk: %+v, want raw of 2 GiB", info)
	}
	// The installed partition table is in the exported image.
	if got := testenv.Run(t, "sfdisk", "--dump", disk); !strings.Contains(got, "type=83") {
		t.Errorf("the exported disk has no Linux partition:\n%s", got)
	}
	console, err := os.ReadFile(filepath.Join(dir, "out", "console.log"))
	must(t, err)
	if !strings.Contains(string(console), "cloudimage-installer: done, poweroff") {
		t.Errorf("console.log lacks the installer's poweroff")
	}
	assertTyped(t, filepath.Join(dir, "out", "console.log"))
	if _, err := os.Stat(disk + ".download"); !os.IsNotExist(err) {
		t.Errorf("the downloaded copy is left behind (%v)", err)
	}
	assertNoLeftovers(t, name)
}
