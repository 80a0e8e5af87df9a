package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/artifact"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/report"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/rpctest"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/uitest"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt/fake"
)

// diskArtifact is what cloudimage-sysprep hands on: a disk with its format
// and size, which verify must not probe again.
type diskArtifact struct{ path string }

func (diskArtifact) BuilderId() string { return "cloudimage.post-processor.sysprep" }
func (a diskArtifact) Files() []string { return []string{a.path} }
func (a diskArtifact) Id() string      { return a.path }
func (a diskArtifact) String() string  { return a.path }
func (diskArtifact) Destroy() error    { return nil }
func (a diskArtifact) State(k string) interface{} {
	return map[string]interface{}{
		artifact.KeyDiskPath: a.path, artifact.KeyDiskFormat: "qcow2", artifact.KeyVirtualSize: uint64(2 << 30),
		artifact.KeyMachineType: "pc", artifact.KeyFirmware: "bios",
	}[k]
}

// verifyRun is PostProcess against the fake driver and a fake guest, the
// guest found by its address (network_mode "network") on loopback.
type verifyRun struct {
	p      *PostProcessor
	d      *fake.Driver
	g      *fakeGuest
	ui     *uitest.UI
	a      diskArtifact
	tmp    string
	ctx    context.Context
	cancel context.CancelFunc
}

func newVerifyRun(t *testing.T, raw map[string]interface{}) *verifyRun {
	t.Helper()
	if _, err := exec.LookPath("xorriso"); err != nil {
		// The SDK's StepCreateCD makes the config drive with xorriso,
		// mkisofs, hdiutil or oscdimg.
		t.Skip("no xorriso here to make the config drive with")
	}
	imgDir, err := os.MkdirTemp("", "cloudimage-unit-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(imgDir) })
	if err := os.Chmod(imgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(imgDir, "debian12.qcow2")
	if err := os.WriteFile(img, []byte("QFI\xfb an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	d := fake.New(t.TempDir())
	g := &fakeGuest{t: t, d: d, dom: "unit-verify", cloudInit: true, agent: true, web: true}
	// The guest serves before PostProcess makes the instance: its ports
	// are the config's.
	g.in = &instance{}
	g.start()
	d.Address, d.AddressSource = "127.0.0.1", "DHCP leases"
	d.ConsoleOutput = "[    0.000000] Linux version 6.1.0-50-amd64\n[   20.1] cloud-init[412]: Cloud-init v. 22.4.2 running 'init'\n"
	base := map[string]interface{}{
		"network_mode": "network", "ssh_port": g.sshPort, "http_port": g.httpPort,
		"domain_type": "qemu", "vm_name": "unit-verify", "boot_timeout": "20s", "cloud_init_timeout": "5s",
		"report_file": filepath.Join(t.TempDir(), "verify.json"),
	}
	for k, v := range raw {
		base[k] = v
	}
	p := &PostProcessor{}
	if err := p.Configure(base); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r := &verifyRun{p: p, d: d, g: g, ui: uitest.New(), a: diskArtifact{img}, tmp: tmp, ctx: ctx, cancel: cancel}
	p.dialer = func(string) (virt.Driver, error) { return d, nil }
	p.waits = &testWaits
	// The instance is made in PostProcess: the guest learns it from the
	// config drive, as a real one would.
	p.onInstance = g.setInstance
	g.diskPath = filepath.Join(d.Dir, "unit-verify.qcow2")
	return r
}

// readReport reads the JSON report as a user's script would.
func readReport(t *testing.T, path string) []report.Result {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rs []report.Result
	if err := json.Unmarshal(data, &rs); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rs
}

func (r *verifyRun) run() (packersdk.Artifact, error) {
	a, _, _, err := r.p.PostProcess(r.ctx, r.ui, r.a)
	return a, err
}

func (r *verifyRun) assertNothingLeft(t *testing.T) {
	t.Helper()
	if left := r.d.Leftovers(); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	if entries, _ := os.ReadDir(r.tmp); len(entries) != 0 {
		t.Errorf("TMPDIR holds %v", entries)
	}
}

// The whole post-processor on a good image: the instance is booted as
// Nova would (an overlay 2 GiB larger on the image as it is, a config
// drive), every item passes, the report is written, nothing is left, and
// the artifact goes on with the input's files and state, and the admin
// user L07 proved, as Packer core and the next post-processor read it
// through the SDK's RPC.
func TestVerifyRun(t *testing.T) {
	r := newVerifyRun(t, nil)
	local, err := r.run()
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, r.ui.Output())
	}
	a := rpctest.Artifact(t, local)
	disk := r.a.Files()[0]
	if f := a.Files(); len(f) != 1 || f[0] != disk || a.Id() != disk || artifact.DiskPath(a) != disk || artifact.DiskFormat(a) != "qcow2" ||
		artifact.VirtualSize(a) != 2<<30 || artifact.MachineType(a) != "pc" || artifact.AdminUser(a) != "root" {
		t.Errorf("the artifact: files %v, id %q, disk %q %q %d, machine %q, admin user %q", f, a.Id(), artifact.DiskPath(a),
			artifact.DiskFormat(a), artifact.VirtualSize(a), artifact.MachineType(a), artifact.AdminUser(a))
	}
	if want := "verified " + disk + ": 16 items pass, 2 not applicable, 0 failed; report " + r.p.config.ReportFile; a.String() != want {
		t.Errorf("String() = %q, want %q", a.String(), want)
	}
	rs := readReport(t, r.p.config.ReportFile)
	if f := failed(rs); len(f) != 0 {
		t.Errorf("failed %v", f)
	}
	overlay := "Creating the instance's disk unit-verify.qcow2: 4096 MiB on the image's 2048 MiB (qcow2)"
	if !r.ui.Said(overlay) {
		t.Errorf("the user was not told %q:\n%s", overlay, r.ui.Output())
	}
	// The image was used in place, read as the artifact's qcow2.
	if r.d.Called("UploadVolume") != 0 {
		t.Errorf("calls %v: the image was uploaded though QEMU can read it", r.d.Calls)
	}
	r.assertNothingLeft(t)
}

// Ctrl-C at each step leaves nothing, keep_on_failure or not.
func TestVerifyCancelAtEachStep(t *testing.T) {
	for _, at := range []string{"Connecting to libvirt", "Creating the instance's disk", "Booting the image", "Waiting up to", "Looking inside", "Growing the disk"} {
		for _, keep := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, keep_on_failure %v", at, keep), func(t *testing.T) {
				r := newVerifyRun(t, map[string]interface{}{"keep_on_failure": keep})
				r.ui.OnSay = func(line string) {
					if strings.Contains(line, at) {
						r.cancel()
					}
				}
				if _, err := r.run(); err == nil {
					t.Fatalf("verify went on after Ctrl-C:\n%s", r.ui.Output())
				}
				if !r.ui.Said(at) {
					t.Fatalf("never reached %q:\n%s", at, r.ui.Output())
				}
				r.assertNothingLeft(t)
			})
		}
	}
}

// A libvirt failure at any step fails verify with it, and the earlier
// steps clean up.
func TestVerifyFailureAtEachStep(t *testing.T) {
	for _, tc := range []struct {
		method string
		raw    map[string]interface{}
	}{
		{method: "CheckPool"},
		{method: "CreateVolume"},
		{method: "UploadVolume", raw: map[string]interface{}{"libvirt_uri": "qemu+tcp://127.0.0.1/system"}},
		{method: "Define"},
		{method: "Start"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			r := newVerifyRun(t, tc.raw)
			r.d.URIValue = r.p.config.LibvirtURI
			r.d.Errs[tc.method] = errors.New(tc.method + ": injected")
			if _, err := r.run(); err == nil || !strings.Contains(err.Error(), "injected") {
				t.Fatalf("verify: %v", err)
			}
			r.assertNothingLeft(t)
		})
	}
}

// On a remote host the image and the config drive are uploaded into the
// pool, the overlay's backing file is the uploaded image, and all of it
// goes afterwards.
func TestVerifyRemoteUploads(t *testing.T) {
	r := newVerifyRun(t, map[string]interface{}{"libvirt_uri": "qemu+tcp://127.0.0.1/system"})
	r.d.URIValue = r.p.config.LibvirtURI
	if _, err := r.run(); err != nil {
		t.Fatalf("verify: %v\n%s", err, r.ui.Output())
	}
	for _, v := range []string{"unit-verify-image.qcow2", "unit-verify-config.iso"} {
		if r.d.Called("UploadVolume", v) != 1 {
			t.Errorf("%s not uploaded: calls %v", v, r.d.Calls)
		}
	}
	r.assertNothingLeft(t)
}

// keep_on_failure: an image that fails an item keeps its instance, disk
// and console log for a look, and the build fails naming the item.
func TestVerifyKeepOnFailure(t *testing.T) {
	r := newVerifyRun(t, map[string]interface{}{"keep_on_failure": true})
	r.g.swap = true
	_, err := r.run()
	if err == nil || !strings.Contains(err.Error(), "failed 1 items") || !strings.Contains(err.Error(), "L02") {
		t.Fatalf("verify: %v", err)
	}
	if d := r.d.Domain("unit-verify"); d == nil || d.State != fake.Running {
		t.Errorf("the instance is gone: %+v", d)
	}
	if got := r.d.VolumeNames(); !slices.Equal(got, []string{"default/unit-verify.qcow2"}) {
		t.Errorf("volumes %v, want the instance's disk", got)
	}
	if !r.ui.Said("cloudimage-verify failed: the instance's console log is " + strings.TrimSuffix(r.p.config.ReportFile, ".json") + ".console.log") {
		t.Errorf("the user is not told where the console log is:\n%s", r.ui.Output())
	}
}

// fail_on = "none" reports the failed items and lets the build go on.
func TestVerifyFailOnNone(t *testing.T) {
	r := newVerifyRun(t, map[string]interface{}{"fail_on": "none"})
	r.g.macPin = "52:54:00:aa:bb:cc"
	if _, err := r.run(); err != nil {
		t.Fatalf("verify: %v", err)
	}
	rs := readReport(t, r.p.config.ReportFile)
	if f := failed(rs); !slices.Equal(f, []string{"L16"}) || !r.ui.Said(`1 items failed (fail_on = "none"`) {
		t.Errorf("failed %v; said:\n%s", f, r.ui.Output())
	}
	r.assertNothingLeft(t)
}
