package glance

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	registryimage "github.com/hashicorp/packer-plugin-sdk/packer/registry/image"
)

// BuilderID identifies the artifacts of this post-processor.
const BuilderID = "cloudimage.post-processor.glance"

// Artifact is the image in Glance.
type Artifact struct {
	client   *gophercloud.ServiceClient
	id, name string
	region   string
	// labels: what the HCP Packer registry shows of the image, from its
	// record in Glance.
	labels map[string]string
	// created: this build uploaded the image. An image kept by on_conflict
	// = keep is someone else's, and Destroy leaves it.
	created bool
}

// newArtifact is img, as Glance describes it once active.
func newArtifact(client *gophercloud.ServiceClient, img *images.Image, region string, created bool) *Artifact {
	labels := map[string]string{}
	for _, k := range []string{"os_distro", "os_version", "architecture"} {
		if v := property(img, k); v != "" {
			labels[k] = v
		}
	}
	// The checksum Glance computed and the upload verified: the
	// multihash where Glance has one, else its md5.
	if algo, value := property(img, "os_hash_algo"), property(img, "os_hash_value"); algo != "" && value != "" {
		labels["checksum"] = algo + ":" + value
	} else if img.Checksum != "" {
		labels["checksum"] = "md5:" + img.Checksum
	}
	return &Artifact{client: client, id: img.ID, name: img.Name, region: region, labels: labels, created: created}
}

func (a *Artifact) BuilderId() string { return BuilderID }

// Files: none here; the image is in Glance.
func (a *Artifact) Files() []string { return nil }

// Id is the image's ID.
func (a *Artifact) Id() string { return a.id }

func (a *Artifact) String() string {
	if a.region != "" {
		return fmt.Sprintf("Glance image %q: %s (region %s)", a.name, a.id, a.region)
	}
	return fmt.Sprintf("Glance image %q: %s", a.name, a.id)
}

// State holds "image_id", "image_name" and "region", and the HCP Packer
// registry metadata: provider openstack, as Packer's OpenStack builder
// names it, the image's ID and region, and its labels.
func (a *Artifact) State(name string) interface{} {
	switch name {
	case "image_id":
		return a.id
	case "image_name":
		return a.name
	case "region":
		return a.region
	case registryimage.ArtifactStateURI:
		labels := make(map[string]interface{}, len(a.labels))
		for k, v := range a.labels {
			labels[k] = v
		}
		img, err := registryimage.FromArtifact(a, registryimage.WithProvider("openstack"),
			registryimage.WithRegion(a.region), registryimage.SetLabels(labels))
		if err != nil {
			log.Printf("HCP Packer metadata of image %s: %v", a.id, err)
			return nil
		}
		return img
	}
	return nil
}

// Destroy deletes the image from Glance if this build made it. Packer
// destroys the artifacts a build does not keep (a later post-processor
// failed, keep_input_artifact is false): an image that on_conflict = keep
// found is not this build's to delete.
func (a *Artifact) Destroy() error {
	if !a.created {
		log.Printf("image %s (%s) was there before this build (on_conflict = keep): not deleted", a.name, a.id)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := images.Delete(ctx, a.client, a.id).ExtractErr()
	if gophercloud.ResponseCodeIs(err, 404) {
		return nil
	}
	return err
}
