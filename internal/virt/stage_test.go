package virt_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/uitest"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt/fake"
)

// The one rule for "QEMU can read this file where it is".
func TestReadableInPlace(t *testing.T) {
	open, err := os.MkdirTemp("", "cloudimage-unit-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(open)
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	private := t.TempDir() // 0700
	for _, tc := range []struct {
		uri, dir string
		ok       bool
		why      string
	}{
		{"qemu:///system", open, true, ""},
		{"qemu+unix:///system", open, true, ""},
		{"qemu:///system", private, false, "is not searchable by others"},
		{"qemu:///session", private, true, ""},
		{"qemu+ssh://kvm.example/system", open, false, "not this machine's own daemon"},
		{"qemu+tcp://127.0.0.1/system", open, false, "not this machine's own daemon"},
		{"qemu:///system", "/nonexistent-dir", false, "no such file"},
	} {
		ok, why := virt.ReadableInPlace(tc.uri, filepath.Join(tc.dir, "disk.qcow2"))
		if ok != tc.ok || !strings.Contains(why, tc.why) {
			t.Errorf("%s, %s: %v %q, want %v %q", tc.uri, tc.dir, ok, why, tc.ok, tc.why)
		}
	}
}

// Staging: in place, or uploaded in the given format into a volume of the
// build's; a volume of that name the build did not make stops it.
func TestStage(t *testing.T) {
	d := fake.New(t.TempDir())
	d.URIValue = "qemu+ssh://kvm.example/system"
	o, err := virt.Claim(d, "vm", "qemu", "cloudimage-verify", false, noSay)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "config.iso")
	if err := os.WriteFile(src, []byte("config-2"), 0o600); err != nil {
		t.Fatal(err)
	}
	ui := uitest.New()
	s, err := virt.Stage(context.Background(), o, "default", src, "vm-config.iso", "raw", ui)
	if err != nil {
		t.Fatal(err)
	}
	if s.Volume != "vm-config.iso" || s.Path == src || !strings.Contains(s.Why, "not this machine's own daemon") {
		t.Errorf("staged %+v", s)
	}
	if b, _ := os.ReadFile(s.Path); string(b) != "config-2" {
		t.Errorf("the volume holds %q", b)
	}
	if ui.ProgressRead("config.iso") != 8 || !ui.Said("Uploading config.iso to volume vm-config.iso of pool default") {
		t.Errorf("progress %d; said %q", ui.ProgressRead("config.iso"), ui.Lines())
	}

	d.Foreign("", nil, "vm-other.iso")
	if _, err := virt.Stage(context.Background(), o, "default", src, "vm-other.iso", "raw", ui); err == nil || !strings.Contains(err.Error(), "did not create it") {
		t.Errorf("staged over a foreign volume: %v", err)
	}

	d.URIValue = "qemu:///session"
	s, err = virt.Stage(context.Background(), o, "default", src, "vm-config2.iso", "raw", ui)
	if err != nil || s.Path != src || s.Volume != "" {
		t.Errorf("in place: %+v, %v", s, err)
	}
}

// The reserved ports are held until Release, for QEMU to take.
func TestReserveForwards(t *testing.T) {
	f, err := virt.ReserveForwards(context.Background(), "qemu:///system", 31000, 31999, 22, 80)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	if f.Host != "127.0.0.1" || f.Listen != "127.0.0.1" || len(f.Ports) != 2 || f.Ports[0] == f.Ports[1] {
		t.Errorf("forwards %+v", f)
	}
	u := f.UserNet()
	if len(u.Forwards) != 2 || u.Forwards[1] != (virt.Forward{HostAddr: "127.0.0.1", HostPort: f.Ports[1], GuestPort: 80}) {
		t.Errorf("user net %+v", u)
	}
	// The SDK's reservation retries a taken range until its context ends.
	short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := virt.ReserveForwards(short, "qemu:///system", f.Ports[0], f.Ports[0], 22); err == nil {
		t.Error("a held port was reserved twice")
	}
	f.Release()
	g, err := virt.ReserveForwards(context.Background(), "qemu:///system", f.Ports[0], f.Ports[0], 22)
	if err != nil {
		t.Errorf("the released port: %v", err)
	} else {
		g.Release()
	}
	// A remote host: the client reaches it there, and QEMU listens on
	// that address only, never on all of the host's (nothing is sent to
	// it here).
	r, err := virt.ReserveForwards(context.Background(), "qemu+ssh://192.0.2.10/system", 31000, 31999, 22)
	if err != nil {
		t.Fatal(err)
	}
	r.Release()
	if r.Host != "192.0.2.10" || r.Listen != "192.0.2.10" {
		t.Errorf("remote forwards %+v", r)
	}
}
