package libvirt

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/packer-plugin-sdk/multistep"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/uitest"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt/fake"
)

// stepTest is one step run against the fake driver: the state bag the
// builder's earlier steps would have filled, and what the user saw.
type stepTest struct {
	t     *testing.T
	state *multistep.BasicStateBag
	ui    *uitest.UI
	d     *fake.Driver
}

// newStepTest makes the state of a build whose libvirt is the fake.
func newStepTest(t *testing.T, c *Config) *stepTest {
	t.Helper()
	d := fake.New(t.TempDir())
	d.URIValue = c.LibvirtURI
	ui := uitest.New()
	state := new(multistep.BasicStateBag)
	state.Put("ui", ui)
	state.Put("config", c)
	state.Put("driver", virt.Driver(d))
	// As step.Claim leaves it: the build's placeholder domain, marked.
	owned, err := virt.Claim(d, c.VMName, "qemu", "cloudimage-libvirt", false, ui.Say)
	if err != nil {
		t.Fatal(err)
	}
	state.Put("owned", owned)
	return &stepTest{t: t, state: state, ui: ui, d: d}
}

// run runs s and returns its action; the test fails on an unexpected one.
func (st *stepTest) run(s multistep.Step, want multistep.StepAction) {
	st.t.Helper()
	got := s.Run(context.Background(), st.state)
	if got != want {
		err, _ := st.state.GetOk("error")
		st.t.Fatalf("%T: action %v, want %v (error: %v; said: %q)", s, got, want, err, st.ui.Lines())
	}
}

// err is the error a halted step recorded.
func (st *stepTest) err() error {
	st.t.Helper()
	err, ok := st.state.GetOk("error")
	if !ok {
		st.t.Fatal("the step recorded no error")
	}
	return err.(error)
}

// stepConfig is a prepared configuration of an ISO build: output in a
// temporary folder, the fake's pool "default", user-mode networking.
func stepConfig(t *testing.T, overrides map[string]interface{}) *Config {
	t.Helper()
	raw := with(baseRaw(t), map[string]interface{}{"network_mode": "user", "domain_type": "qemu"})
	c, _ := prepare(t, with(raw, overrides))
	return c
}

// fromImage turns stepConfig's ISO build into a base-image build (a URL:
// Prepare probes only a local file).
var fromImage = map[string]interface{}{
	"iso_url": del, "iso_checksum": del,
	"disk_image_url": "https://images.example/base.qcow2", "disk_image_checksum": "none",
}

// merge is the overrides of both, b winning, del markers kept.
func merge(a, b map[string]interface{}) map[string]interface{} {
	m := maps.Clone(a)
	maps.Copy(m, b)
	return m
}

// shareable is a folder whose parents all let QEMU (another user) through:
// t.TempDir() is 0700.
func shareable(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cloudimage-unit-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func fileWith(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
