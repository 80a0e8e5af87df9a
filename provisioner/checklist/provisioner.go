//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config
//go:generate go tool packer-sdc struct-markdown

// Package checklist is the cloudimage-checklist provisioner: it makes the
// OpenStack image checklist true inside the guest, verifies every item and
// writes a report.
package checklist

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
)

// Config is the configuration of the cloudimage-checklist provisioner.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`

	// The guest's OS family: `auto` (the default: detected from
	// /etc/os-release and friends, or Windows from the communicator), `el6`,
	// `el7`, `el8` (RHEL-likes 8 and later), `ubuntu1404`, `ubuntu1604`,
	// `ubuntu-netplan` (18.04 and later), `debian` or `windows`.
	Family string `mapstructure:"family"`
	// `apply` (the default: make each item true, then verify it) or
	// `verify` (report only, change nothing).
	Mode string `mapstructure:"mode"`
	// Where the JSON report is written on the machine running Packer.
	// Defaults to `checklist-<build name>.json` in the current directory.
	ReportFile string `mapstructure:"report_file"`
	// `required` (the default: a failed required item fails the build) or
	// `none` (report only).
	FailOn string `mapstructure:"fail_on"`

	ctx interpolate.Context
}

// Families are the values family accepts.
var Families = []string{"auto", "el6", "el7", "el8", "ubuntu1404", "ubuntu1604", "ubuntu-netplan", "debian", "windows"}

// Provisioner is the cloudimage-checklist provisioner.
type Provisioner struct {
	config Config
}

// ConfigSpec returns the HCL2 spec of the provisioner's configuration.
func (p *Provisioner) ConfigSpec() hcldec.ObjectSpec { return p.config.FlatMapstructure().HCL2Spec() }

// Prepare decodes and validates the configuration.
func (p *Provisioner) Prepare(raws ...interface{}) error {
	c := &p.config
	if err := config.Decode(c, &config.DecodeOpts{
		PluginType:         "cloudimage-checklist",
		Interpolate:        true,
		InterpolateContext: &c.ctx,
	}, raws...); err != nil {
		return err
	}
	var errs *packersdk.MultiError
	c.Family = cmp.Or(c.Family, "auto")
	if !slices.Contains(Families, c.Family) {
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("family %q is not one of %v", c.Family, Families))
	}
	c.Mode = cmp.Or(c.Mode, "apply")
	if c.Mode != "apply" && c.Mode != "verify" {
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("mode %q is not apply or verify", c.Mode))
	}
	c.FailOn = cmp.Or(c.FailOn, "required")
	if c.FailOn != "required" && c.FailOn != "none" {
		errs = packersdk.MultiErrorAppend(errs, fmt.Errorf("fail_on %q is not required or none", c.FailOn))
	}
	c.ReportFile = cmp.Or(c.ReportFile, "checklist-"+c.PackerBuildName+".json")
	if errs != nil && len(errs.Errors) > 0 {
		return errs
	}
	return nil
}

// Provision applies and verifies the checklist.
func (p *Provisioner) Provision(ctx context.Context, ui packersdk.Ui, comm packersdk.Communicator, generatedData map[string]interface{}) error {
	return errors.New("the cloudimage-checklist provisioner cannot run yet: this release has its configuration only")
}
