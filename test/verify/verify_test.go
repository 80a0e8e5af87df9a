// Package verify_test builds the main job, example/local.pkr.hcl (the
// Debian 12 fixture installed from its ISO by the builder, made into an
// OpenStack image by the checklist provisioner and the sysprep
// post-processor, checked by cloudimage-verify, uploaded to Glance), then
// runs on its image what needs a finished image: cloudimage-verify on
// copies broken on purpose and cancelled, and the checklist provisioner
// again. One build of the image serves them all: under software emulation
// it takes about half an hour.
package verify_test

import (
	"context"
	"fmt"
	"os"
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
// apply, and Glance holds the image. Then, on that image: verify
// cancelled, the checklist run again, and four copies broken on purpose,
// each failing exactly the items its breakage is about.
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
	checklistReport := filepath.Join(dir, "output-debian12", "checklist.json")
	reports := map[string][]testenv.Result{}
	for _, report := range []string{checklistReport, filepath.Join(dir, "verify-debian12.json")} {
		rs := testenv.ReadReport(t, report)
		reports[report] = rs
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
	props := got[0].Properties
	t.Logf("Glance image %s: %s, %d bytes, md5 %s, os_type %v, os_distro %v, os_version %v", got[0].ID, got[0].Status, st.Size(), sum, props["os_type"], props["os_distro"], props["os_version"])
	// From sysprep's inspection of the guest, carried through verify (each
	// post-processor in its own plugin process) to glance.
	for k, want := range map[string]string{"os_type": "linux", "os_distro": "debian", "os_version": "12"} {
		if props[k] != want {
			t.Errorf("Glance image property %s = %v, want %q (sysprep's inspection)", k, props[k], want)
		}
	}
	testenv.AssertNoLeftovers(t, l, name)

	// The runs on the image, two at a time (go test's -parallel): each
	// works on an overlay of it, none changes it.
	job := mainJob{l: l, dir: dir, name: name, image: image, checklist: reports[checklistReport]}
	t.Run("cancel", func(t *testing.T) {
		t.Parallel()
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
	t.Run("checklist-again", func(t *testing.T) {
		t.Parallel()
		checklistAgain(t, job)
	})
	for _, b := range breakages {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			verifyBroken(t, job, b)
		})
	}
}

// mainJob is what the runs on the main job's image need of it.
type mainJob struct {
	l         *libvirt.Libvirt
	dir, name string
	image     string           // the image uploaded to Glance
	checklist []testenv.Result // the build's checklist report
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
