package harness_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

// The Packer binary the harness built lists the plugin the harness
// installed, and `packer init` on a template whose required_plugins names
// github.com/cloudimage/cloudimage is satisfied by it, with no network.
func TestPackerInitFindsInstalledPlugin(t *testing.T) {
	out := testenv.Packer(t, ".", "plugins", "installed")
	if !strings.Contains(out, "github.com/cloudimage/cloudimage/packer-plugin-cloudimage_v0.1.0_x5.0_linux_amd64") {
		t.Fatalf("packer plugins installed does not show the plugin:\n%s", out)
	}
	dir := t.TempDir()
	tmpl := `packer {
  required_plugins {
    cloudimage = {
      source  = "github.com/cloudimage/cloudimage"
      version = ">= 0.1.0"
    }
  }
}
source "cloudimage-libvirt" "t" {
  domain_type  = "qemu"
  iso_url      = "installer.iso"
  iso_checksum = "none"
  communicator = "none"
}
build {
  sources = ["source.cloudimage-libvirt.t"]
  provisioner "cloudimage-checklist" {}
  post-processors {
    post-processor "cloudimage-sysprep" {}
    post-processor "cloudimage-verify" {}
    post-processor "cloudimage-glance" {
      cloud      = "cloudimage-admin"
      image_name = "t"
    }
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "t.pkr.hcl"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Packer(t, dir, "init", ".")
	out = testenv.Packer(t, dir, "validate", ".")
	if !strings.Contains(out, "The configuration is valid") {
		t.Fatalf("packer validate:\n%s", out)
	}
}
