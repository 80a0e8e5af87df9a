package libvirt

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/artifact"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/rpctest"
)

// Packer core reads the HCP Packer metadata of the exported disk through
// the SDK's RPC: the file's name, folder, format, size and sha256.
func TestArtifactRegistryMetadata(t *testing.T) {
	dir := t.TempDir()
	disk := filepath.Join(dir, "web.qcow2")
	data := []byte("not really a qcow2")
	if err := os.WriteFile(disk, data, 0o644); err != nil {
		t.Fatal(err)
	}
	local := newArtifact(dir, disk, "", image.Info{Format: "qcow2", VirtualSize: 1 << 30}, map[string]interface{}{artifact.KeyDiskPath: disk})
	images := rpctest.RegistryImages(t, rpctest.Artifact(t, local))
	sum := sha256.Sum256(data)
	if len(images) != 1 {
		t.Fatalf("images %+v", images)
	}
	img := images[0]
	if img.ProviderName != BuilderID || img.ImageID != "web.qcow2" || img.ProviderRegion != dir || img.Labels["disk_format"] != "qcow2" ||
		img.Labels["virtual_size"] != "1073741824" || img.Labels["checksum"] != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("registry image %+v", img)
	}
}

// The final artifact list is read after the post-processors ran: the
// builder's line says when one of them replaced or removed its file.
func TestArtifactStringAfterPostProcessors(t *testing.T) {
	dir := t.TempDir()
	disk := filepath.Join(dir, "web.qcow2")
	if err := os.WriteFile(disk, []byte("exported"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := newArtifact(dir, disk, "", image.Info{Format: "qcow2", VirtualSize: 1 << 30, ActualSize: 3 << 20}, nil)
	if s := a.String(); s != "disk image "+disk+" (qcow2, 1024 MiB virtual, 3 MiB on disk)" {
		t.Errorf("as exported: %q", s)
	}
	if err := os.WriteFile(disk, []byte("cleaned by sysprep"), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(disk, later, later); err != nil {
		t.Fatal(err)
	}
	if s := a.String(); !strings.Contains(s, "replaced since the export by a post-processor's output") {
		t.Errorf("replaced: %q", s)
	}
	if err := os.Remove(disk); err != nil {
		t.Fatal(err)
	}
	if s := a.String(); !strings.Contains(s, "removed since the export") {
		t.Errorf("removed: %q", s)
	}
}
