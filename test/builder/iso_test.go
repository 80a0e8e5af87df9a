// Package builder_test runs the cloudimage-libvirt builder end to end with
// the harness's Packer binary, libvirtd (software emulation) and fixtures.
package builder_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// The ISO path: the builder boots the fixture installer ISO, types the boot
// command at its prompt, serves the ks file and the disk image over Packer's
// HTTP server, logs in over SSH with the password the ks file set, runs a
// shell provisioner, shuts the guest down and exports the disk. The
// exported qcow2 then boots on its own, with the provisioner's file in it.
func TestBuildFromISO(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_ISO", "CLOUDIMAGE_FIXTURE_RAWGZ")
	dir := testenv.VMDir(t)
	password := "pw-" + testenv.RandomHex(t, 6)
	httpDir := installerHTTP(t, dir, "rootpw "+password, "reboot")
	name := testenv.DomainName(t)
	marker := testenv.RandomHex(t, 8)

	tmpl := fmt.Sprintf(`
source "cloudimage-libvirt" "iso" {
  iso_url          = %q
  iso_checksum     = "file:%s"
  domain_type      = "qemu"
  network_mode     = "user"
  vm_name          = %q
  cpus             = 2
  memory           = 1024
  disk_size        = "3G"
  http_directory   = %q
  boot_wait        = "2s"
  boot_command     = ["install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"]
  ssh_username     = "root"
  ssh_password     = %q
  ssh_timeout      = "15m"
  shutdown_command = "systemctl poweroff"
  output_directory = %q
}
build {
  sources = ["source.cloudimage-libvirt.iso"]
  provisioner "shell" {
    inline = ["echo %s > /root/provisioned", "findmnt -n -o SOURCE /"]
  }
}
`, env[0], checksumFile(t, dir, env[0]), name, httpDir, password, filepath.Join(dir, "out"), marker)
	must(t, os.WriteFile(filepath.Join(dir, "iso.pkr.hcl"), []byte(tmpl), 0o644))

	start := time.Now()
	out := build(t, dir, "iso.pkr.hcl")
	t.Logf("packer build took %s", time.Since(start).Round(time.Second))
	assertOutput(t, out, "Typing the boot command", "Connected to SSH!", "/dev/vda1", "The guest has shut down", "Exported "+name+".qcow2")

	disk := filepath.Join(dir, "out", name+".qcow2")
	info, err := image.Inspect(context.Background(), disk)
	if err != nil {
		t.Fatal(err)
	}
	if info.Format != "qcow2" || info.VirtualSize != 3<<30 || info.BackingFile != "" {
		t.Errorf("exported disk: %+v, want standalone qcow2 of 3 GiB", info)
	}
	console, err := os.ReadFile(filepath.Join(dir, "out", "console.log"))
	must(t, err)
	// The installed fixture has no serial console of its own (the checklist
	// adds one), so the log ends with the installer's lines.
	for _, want := range []string{"Run /init as init process", "cloudimage-installer: image written", "cloudimage-installer: done, reboot"} {
		if !strings.Contains(string(console), want) {
			t.Errorf("console.log lacks %q", want)
		}
	}
	assertNoLeftovers(t, name)

	// The exported image boots on its own and holds what the provisioner wrote.
	l := testenv.Connect(t)
	bootDir := testenv.VMDir(t)
	copyDisk := filepath.Join(bootDir, "boot.qcow2")
	testenv.Run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", disk, copyDisk)
	port := testenv.FreePort(t)
	m := virt.Machine{
		Name: name + "-boot", DomainType: "qemu", MemoryMiB: 1024, CPUs: 2,
		Disks:     []virt.Disk{{Path: copyDisk, BootOrder: 1}},
		SerialLog: filepath.Join(bootDir, "console.log"),
		NIC:       &virt.NIC{User: &virt.UserNet{Forwards: []virt.Forward{{HostAddr: "127.0.0.1", HostPort: port, GuestPort: 22}}}},
	}
	// QEMU, as its own user, reads the exported disk through the overlay.
	must(t, os.Chmod(dir, 0o755))
	must(t, os.Chmod(filepath.Join(dir, "out"), 0o755))
	must(t, os.Chmod(disk, 0o644))
	dom := testenv.StartMachine(t, l, m)
	c := testenv.WaitForSSH(t, l, dom, port, password, m.SerialLog, 10*time.Minute)
	defer c.Close()
	if got := testenv.SSHRun(t, c, "cat /root/provisioned"); got != marker {
		t.Errorf("/root/provisioned in the exported image = %q, want %q", got, marker)
	}
}
