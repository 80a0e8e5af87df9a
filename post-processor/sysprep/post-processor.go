//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config
//go:generate go tool packer-sdc struct-markdown

// Package sysprep is the cloudimage-sysprep post-processor: virt-sysprep,
// virt-sparsify and conversion of the exported disk, with checksums.
package sysprep

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/packer-plugin-sdk/common"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"
)

// Config is the configuration of the cloudimage-sysprep post-processor.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`

	// The output formats, from `qcow2` (the default), `raw`, `vmdk`, `vhdx`,
	// `vpc` (VHD) and `vdi`.
	Formats []string `mapstructure:"formats"`
	// Where the outputs are written. Defaults to the input's directory.
	OutputDirectory string `mapstructure:"output_directory"`
	// Keep the input disk untouched and in place. Defaults to false.
	KeepInput bool `mapstructure:"keep_input"`

	ctx interpolate.Context
}

// Formats are the values formats accepts.
var Formats = []string{"qcow2", "raw", "vmdk", "vhdx", "vpc", "vdi"}

// PostProcessor is the cloudimage-sysprep post-processor.
type PostProcessor struct {
	config Config
}

// ConfigSpec returns the HCL2 spec of the post-processor's configuration.
func (p *PostProcessor) ConfigSpec() hcldec.ObjectSpec { return p.config.FlatMapstructure().HCL2Spec() }

// Configure decodes and validates the configuration.
func (p *PostProcessor) Configure(raws ...interface{}) error {
	c := &p.config
	if err := config.Decode(c, &config.DecodeOpts{
		PluginType:         "cloudimage-sysprep",
		Interpolate:        true,
		InterpolateContext: &c.ctx,
	}, raws...); err != nil {
		return err
	}
	if len(c.Formats) == 0 {
		c.Formats = []string{"qcow2"}
	}
	for _, f := range c.Formats {
		if !slices.Contains(Formats, f) {
			return fmt.Errorf("formats: %q is not one of %v", f, Formats)
		}
	}
	return nil
}

// PostProcess cleans, sparsifies and converts the artifact's disk.
func (p *PostProcessor) PostProcess(ctx context.Context, ui packersdk.Ui, a packersdk.Artifact) (packersdk.Artifact, bool, bool, error) {
	return nil, false, false, errors.New("the cloudimage-sysprep post-processor cannot run yet: this release has its configuration only")
}
