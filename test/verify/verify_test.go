// Package verify_test runs the cloudimage-verify post-processor for real:
// on the Debian 12 fixture made into an OpenStack image by the builder,
// the checklist provisioner and the sysprep post-processor, then on copies
// of that image broken on purpose.
package verify_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/digitalocean/go-libvirt"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

// The whole pipeline on the fixture (builder from the base image, the
// checklist applied, sysprep), then cloudimage-verify with its defaults
// (fail_on = "required"): the build passes, and every item passes but the
// two that do not apply. Then the image, broken four ways, each fails
// exactly the items the breakage is about.
func TestVerify(t *testing.T) {
	l := testenv.Connect(t)
	dir := testenv.VMDir(t)
	name := testenv.DomainName(t)
	out := filepath.Join(dir, "out")
	good := filepath.Join(dir, "good.json")
	tmpl := testenv.FixtureSource(t, name, out) + fmt.Sprintf(`
build {
  sources = ["source.cloudimage-libvirt.debian"]
  provisioner "cloudimage-checklist" {}
  post-processors {
    post-processor "cloudimage-sysprep" {
      accelerator = "tcg"
    }
    post-processor "cloudimage-verify" {
      domain_type = "qemu"
      vm_name     = "%s-verify"
      report_file = %q
    }
  }
}
`, name, good)
	must(t, os.WriteFile(filepath.Join(dir, "good.pkr.hcl"), []byte(tmpl), 0o644))
	start := time.Now()
	log := testenv.Packer(t, dir, "build", "good.pkr.hcl")
	t.Logf("packer build (builder, checklist, sysprep, verify) took %s", time.Since(start).Round(time.Second))
	if i := strings.Index(log, "Verify:"); i >= 0 {
		t.Logf("cloudimage-verify's table:\n%s", log[i:min(len(log), i+2500)])
	}
	rs := testenv.ReadReport(t, good)
	if len(rs) != 18 {
		t.Errorf("the report has %d items, want 18", len(rs))
	}
	if failed := testenv.WithStatus(rs, "fail"); len(failed) > 0 {
		t.Errorf("items failed on the good image: %v\n%s", failed, testenv.Table(rs))
	}
	if na := testenv.WithStatus(rs, "not-applicable"); !slices.Equal(na, []string{"L14", "L18"}) {
		t.Errorf("not applicable: %v, want [L14 L18]", na)
	}
	testenv.AssertNoLeftovers(t, l, name)
	image := filepath.Join(out, name+".qcow2")
	if _, err := os.Stat(image); err != nil {
		t.Fatalf("the pipeline's image: %v", err)
	}

	t.Run("cancel", func(t *testing.T) {
		// Ctrl-C once the instance answers: no domain, no volume, nothing
		// in TMPDIR.
		tmp := testenv.VMDir(t)
		vm := name + "-cancel"
		p := testenv.PostProcessorTemplate(t, dir, image, "cloudimage-verify", fmt.Sprintf(`
      domain_type = "qemu"
      vm_name     = %q
      report_file = %q`, vm, filepath.Join(dir, "cancel.json")))
		log, err := testenv.PackerBuild(t, dir, tmp, p, "SSH answered")
		if err == nil {
			t.Errorf("packer build went on after Ctrl-C:\n%s", log)
		}
		testenv.AssertNoLeftovers(t, l, vm)
		testenv.AssertEmptyDir(t, tmp)
	})

	for _, tc := range []struct {
		name      string
		customize []string
		want      []string
		keep      bool
	}{
		{"swap", []string{
			"--run-command", "dd if=/dev/zero of=/swapfile bs=1M count=64 status=none && chmod 600 /swapfile && mkswap /swapfile",
			"--append-line", "/etc/fstab:/swapfile none swap sw 0 0",
		}, []string{"L02"}, false},
		{"mac-rule", []string{
			"--write", `/etc/udev/rules.d/70-persistent-net.rules:SUBSYSTEM=="net", ACTION=="add", ATTR{address}=="52:54:00:aa:bb:cc", NAME="eth0"`,
		}, []string{"L16"}, true},
		{"no-guest-agent", []string{"--run-command", "dpkg --purge qemu-guest-agent"}, []string{"L07"}, false},
		{"no-cloud-init", []string{"--run-command", "dpkg --purge cloud-init"}, []string{"L03", "L04", "L05", "L06", "L09", "L10", "L17"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			broken := filepath.Join(dir, tc.name+".qcow2")
			testenv.Run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-b", image, "-F", "qcow2", broken)
			cmd := exec.Command("virt-customize", append([]string{"-q", "-a", broken}, tc.customize...)...)
			cmd.Env = append(os.Environ(), "LIBGUESTFS_BACKEND=direct", "LIBGUESTFS_BACKEND_SETTINGS=force_tcg")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("virt-customize: %v\n%s", err, b)
			}
			reportFile := filepath.Join(dir, tc.name+".json")
			vm := name + "-" + tc.name
			// One run keeps its failed instance (keep_on_failure) and fails
			// the build (fail_on's default); the others report only.
			settings := `fail_on = "none"`
			if tc.name == "swap" {
				// NoCloud's cidata volume instead of the config drive.
				settings += "\n      datasource = \"nocloud\""
			}
			if tc.keep {
				settings = `keep_on_failure = true`
			}
			p := testenv.PostProcessorTemplate(t, dir, broken, "cloudimage-verify", fmt.Sprintf(`
      domain_type = "qemu"
      vm_name     = %q
      report_file = %q
      %s`, vm, reportFile, settings))
			start := time.Now()
			log, err := testenv.PackerCommand(context.Background(), t, dir, "build", p).CombinedOutput()
			rs := testenv.ReadReport(t, reportFile)
			t.Logf("verify took %s; report:\n%s", time.Since(start).Round(time.Second), testenv.Table(rs))
			if failed := testenv.WithStatus(rs, "fail"); !slices.Equal(failed, tc.want) {
				t.Errorf("failed items %v, want exactly %v", failed, tc.want)
			}
			if !tc.keep {
				if err != nil {
					t.Errorf("packer build with fail_on = \"none\": %v\n%s", err, log)
				}
				testenv.AssertNoLeftovers(t, l, vm)
				return
			}
			if err == nil || !strings.Contains(string(log), "failed 1 items of the checklist") || !strings.Contains(string(log), tc.want[0]) {
				t.Errorf("packer build should fail naming %v: %v\n%s", tc.want, err, log)
			}
			dom, err := l.DomainLookupByName(vm)
			if err != nil {
				t.Fatalf("keep_on_failure: domain %s is gone: %v", vm, err)
			}
			if state, _, err := l.DomainGetState(dom, 0); err != nil || libvirt.DomainState(state) != libvirt.DomainRunning {
				t.Errorf("keep_on_failure: domain %s is not running (state %d, %v)", vm, state, err)
			}
			testenv.Run(t, "virsh", "destroy", vm)
			testenv.Run(t, "virsh", "undefine", vm)
			testenv.Run(t, "virsh", "vol-delete", "--pool", "default", vm+".qcow2")
			testenv.AssertNoLeftovers(t, l, vm)
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
