// Package libvirt is the cloudimage-libvirt builder: it boots an install ISO
// or a base image as a libvirt domain, provisions it, and exports its disk.
package libvirt

import (
	"context"

	"github.com/hashicorp/hcl/v2/hcldec"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// BuilderID identifies this builder's artifacts to post-processors.
const BuilderID = "cloudimage.libvirt"

// Builder is the cloudimage-libvirt builder.
type Builder struct {
	config Config
}

// ConfigSpec returns the HCL2 spec of the builder's configuration.
func (b *Builder) ConfigSpec() hcldec.ObjectSpec { return b.config.FlatMapstructure().HCL2Spec() }

// Prepare validates the configuration.
func (b *Builder) Prepare(raws ...interface{}) ([]string, []string, error) {
	warnings, err := b.config.Prepare(raws...)
	return nil, warnings, err
}

// Run builds the image.
func (b *Builder) Run(ctx context.Context, ui packersdk.Ui, hook packersdk.Hook) (packersdk.Artifact, error) {
	return nil, errNotImplemented
}
