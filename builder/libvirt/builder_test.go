package libvirt

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/artifact"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/uitest"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt/fake"
)

// builderRun is a whole build against the fake driver and a fake qemu-img:
// an ISO install (communicator "none": the guest powers itself off), with
// a floppy, a CD where a tool to make one exists, and an HTTP server.
type builderRun struct {
	b      *Builder
	d      *fake.Driver
	ui     *uitest.UI
	out    string // output_directory
	tmp    string // TMPDIR, where the SDK makes the floppy and CD
	cancel context.CancelFunc
	ctx    context.Context
}

func newBuilderRun(t *testing.T, overrides map[string]interface{}) *builderRun {
	t.Helper()
	dir := shareable(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	raw := map[string]interface{}{
		"packer_build_name": "unit",
		"iso_url":           fileWith(t, dir, "install.iso", "an ISO"),
		"iso_checksum":      "none",
		"communicator":      "none",
		"network_mode":      "user",
		"domain_type":       "qemu",
		"vm_name":           "unit-web",
		"output_directory":  filepath.Join(dir, "output"),
		"floppy_content":    map[string]string{"ks.cfg": "rootpw x"},
		"http_content":      map[string]string{"/ks.cfg": "rootpw x"},
		"shutdown_timeout":  "10s",
	}
	if _, err := exec.LookPath("xorriso"); err == nil {
		raw["cd_content"] = map[string]string{"meta-data": "instance-id: i-1"}
		raw["cd_label"] = "cidata"
	}
	b := &Builder{}
	if _, _, err := b.Prepare(with(raw, overrides)); err != nil {
		t.Fatal(err)
	}
	d := fake.New(t.TempDir())
	d.URIValue = b.config.LibvirtURI
	d.StopAfter = 50 * time.Millisecond // the installer powers off
	b.dial = func(string) (virt.Driver, error) { return d, nil }
	img := (&fakeImg{}).tool()
	b.img = &img
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &builderRun{b: b, d: d, ui: uitest.New(), out: b.config.OutputDir, tmp: tmp, ctx: ctx, cancel: cancel}
}

func (r *builderRun) run() (packersdk.Artifact, error) {
	return r.b.Run(r.ctx, r.ui, &packersdk.MockHook{})
}

// assertNothingLeft: no domain, no volume, no output directory, nothing in
// TMPDIR.
func (r *builderRun) assertNothingLeft(t *testing.T) {
	t.Helper()
	if left := r.d.Leftovers(); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	// Of the output directory, only the evidence stays: the console log,
	// once the domain has run, at the path the build said.
	entries, err := os.ReadDir(r.out)
	switch {
	case r.ui.Said("Serial console log: " + filepath.Join(r.out, "console.log")):
		if len(entries) != 1 || entries[0].Name() != "console.log" || !r.ui.Said("kept in "+r.out+" for a look: console.log") {
			t.Errorf("output directory %s holds %v; said %q", r.out, entries, r.ui.Lines())
		}
	case !os.IsNotExist(err):
		t.Errorf("output directory %s left (%v, %v)", r.out, entries, err)
	}
	if entries, _ := os.ReadDir(r.tmp); len(entries) != 0 {
		t.Errorf("TMPDIR holds %v", entries)
	}
}

// A whole build: the artifact is the exported disk, with the contract's
// keys, and nothing else is left.
func TestBuilderRun(t *testing.T) {
	r := newBuilderRun(t, nil)
	a, err := r.run()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, r.ui.Output())
	}
	disk := filepath.Join(r.out, "unit-web.qcow2")
	if a.Id() != disk || artifact.DiskPath(a) != disk || artifact.DiskFormat(a) != "qcow2" || artifact.VirtualSize(a) != 1<<30 {
		t.Errorf("artifact %s: %v %v %v", a.Id(), artifact.DiskPath(a), artifact.DiskFormat(a), artifact.VirtualSize(a))
	}
	if artifact.Firmware(a) != "bios" || artifact.MachineType(a) != "pc" || a.State(artifact.KeyConsoleLog) != filepath.Join(r.out, "console.log") {
		t.Errorf("firmware %q, machine %q, console log %v", artifact.Firmware(a), artifact.MachineType(a), a.State(artifact.KeyConsoleLog))
	}
	if files := a.Files(); len(files) != 2 || files[0] != disk {
		t.Errorf("files %v", files)
	}
	if left := r.d.Leftovers(); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	if entries, _ := os.ReadDir(r.tmp); len(entries) != 0 {
		t.Errorf("TMPDIR holds %v", entries)
	}
	if err := a.Destroy(); err != nil {
		t.Fatal(err)
	}
}

// Ctrl-C as each step starts (the line it says first): the build stops
// and leaves nothing, wherever it was.
func TestBuilderCancelAtEachStep(t *testing.T) {
	for _, at := range []string{
		"Connecting to libvirt",
		"Starting HTTP server",
		"Creating disk",
		"Defining domain",
		"Starting the domain",
		"Waiting for the guest to power itself off",
		"The guest has shut down",
	} {
		t.Run(at, func(t *testing.T) {
			r := newBuilderRun(t, nil)
			r.d.StopAfter = time.Second // long enough for Ctrl-C in the wait
			r.ui.OnSay = func(line string) {
				if strings.Contains(line, at) {
					r.cancel()
				}
			}
			_, err := r.run()
			if err == nil || !strings.Contains(err.Error(), "cancelled") {
				t.Fatalf("the build did not stop: %v\n%s", err, r.ui.Output())
			}
			if !r.ui.Said(at) {
				t.Fatalf("the build never said %q", at)
			}
			r.assertNothingLeft(t)
		})
	}
}

// A failure in any libvirt call stops the build with that error, and every
// earlier step cleans up after itself.
func TestBuilderFailureAtEachStep(t *testing.T) {
	for _, tc := range []struct {
		method    string
		overrides map[string]interface{}
	}{
		{method: "CheckPool"},
		{method: "CreateVolume"},
		// A TCP URI, even to loopback, has its files uploaded (a tunnel
		// may lead anywhere); loopback keeps the test on this machine.
		{method: "UploadVolume", overrides: map[string]interface{}{"libvirt_uri": "qemu+tcp://127.0.0.1/system"}},
		{method: "Define"},
		{method: "Start"},
		{method: "VNCPort"},
		{method: "WaitStopped"},
		{method: "DownloadVolume", overrides: map[string]interface{}{"libvirt_uri": "qemu+tcp://127.0.0.1/system"}},
	} {
		t.Run(tc.method, func(t *testing.T) {
			r := newBuilderRun(t, tc.overrides)
			injected := errors.New(tc.method + ": injected failure")
			r.d.Errs[tc.method] = injected
			if tc.method == "WaitStopped" {
				// A guest that never powers off: the timeout fails the build.
				r.d.StopAfter, r.b.config.ShutdownTimeout, r.b.config.shutdownTimeoutSet = 0, 100*time.Millisecond, true
				injected = errors.New("did not shut down within shutdown_timeout")
			}
			a, err := r.run()
			if err == nil || !strings.Contains(err.Error(), injected.Error()) {
				t.Fatalf("build: %v, %v; want the error %q\n%s", a, err, injected, r.ui.Output())
			}
			r.assertNothingLeft(t)
		})
	}
}

// -on-error=abort keeps what the failed build made, for a look.
func TestBuilderOnErrorAbort(t *testing.T) {
	r := newBuilderRun(t, map[string]interface{}{"packer_on_error": "abort"})
	r.d.StopAfter = 0
	r.b.config.ShutdownTimeout, r.b.config.shutdownTimeoutSet = 50*time.Millisecond, true
	if _, err := r.run(); err == nil {
		t.Fatal("the build succeeded")
	}
	if d := r.d.Domain("unit-web"); d == nil || d.State != fake.Running {
		t.Errorf("domain: %+v, want it kept running", d)
	}
	if v := r.d.Volume("default", "unit-web.qcow2"); v == nil {
		t.Errorf("disk volume gone; volumes %v", r.d.VolumeNames())
	}
}

// cpu_mode host-passthrough needs KVM: where domain_type "auto" settles to
// software emulation, the build stops at once, saying why, and leaves
// nothing.
func TestBuilderAutoCannotPassThrough(t *testing.T) {
	r := newBuilderRun(t, map[string]interface{}{"domain_type": "auto", "cpu_mode": "host-passthrough"})
	r.d.DomainType = "qemu"
	_, err := r.run()
	if err == nil || !strings.Contains(err.Error(), `domain_type auto chose qemu here (the fake driver says so): cpu_mode "host-passthrough": needs domain_type "kvm"`) {
		t.Fatalf("build: %v\n%s", err, r.ui.Output())
	}
	if r.d.Called("Define") != 0 {
		t.Errorf("calls %v: a domain was defined", r.d.Calls)
	}
	r.assertNothingLeft(t)
}
