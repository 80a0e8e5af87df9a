package virt_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt/fake"
)

func noSay(string) {}

// A leftover's mark, from a build that no longer runs.
func leftoverMark(volumes ...string) *virt.Mark {
	m := &virt.Mark{Component: "cloudimage-libvirt", Host: "elsewhere.example", PID: 4242, Created: "2026-12-01T10:00:00Z"}
	for _, v := range volumes {
		m.Volumes = append(m.Volumes, virt.MarkVolume{Pool: "default", Name: v})
	}
	return m
}

// A build marks its domain before anything else, lists each volume in
// the mark before creating it, and its Release removes exactly that.
func TestClaimMarksAndReleases(t *testing.T) {
	d := fake.New(t.TempDir())
	d.Foreign("", nil, "other.qcow2")
	o, err := virt.Claim(d, "vm", "qemu", "cloudimage-libvirt", false, noSay)
	if err != nil {
		t.Fatal(err)
	}
	placeholder := d.Domain("vm")
	if placeholder == nil || placeholder.Machine.Mark == nil || placeholder.Machine.Mark.Component != "cloudimage-libvirt" || placeholder.Machine.Mark.PID != os.Getpid() {
		t.Fatalf("placeholder %+v", placeholder)
	}
	if _, err := o.CreateVolume("default", virt.VolumeSpec{Name: "vm.qcow2", Format: "qcow2", Capacity: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	if got := d.Domain("vm").Machine.Mark.Volumes; !slices.Equal(got, []virt.MarkVolume{{Pool: "default", Name: "vm.qcow2"}}) {
		t.Errorf("the mark lists %v", got)
	}
	uuid := placeholder.UUID
	dom, err := o.Define(virt.Machine{Name: "vm", DomainType: "qemu", MemoryMiB: 512, CPUs: 2})
	if err != nil {
		t.Fatal(err)
	}
	got := d.Domain("vm")
	if dom.UUID != uuid || got.Machine.MemoryMiB != 512 || got.Machine.Mark == nil || len(got.Machine.Mark.Volumes) != 1 {
		t.Errorf("the build's definition lost the placeholder's UUID or mark: %+v", got.Machine)
	}
	if _, err := o.Define(virt.Machine{Name: "web01", DomainType: "qemu"}); err == nil {
		t.Error("Define took a name the build did not claim")
	}
	if err := o.Release(); err != nil {
		t.Fatal(err)
	}
	if left := d.Leftovers(); !slices.Equal(left, []string{"volume default/other.qcow2"}) {
		t.Errorf("left %v", left)
	}
}

// What the plugin did not make is never touched, with or without -force.
func TestClaimLeavesForeignAlone(t *testing.T) {
	for _, force := range []bool{false, true} {
		d := fake.New(t.TempDir())
		d.Foreign("web01", nil, "web01.qcow2")
		_, err := virt.Claim(d, "web01", "qemu", "cloudimage-libvirt", force, noSay)
		if err == nil || !strings.Contains(err.Error(), "did not create it") || !strings.Contains(err.Error(), "Choose another vm_name") {
			t.Errorf("force %v: %v", force, err)
		}
		if d.Called("Remove") != 0 || d.Called("Destroy") != 0 || d.Called("DeleteVolume") != 0 || len(d.Leftovers()) != 2 {
			t.Errorf("force %v: calls %v, left %v", force, d.Calls, d.Leftovers())
		}
	}
	// A volume of the build's name, without a domain.
	d := fake.New(t.TempDir())
	d.Foreign("", nil, "vm.qcow2")
	o, err := virt.Claim(d, "vm", "qemu", "cloudimage-libvirt", true, noSay)
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.CreateVolume("default", virt.VolumeSpec{Name: "vm.qcow2", Format: "qcow2", Capacity: 1})
	if err == nil || !strings.Contains(err.Error(), "volume vm.qcow2 exists in pool default, and this build did not create it") {
		t.Errorf("create over a foreign volume: %v", err)
	}
	if err := o.DeleteVolume("default", "vm.qcow2"); err == nil {
		t.Error("DeleteVolume deleted a volume the build did not create")
	}
	if err := o.Release(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(d.Volume("default", "vm.qcow2").Path); string(b) != "not the plugin's" {
		t.Errorf("the foreign volume holds %q", b)
	}
	if d.Domain("vm") != nil {
		t.Error("the placeholder is left")
	}
}

// A leftover of an interrupted build stops the next one; -force removes
// it and the volumes its mark lists, and nothing else.
func TestClaimLeftover(t *testing.T) {
	d := fake.New(t.TempDir())
	d.Foreign("vm", leftoverMark("vm.qcow2", "vm-iso.iso"), "vm.qcow2", "vm-iso.iso", "vm-mine.qcow2")
	_, err := virt.Claim(d, "vm", "qemu", "cloudimage-libvirt", false, noSay)
	for _, want := range []string{"left over from an interrupted build", "process 4242 on elsewhere.example", "default/vm.qcow2, default/vm-iso.iso", "-force"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("without -force: %v; want %q", err, want)
		}
	}
	if len(d.Leftovers()) != 4 {
		t.Errorf("without -force, left %v", d.Leftovers())
	}
	var said []string
	o, err := virt.Claim(d, "vm", "qemu", "cloudimage-libvirt", true, func(s string) { said = append(said, s) })
	if err != nil {
		t.Fatal(err)
	}
	if len(said) != 1 || !strings.Contains(said[0], "-force: removing domain vm") {
		t.Errorf("said %q", said)
	}
	if d.Volume("default", "vm.qcow2") != nil || d.Volume("default", "vm-iso.iso") != nil || d.Volume("default", "vm-mine.qcow2") == nil {
		t.Errorf("volumes after -force: %v", d.VolumeNames())
	}
	if d.Domain("vm").Machine.Mark.Host == "elsewhere.example" || o.Domain().UUID != d.Domain("vm").UUID {
		t.Error("the leftover domain was not replaced by this build's")
	}
}

// A build that runs now holds its name even against -force.
func TestClaimHeldByARunningBuild(t *testing.T) {
	d := fake.New(t.TempDir())
	host, _ := os.Hostname()
	d.Foreign("vm", &virt.Mark{Component: "cloudimage-libvirt", Host: host, PID: os.Getpid()}, "vm.qcow2")
	_, err := virt.Claim(d, "vm", "qemu", "cloudimage-libvirt", true, noSay)
	if err == nil || !strings.Contains(err.Error(), "running now") {
		t.Errorf("claim of a running build's name: %v", err)
	}
	if len(d.Leftovers()) != 2 {
		t.Errorf("left %v", d.Leftovers())
	}
}

// A volume whose creation fails is not left in the mark.
func TestCreateVolumeFailureUnlists(t *testing.T) {
	d := fake.New(t.TempDir())
	o, err := virt.Claim(d, "vm", "qemu", "cloudimage-libvirt", false, noSay)
	if err != nil {
		t.Fatal(err)
	}
	d.Errs["CreateVolume"] = errors.New("pool is full")
	if _, err := o.CreateVolume("default", virt.VolumeSpec{Name: "vm.qcow2", Format: "qcow2", Capacity: 1}); err == nil {
		t.Fatal("no error")
	}
	if v := d.Domain("vm").Machine.Mark.Volumes; len(v) != 0 {
		t.Errorf("the mark lists %v", v)
	}
}

// The mark survives libvirt's XML: written into <metadata>, read back.
func TestMarkXML(t *testing.T) {
	m := virt.Machine{Name: "vm", DomainType: "qemu", MemoryMiB: 64, Mark: leftoverMark("vm.qcow2")}
	x, err := m.XML()
	if err != nil {
		t.Fatal(err)
	}
	i, j := strings.Index(x, "<metadata>"), strings.Index(x, "</metadata>")
	if i < 0 || j < 0 {
		t.Fatalf("no metadata in %s", x)
	}
	inner := `<other:thing xmlns:other="urn:x">y</other:thing>` + x[i+len("<metadata>"):j]
	got, err := virt.ParseMark(inner)
	if err != nil || got == nil || got.PID != 4242 || len(got.Volumes) != 1 || got.Volumes[0].Name != "vm.qcow2" {
		t.Errorf("parsed %+v, %v from %s", got, err, inner)
	}
	if got, err := virt.ParseMark(`<other:thing xmlns:other="urn:x">y</other:thing>`); got != nil || err != nil {
		t.Errorf("a foreign domain's metadata: %+v, %v", got, err)
	}
}
