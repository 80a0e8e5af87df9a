//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config
//go:generate go tool packer-sdc struct-markdown

// Package glance is the cloudimage-glance post-processor: it uploads the
// image to OpenStack Glance, streamed and verified.
package glance

import (
	"context"
	"time"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/packer-plugin-sdk/common"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"
)

// Config is the configuration of the cloudimage-glance post-processor.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`
	AuthConfig          `mapstructure:",squash"`

	// The image's name in Glance (templated). Required.
	ImageName string `mapstructure:"image_name" required:"true"`
	// The image's disk format. Defaults to the file's (qcow2, raw, vmdk,
	// vhd, vhdx, vdi), as qemu-img reads it.
	DiskFormat string `mapstructure:"disk_format"`
	// The container format. Defaults to `bare`.
	ContainerFormat string `mapstructure:"container_format"`
	// `private` (the default), `shared`, `community` or `public` (which
	// Glance's default policy gives to admins only).
	Visibility string `mapstructure:"visibility"`
	// Hide the image from the default image list (`os_hidden`).
	Hidden bool `mapstructure:"hidden"`
	// Protect the image from deletion, once it is active and verified.
	Protected bool `mapstructure:"protected"`
	// Tags on the image.
	Tags []string `mapstructure:"tags"`
	// The smallest root disk, in GiB, that the image boots from. Defaults to
	// the image's virtual size rounded up to a GiB.
	MinDisk int `mapstructure:"min_disk"`
	// The smallest RAM, in MiB. Defaults to none.
	MinRAM int `mapstructure:"min_ram"`
	// Image properties. On top of the defaults: `hw_qemu_guest_agent=yes`,
	// `hw_disk_bus=virtio`, `hw_vif_model=virtio`, and, when the build knows
	// them, `os_type`, `os_distro`, `os_version`, `hw_firmware_type` and
	// `hw_machine_type`. These win over the defaults.
	Properties map[string]string `mapstructure:"properties"`
	// How the data reaches Glance: `direct` (the default: PUT
	// /v2/images/{id}/file), `glance-direct` (staged, then imported by
	// Glance's import API, into `stores`) or `web-download` (Glance fetches
	// image_url; the artifact's file, hashed here, proves what it fetched).
	ImportMethod string `mapstructure:"import_method"`
	// For web-download: where Glance fetches the image, a URL serving the
	// artifact's file.
	ImageURL string `mapstructure:"image_url"`
	// The stores to import into, where the cloud has several (glance-direct
	// only). Unset, Glance's default store.
	Stores []string `mapstructure:"stores"`
	// When an image of this name exists in the project: `error` (the
	// default), `replace` (upload the new one, then delete the old),
	// `rename` (the old one gets a `-<its creation time>` suffix once the
	// new one is active) or `keep` (upload nothing; the existing image is
	// the artifact).
	OnConflict string `mapstructure:"on_conflict"`
	// With on_conflict = "rename": how many images of this name to keep,
	// the new one and the newest renamed ones; older ones are deleted
	// (protected ones are kept, with a warning). Defaults to 0: all kept.
	KeepReleases int `mapstructure:"keep_releases"`
	// Projects the image is shared with (visibility must be `shared`).
	Members []string `mapstructure:"members"`
	// Accept the membership for each member project, as Packer's OpenStack
	// builder's `image_auto_accept_members` does, so the image shows in
	// their image lists at once. Needs credentials allowed to update a
	// membership for those projects (an admin, by Glance's default
	// policy); otherwise each project accepts it itself.
	ImageAutoAcceptMembers bool `mapstructure:"image_auto_accept_members"`
	// The longest the upload and activation may take. Defaults to 60m.
	Timeout time.Duration `mapstructure:"timeout"`
	// How many times a failed upload is tried again (a dropped connection, a
	// 5xx answer). Defaults to 3.
	Retries *int `mapstructure:"retries"`

	ctx interpolate.Context
}

// PostProcessor is the cloudimage-glance post-processor.
type PostProcessor struct {
	config Config
}

// ConfigSpec returns the HCL2 spec of the post-processor's configuration.
func (p *PostProcessor) ConfigSpec() hcldec.ObjectSpec { return p.config.FlatMapstructure().HCL2Spec() }

// Configure decodes and validates the configuration.
func (p *PostProcessor) Configure(raws ...interface{}) error {
	return p.config.prepare(raws...)
}

// PostProcess uploads the artifact's disk to Glance, verifies what Glance
// holds against what was sent, and settles a name conflict; any failure
// after the image record exists deletes it.
func (p *PostProcessor) PostProcess(ctx context.Context, ui packersdk.Ui, a packersdk.Artifact) (packersdk.Artifact, bool, bool, error) {
	img, err := upload(ctx, ui, &p.config, a)
	if err != nil {
		return nil, false, false, err
	}
	return img, true, false, nil
}
