// Package verify_test builds the main job, example/local.pkr.hcl (the
// Debian 12 fixture installed from its ISO by the builder, made into an
// OpenStack image by the checklist provisioner and the sysprep
// post-processor, checked by cloudimage-verify, uploaded to Glance), and
// runs on its image, as soon as there is one, what needs a finished
// image: cloudimage-verify on copies broken on purpose and cancelled, and
// the checklist provisioner again. One build of the image serves them
// all. The runs are subtests that the main job starts, two at a time,
// beside the rest of its build: not parallel tests waiting for the image,
// which could fill go test's -parallel slots while the main job, paused
// behind them, never ran.
package verify_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

// The main job first: example/local.pkr.hcl (what `make example` runs),
// built for real as it is from a copy of example/: the fixture installer
// ISO, the checklist applied, sysprep, cloudimage-verify with its defaults
// (fail_on = "required"), then the upload to the harness's Glance. The
// build passes, both reports pass every item but the two that do not
// apply, and Glance holds the image. As soon as sysprep has written the
// image, the runs on it start beside the rest of the build (its
// subtests, startRuns below): verify cancelled, the checklist run again, and copies broken on
// purpose, each failing exactly the items its breakage is about.
func TestMainJob(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_RAWGZ", "CLOUDIMAGE_FIXTURE_ISO")
	var runs sync.WaitGroup
	defer runs.Wait() // every t.Run returns before this test does
	l := testenv.Connect(t)
	_, _, glance := testenv.Cloud(t, "cloudimage-admin")
	dir := jobDir(t)
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
	image := filepath.Join(dir, "output-debian12", name+".qcow2")
	checklistReport := filepath.Join(dir, "output-debian12", "checklist.json")
	log, err := testenv.PackerWatch(context.Background(), t, dir, nil, func(line string, _ func()) {
		if strings.Contains(line, "cloudimage-sysprep done in") {
			t.Logf("sysprep wrote the image %s after %s: the runs on it start", image, time.Since(start).Round(time.Second))
			startRuns(t, &runs, mainJob{dir: dir, image: image, checklistReport: checklistReport})
		}
	}, "build", "-timestamp-ui", "-color=false", "-var", "name="+name, "local.pkr.hcl")
	if err != nil {
		t.Fatalf("packer build: %v\n%s", err, log)
	}
	t.Logf("packer build local.pkr.hcl (ISO install, checklist, sysprep, verify, glance) took %s", time.Since(start).Round(time.Second))
	for _, phase := range []string{"Connected to SSH!", "Applying and checking the OpenStack image checklist", "Checklist report:", "Running post-processor:  (type cloudimage-sysprep)", "Running post-processor:  (type cloudimage-verify)", "Running post-processor:  (type cloudimage-glance)"} {
		if i := strings.Index(log, phase); i >= 0 {
			line := log[strings.LastIndex(log[:i], "\n")+1 : i]
			t.Logf("phase %q at %s", phase, strings.TrimSpace(line))
		}
	}
	if i := strings.Index(log, "Verify:"); i >= 0 {
		t.Logf("cloudimage-verify's table:\n%s", log[i:min(len(log), i+2500)])
	}
	for _, report := range []string{checklistReport, filepath.Join(dir, "verify-debian12.json")} {
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
	// From the builder's domain and verify's L07, through both.
	for k, want := range map[string]string{"architecture": "x86_64", "hw_disk_bus": "virtio", "hw_vif_model": "virtio", "os_admin_user": "root"} {
		if props[k] != want {
			t.Errorf("Glance image property %s = %v, want %q (the build's machine, verify's L07)", k, props[k], want)
		}
	}
	// Packer's final list says each thing once, and truly: the builder's
	// file was replaced by sysprep's in place.
	_, list, _ := strings.Cut(log, "The artifacts of successful builds are:")
	rel := filepath.Join("output-debian12", name+".qcow2") // as the template's output_directory names it
	t.Logf("the final artifact list:%s", list)
	for _, want := range []struct {
		text string
		n    int
	}{
		{"disk image " + rel + ": replaced since the export by a post-processor's output", 1},
		{"cleaned disk images in", 1},
		{"verified " + rel + ": 16 items pass, 2 not applicable, 0 failed", 1},
		{"Glance image \"" + name + "\": " + got[0].ID, 1},
		{"--> ", 4},
	} {
		if c := strings.Count(list, want.text); c != want.n {
			t.Errorf("the final artifact list has %q %d times, want %d", want.text, c, want.n)
		}
	}
	// L18 for real, offline, as a user would look: the build's guest was
	// booted and provisioned, its image holds none of that.
	if got := testenv.Cleanliness(t, image, "qcow2"); got != testenv.Clean {
		t.Errorf("guestfish on %s says %q, want %q", image, got, testenv.Clean)
	}
	// The installer's run, typed at its prompt over VNC, fetched over HTTP.
	console, err := os.ReadFile(filepath.Join(dir, "output-debian12", "console.log"))
	must(t, err)
	for _, want := range []string{"Run /init as init process", "cloudimage-installer: image written", "cloudimage-installer: done, reboot"} {
		if !strings.Contains(string(console), want) {
			t.Errorf("the build's console.log lacks %q", want)
		}
	}
	testenv.AssertNoLeftovers(t, l, name)
}

// startRuns runs on the image, each in a subtest of the main job and two
// at a time: the copies broken on purpose, the checklist again, verify
// cancelled.
func startRuns(t *testing.T, wg *sync.WaitGroup, j mainJob) {
	slots := make(chan struct{}, 2)
	run := func(name string, f func(*testing.T, mainJob)) {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			t.Run(name, func(t *testing.T) { f(t, j) })
		})
	}
	for _, b := range breakages {
		run("broken/"+b.name, func(t *testing.T, j mainJob) { verifyBroken(t, j, b) })
	}
	run("checklist-again", checklistAgain)
	run("verify-cancelled", verifyCancelled)
}

// Ctrl-C once verify's instance runs, its console attached, the config
// drive and the overlay made: no domain, no volume, nothing in TMPDIR.
// (Every other step: post-processor/verify's TestVerifyCancelAtEachStep,
// against the fake driver.)
func verifyCancelled(t *testing.T, j mainJob) {
	tmp := testenv.VMDir(t)
	vm := testenv.DomainName(t)
	p := testenv.PostProcessorTemplate(t, j.dir, j.image, "cloudimage-verify", fmt.Sprintf(`
      domain_type = "qemu"
      vm_name     = %q
      report_file = %q`, vm, filepath.Join(j.dir, "cancel.json")))
	log, err := testenv.PackerBuild(t, j.dir, tmp, p, "Waiting up to")
	if err == nil {
		t.Errorf("packer build went on after Ctrl-C:\n%s", log)
	}
	testenv.AssertNoLeftovers(t, testenv.Connect(t), vm)
	testenv.AssertEmptyDir(t, tmp)
}

// mainJob is what the runs on the main job's image need of it.
type mainJob struct {
	dir             string
	image           string // the image uploaded to Glance
	checklistReport string // the build's checklist report
}

// dirs are the folders of the package's tests that outlive the test that
// made them: the main job's, which the runs on its image use.
var dirs []string

// jobDir is a folder QEMU can read, removed when every test of the
// package has ended.
func jobDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "cloudimage-vm-")
	must(t, err)
	must(t, os.Chmod(dir, 0o777))
	dirs = append(dirs, dir)
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range dirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
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
