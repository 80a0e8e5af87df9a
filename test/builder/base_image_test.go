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

// The base-image path: the builder boots the fixture qcow2 on an overlay
// (use_backing_file), grown to disk_size, with a "cidata" CD made from
// cd_content and a driver-disc-like ISO from additional_iso_files (checked
// by a checksum file), runs a provisioner over SSH that reads both, and
// exports a standalone disk.
// domain_type = "auto" must pick a type that boots here: libvirt offers kvm,
// whose guests hang on this machine, and the KVM probe tells.
func TestBuildFromBaseImage(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_IMAGE", "CLOUDIMAGE_FIXTURE_PASSWORD")
	dir := testenv.VMDir(t)
	name := testenv.DomainName(t)
	marker := testenv.RandomHex(t, 8)
	extra := extraISO(t, dir, "DRIVERS", marker)
	tmpl := fmt.Sprintf(`
source "cloudimage-libvirt" "base" {
  disk_image_url      = %q
  disk_image_checksum = "none"
  use_backing_file    = true
  disk_size           = "3G"
  domain_type         = "auto"
  network_mode        = "user"
  vm_name             = %q
  cpus                = 2
  cd_label            = "cidata"
  cd_content = {
    "meta-data" = "instance-id: %s\n"
    "user-data" = "#cloud-config\n"
  }
  additional_iso_files {
    iso_url      = %q
    iso_checksum = "file:%s"
  }
  ssh_username     = "root"
  ssh_password     = %q
  ssh_timeout      = "10m"
  output_directory = %q
}
build {
  sources = ["source.cloudimage-libvirt.base"]
  provisioner "shell" {
    inline = [
      "mkdir -p /mnt/seed && mount -o ro /dev/disk/by-label/cidata /mnt/seed && cat /mnt/seed/meta-data",
      "mkdir -p /mnt/drivers && mount -o ro /dev/disk/by-label/DRIVERS /mnt/drivers && echo drivers: $(cat /mnt/drivers/marker.txt)",
      "blockdev --getsize64 /dev/vda",
      "echo %s > /root/provisioned",
    ]
  }
}
`, env[0], name, marker, extra, checksumFile(t, dir, extra), env[1], filepath.Join(dir, "out"), marker)
	must(t, os.WriteFile(filepath.Join(dir, "base.pkr.hcl"), []byte(tmpl), 0o644))

	start := time.Now()
	out := build(t, dir, "base.pkr.hcl")
	t.Logf("packer build took %s", time.Since(start).Round(time.Second))
	assertOutput(t, out, "domain_type auto: using ", "instance-id: "+marker, "drivers: "+marker, fmt.Sprint(3<<30), "Exported "+name+".qcow2")
	disk := filepath.Join(dir, "out", name+".qcow2")
	info, err := image.Inspect(t.Context(), disk)
	must(t, err)
	if info.BackingFile != "" || info.VirtualSize != 3<<30 {
		t.Errorf("exported disk: %+v, want a standalone qcow2 of 3 GiB", info)
	}
	// The provisioner's file is in the exported (flattened) image.
	if got := testenv.Run(t, "virt-cat", "-a", disk, "/root/provisioned"); strings.TrimSpace(got) != marker {
		t.Errorf("/root/provisioned = %q, want %q", got, marker)
	}
	assertNoLeftovers(t, name)
}
