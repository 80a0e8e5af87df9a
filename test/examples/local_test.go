package examples_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

// The main job (`make example`): example/local.pkr.hcl built for real, as
// it is, from a copy of example/: the fixture installer ISO, the checklist
// applied, sysprep, verify, and the upload to the harness's Glance. The
// user checks the two reports and the image in Glance.
func TestLocalExampleBuilds(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_RAWGZ", "CLOUDIMAGE_FIXTURE_ISO")
	l := testenv.Connect(t)
	_, _, glance := testenv.Cloud(t, "cloudimage-admin")
	dir := testenv.VMDir(t)
	name := testenv.DomainName(t)
	copyFile(t, filepath.Join(exampleDir, "local.pkr.hcl"), filepath.Join(dir, "local.pkr.hcl"))
	copyFile(t, filepath.Join(exampleDir, "http", "ks.cfg"), filepath.Join(dir, "http", "ks.cfg"))
	if err := os.Symlink(env[0], filepath.Join(dir, "http", "debian12.raw.gz")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, img := range testenv.ImagesNamed(t, glance, name) {
			images.Delete(context.Background(), glance, img.ID)
		}
	})

	testenv.Packer(t, dir, "init", "local.pkr.hcl")
	start := time.Now()
	log := testenv.Packer(t, dir, "build", "-var", "name="+name, "local.pkr.hcl")
	t.Logf("packer build local.pkr.hcl (ISO install, checklist, sysprep, verify, glance) took %s", time.Since(start).Round(time.Second))

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
	st, _ := os.Stat(image)
	t.Logf("Glance image %s: %s, %d bytes, md5 %s, os_distro %v", got[0].ID, got[0].Status, st.Size(), sum, got[0].Properties["os_distro"])
	if !strings.Contains(log, got[0].ID) {
		t.Errorf("the build's output does not name the image's ID %s", got[0].ID)
	}
	testenv.AssertNoLeftovers(t, l, name)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
