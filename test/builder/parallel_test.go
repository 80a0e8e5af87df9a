package builder_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

// Two builds of one template at once (-parallel-builds=2) get distinct
// domain names, forwarded ports, HTTP ports and volumes, and both succeed.
func TestParallelBuilds(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_IMAGE", "CLOUDIMAGE_FIXTURE_PASSWORD")
	dir := testenv.VMDir(t)
	prefix := testenv.DomainName(t)[:24]
	tmpl := fmt.Sprintf(`
source "cloudimage-libvirt" "base" {
  disk_image_url      = %q
  disk_image_checksum = "none"
  use_backing_file    = true
  domain_type         = "qemu"
  network_mode        = "user"
  http_content        = { "/hello" = "hello" }
  ssh_username        = "root"
  ssh_password        = %q
  ssh_timeout         = "10m"
  skip_compaction     = true
}
build {
  source "source.cloudimage-libvirt.base" {
    name             = "a"
    vm_name          = "%s-a"
    output_directory = "%s/out-a"
  }
  source "source.cloudimage-libvirt.base" {
    name             = "b"
    vm_name          = "%s-b"
    output_directory = "%s/out-b"
  }
}
`, env[0], env[1], prefix, dir, prefix, dir)
	must(t, os.WriteFile(filepath.Join(dir, "parallel.pkr.hcl"), []byte(tmpl), 0o644))
	out := build(t, dir, "parallel.pkr.hcl", "-parallel-builds=2")

	for _, pattern := range []string{`cloudimage-libvirt\.(a|b): Forwarding 127\.0\.0\.1:(\d+)`, `cloudimage-libvirt\.(a|b): Starting HTTP server on port (\d+)`} {
		ports := map[string]string{}
		for _, m := range regexp.MustCompile(pattern).FindAllStringSubmatch(out, -1) {
			ports[m[1]] = m[2]
		}
		if len(ports) != 2 || ports["a"] == ports["b"] {
			t.Errorf("%s: want two distinct ports, got %v", pattern, ports)
		}
	}
	for _, b := range []string{"a", "b"} {
		if _, err := os.Stat(filepath.Join(dir, "out-"+b, prefix+"-"+b+".qcow2")); err != nil {
			t.Errorf("build %s: %v", b, err)
		}
	}
	assertNoLeftovers(t, prefix)
}
