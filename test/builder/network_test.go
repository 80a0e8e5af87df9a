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

// network_mode = "network" (the default for a system URI): the guest (the
// fixture's base image) sits on libvirt's NAT network "default", fetches a
// file from Packer's HTTP server on the network's bridge address, and the
// communicator finds the guest by its DHCP lease. A libvirt network may be talked to only from
// inside a namespace the test made, so the test starts a private libvirtd
// in a network namespace of its own (hack/netns-libvirt.sh) and runs
// Packer there too.
func TestBuildOnLibvirtNetwork(t *testing.T) {
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

	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_IMAGE", "CLOUDIMAGE_FIXTURE_PASSWORD")
	name := testenv.DomainName(t)
	marker := testenv.RandomHex(t, 8)
	tmpl := fmt.Sprintf(`
source "cloudimage-libvirt" "net" {
  libvirt_uri         = %q
  disk_image_url      = %q
  disk_image_checksum = "none"
  use_backing_file    = true
  domain_type         = "qemu"
  vm_name             = %q
  http_content        = { "/marker" = %q }
  ssh_username        = "root"
  ssh_password        = %q
  ssh_timeout         = "15m"
  shutdown_command    = "systemctl poweroff"
  output_directory    = %q
}
build {
  sources = ["source.cloudimage-libvirt.net"]
  provisioner "shell" {
    inline_shebang = "/bin/bash -e"
    inline = [
      "echo httpip=${build.HTTPIP}",
      "exec 3<>/dev/tcp/${build.PackerHTTPIP}/${build.PackerHTTPPort}; printf 'GET /marker HTTP/1.0\\r\\n\\r\\n' >&3; echo fetched: $(tail -n 1 <&3)",
      "ip -4 -o addr show scope global",
    ]
  }
}
`, uri, env[0], name, marker, env[1], filepath.Join(dir, "out"))
	must(t, os.WriteFile(filepath.Join(dir, "net.pkr.hcl"), []byte(tmpl), 0o644))

	start := time.Now()
	out := buildVia(t, []string{"ip", "netns", "exec", ns}, dir, "net.pkr.hcl")
	t.Logf("packer build took %s", time.Since(start).Round(time.Second))
	assertOutput(t, out,
		"httpip=192.168.122.1",   // HTTPIP: the network's bridge address
		"fetched: "+marker,       // where Packer's HTTP server answers the guest
		"inet 192.168.122.",      // the guest's address, from libvirt's DHCP
		"(from the DHCP leases)", // as the builder found it
		"Connected to SSH!",      // ... and the communicator used it
		"The guest has shut down",
		"Exported "+name+".qcow2",
	)
	info, err := image.Inspect(t.Context(), filepath.Join(dir, "out", name+".qcow2"), "qcow2")
	must(t, err)
	if info.Format != "qcow2" || info.VirtualSize != 2<<30 || info.BackingFile != "" {
		t.Errorf("exported disk: %+v, want a standalone qcow2 of 2 GiB", info)
	}

	l, err := virt.Connect(uri)
	must(t, err)
	defer func() { _ = l.Close() }()
	assertNoLeftoversOn(t, l.Libvirt, name)
}
