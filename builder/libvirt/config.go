//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config,AdditionalISO
//go:generate go tool packer-sdc struct-markdown

package libvirt

import (
	"fmt"

	"github.com/hashicorp/packer-plugin-sdk/bootcommand"
	"github.com/hashicorp/packer-plugin-sdk/common"
	"github.com/hashicorp/packer-plugin-sdk/communicator"
	"github.com/hashicorp/packer-plugin-sdk/multistep/commonsteps"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/shutdowncommand"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// Config is the configuration of the cloudimage-libvirt builder. Its parts
// live in the config_*.go files beside this one, one per concern.
type Config struct {
	common.PackerConfig            `mapstructure:",squash"`
	commonsteps.HTTPConfig         `mapstructure:",squash"`
	commonsteps.ISOConfig          `mapstructure:",squash"`
	commonsteps.FloppyConfig       `mapstructure:",squash"`
	commonsteps.CDConfig           `mapstructure:",squash"`
	bootcommand.VNCConfig          `mapstructure:",squash"`
	shutdowncommand.ShutdownConfig `mapstructure:",squash"`
	Comm                           communicator.Config `mapstructure:",squash"`

	ConnectionConfig    `mapstructure:",squash"`
	SourceConfig        `mapstructure:",squash"`
	DiskConfig          `mapstructure:",squash"`
	DomainConfig        `mapstructure:",squash"`
	NetworkConfig       `mapstructure:",squash"`
	ConsoleConfig       `mapstructure:",squash"`
	AdditionalISOConfig `mapstructure:",squash"`
	OutputConfig        `mapstructure:",squash"`

	ctx interpolate.Context
	// shutdownTimeoutSet: the user chose shutdown_timeout (before its
	// default applies).
	shutdownTimeoutSet bool
	// httpAddressSet: the user chose http_bind_address; otherwise the HTTP
	// server listens where the guest's network mode needs it.
	httpAddressSet bool
}

// Prepare decodes and validates the raw configuration. Every error names
// the field it is about.
func (c *Config) Prepare(raws ...interface{}) ([]string, error) {
	raws, auto := takeBootWaitAuto(raws)
	err := config.Decode(c, &config.DecodeOpts{
		PluginType:         "cloudimage-libvirt",
		Interpolate:        true,
		InterpolateContext: &c.ctx,
		InterpolateFilter: &interpolate.RenderFilter{
			// Rendered at boot time, when the HTTP address and port are known.
			Exclude: []string{"boot_command", "boot_steps"},
		},
	}, raws...)
	if err != nil {
		return nil, err
	}

	c.bootWaitAuto = auto
	var warnings []string
	var errs *packersdk.MultiError
	add := func(e ...error) { errs = packersdk.MultiErrorAppend(errs, e...) }

	add(c.ConnectionConfig.prepare()...)
	w, e := c.SourceConfig.prepare(&c.ISOConfig, &c.ctx)
	warnings = append(warnings, w...)
	add(e...)
	add(c.DomainConfig.prepare(c.PackerBuildName)...)
	add(c.DiskConfig.prepare(c.MachineType)...)
	add(c.NetworkConfig.prepare(c.LibvirtURI)...)
	c.httpAddressSet = c.HTTPAddress != ""
	add(c.HTTPConfig.Prepare(&c.ctx)...)
	add(c.FloppyConfig.Prepare(&c.ctx)...)
	add(c.CDConfig.Prepare(&c.ctx)...)
	add(c.AdditionalISOConfig.prepare(&c.ctx)...)
	// BootConfig's, not VNCConfig's: the SDK's VNCConfig refuses a boot
	// command with disable_vnc, which boot_key_transport "libvirt" types
	// without VNC; ConsoleConfig makes that check for "vnc" only.
	add(c.BootConfig.Prepare(&c.ctx)...)
	add(c.ConsoleConfig.prepare(&c.VNCConfig, c.Video)...)
	c.shutdownTimeoutSet = c.ShutdownTimeout > 0
	add(c.ShutdownConfig.Prepare(&c.ctx)...)
	add(c.OutputConfig.prepare(c.PackerBuildName, c.DiskFormat, c.PackerForce)...)
	add(c.Comm.Prepare(&c.ctx)...)
	add(c.checkCombinations()...)
	add(c.checkIDESlots()...)
	if virt.IsLocal(c.LibvirtURI) {
		add(c.checkLocalFiles()...)
		add(c.checkBaseImageSize()...)
	}

	if errs != nil && len(errs.Errors) > 0 {
		return warnings, errs
	}
	packersdk.LogSecretFilter.Set(c.VNCPassword, c.Comm.SSHPassword, c.Comm.WinRMPassword, virt.URIPassword(c.LibvirtURI))
	return warnings, nil
}

// checkCombinations checks settings that span the smaller configs.
func (c *Config) checkCombinations() []error {
	var errs []error
	if c.UseBackingFile && c.DiskFormat != "qcow2" {
		errs = append(errs, fmt.Errorf("use_backing_file: needs disk_format = \"qcow2\", not %q", c.DiskFormat))
	}
	if c.DiskImageURL != "" && !c.UseBackingFile && !virt.IsLocal(c.LibvirtURI) {
		// The copy is written with qemu-img on this machine, into a file
		// of the libvirt host.
		errs = append(errs, fmt.Errorf("disk_image_url: on a remote libvirt host (%s) the base image is used as a backing file only: set use_backing_file = true", virt.Redact(c.LibvirtURI)))
	}
	if c.ShutdownTimeout < 0 {
		errs = append(errs, fmt.Errorf("shutdown_timeout %s: must not be negative", c.ShutdownTimeout))
	}
	if c.BootKeyInterval < 0 {
		errs = append(errs, fmt.Errorf("boot_key_interval %s: must not be negative", c.BootKeyInterval))
	}
	return errs
}
