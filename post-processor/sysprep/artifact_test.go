package sysprep

import (
	"testing"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/artifact"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/rpctest"
)

// Through the SDK's RPC, as Packer core and the next post-processor see
// it: one registry image per output with the checksum sysprep wrote, and
// the input's keys, read before the input's connection closed.
func TestArtifactOverRPC(t *testing.T) {
	local := &Artifact{
		outputs: []*output{
			{format: "qcow2", final: "/out/web.qcow2", checksums: map[string]string{"sha256": "aa11"}},
			{format: "raw", final: "/out/web.raw", checksums: map[string]string{"sha256": "bb22"}},
		},
		virtualSize: 2 << 30,
		inputState:  map[string]interface{}{artifact.KeyFirmware: "uefi", artifact.KeyArchitecture: "x86_64", artifact.KeyDiskPath: "/build/web.qcow2"},
	}
	a := rpctest.Artifact(t, local)
	images := rpctest.RegistryImages(t, a)
	if len(images) != 2 {
		t.Fatalf("images %+v", images)
	}
	for i, want := range []struct{ id, format, sum string }{{"web.qcow2", "qcow2", "sha256:aa11"}, {"web.raw", "raw", "sha256:bb22"}} {
		img := images[i]
		if img.ProviderName != BuilderID || img.ImageID != want.id || img.ProviderRegion != "/out" || img.Labels["disk_format"] != want.format || img.Labels["checksum"] != want.sum {
			t.Errorf("image %d: %+v, want %+v", i, img, want)
		}
	}
	if artifact.DiskPath(a) != "/out/web.qcow2" || artifact.Firmware(a) != "uefi" || artifact.Architecture(a) != "x86_64" || artifact.VirtualSize(a) != 2<<30 {
		t.Errorf("state: disk %q firmware %q arch %q size %d", artifact.DiskPath(a), artifact.Firmware(a), artifact.Architecture(a), artifact.VirtualSize(a))
	}
}
