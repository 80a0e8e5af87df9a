package builder_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

// A build interrupted (Ctrl-C) or failing with a real domain running, a
// disk volume, a CD in TMPDIR and Packer's HTTP server, leaves no domain,
// volume, temporary file or output directory behind; with -on-error=abort
// a failed build leaves its domain and disk for a look. (The Ctrl-C and
// the failure at every other step are unit tests against the fake driver:
// builder/libvirt's TestBuilderCancelAtEachStep and
// TestBuilderFailureAtEachStep.)
func TestCleanupAfterInterruptAndFailure(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_ISO", "CLOUDIMAGE_FIXTURE_RAWGZ")
	dir := testenv.VMDir(t)
	httpDir := installerHTTP(t, dir, "rootpw right", "reboot")

	template := func(name, extra string) string {
		tmpl := fmt.Sprintf(`
source "cloudimage-libvirt" "c" {
  iso_url          = %q
  iso_checksum     = "none"
  domain_type      = "qemu"
  network_mode     = "user"
  vm_name          = %q
  http_directory   = %q
  boot_wait        = "2s"
  boot_command     = ["install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"]
  cd_content       = { "meta-data" = "instance-id: %s\n" }
  cd_label         = "cidata"
  ssh_username     = "root"
  ssh_password     = "wrong"
  output_directory = %q
  %s
}
build { sources = ["source.cloudimage-libvirt.c"] }
`, env[0], name, httpDir, name, filepath.Join(dir, "out-"+name), extra)
		path := filepath.Join(dir, name+".pkr.hcl")
		must(t, os.WriteFile(path, []byte(tmpl), 0o644))
		return path
	}

	// Ctrl-C once the guest runs and the builder waits for it.
	for i, at := range []string{"Waiting for the guest's SSH server"} {
		t.Run(fmt.Sprintf("interrupt-%d", i), func(t *testing.T) {
			name := fmt.Sprintf("%s-i%d", testenv.DomainName(t)[:20], i)
			tmp := filepath.Join(dir, "tmp-"+name)
			must(t, os.MkdirAll(tmp, 0o755))
			out, err := testenv.PackerBuild(t, dir, tmp, template(name, ""), at)
			if err == nil {
				t.Fatalf("the interrupted build succeeded:\n%s", out)
			}
			if !strings.Contains(out, at) {
				t.Fatalf("the build never reached %q:\n%s", at, out)
			}
			assertNoLeftovers(t, name)
			testenv.AssertEmptyDir(t, tmp)
			if _, err := os.Stat(filepath.Join(dir, "out-"+name)); !os.IsNotExist(err) {
				t.Errorf("output directory left behind (%v)", err)
			}
		})
	}

	// A failed build: SSH never accepts the wrong password.
	t.Run("failure", func(t *testing.T) {
		name := testenv.DomainName(t)[:20] + "-fail"
		tmp := filepath.Join(dir, "tmp-"+name)
		must(t, os.MkdirAll(tmp, 0o755))
		out, err := testenv.PackerBuild(t, dir, tmp, template(name, `ssh_timeout = "1s"`), "")
		if err == nil || !strings.Contains(out, "Timeout waiting for SSH") {
			t.Fatalf("want an SSH timeout, got %v:\n%s", err, out)
		}
		assertNoLeftovers(t, name)
		testenv.AssertEmptyDir(t, tmp)
	})

	// -on-error=abort keeps the domain and the disk volume.
	t.Run("abort", func(t *testing.T) {
		name := testenv.DomainName(t)[:20] + "-abort"
		tmp := filepath.Join(dir, "tmp-"+name)
		must(t, os.MkdirAll(tmp, 0o755))
		out, err := testenv.PackerBuild(t, dir, tmp, template(name, `ssh_timeout = "1s"`), "", "-on-error=abort")
		if err == nil {
			t.Fatalf("the build succeeded:\n%s", out)
		}
		l, d := testenv.Connect(t), testenv.Driver(t)
		t.Cleanup(func() {
			if err := d.Remove(name); err != nil {
				t.Errorf("cleanup: %v", err)
			}
			if err := d.DeleteVolume("default", name+".qcow2"); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		})
		if _, err := l.DomainLookupByName(name); err != nil {
			t.Errorf("-on-error=abort: the domain is gone: %v", err)
		}
		pool, err := l.StoragePoolLookupByName("default")
		must(t, err)
		if _, err := l.StorageVolLookupByName(pool, name+".qcow2"); err != nil {
			t.Errorf("-on-error=abort: the disk volume is gone: %v", err)
		}
	})
}
