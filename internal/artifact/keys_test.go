package artifact

import (
	"context"
	"net"
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	sdkrpc "github.com/hashicorp/packer-plugin-sdk/rpc"
)

// overRPC serves a through the SDK's RPC, as Packer hands an artifact to a
// post-processor of another plugin process, and returns the client's view.
func overRPC(t *testing.T, a packersdk.Artifact) packersdk.Artifact {
	t.Helper()
	serverConn, clientConn := net.Pipe()
	server, err := sdkrpc.NewServer(serverConn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	if err := server.RegisterArtifact(a); err != nil {
		t.Fatal(err)
	}
	go server.Serve()
	client, err := sdkrpc.NewClient(clientConn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client.Artifact()
}

// The contract's getters read what the builder writes, in this process
// and through the SDK's RPC, where numbers change type.
func TestGettersOverRPC(t *testing.T) {
	local := stateArtifact{map[string]interface{}{
		KeyDiskPath: "/out/web.qcow2", KeyDiskFormat: "qcow2", KeyVirtualSize: uint64(10 << 30),
		KeyFirmware: "uefi", KeyMachineType: "pc-q35-7.2",
		KeyGuest: map[string]string{"os_type": "linux", "distro": "debian"},
	}}
	for name, a := range map[string]packersdk.Artifact{"local": local, "rpc": overRPC(t, local)} {
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
