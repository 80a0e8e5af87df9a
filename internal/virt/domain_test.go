package virt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"
)

// Files staged in place that QEMU can read as they are keep their owner:
// the backing file of a writable disk gets a backingStore with a DAC
// seclabel relabel='no', a CD-ROM the seclabel on its source; the overlay
// and files QEMU cannot read are relabelled by libvirt as before.
func TestKeepOwners(t *testing.T) {
	dir := t.TempDir()
	// QEMU's user must reach the files: t.TempDir's folders are private.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if ok, why := ReadableInPlace("qemu:///system", dir); !ok {
		t.Skipf("the temporary folder is private to this user: %s", why)
	}
	image, private, iso := filepath.Join(dir, "image.qcow2"), filepath.Join(dir, "private.qcow2"), filepath.Join(dir, "install.iso")
	for path, mode := range map[string]os.FileMode{image: 0o644, private: 0o600, iso: 0o644} {
		if err := os.WriteFile(path, nil, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	m := Machine{Name: "vm", DomainType: "qemu", MachineType: "pc", MemoryMiB: 512, Disks: []Disk{
		{Path: "/pool/vm.qcow2", Format: "qcow2"},
		{Path: "/pool/vm-private.qcow2", Format: "qcow2"},
		{Path: iso, Device: "cdrom", Format: "raw", Bus: "sata"},
		{Path: "/pool/vm-config.iso", Device: "cdrom", Format: "raw", Bus: "sata"},
	}}
	x, err := m.XML()
	if err != nil {
		t.Fatal(err)
	}
	backing := map[string][2]string{"/pool/vm.qcow2": {image, "qcow2"}, "/pool/vm-private.qcow2": {private, "qcow2"}}
	out, err := keepOwners(x, func(p string) (string, string) { return backing[p][0], backing[p][1] }, othersCanRead)
	if err != nil {
		t.Fatal(err)
	}
	var dom libvirtxml.Domain
	if err := dom.Unmarshal(out); err != nil {
		t.Fatal(err)
	}
	noRelabel := func(s *libvirtxml.DomainDiskSource) bool {
		return s != nil && s.File != nil && len(s.File.SecLabel) == 1 && s.File.SecLabel[0].Model == "dac" && s.File.SecLabel[0].Relabel == "no"
	}
	disks := dom.Devices.Disks
	if b := disks[0].BackingStore; b == nil || b.Format.Type != "qcow2" || b.Source.File.File != image || !noRelabel(b.Source) || b.BackingStore == nil {
		t.Errorf("the overlay on a readable image: backingStore %+v, want the image, relabel no, the chain's end", b)
	}
	if noRelabel(disks[0].Source) {
		t.Error("the overlay itself must be relabelled: QEMU writes it")
	}
	if disks[1].BackingStore != nil {
		t.Errorf("a backing file others cannot read: %+v, want libvirt to relabel it", disks[1].BackingStore)
	}
	if !noRelabel(disks[2].Source) || noRelabel(disks[3].Source) {
		t.Errorf("CD-ROMs: %+v %+v; want relabel no on the readable ISO in place only", disks[2].Source.File, disks[3].Source.File)
	}
	if !strings.Contains(out, `<seclabel model="dac" relabel="no"></seclabel>`) {
		t.Errorf("XML:\n%s", out)
	}
}
