package builder_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// A build interrupted (Ctrl-C) or failing with a real domain running, a
// disk volume, a CD in TMPDIR and Packer's HTTP server, leaves no domain,
// volume, temporary file or output directory behind; with -on-error=abort
// a failed build leaves its domain and disk for a look, which stop the
// next build of that name until -force removes them. (The Ctrl-C and
// the failure at every other step are unit tests against the fake driver:
// builder/libvirt's TestBuilderCancelAtEachStep and
// TestBuilderFailureAtEachStep.)
func TestCleanupAfterInterruptAndFailure(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_ISO")
	dir := testenv.VMDir(t)
	httpDir := installerHTTP(t, dir, "rootpw right", "reboot")

	template := isoTemplate(t, dir, env[0], httpDir)

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
			assertConsoleLogKept(t, out, filepath.Join(dir, "out-"+name))
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
		assertConsoleLogKept(t, out, filepath.Join(dir, "out-"+name))
	})

	// A guest that never powers off (the installer reboots, as its
	// kickstart says) fails the build at shutdown_timeout: its disk may be
	// half written, so nothing is exported.
	t.Run("shutdown-never-comes", func(t *testing.T) {
		name := testenv.DomainName(t)[:20] + "-shut"
		tmp := filepath.Join(dir, "tmp-"+name)
		must(t, os.MkdirAll(tmp, 0o755))
		out, err := testenv.PackerBuild(t, dir, tmp, template(name, "communicator = \"none\"\n  shutdown_timeout = \"10s\""), "")
		if err == nil || !strings.Contains(out, "the guest did not shut down within shutdown_timeout (10s): its disk is not exported") {
			t.Fatalf("want the build to fail at shutdown_timeout, got %v:\n%s", err, out)
		}
		if strings.Contains(out, "artifact,0,id") {
			t.Errorf("the build made an artifact:\n%s", out)
		}
		assertNoLeftovers(t, name)
		testenv.AssertEmptyDir(t, tmp)
		assertConsoleLogKept(t, out, filepath.Join(dir, "out-"+name))
	})

	// -on-error=abort keeps the domain and the disk volume: a leftover,
	// which stops the next build of the name; -force removes it.
	t.Run("abort", func(t *testing.T) {
		name := testenv.DomainName(t)[:20] + "-abort"
		tmp := filepath.Join(dir, "tmp-"+name)
		must(t, os.MkdirAll(tmp, 0o755))
		tmpl := template(name, `ssh_timeout = "1s"`)
		out, err := testenv.PackerBuild(t, dir, tmp, tmpl, "", "-on-error=abort")
		if err == nil {
			t.Fatalf("the build succeeded:\n%s", out)
		}
		l, d := testenv.Connect(t), testenv.Driver(t)
		t.Cleanup(func() { removeLeftover(t, d, name) })
		assertLeft := func(when string) {
			t.Helper()
			if _, err := l.DomainLookupByName(name); err != nil {
				t.Errorf("%s: the domain is gone: %v", when, err)
			}
			pool, err := l.StoragePoolLookupByName("default")
			must(t, err)
			if _, err := l.StorageVolLookupByName(pool, name+".qcow2"); err != nil {
				t.Errorf("%s: the disk volume is gone: %v", when, err)
			}
		}
		assertLeft("-on-error=abort")

		// As the user would, having read its console log.
		must(t, os.RemoveAll(filepath.Join(dir, "out-"+name)))
		out, err = testenv.PackerBuild(t, dir, tmp, tmpl, "")
		if err == nil || !strings.Contains(out, "is left over from an interrupted build") || !strings.Contains(out, "run with -force to remove them") {
			t.Fatalf("a build over the leftover: want it to stop and say why, got %v:\n%s", err, out)
		}
		assertLeft("the next build without -force")

		out, err = testenv.PackerBuild(t, dir, tmp, tmpl, "", "-force")
		if !strings.Contains(out, "-force: removing domain "+name+" and its volumes default/"+name+".qcow2") {
			t.Fatalf("-force: the leftover was not removed (%v):\n%s", err, out)
		}
		if err == nil || !strings.Contains(out, "Timeout waiting for SSH") {
			t.Fatalf("-force: want the build to run on to its SSH timeout, got %v:\n%s", err, out)
		}
		assertNoLeftovers(t, name)
	})
}

// assertConsoleLogKept checks what a failed or interrupted build leaves in
// its output directory: its console log, where the build said, holding
// what the guest printed, and nothing else (no half-exported disk).
func assertConsoleLogKept(t *testing.T, out, outDir string) {
	t.Helper()
	log := filepath.Join(outDir, "console.log")
	if !strings.Contains(out, "Serial console log: "+log) || !strings.Contains(out, "kept in "+outDir+" for a look: console.log") {
		t.Errorf("the build did not say where its console log is:\n%s", out)
	}
	entries, err := os.ReadDir(outDir)
	if err != nil || len(entries) != 1 || entries[0].Name() != "console.log" {
		t.Fatalf("the output directory holds %v (%v), want the console log alone", entries, err)
	}
	st, err := os.Stat(log)
	must(t, err)
	if st.Size() == 0 || st.Mode().Perm() != 0o600 {
		t.Errorf("console log: %d bytes, mode %v; want what the guest printed, readable by its owner only", st.Size(), st.Mode().Perm())
	}
	t.Logf("console log kept: %s, %d bytes", log, st.Size())
}

// isoTemplate writes templates of an ISO build whose SSH login never
// succeeds (the password is wrong): each fails, at the latest at its
// ssh_timeout.
func isoTemplate(t *testing.T, dir, iso, httpDir string) func(name, extra string) string {
	return func(name, extra string) string {
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
`, iso, name, httpDir, name, filepath.Join(dir, "out-"+name), extra)
		path := filepath.Join(dir, name+".pkr.hcl")
		must(t, os.WriteFile(path, []byte(tmpl), 0o644))
		return path
	}
}

// removeLeftover removes what a build of name left (a test's own), if
// it is still there after the test.
func removeLeftover(t *testing.T, d *virt.Libvirt, name string) {
	found, err := d.Mark(name)
	if err != nil || found == nil {
		return
	}
	if found.Mark == nil {
		t.Errorf("domain %s is not the plugin's", name)
		return
	}
	for _, v := range found.Mark.Volumes {
		if err := d.DeleteVolume(v.Pool, v.Name); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
	if err := d.Remove(found.Domain); err != nil {
		t.Errorf("cleanup: %v", err)
	}
}
