package builder_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

// The base-image path, two builds at once (-parallel-builds=2). Build
// "full" runs on the harness's libvirtd reached as a remote host, over
// qemu+ssh:// (the harness's sshd): it uploads the fixture qcow2, the CD
// and the ISO into the pool, boots the base on an overlay there
// (use_backing_file), grown to disk_size, with a "cidata" CD made from
// cd_content and a driver-disc-like ISO from additional_iso_files (checked
// by a checksum file). QEMU's forward listens on the libvirt host's
// loopback, and a provisioner reaches the guest through the libvirt
// connection's SSH connection and reads both discs; the disk is downloaded
// and exported standalone. Build "copy", on qemu:///system, copies the
// base image into its disk instead and skips compaction; its domain_type
// = "auto" must pick a type that boots here (libvirt offers kvm, whose
// guests hang on this machine: the KVM probe, which runs for this
// machine's own daemon only, tells). The two get distinct
// forwarded and HTTP ports and volumes, and both succeed.
func TestBuildFromBaseImage(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_IMAGE", "CLOUDIMAGE_FIXTURE_PASSWORD", "CLOUDIMAGE_LIBVIRT_SSH_URI")
	dir := testenv.VMDir(t)
	prefix := testenv.DomainName(t)[:24]
	marker := testenv.RandomHex(t, 8)
	extra := extraISO(t, dir, "DRIVERS", marker)
	tmpl := fmt.Sprintf(`
source "cloudimage-libvirt" "base" {
  disk_image_url      = %q
  disk_image_checksum = "none"
  network_mode        = "user"
  cpus                = 1
  http_content        = { "/hello" = "hello" }
  ssh_username        = "root"
  ssh_password        = %q
  ssh_timeout         = "10m"
}
build {
  source "source.cloudimage-libvirt.base" {
    name             = "full"
    libvirt_uri      = %q
    vm_name          = "%s-full"
    output_directory = "%s/out-full"
    use_backing_file = true
    disk_size        = "3G"
    domain_type      = "qemu"
    cd_label         = "cidata"
    cd_content = {
      "meta-data" = "instance-id: %s\n"
      "user-data" = "#cloud-config\n"
    }
    additional_iso_files {
      iso_url      = %q
      iso_checksum = "file:%s"
    }
  }
  source "source.cloudimage-libvirt.base" {
    name             = "copy"
    vm_name          = "%s-copy"
    output_directory = "%s/out-copy"
    domain_type      = "auto"
    skip_compaction  = true
  }
  provisioner "shell" {
    only = ["cloudimage-libvirt.full"]
    inline = [
      "mkdir -p /mnt/seed && mount -o ro /dev/disk/by-label/cidata /mnt/seed && cat /mnt/seed/meta-data",
      "mkdir -p /mnt/drivers && mount -o ro /dev/disk/by-label/DRIVERS /mnt/drivers && echo drivers: $(cat /mnt/drivers/marker.txt)",
      "blockdev --getsize64 /dev/vda",
      "echo %s > /root/provisioned",
    ]
  }
}
`, env[0], env[1], env[2], prefix, dir, marker, extra, checksumFile(t, dir, extra), prefix, dir, marker)
	must(t, os.WriteFile(filepath.Join(dir, "base.pkr.hcl"), []byte(tmpl), 0o644))

	start := time.Now()
	out := build(t, dir, "base.pkr.hcl", "-parallel-builds=2")
	t.Logf("packer build (two builds at once) took %s", time.Since(start).Round(time.Second))
	assertOutput(t, out, "domain_type auto: using ", "instance-id: "+marker, "drivers: "+marker, fmt.Sprint(3<<30), "Exported "+prefix+"-full.qcow2", "Copying the disk to",
		"cloudimage-libvirt.full: Uploading", "on the libvirt host (here 127.0.0.1:", "through SSH)", "cloudimage-libvirt.full: Connected to SSH!")

	for _, pattern := range []string{`cloudimage-libvirt\.(full|copy): Forwarding 127\.0\.0\.1:(\d+)`, `cloudimage-libvirt\.(full|copy): Starting HTTP server on port (\d+)`} {
		ports := map[string]string{}
		for _, m := range regexp.MustCompile(pattern).FindAllStringSubmatch(out, -1) {
			ports[m[1]] = m[2]
		}
		if len(ports) != 2 || ports["full"] == ports["copy"] {
			t.Errorf("%s: want two distinct ports, got %v", pattern, ports)
		}
	}

	disk := filepath.Join(dir, "out-full", prefix+"-full.qcow2")
	info, err := image.Inspect(t.Context(), disk, "qcow2")
	must(t, err)
	if info.BackingFile != "" || info.VirtualSize != 3<<30 {
		t.Errorf("exported disk: %+v, want a standalone qcow2 of 3 GiB", info)
	}
	// The provisioner's file is in the exported (flattened) image.
	if got := testenv.Run(t, "virt-cat", "--format=qcow2", "-a", disk, "/root/provisioned"); strings.TrimSpace(got) != marker {
		t.Errorf("/root/provisioned = %q, want %q", got, marker)
	}
	copied := filepath.Join(dir, "out-copy", prefix+"-copy.qcow2")
	if info, err := image.Inspect(t.Context(), copied, "qcow2"); err != nil || info.BackingFile != "" || info.VirtualSize != 2<<30 {
		t.Errorf("the copy build's disk: %+v, %v; want a standalone qcow2 of the base's 2 GiB", info, err)
	}
	assertNoLeftovers(t, prefix)
}
