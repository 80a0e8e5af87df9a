// Package glance_test runs the cloudimage-glance post-processor in real
// Packer builds against the harness's real Glance behind real Keystone.
package glance_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/applicationcredentials"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/members"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

// cloud is the harness's admin cloud: the clients the test checks with.
type cloud struct {
	pc       *gophercloud.ProviderClient
	image    *gophercloud.ServiceClient
	identity *gophercloud.ServiceClient
	project  string
	user     string
}

func connect(t *testing.T, name string) *cloud {
	t.Helper()
	pc, eo, img := testenv.Cloud(t, name)
	id, err := openstack.NewIdentityV3(pc, eo)
	if err != nil {
		t.Fatal(err)
	}
	r := pc.GetAuthResult().(tokens.CreateResult)
	p, _ := r.ExtractProject()
	u, _ := r.ExtractUser()
	return &cloud{pc: pc, image: img, identity: id, project: p.ID, user: u.ID}
}

// active fails the test unless exactly one image has that name, active,
// with that md5, and returns it.
func (c *cloud) active(t *testing.T, name, md5sum string) images.Image {
	t.Helper()
	got := c.named(t, name)
	if len(got) != 1 || got[0].Status != images.ImageStatusActive || got[0].Checksum != md5sum {
		t.Fatalf("images named %s: %+v; want one, active, md5 %s", name, got, md5sum)
	}
	return got[0]
}

// named lists the images of that name, and deletes them when the test
// ends.
func (c *cloud) named(t *testing.T, name string) []images.Image {
	t.Helper()
	return testenv.ImagesNamed(t, c.image, name)
}

func (c *cloud) cleanup(t *testing.T, prefix string) {
	t.Cleanup(func() {
		all := c.named(t, "")
		for _, img := range all {
			if strings.HasPrefix(img.Name, prefix) {
				images.Update(context.Background(), c.image, img.ID, images.UpdateOpts{images.ReplaceImageProtected{NewProtected: false}})
				images.Delete(context.Background(), c.image, img.ID)
			}
		}
	})
}

// disk writes a small qcow2 image with some data and returns its path
// and md5.
func disk(t *testing.T, dir string, mib int) (string, string) {
	t.Helper()
	raw := filepath.Join(dir, "data.raw")
	f, err := os.Create(raw)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := 0; i < mib<<10; i++ {
		fmt.Fprintf(w, "%01023d\n", i) // its error stays in w, for Flush
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "disk.qcow2")
	testenv.Run(t, "qemu-img", "convert", "-O", "qcow2", raw, path)
	os.Remove(raw)
	return path, testenv.MD5(t, path)
}

// setup connects as admin, picks an image name (every image whose name
// starts with it is deleted when the test ends), and writes a disk of mib
// MiB: it returns the cloud, the name, the folder, the disk and its md5.
func setup(t *testing.T, label string, mib int) (*cloud, string, string, string, string) {
	t.Helper()
	c := connect(t, "cloudimage-admin")
	name := "cloudimage-test-" + label + "-" + testenv.RandomHex(t, 3)
	c.cleanup(t, name)
	dir := t.TempDir()
	file, sum := disk(t, dir, mib)
	return c, name, dir, file, sum
}

// template is a build whose only job is the post-processor, on file.
func template(t *testing.T, dir, file, settings string) string {
	t.Helper()
	return testenv.PostProcessorTemplate(t, dir, file, "cloudimage-glance", settings)
}

// openrc reads the harness's admin openrc as KEY=VALUE pairs.
func openrc(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(testenv.Get(t, "CLOUDIMAGE_OPENRC")[0])
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok {
			env[k] = v
		}
	}
	return env
}

// packer runs a build with extra environment and returns its output and
// error.
func packer(t *testing.T, dir, tmpl string, env ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := testenv.PackerCommand(ctx, t, dir, "build", tmpl)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Each way of authenticating uploads an active image whose checksum is
// the file's: clouds.yaml, the OS_* environment, explicit settings, an
// application credential.
func TestAuthStyles(t *testing.T) {
	c, prefix, dir, file, sum := setup(t, "auth", 8)
	rc := openrc(t)

	cred, err := applicationcredentials.Create(context.Background(), c.identity, c.user, applicationcredentials.CreateOpts{Name: prefix}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { applicationcredentials.Delete(context.Background(), c.identity, c.user, cred.ID) })

	explicit := func(extra string) string {
		return fmt.Sprintf("identity_endpoint = %q\nusername = \"admin\"\npassword = %q\n%s", rc["OS_AUTH_URL"], rc["OS_PASSWORD"], extra)
	}
	for _, tc := range []struct {
		name, settings string
		env            []string
		owner          string // the image's owner: "" for the admin project
		refused        string // the build fails, saying this
	}{
		// Packer's OpenStack builder's names, and an openrc of Keystone
		// v2 days: tenant_*, domain_* for both domains.
		{name: "openstack-builder-names", settings: explicit(`tenant_name = "admin"
      domain_name = "Default"`), env: []string{"OS_CLOUD="}},
		{name: "openrc-tenant-and-domain", settings: explicit(""), env: []string{"OS_CLOUD=", "OS_TENANT_NAME=admin", "OS_DOMAIN_NAME=Default"}},
		// A system-scoped token: Glance records no owner project.
		{name: "system-scope", settings: explicit(`user_domain_name = "Default"`), env: []string{"OS_CLOUD=", "OS_SYSTEM_SCOPE=all"}, owner: "none"},
		// In cloud mode the project's domain goes through: a domain that
		// does not exist is Keystone's 401, not the file's Default.
		{name: "cloud-project-domain", settings: `cloud = "cloudimage-admin"
      project_domain_name = "no-such-domain"`, refused: "401"},
		{name: "clouds-yaml", settings: `cloud = "cloudimage-admin"`},
		{name: "os-env", env: []string{"OS_CLOUD=", "OS_AUTH_URL=" + rc["OS_AUTH_URL"], "OS_USERNAME=" + rc["OS_USERNAME"], "OS_PASSWORD=" + rc["OS_PASSWORD"],
			"OS_PROJECT_NAME=" + rc["OS_PROJECT_NAME"], "OS_USER_DOMAIN_NAME=Default", "OS_PROJECT_DOMAIN_NAME=Default", "OS_REGION_NAME=RegionOne"}},
		{name: "explicit", settings: fmt.Sprintf(`identity_endpoint = %q
      username = "admin"
      password = %q
      project_name = "admin"
      user_domain_name = "Default"
      project_domain_name = "Default"
      region = "RegionOne"`, rc["OS_AUTH_URL"], rc["OS_PASSWORD"]), env: []string{"OS_CLOUD="}},
		{name: "application-credential", settings: fmt.Sprintf(`identity_endpoint = %q
      application_credential_id = %q
      application_credential_secret = %q`, rc["OS_AUTH_URL"], cred.ID, cred.Secret), env: []string{"OS_CLOUD="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := prefix + "-" + tc.name
			out, err := packer(t, dir, template(t, dir, file, fmt.Sprintf("image_name = %q\n%s", name, tc.settings)), tc.env...)
			if tc.refused != "" {
				if err == nil || !strings.Contains(out, tc.refused) || len(c.named(t, name)) != 0 {
					t.Fatalf("want a failed build saying %q and no image; got %v:\n%s", tc.refused, err, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if strings.Contains(out, rc["OS_PASSWORD"]) || strings.Contains(out, cred.Secret) {
				t.Errorf("a secret is in the build's output")
			}
			img := c.active(t, name, sum)
			if owner := map[string]string{"": c.project, "none": ""}[tc.owner]; img.Owner != owner {
				t.Errorf("the image's owner is %q, want %q", img.Owner, owner)
			}
			if !strings.Contains(out, img.ID) || !strings.Contains(out, "sha512 and md5 match") {
				t.Errorf("the output does not name the image %s or its verification:\n%s", img.ID, out)
			}
		})
	}
}

// glance-direct stages the data, then Glance imports it into the store
// named; the hashes still match.
func TestGlanceDirectImport(t *testing.T) {
	c, name, dir, file, sum := setup(t, "import", 8)
	out, err := packer(t, dir, template(t, dir, file, fmt.Sprintf(`
      cloud         = "cloudimage-admin"
      image_name    = %q
      import_method = "glance-direct"
      stores        = ["local"]
`, name)))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if img := c.active(t, name, sum); fmt.Sprint(img.Properties["stores"]) != "local" {
		t.Errorf("stores = %v, want local", img.Properties["stores"])
	}
	if !strings.Contains(out, "sha512 and md5 match") {
		t.Errorf("no verification in the output:\n%s", out)
	}
}

// The record carries the defaults, the settings (the user's properties
// winning), tags, min_disk from the virtual size, visibility, and members,
// their membership accepted as the admin may.
func TestImagePropertiesAndMembers(t *testing.T) {
	c := connect(t, "cloudimage-admin")
	demo := connect(t, "cloudimage-demo")
	name := "cloudimage-test-props-" + testenv.RandomHex(t, 3)
	c.cleanup(t, name)
	dir := t.TempDir()
	file, _ := disk(t, dir, 4)
	testenv.Run(t, "qemu-img", "resize", "-q", file, "3G")
	out, err := packer(t, dir, template(t, dir, file, fmt.Sprintf(`
      cloud      = "cloudimage-admin"
      image_name = %q
      tags       = ["cloudimage", "test"]
      min_ram    = 512
      visibility = "shared"
      members    = [%q]
      image_auto_accept_members = true
      properties = { hw_vif_model = "e1000", os_distro = "debian", custom_key = "custom value" }
      protected  = true
`, name, demo.project)))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := c.named(t, name)
	if len(got) != 1 {
		t.Fatalf("%d images named %s", len(got), name)
	}
	img := got[0]
	for k, want := range map[string]string{"hw_qemu_guest_agent": "yes", "hw_disk_bus": "virtio", "hw_vif_model": "e1000", "os_distro": "debian", "custom_key": "custom value"} {
		if v := fmt.Sprint(img.Properties[k]); v != want {
			t.Errorf("property %s = %q, want %q", k, v, want)
		}
	}
	if img.DiskFormat != "qcow2" || img.ContainerFormat != "bare" || img.MinDiskGigabytes != 3 || img.MinRAMMegabytes != 512 ||
		img.Visibility != images.ImageVisibilityShared || !img.Protected || strings.Join(img.Tags, ",") != "cloudimage,test" && strings.Join(img.Tags, ",") != "test,cloudimage" {
		t.Errorf("image %+v", img)
	}
	m, err := members.Get(context.Background(), c.image, img.ID, demo.project).Extract()
	if err != nil || m.MemberID != demo.project || m.Status != "accepted" {
		t.Errorf("member %s: %+v, %v; want accepted (image_auto_accept_members)", demo.project, m, err)
	}
}

// on_conflict: error refuses, keep uploads nothing, replace deletes the
// old image after the new one is active, rename gives the old one a
// suffix.
func TestOnConflict(t *testing.T) {
	c, name, dir, file, _ := setup(t, "conflict", 2)
	build := func(onConflict string) (string, error) {
		return packer(t, dir, template(t, dir, file, fmt.Sprintf("cloud = \"cloudimage-admin\"\nimage_name = %q\non_conflict = %q", name, onConflict)))
	}
	if out, err := build("error"); err != nil {
		t.Fatalf("first upload: %v\n%s", err, out)
	}
	first := c.named(t, name)[0].ID

	out, err := build("error")
	if err == nil || !strings.Contains(out, "on_conflict") {
		t.Errorf("on_conflict = error: %v\n%s", err, out)
	}
	if n := len(c.named(t, name)); n != 1 {
		t.Errorf("on_conflict = error: %d images, want 1", n)
	}

	if out, err := build("keep"); err != nil || !strings.Contains(out, first) {
		t.Errorf("on_conflict = keep: %v\n%s", err, out)
	}
	if got := c.named(t, name); len(got) != 1 || got[0].ID != first {
		t.Errorf("on_conflict = keep: %+v", got)
	}

	if out, err := build("replace"); err != nil {
		t.Fatalf("on_conflict = replace: %v\n%s", err, out)
	}
	got := c.named(t, name)
	if len(got) != 1 || got[0].ID == first {
		t.Fatalf("on_conflict = replace: %+v, want one image other than %s", got, first)
	}
	second := got[0]
	if _, err := images.Get(context.Background(), c.image, first).Extract(); !gophercloud.ResponseCodeIs(err, 404) {
		t.Errorf("on_conflict = replace: the old image %s is still there (%v)", first, err)
	}

	if out, err := build("rename"); err != nil {
		t.Fatalf("on_conflict = rename: %v\n%s", err, out)
	}
	got = c.named(t, name)
	if len(got) != 1 || got[0].ID == second.ID {
		t.Fatalf("on_conflict = rename: %+v", got)
	}
	renamed, err := images.Get(context.Background(), c.image, second.ID).Extract()
	if want := name + "-" + second.CreatedAt.UTC().Format("20060102T150405Z"); err != nil || renamed.Name != want {
		t.Errorf("on_conflict = rename: the old image is %+v (%v), want the name %s", renamed, err, want)
	}
}

// Cancelled (Ctrl-C) during the upload: no image of that name is left, in
// any status.
func TestCancelDeletesTheImage(t *testing.T) {
	c, name, dir, file, _ := setup(t, "cancel", 512)
	tmp := t.TempDir()
	out, err := testenv.PackerBuild(t, dir, tmp, template(t, dir, file, fmt.Sprintf("cloud = \"cloudimage-admin\"\nimage_name = %q", name)), "Uploading ")
	if err == nil {
		t.Fatalf("the cancelled build succeeded:\n%s", out)
	}
	if got := c.named(t, name); len(got) != 0 {
		t.Errorf("left in Glance: %+v", got)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// web-download: Glance fetches image_url (a server on loopback the test
// runs), and what it fetched must hash as the artifact's file: the same
// file passes, another file fails the build and leaves no image.
func TestWebDownloadImport(t *testing.T) {
	c, name, dir, file, sum := setup(t, "web", 8)
	other := filepath.Join(dir, "other.qcow2")
	testenv.Run(t, "qemu-img", "create", "-q", "-f", "qcow2", other, "1G")
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)

	out, err := packer(t, dir, template(t, dir, file, fmt.Sprintf(`
      cloud         = "cloudimage-admin"
      image_name    = %q
      import_method = "web-download"
      image_url     = %q
`, name, srv.URL+"/disk.qcow2")))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	c.active(t, name, sum)

	bad := name + "-other"
	out, err = packer(t, dir, template(t, dir, file, fmt.Sprintf(`
      cloud         = "cloudimage-admin"
      image_name    = %q
      import_method = "web-download"
      image_url     = %q
`, bad, srv.URL+"/other.qcow2")))
	if err == nil || !strings.Contains(out, "Glance holds other data than was sent") {
		t.Errorf("web-download of another file: want a hash mismatch, got %v:\n%s", err, out)
	}
	if got := c.named(t, bad); len(got) != 0 {
		t.Errorf("left in Glance: %+v", got)
	}
}

// keep_releases = 2 with on_conflict = "rename": after three builds, the
// new image and the newest renamed one are left.
func TestKeepReleases(t *testing.T) {
	c, name, dir, file, _ := setup(t, "rel", 1)
	var ids []string
	for i := 0; i < 3; i++ {
		out, err := packer(t, dir, template(t, dir, file, fmt.Sprintf("cloud = \"cloudimage-admin\"\nimage_name = %q\non_conflict = \"rename\"\nkeep_releases = 2", name)))
		if err != nil {
			t.Fatalf("build %d: %v\n%s", i+1, err, out)
		}
		ids = append(ids, c.named(t, name)[0].ID)
		time.Sleep(time.Second) // distinct created_at seconds, the renamed names' suffix
	}
	var left []string
	for _, img := range c.named(t, "") {
		if strings.HasPrefix(img.Name, name) {
			left = append(left, img.ID)
		}
	}
	if len(left) != 2 || !slices.Contains(left, ids[1]) || !slices.Contains(left, ids[2]) {
		t.Errorf("images left %v, want the last two of %v", left, ids)
	}
}
