package builder_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// network_mode = "network" (the default for a system URI): the guest sits on
// libvirt's NAT network "default", fetches the ks file from Packer's HTTP
// server on the network's bridge address, and the communicator finds the
// guest by its DHCP lease. A libvirt network may be talked to only from
// inside a namespace the test made, so the test starts a private libvirtd
// in a network namespace of its own (hack/netns-libvirt.sh) and runs
// Packer there too.
func TestBuildOnLibvirtNetwork(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_ISO", "CLOUDIMAGE_FIXTURE_RAWGZ")
	dir := testenv.VMDir(t)
	ns := "cloudimage-" + testenv.RandomHex(t, 4)
	daemonDir := filepath.Join(dir, "libvirt")
	script := filepath.Join(repoRoot(t), "hack", "netns-libvirt.sh")
	started, err := exec.Command(script, "start", ns, daemonDir).CombinedOutput()
	t.Cleanup(func() {
		if out, err := exec.Command(script, "stop", ns, daemonDir).CombinedOutput(); err != nil {
			t.Errorf("stopping the private libvirtd: %v\n%s", err, out)
		}
	})
	if err != nil {
		t.Fatalf("starting a private libvirtd in %s: %v\n%s", ns, err, started)
	}
	uri := strings.TrimSpace(string(started))
	uri = uri[strings.LastIndex(uri, "\n")+1:]

	password := "pw-" + testenv.RandomHex(t, 6)
	httpDir := installerHTTP(t, dir, "rootpw "+password, "reboot")
	name := testenv.DomainName(t)
	tmpl := fmt.Sprintf(`
source "cloudimage-libvirt" "net" {
  libvirt_uri      = %q
  iso_url          = %q
  iso_checksum     = "none"
  domain_type      = "qemu"
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
  sources = ["source.cloudimage-libvirt.net"]
  provisioner "shell" {
    inline = ["echo httpip=${build.HTTPIP}", "ip -4 -o addr show scope global"]
  }
}
`, uri, env[0], name, httpDir, password, filepath.Join(dir, "out"))
	must(t, os.WriteFile(filepath.Join(dir, "net.pkr.hcl"), []byte(tmpl), 0o644))

	start := time.Now()
	out := buildVia(t, []string{"ip", "netns", "exec", ns}, dir, "net.pkr.hcl")
	t.Logf("packer build took %s", time.Since(start).Round(time.Second))
	assertOutput(t, out,
		"httpip=192.168.122.1",   // HTTPIP: the network's bridge address
		"inet 192.168.122.",      // the guest's address, from libvirt's DHCP
		"(from the DHCP leases)", // as the builder found it
		"Connected to SSH!",      // ... and the communicator used it
		"The guest has shut down",
		"Exported "+name+".qcow2",
	)
	info, err := image.Inspect(t.Context(), filepath.Join(dir, "out", name+".qcow2"))
	must(t, err)
	if info.Format != "qcow2" || info.VirtualSize != 3<<30 {
		t.Errorf("exported disk: %+v, want qcow2 of 3 GiB", info)
	}

	l, err := virt.Connect(uri)
	must(t, err)
	defer l.Disconnect()
	assertNoLeftoversOn(t, l, name)
}
