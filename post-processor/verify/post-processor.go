//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config
//go:generate go tool packer-sdc struct-markdown

// Package verify is the cloudimage-verify post-processor: it boots the
// finished image the way Nova would and proves the checklist live.
package verify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/packer-plugin-sdk/common"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// Config is the configuration of the cloudimage-verify post-processor.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`

	// The libvirt connection URI, as in the builder. Defaults to
	// `qemu:///system`.
	LibvirtURI string `mapstructure:"libvirt_uri"`
	// The libvirt domain type, as in the builder: `kvm` (the default),
	// `qemu` or `auto`.
	DomainType string `mapstructure:"domain_type"`
	// Where the JSON report is written. Defaults to
	// `verify-<build name>.json` in the current directory.
	ReportFile string `mapstructure:"report_file"`

	ctx interpolate.Context
}

// PostProcessor is the cloudimage-verify post-processor.
type PostProcessor struct {
	config Config
}

// ConfigSpec returns the HCL2 spec of the post-processor's configuration.
func (p *PostProcessor) ConfigSpec() hcldec.ObjectSpec { return p.config.FlatMapstructure().HCL2Spec() }

// Configure decodes and validates the configuration.
func (p *PostProcessor) Configure(raws ...interface{}) error {
	c := &p.config
	if err := config.Decode(c, &config.DecodeOpts{
		PluginType:         "cloudimage-verify",
		Interpolate:        true,
		InterpolateContext: &c.ctx,
	}, raws...); err != nil {
		return err
	}
	c.LibvirtURI = cmp.Or(c.LibvirtURI, virt.DefaultURI)
	if _, err := virt.ParseURI(c.LibvirtURI); err != nil {
		return fmt.Errorf("libvirt_uri: %w", err)
	}
	c.DomainType = cmp.Or(c.DomainType, "kvm")
	if !slices.Contains(virt.DomainTypes, c.DomainType) {
		return fmt.Errorf("domain_type %q is not one of %v", c.DomainType, virt.DomainTypes)
	}
	c.ReportFile = cmp.Or(c.ReportFile, "verify-"+c.PackerBuildName+".json")
	return nil
}

// PostProcess boots the image and checks it.
func (p *PostProcessor) PostProcess(ctx context.Context, ui packersdk.Ui, a packersdk.Artifact) (packersdk.Artifact, bool, bool, error) {
	return nil, false, false, errors.New("the cloudimage-verify post-processor cannot run yet: this release has its configuration only")
}
