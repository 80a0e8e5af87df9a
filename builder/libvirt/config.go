//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config
//go:generate go tool packer-sdc struct-markdown

package libvirt

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/hashicorp/packer-plugin-sdk/common"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// Config is the configuration of the cloudimage-libvirt builder.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`

	// The libvirt connection URI: `qemu:///system` (the default),
	// `qemu:///session`, or a remote host such as
	// `qemu+ssh://user@host/system`, `qemu+tcp://host/system` or
	// `qemu+tls://host/system`.
	LibvirtURI string `mapstructure:"libvirt_uri"`
	// The libvirt domain type: `kvm` (the default), `qemu` (software
	// emulation, for hosts without usable KVM), or `auto` (kvm when the host
	// can run it, qemu otherwise).
	DomainType string `mapstructure:"domain_type"`
	// The name of the domain and of the output disk. Defaults to
	// `packer-<build name>`.
	VMName string `mapstructure:"vm_name"`

	ctx interpolate.Context
}

// Prepare decodes and validates the raw configuration.
func (c *Config) Prepare(raws ...interface{}) ([]string, error) {
	err := config.Decode(c, &config.DecodeOpts{
		PluginType:         "cloudimage-libvirt",
		Interpolate:        true,
		InterpolateContext: &c.ctx,
	}, raws...)
	if err != nil {
		return nil, err
	}

	var errs *packersdk.MultiError
	c.LibvirtURI = cmp.Or(c.LibvirtURI, virt.DefaultURI)
	if _, err := virt.ParseURI(c.LibvirtURI); err != nil {
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("libvirt_uri: %w", err))
	}
	c.DomainType = cmp.Or(c.DomainType, "kvm")
	if !slices.Contains(virt.DomainTypes, c.DomainType) {
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("domain_type %q is not one of %v", c.DomainType, virt.DomainTypes))
	}
	c.VMName = cmp.Or(c.VMName, "packer-"+c.PackerBuildName)
	if errs != nil && len(errs.Errors) > 0 {
		return nil, errs
	}
	return nil, nil
}

var errNotImplemented = errors.New("the cloudimage-libvirt builder cannot build yet: this release has its configuration only")
