// Package verify_test runs the cloudimage-verify post-processor for real:
// in the main job, example/local.pkr.hcl (the Debian 12 fixture installed
// from its ISO by the builder, made into an OpenStack image by the
// checklist provisioner and the sysprep post-processor, verified, uploaded
// to Glance), then on copies of that image broken on purpose.
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
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

// The main job first: example/local.pkr.hcl (what `make example` runs),
// built for real as it is from a copy of example/: the fixture installer
// ISO, the checklist applied, sysprep, cloudimage-verify with its defaults
// (fail_on = "required"), then the upload to the harness's Glance. The
// build passes, both reports pass every item but the two that do not
// apply, and Glance holds the image. Then that image, broken four ways,
// each fails exactly the items the breakage is about.
func TestVerify(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_RAWGZ", "CLOUDIMAGE_FIXTURE_ISO")
	l := testenv.Connect(t)
	_, _, glance := testenv.Cloud(t, "cloudimage-admin")
	dir := testenv.VMDir(t)
	name := testenv.DomainName(t)
	example := filepath.Join("..", "..", "example")
	copyFile(t, filepath.Join(example, "local.pkr.hcl"), filepath.Join(dir, "local.pkr.hcl"))
	copyFile(t, filepath.Join(example, "http", "ks.cfg"), filepath.Join(dir, "http", "ks.cfg"))
	must(t, os.Symlink(env[0], filepath.Join(dir, "http", "debian12.raw.gz")))
	t.Cleanup(func() {
		for _, img := range testenv.ImagesNamed(t, glance, name) {
			images.Delete(context.Background(), glance, img.ID)
		}
	})

	testenv.Packer(t, dir, "init", "local.pkr.hcl")
	start := time.Now()
	log := testenv.Packer(t, dir, "build", "-var", "name="+name, "local.pkr.hcl")
	t.Logf("packer build local.pkr.hcl (ISO install, checklist, sysprep, verify, glance) took %s", time.Since(start).Round(time.Second))
	if i := strings.Index(log, "Verify:"); i >= 0 {
		t.Logf("cloudimage-verify's table:\n%s", log[i:min(len(log), i+2500)])
	}
	for _, report := range []string{filepath.Join(dir, "output-debian12", "checklist.json"), filepath.Join(dir, "verify-debian12.json")} {
		rs := testenv.ReadReport(t, report)
		t.Logf("%s:\n%s", filepath.Base(report), testenv.Table(rs))
		if len(rs) != 18 {
			t.Errorf("%s has %d items, want 18", report, len(rs))
		}
		if failed := testenv.WithStatus(rs, "fail"); len(failed) > 0 {
			t.Errorf("%s: items failed: %v", report, failed)
		}
		if na := testenv.WithStatus(rs, "not-applicable"); !slices.Equal(na, []string{"L14", "L18"}) {
			t.Errorf("%s: not applicable %v, want [L14 L18]", report, na)
		}
	}
	image := filepath.Join(dir, "output-debian12", name+".qcow2")
	sum := testenv.MD5(t, image)
	got := testenv.ImagesNamed(t, glance, name)
	if len(got) != 1 || got[0].Status != images.ImageStatusActive || got[0].Checksum != sum || got[0].DiskFormat != "qcow2" {
		t.Fatalf("Glance images named %s: %+v; want one, active, qcow2, md5 %s (the built %s)", name, got, sum, image)
	}
	st, err := os.Stat(image)
	must(t, err)
	t.Logf("Glance image %s: %s, %d bytes, md5 %s, os_distro %v", got[0].ID, got[0].Status, st.Size(), sum, got[0].Properties["os_distro"])
	testenv.AssertNoLeftovers(t, l, name)

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

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	must(t, err)
	must(t, os.MkdirAll(filepath.Dir(to), 0o755))
	must(t, os.WriteFile(to, b, 0o644))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
