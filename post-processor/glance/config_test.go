package glance

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
)

// cleanEnv keeps the machine's OS_* variables out of a test.
func cleanEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OS_") {
			t.Setenv(k, "")
		}
	}
}

func TestConfigRejectsBadInput(t *testing.T) {
	cleanEnv(t)
	base := func(kv ...interface{}) map[string]interface{} {
		m := map[string]interface{}{"image_name": "x", "cloud": "c"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		raw   map[string]interface{}
		field string
	}{
		{map[string]interface{}{"cloud": "c"}, "image_name"},
		{map[string]interface{}{"image_name": "x"}, "cloud or identity_endpoint"},
		{map[string]interface{}{"image_name": "x", "identity_endpoint": "http://k/v3", "username": "u"}, "password, token or application_credential_secret"},
		{base("endpoint_type", "private"), "endpoint_type"},
		{base("cacert", "/no/such/ca.pem"), "cacert"},
		{base("cert", "/etc/hostname"), "cert and key"},
		{base("disk_format", "qcow"), "disk_format"},
		{base("container_format", "box"), "container_format"},
		{base("visibility", "hidden"), "visibility"},
		{base("members", []string{"p1"}), "members"},
		{base("min_disk", -1), "min_disk"},
		{base("properties", map[string]string{"bad key": "v"}), "properties"},
		{base("on_conflict", "overwrite"), "on_conflict"},
		{base("import_method", "ftp"), "import_method"},
		{base("retries", -1), "retries"},
		{base("endpoint_override", "glance:9292"), "endpoint_override"},
		{base("identity_endpoint", "keystone.example:5000/v3"), "identity_endpoint"},
		{base("import_method", "web-download"), "image_url"},
		{base("image_url", "http://h/x.qcow2"), "image_url"},
		{base("keep_releases", 3), "keep_releases"},
		{base("stores", []string{"local"}), "stores"},
	} {
		var c Config
		err := c.prepare(tc.raw)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%v: error %v, want one naming %s", tc.raw, err, tc.field)
		}
	}
}

// Unset settings come from the OS_* environment, as the OpenStack clients
// read it.
func TestConfigFromEnv(t *testing.T) {
	cleanEnv(t)
	t.Setenv("OS_AUTH_URL", "http://keystone:5000/v3")
	t.Setenv("OS_USERNAME", "admin")
	t.Setenv("OS_PASSWORD", "pw")
	t.Setenv("OS_PROJECT_NAME", "p")
	t.Setenv("OS_PROJECT_DOMAIN_NAME", "Default")
	t.Setenv("OS_USER_DOMAIN_NAME", "Default")
	t.Setenv("OS_INTERFACE", "internal")
	var c Config
	if err := c.prepare(map[string]interface{}{"image_name": "x", "username": "other"}); err != nil {
		t.Fatal(err)
	}
	ao := c.authOptions()
	if ao.IdentityEndpoint != "http://keystone:5000/v3" || ao.Username != "other" || ao.Password != "pw" || ao.DomainName != "Default" ||
		ao.Scope == nil || ao.Scope.ProjectName != "p" || ao.Scope.DomainName != "Default" || availability(c.EndpointType) != "internal" {
		t.Errorf("auth options %+v scope %+v", ao, ao.Scope)
	}
	if d := c.describeAuth(); strings.Contains(d, "pw") || !strings.Contains(d, "other") {
		t.Errorf("describeAuth = %q", d)
	}
}

type stateArtifact struct {
	packersdk.Artifact
	state map[string]interface{}
}

func (a stateArtifact) State(name string) interface{} { return a.state[name] }

// The defaults come from the artifact's state; the user's properties win.
func TestCreateOpts(t *testing.T) {
	cleanEnv(t)
	var c Config
	if err := c.prepare(map[string]interface{}{"image_name": "x", "cloud": "c", "properties": map[string]string{"hw_vif_model": "e1000"}}); err != nil {
		t.Fatal(err)
	}
	a := stateArtifact{state: map[string]interface{}{
		"guest":        map[string]string{"os_type": "linux", "distro": "ubuntu", "major_version": "22", "minor_version": "4"},
		"machine_type": "pc-q35-7.2", "firmware": "uefi",
	}}
	o := c.createOpts(a, image.Info{Format: "vpc", VirtualSize: 2<<30 + 1})
	want := map[string]string{"hw_qemu_guest_agent": "yes", "hw_disk_bus": "virtio", "hw_vif_model": "e1000", "os_type": "linux",
		"os_distro": "ubuntu", "os_version": "22.04", "hw_machine_type": "q35", "hw_firmware_type": "uefi"}
	if len(o.Properties) != len(want) {
		t.Errorf("properties %v, want %v", o.Properties, want)
	}
	for k, v := range want {
		if o.Properties[k] != v {
			t.Errorf("property %s = %q, want %q", k, o.Properties[k], v)
		}
	}
	if o.DiskFormat != "vhd" || o.MinDisk != 3 || o.ContainerFormat != "bare" || string(*o.Visibility) != "private" {
		t.Errorf("opts %+v", o)
	}
}

// The body is hashed as it is read, starts again on a rewind, and goes out
// with its Content-Length.
func TestBodyRewindAndLength(t *testing.T) {
	data := []byte(strings.Repeat("cloudimage ", 100000))
	b := testBody(t, data)
	if _, err := io.CopyN(io.Discard, b, 1000); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var got struct {
		length int64
		te     []string
		body   []byte
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.length, got.te = r.ContentLength, r.TransferEncoding
		got.body, _ = io.ReadAll(r.Body)
	}))
	defer srv.Close()
	req, _ := http.NewRequest("PUT", srv.URL, b)
	resp, err := (&http.Client{Transport: lengthTransport{http.DefaultTransport}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.length != int64(len(data)) || len(got.te) != 0 || string(got.body) != string(data) {
		t.Errorf("sent %d bytes, Content-Length %d, Transfer-Encoding %v; want %d with a length", len(got.body), got.length, got.te, len(data))
	}
	got2, err := b.sums("sha256")
	if err != nil {
		t.Fatal(err)
	}
	s, s256, m := sha512.Sum512(data), sha256.Sum256(data), md5.Sum(data)
	if got2.sha2["sha512"] != hex.EncodeToString(s[:]) || got2.sha2["sha256"] != hex.EncodeToString(s256[:]) || got2.md5 != hex.EncodeToString(m[:]) {
		t.Errorf("sums after a rewind are not the whole file's (sha256: Glance's os_hash_algo, hashed after the upload)")
	}
}
