package artifact

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/rpctest"
)

// The contract's getters read what the builder writes, in this process
// and through the SDK's RPC, where numbers change type.
func TestGettersOverRPC(t *testing.T) {
	local := stateArtifact{map[string]interface{}{
		KeyDiskPath: "/out/web.qcow2", KeyDiskFormat: "qcow2", KeyVirtualSize: uint64(10 << 30),
		KeyFirmware: "uefi", KeyMachineType: "pc-q35-7.2",
		KeyGuest: map[string]string{"os_type": "linux", "distro": "debian"},
	}}
	for name, a := range map[string]packersdk.Artifact{"local": local, "rpc": rpctest.Artifact(t, local)} {
		if DiskPath(a) != "/out/web.qcow2" || DiskFormat(a) != "qcow2" || VirtualSize(a) != 10<<30 {
			t.Errorf("%s: disk %q %q %d (virtual_size is a %T)", name, DiskPath(a), DiskFormat(a), VirtualSize(a), a.State(KeyVirtualSize))
		}
		if Firmware(a) != "uefi" || MachineType(a) != "pc-q35-7.2" || Guest(a)["distro"] != "debian" {
			t.Errorf("%s: firmware %q, machine type %q, guest %v", name, Firmware(a), MachineType(a), Guest(a))
		}
	}
	// An artifact of another builder names none of it.
	other := stateArtifact{map[string]interface{}{}}
	if DiskPath(other) != "" || DiskFormat(other) != "" || VirtualSize(other) != 0 || Guest(other) != nil {
		t.Errorf("empty state: %q %q %d %v", DiskPath(other), DiskFormat(other), VirtualSize(other), Guest(other))
	}
	for _, v := range []interface{}{int64(5), int(5), uint32(5), int32(5), uint(5), float64(5)} {
		if got := VirtualSize(stateArtifact{map[string]interface{}{KeyVirtualSize: v}}); got != 5 {
			t.Errorf("VirtualSize of a %T 5 = %d", v, got)
		}
	}
}

// A disk whose format and size the artifact gives is not probed: the file
// need not even be one qemu-img could read.
func TestDiskFromState(t *testing.T) {
	a := stateArtifact{map[string]interface{}{KeyDiskPath: "/nonexistent/web.qcow2", KeyDiskFormat: "qcow2", KeyVirtualSize: uint64(1 << 30)}}
	path, info, err := Disk(context.Background(), a)
	if err != nil || path != "/nonexistent/web.qcow2" || info.Format != "qcow2" || info.VirtualSize != 1<<30 {
		t.Errorf("Disk: %q %+v %v", path, info, err)
	}
}

// A foreign artifact's disk (probed once) that points at another file of
// this machine is refused: no component of this plugin writes one.
func TestDiskRefusesABackedForeignDisk(t *testing.T) {
	dir := t.TempDir()
	disk := filepath.Join(dir, "packer-qemu")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", "-b", "/etc/hostname", "-F", "raw", disk, "1M").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	_, _, err := Disk(context.Background(), filesArtifact{disk})
	if err == nil || !strings.Contains(err.Error(), "the input disk "+disk+" (qcow2) has a backing file, /etc/hostname") {
		t.Errorf("Disk: %v", err)
	}
}

// filesArtifact is another builder's artifact: files, no state.
type filesArtifact []string

func (filesArtifact) BuilderId() string        { return "transcend.qemu" }
func (a filesArtifact) Files() []string        { return a }
func (filesArtifact) Id() string               { return "" }
func (filesArtifact) String() string           { return "" }
func (filesArtifact) State(string) interface{} { return nil }
func (filesArtifact) Destroy() error           { return nil }
