//go:generate go tool packer-sdc mapstructure-to-hcl2 -type Config,CloudbaseInit
//go:generate go tool packer-sdc struct-markdown

// Package checklist is the cloudimage-checklist provisioner: it makes the
// OpenStack image checklist true inside the guest, verifies every item and
// writes a report.
package checklist

import (
	"cmp"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/packer-plugin-sdk/common"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/field"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/report"
)

// Config is the configuration of the cloudimage-checklist provisioner.
// Every item of the checklist is on by default; the settings below turn
// single items off (they are then reported `not-applicable`) or tune them.
type Config struct {
	common.PackerConfig `mapstructure:",squash"`

	// The guest's OS family: `auto` (the default: detected from
	// /etc/os-release, /etc/redhat-release or /etc/lsb-release), `el6`,
	// `el7`, `el8` (RHEL-likes 8 and later), `ubuntu1404`, `ubuntu1604`,
	// `ubuntu-netplan` (18.04 and later), `debian` or `windows`.
	Family string `mapstructure:"family"`
	// `apply` (the default: make each item true, then verify it) or
	// `verify` (report only, change nothing).
	Mode string `mapstructure:"mode"`
	// Where the JSON report is written on the machine running Packer.
	// Defaults to `checklist.json` in the builder's output directory (the
	// cloudimage-libvirt builder's), else `checklist-<build name>.json` in
	// the current directory.
	ReportFile string `mapstructure:"report_file"`
	// `required` (the default: an item that fails fails the build) or
	// `none` (report only).
	FailOn string `mapstructure:"fail_on"`

	// L14: `disabled` (the default), `permissive`, or `keep` to leave
	// SELinux as it is.
	SELinux string `mapstructure:"selinux"`
	// L15, W07: `disabled` (the default) or `keep`.
	Firewall string `mapstructure:"firewall"`
	// L13: install, enable and start a web server (httpd, apache2).
	// Defaults to true.
	WebServer *bool `mapstructure:"web_server"`
	// L12: send the boot log to the serial console. Defaults to true.
	SerialConsole *bool `mapstructure:"serial_console"`
	// L03: cloud-init's datasource_list, in order. Defaults to
	// `["ConfigDrive", "OpenStack", "NoCloud", "Ec2"]`.
	CloudInitDatasources []string `mapstructure:"cloud_init_datasources"`
	// L04: let user-data set root's password, and root log in over SSH.
	// Defaults to true.
	RootPasswordViaCloudInit *bool `mapstructure:"root_password_via_cloud_init"`
	// L05: SSH accepts passwords. Defaults to true.
	SSHPasswordAuth *bool `mapstructure:"ssh_password_auth"`
	// L07, W04: install and enable the QEMU guest agent. Defaults to true.
	GuestAgent *bool `mapstructure:"guest_agent"`
	// L16: remove MAC addresses pinned in udev rules and network
	// configuration. Defaults to true.
	RemoveMACPinning *bool `mapstructure:"remove_mac_pinning"`
	// L10, L17, W02, W05: grow the root partition and filesystem (the
	// system volume on Windows) at boot. Defaults to true.
	Growroot *bool `mapstructure:"growroot"`
	// Item ids (`L13`, ...) to leave out, reported `not-applicable`.
	SkipItems []string `mapstructure:"skip_items"`

	// An HTTP proxy for the package manager during the build (on Windows,
	// for the installers' downloads), such as `http://10.0.2.2:3128`. Not
	// kept in the image: apt, yum and dnf get it in their environment, never
	// on their command line, which their history keeps; on Windows its
	// credentials travel beside the script, as `administrator_password`.
	PackageProxy string `mapstructure:"package_proxy"`
	// A package mirror used instead of the guest's sources during the build
	// (for offline sites), such as `http://mirror.example/debian`. Not kept
	// in the image. Linux only.
	PackageMirror string `mapstructure:"package_mirror"`
	// More packages to install before the items are applied (Linux).
	ExtraPackages []string `mapstructure:"extra_packages"`

	WindowsConfig `mapstructure:",squash"`

	ctx interpolate.Context
}

// Families are the values family accepts.
var Families = []string{"auto", "el6", "el7", "el8", "ubuntu1404", "ubuntu1604", "ubuntu-netplan", "debian", "windows"}

var defaultDatasources = []string{"ConfigDrive", "OpenStack", "NoCloud", "Ec2"}

var (
	datasourceName = regexp.MustCompile(`^[A-Za-z0-9]+$`)
	packageName    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+_:~-]*$`)
)

func (c *Config) prepare(raws ...interface{}) error {
	if err := config.Decode(c, &config.DecodeOpts{
		PluginType:         "cloudimage-checklist",
		Interpolate:        true,
		InterpolateContext: &c.ctx,
	}, raws...); err != nil {
		return err
	}
	var errs []error
	c.Family = cmp.Or(c.Family, "auto")
	errs = append(errs, field.OneOf("family", c.Family, Families))
	c.Mode = cmp.Or(c.Mode, "apply")
	errs = append(errs, field.OneOf("mode", c.Mode, []string{"apply", "verify"}))
	c.FailOn = cmp.Or(c.FailOn, "required")
	errs = append(errs, field.OneOf("fail_on", c.FailOn, []string{"required", "none"}))
	c.SELinux = cmp.Or(c.SELinux, "disabled")
	errs = append(errs, field.OneOf("selinux", c.SELinux, []string{"disabled", "permissive", "keep"}))
	c.Firewall = cmp.Or(c.Firewall, "disabled")
	errs = append(errs, field.OneOf("firewall", c.Firewall, []string{"disabled", "keep"}))
	if c.CloudInitDatasources == nil {
		c.CloudInitDatasources = defaultDatasources
	}
	if len(c.CloudInitDatasources) == 0 {
		errs = append(errs, fmt.Errorf("cloud_init_datasources: name at least one (ConfigDrive, OpenStack, ...)"))
	}
	for _, d := range c.CloudInitDatasources {
		if !datasourceName.MatchString(d) {
			errs = append(errs, fmt.Errorf("cloud_init_datasources: %q is not a datasource name (ConfigDrive, OpenStack, NoCloud, Ec2, ...)", d))
		}
	}
	for _, id := range c.SkipItems {
		if !report.Known(id) {
			errs = append(errs, fmt.Errorf("skip_items: %q is not an item id (L01 to L18, W01 to W08)", id))
		}
	}
	for _, p := range c.ExtraPackages {
		if !packageName.MatchString(p) {
			errs = append(errs, fmt.Errorf("extra_packages: %q is not a package name", p))
		}
	}
	for field, u := range map[string]string{"package_proxy": c.PackageProxy, "package_mirror": c.PackageMirror} {
		if u == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: not a URL (want http://host[:port]/path)", field))
		} else if (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || strings.ContainsAny(u, " '\"\\") {
			errs = append(errs, fmt.Errorf("%s: %q is not an http:// or https:// URL", field, p.Redacted()))
		} else if pw, ok := p.User.Password(); ok {
			packersdk.LogSecretFilter.Set(pw) // the plugin's log never shows it
		}
	}
	errs = append(errs, c.WindowsConfig.prepare()...)
	var merr *packersdk.MultiError
	for _, e := range errs {
		if e != nil {
			merr = packersdk.MultiErrorAppend(merr, e)
		}
	}
	if merr != nil {
		return merr
	}
	return nil
}

// skipped is the set of items the settings turn off.
func (c *Config) skipped() []string {
	skip := slices.Clone(c.SkipItems)
	off := func(b *bool) bool { return b != nil && !*b }
	for _, s := range []struct {
		off bool
		ids []string
	}{
		{c.SELinux == "keep", []string{"L14"}},
		{c.Firewall == "keep", []string{"L15", "W07"}},
		{c.CloudbaseInit.SetPassword, []string{"W01"}},
		{off(c.WebServer), []string{"L13"}},
		{off(c.SerialConsole), []string{"L12"}},
		{off(c.RootPasswordViaCloudInit), []string{"L04"}},
		{off(c.SSHPasswordAuth), []string{"L05"}},
		{off(c.GuestAgent), []string{"L07", "W04"}},
		{off(c.RemoveMACPinning), []string{"L16"}},
		{off(c.Growroot), []string{"L10", "L17", "W02", "W05"}},
	} {
		if s.off {
			skip = append(skip, s.ids...)
		}
	}
	return skip
}
