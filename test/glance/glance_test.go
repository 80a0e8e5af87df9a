// Package glance_test runs the cloudimage-glance post-processor in real
// Packer builds against the harness's real Glance behind real Keystone.
package glance_test

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/applicationcredentials"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/members"
	"github.com/gophercloud/gophercloud/v2/pagination"

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
	testenv.Get(t, "OS_CLIENT_CONFIG_FILE")
	ctx := context.Background()
	ao, eo, tlsConfig, err := clouds.Parse(clouds.WithCloudName(name))
	if err != nil {
		t.Fatal(err)
	}
	pc, err := config.NewProviderClient(ctx, ao, config.WithTLSConfig(tlsConfig))
	if err != nil {
		t.Fatal(err)
	}
	img, err := openstack.NewImageV2(pc, eo)
	if err != nil {
		t.Fatal(err)
	}
	id, err := openstack.NewIdentityV3(pc, eo)
	if err != nil {
		t.Fatal(err)
	}
	r := pc.GetAuthResult().(tokens.CreateResult)
	p, _ := r.ExtractProject()
	u, _ := r.ExtractUser()
	return &cloud{pc: pc, image: img, identity: id, project: p.ID, user: u.ID}
}

// named lists the images of that name, and deletes them when the test
// ends.
func (c *cloud) named(t *testing.T, name string) []images.Image {
	t.Helper()
	var found []images.Image
	err := images.List(c.image, images.ListOpts{Name: name, SortKey: "created_at", SortDir: "asc"}).EachPage(context.Background(), func(_ context.Context, p pagination.Page) (bool, error) {
		list, err := images.ExtractImages(p)
		found = append(found, list...)
		return true, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
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
		fmt.Fprintf(w, "%01023d\n", i)
	}
	w.Flush()
	f.Close()
	path := filepath.Join(dir, "disk.qcow2")
	testenv.Run(t, "qemu-img", "convert", "-O", "qcow2", raw, path)
	os.Remove(raw)
	h := md5.New()
	g, _ := os.Open(path)
	io.Copy(h, g)
	g.Close()
	return path, hex.EncodeToString(h.Sum(nil))
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
	c := connect(t, "cloudimage-admin")
	prefix := "cloudimage-test-auth-" + testenv.RandomHex(t, 3)
	c.cleanup(t, prefix)
	dir := t.TempDir()
	file, sum := disk(t, dir, 8)
	rc := openrc(t)

	cred, err := applicationcredentials.Create(context.Background(), c.identity, c.user, applicationcredentials.CreateOpts{Name: prefix}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { applicationcredentials.Delete(context.Background(), c.identity, c.user, cred.ID) })

	for _, tc := range []struct {
		name, settings string
		env            []string
	}{
		{"clouds-yaml", `cloud = "cloudimage-admin"`, nil},
		{"os-env", ``, []string{"OS_CLOUD=", "OS_AUTH_URL=" + rc["OS_AUTH_URL"], "OS_USERNAME=" + rc["OS_USERNAME"], "OS_PASSWORD=" + rc["OS_PASSWORD"],
			"OS_PROJECT_NAME=" + rc["OS_PROJECT_NAME"], "OS_USER_DOMAIN_NAME=Default", "OS_PROJECT_DOMAIN_NAME=Default", "OS_REGION_NAME=RegionOne"}},
		{"explicit", fmt.Sprintf(`identity_endpoint = %q
      username = "admin"
      password = %q
      project_name = "admin"
      user_domain_name = "Default"
      project_domain_name = "Default"
      region = "RegionOne"`, rc["OS_AUTH_URL"], rc["OS_PASSWORD"]), []string{"OS_CLOUD="}},
		{"application-credential", fmt.Sprintf(`identity_endpoint = %q
      application_credential_id = %q
      application_credential_secret = %q`, rc["OS_AUTH_URL"], cred.ID, cred.Secret), []string{"OS_CLOUD="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := prefix + "-" + tc.name
			out, err := packer(t, dir, template(t, dir, file, fmt.Sprintf("image_name = %q\n%s", name, tc.settings)), tc.env...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if strings.Contains(out, rc["OS_PASSWORD"]) || strings.Contains(out, cred.Secret) {
				t.Errorf("a secret is in the build's output")
			}
			got := c.named(t, name)
			if len(got) != 1 || got[0].Status != images.ImageStatusActive || got[0].Checksum != sum {
				t.Fatalf("images named %s: %+v; want one, active, checksum %s", name, got, sum)
			}
			if !strings.Contains(out, got[0].ID) || !strings.Contains(out, "sha512 and md5 match") {
				t.Errorf("the output does not name the image %s or its verification:\n%s", got[0].ID, out)
			}
		})
	}
}

// The record carries the defaults, the settings (the user's properties
// winning), tags, min_disk from the virtual size, visibility, and members.
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
	if err != nil || m.MemberID != demo.project {
		t.Errorf("member %s: %+v, %v", demo.project, m, err)
	}
}

// on_conflict: error refuses, keep uploads nothing, replace deletes the
// old image after the new one is active, rename gives the old one a
// suffix.
func TestOnConflict(t *testing.T) {
	c := connect(t, "cloudimage-admin")
	name := "cloudimage-test-conflict-" + testenv.RandomHex(t, 3)
	c.cleanup(t, name)
	dir := t.TempDir()
	file, _ := disk(t, dir, 2)
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
	c := connect(t, "cloudimage-admin")
	name := "cloudimage-test-cancel-" + testenv.RandomHex(t, 3)
	c.cleanup(t, name)
	dir := t.TempDir()
	file, _ := disk(t, dir, 512)
	tmp := t.TempDir()
	out, err := testenv.PackerBuild(t, dir, tmp, template(t, dir, file, fmt.Sprintf("cloud = \"cloudimage-admin\"\nimage_name = %q", name)), "Uploading ")
	if err == nil {
		t.Fatalf("the cancelled build succeeded:\n%s", out)
	}
	if got := c.named(t, name); len(got) != 0 {
		t.Errorf("left in Glance: %+v", got)
	}
}
