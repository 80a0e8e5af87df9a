package glance

import (
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/rpctest"
)

// Packer core reads the image's HCP Packer metadata through the SDK's
// RPC: provider openstack, the image's ID and region, its labels.
func TestArtifactRegistryMetadata(t *testing.T) {
	img := &images.Image{ID: "5f0c", Name: "web", Checksum: "d41d", Properties: map[string]interface{}{
		"os_distro": "debian", "os_version": "12", "os_hash_algo": "sha512", "os_hash_value": "cf83", "architecture": "x86_64",
	}}
	a := rpctest.Artifact(t, newArtifact(nil, img, "RegionOne", true))
	got := rpctest.RegistryImages(t, a)
	if len(got) != 1 {
		t.Fatalf("images %+v", got)
	}
	r := got[0]
	if r.ProviderName != "openstack" || r.ImageID != "5f0c" || r.ProviderRegion != "RegionOne" ||
		r.Labels["os_distro"] != "debian" || r.Labels["os_version"] != "12" || r.Labels["checksum"] != "sha512:cf83" || r.Labels["architecture"] != "x86_64" {
		t.Errorf("registry image %+v", r)
	}
	// Without a multihash, Glance's md5.
	old := newArtifact(nil, &images.Image{ID: "1", Name: "old", Checksum: "d41d"}, "", false)
	if l := old.labels["checksum"]; l != "md5:d41d" {
		t.Errorf("checksum label %q", l)
	}
}
