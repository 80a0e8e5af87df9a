//go:generate go tool packer-sdc struct-markdown

package checklist

import (
	"cmp"
	"fmt"
	"regexp"
	"strings"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// WindowsConfig holds the settings of the Windows items, W01 to W08.
type WindowsConfig struct {
	// W01: the image's default account: `Administrator` (the default, as on
	// Server editions), `Admin` (as on desktop editions) or another local
	// account.
	AccountName string `mapstructure:"account_name"`
	// W01: the account's password, set in apply mode and proven by a logon.
	// Sensitive: Packer's logs never show it. Unset, the password the
	// template (Autounattend.xml) set stays, and W01 checks the account only.
	AdministratorPassword string `mapstructure:"administrator_password"`
	// W08: where the virtio-win drivers are in the guest: `auto` (the
	// default: the drive labelled `virtio-win*`, the virtio-win ISO attached
	// as a CD, else any drive with `NetKVM` and `viostor` folders), or a path
	// such as `E:\` or `C:\drivers\virtio-win`.
	VirtioWin string `mapstructure:"virtio_win"`
	// W04: the qemu-guest-agent MSI, as a path in the guest or an http(s)
	// URL. Defaults to virtio-win's `guest-agent\qemu-ga-x86_64.msi`
	// (`qemu-ga-i386.msi` on 32-bit Windows).
	GuestAgentInstaller string `mapstructure:"guest_agent_installer"`
	// cloudbase-init, the Windows counterpart of cloud-init (hostname, keys,
	// user data and networking from the metadata).
	CloudbaseInit CloudbaseInit `mapstructure:"cloudbase_init"`
}

// CloudbaseInit is the `cloudbase_init` block: whether the provisioner
// installs and configures cloudbase-init, and how.
type CloudbaseInit struct {
	// Install and configure cloudbase-init. Defaults to true. Turned off, an
	// installed cloudbase-init is still kept from setting the password (W01).
	Enabled *bool `mapstructure:"enabled"`
	// The cloudbase-init MSI, as a path in the guest or an http(s) URL.
	// Defaults to Cloudbase's stable release for the guest's architecture,
	// downloaded by the guest.
	Installer string `mapstructure:"installer"`
	// Let cloudbase-init set the account's password from the metadata
	// (CreateUserPlugin, SetUserPasswordPlugin). Defaults to false: the
	// checklist wants the password the template set (W01), which this turns
	// into `not-applicable`.
	SetPassword bool `mapstructure:"set_password"`
	// `metadata_services`, in order, such as
	// `["cloudbaseinit.metadata.services.configdrive.ConfigDriveService",
	// "cloudbaseinit.metadata.services.httpservice.HttpService"]`. Unset,
	// cloudbase-init's own list stays.
	MetadataServices []string `mapstructure:"metadata_services"`
	// `plugins`, in order. Unset, the installed list (cloudbase-init's
	// default) stays, less the password plugins unless set_password.
	Plugins []string `mapstructure:"plugins"`
	// More `[DEFAULT]` settings of cloudbase-init.conf, such as
	// `{ mtu_use_dhcp_config = "true" }`.
	Settings map[string]string `mapstructure:"settings"`
}

// defaultCloudbaseInitInstaller is Cloudbase's stable x64 release.
const defaultCloudbaseInitInstaller = "https://cloudbase.it/downloads/CloudbaseInitSetup_Stable_x64.msi"

var (
	// Windows refuses these in account names: " / \ [ ] : ; | = , + * ? < >
	// @; the quote is refused here too, as the scripts quote the name.
	accountName = regexp.MustCompile(`^[^"/\\\[\]:;|=,+*?<>@'\x00-\x1f]{1,20}$`)
	pythonPath  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$`)
	iniKey      = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

func (w *WindowsConfig) prepare() []error {
	var errs []error
	w.AccountName = cmp.Or(w.AccountName, "Administrator")
	if !accountName.MatchString(w.AccountName) || strings.Trim(w.AccountName, ". ") == "" {
		errs = append(errs, fmt.Errorf("account_name: %q is not a Windows account name (up to 20 characters, none of \"/\\[]:;|=,+*?<>@')", w.AccountName))
	}
	if w.AdministratorPassword != "" {
		packersdk.LogSecretFilter.Set(w.AdministratorPassword)
		if strings.ContainsAny(w.AdministratorPassword, "\x00\r\n") {
			errs = append(errs, fmt.Errorf("administrator_password: holds a line break or NUL"))
		}
	}
	w.VirtioWin = cmp.Or(w.VirtioWin, "auto")
	errs = append(errs, oneLine("virtio_win", w.VirtioWin), oneLine("guest_agent_installer", w.GuestAgentInstaller))
	c := &w.CloudbaseInit
	if c.Enabled == nil {
		on := true
		c.Enabled = &on
	}
	c.Installer = cmp.Or(c.Installer, defaultCloudbaseInitInstaller)
	errs = append(errs, oneLine("cloudbase_init.installer", c.Installer))
	for field, paths := range map[string][]string{"cloudbase_init.metadata_services": c.MetadataServices, "cloudbase_init.plugins": c.Plugins} {
		for _, p := range paths {
			if !pythonPath.MatchString(p) {
				errs = append(errs, fmt.Errorf("%s: %q is not a Python class path such as cloudbaseinit.plugins.common.mtu.MTUPlugin", field, p))
			}
		}
	}
	for k, v := range c.Settings {
		if !iniKey.MatchString(k) {
			errs = append(errs, fmt.Errorf("cloudbase_init.settings: %q is not a cloudbase-init option name (lower case, digits, _)", k))
		}
		errs = append(errs, oneLine("cloudbase_init.settings."+k, v))
	}
	return errs
}

// oneLine refuses a value the scripts could not write on one line.
func oneLine(field, value string) error {
	if strings.ContainsAny(value, "\x00\r\n") {
		return fmt.Errorf("%s: holds a line break or NUL", field)
	}
	return nil
}
