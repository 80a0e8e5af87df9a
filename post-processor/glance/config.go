//go:generate go tool packer-sdc struct-markdown

package glance

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"time"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"github.com/hashicorp/packer-plugin-sdk/template/config"
)

// AuthConfig is how the post-processor reaches Glance: a cloud of
// clouds.yaml, or these settings, each defaulting to its OS_* variable.
// The names are those of the OpenStack clients (clouds.yaml, openrc) and,
// as aliases, those of Packer's OpenStack builder: `tenant_name`,
// `tenant_id`, `domain_name` and `domain_id`.
type AuthConfig struct {
	// The cloud's name in clouds.yaml (found as the OpenStack clients find
	// it: OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack,
	// /etc/openstack). Defaults to `OS_CLOUD`. The settings below override
	// the cloud's.
	Cloud string `mapstructure:"cloud"`
	// Keystone's URL (`OS_AUTH_URL`), such as `https://keystone:5000/v3`.
	IdentityEndpoint string `mapstructure:"identity_endpoint"`
	// The user's name (`OS_USERNAME`) or ID (`OS_USER_ID`).
	Username string `mapstructure:"username"`
	UserID   string `mapstructure:"user_id"`
	// The user's password (`OS_PASSWORD`). Sensitive.
	Password string `mapstructure:"password"`
	// The project's name (`OS_PROJECT_NAME`) or ID (`OS_PROJECT_ID`).
	ProjectName string `mapstructure:"project_name"`
	ProjectID   string `mapstructure:"project_id"`
	// Packer's OpenStack builder's names for `project_name` and
	// `project_id` (`OS_TENANT_NAME`, `OS_TENANT_ID`, read after
	// `OS_PROJECT_*`). Give one name or the other, not both.
	TenantName string `mapstructure:"tenant_name"`
	TenantID   string `mapstructure:"tenant_id"`
	// The user's domain (`OS_USER_DOMAIN_NAME`, `OS_USER_DOMAIN_ID`).
	UserDomainName string `mapstructure:"user_domain_name"`
	UserDomainID   string `mapstructure:"user_domain_id"`
	// The project's domain (`OS_PROJECT_DOMAIN_NAME`,
	// `OS_PROJECT_DOMAIN_ID`).
	ProjectDomainName string `mapstructure:"project_domain_name"`
	ProjectDomainID   string `mapstructure:"project_domain_id"`
	// The domain of both the user and the project where their own settings
	// are not given, as Packer's OpenStack builder and openrc files mean it
	// (`OS_DOMAIN_NAME`, `OS_DOMAIN_ID`).
	DomainName string `mapstructure:"domain_name"`
	DomainID   string `mapstructure:"domain_id"`
	// A system-scoped token instead of a project's (`OS_SYSTEM_SCOPE`):
	// `all` is the only system Keystone has. An image uploaded with it has
	// no owner project.
	SystemScope string `mapstructure:"system_scope"`
	// An application credential (`OS_APPLICATION_CREDENTIAL_ID` or `_NAME`,
	// and `_SECRET`), instead of a password.
	ApplicationCredentialID     string `mapstructure:"application_credential_id"`
	ApplicationCredentialName   string `mapstructure:"application_credential_name"`
	ApplicationCredentialSecret string `mapstructure:"application_credential_secret"`
	// A token (`OS_TOKEN`), instead of a password. Sensitive.
	Token string `mapstructure:"token"`
	// The region (`OS_REGION_NAME`).
	Region string `mapstructure:"region"`
	// The catalog's interface for Glance: `public` (the default),
	// `internal` or `admin` (`OS_INTERFACE`).
	EndpointType string `mapstructure:"endpoint_type"`
	// Glance's URL, instead of the one in Keystone's catalog: a proxy, a
	// tunnel, or a cloud whose catalog names addresses this machine cannot
	// reach, such as `https://glance.example:9292`.
	EndpointOverride string `mapstructure:"endpoint_override"`
	// Skip TLS verification (`OS_INSECURE`).
	Insecure bool `mapstructure:"insecure"`
	// CA bundle, client certificate and key files (`OS_CACERT`, `OS_CERT`,
	// `OS_KEY`).
	CACertFile string `mapstructure:"cacert"`
	ClientCert string `mapstructure:"cert"`
	ClientKey  string `mapstructure:"key"`
}

var (
	diskFormats      = []string{"qcow2", "raw", "vmdk", "vhd", "vhdx", "vdi", "iso", "ploop", "ami", "ari", "aki"}
	containerFormats = []string{"bare", "ovf", "ova", "docker", "compressed", "ami", "ari", "aki"}
	visibilities     = []string{"public", "private", "shared", "community"}
	onConflicts      = []string{"error", "replace", "rename", "keep"}
	propertyKey      = regexp.MustCompile(`^[A-Za-z0-9_:.-]{1,255}$`)
)

func (c *Config) prepare(raws ...interface{}) error {
	if err := config.Decode(c, &config.DecodeOpts{
		PluginType:         "cloudimage-glance",
		Interpolate:        true,
		InterpolateContext: &c.ctx,
	}, raws...); err != nil {
		return err
	}
	errs := c.resolveAliases()
	c.fromEnv()
	errs = append(errs, c.checkScope())
	for _, s := range []string{c.Password, c.Token, c.ApplicationCredentialSecret} {
		if s != "" {
			packersdk.LogSecretFilter.Set(s)
		}
	}
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.ImageName == "" {
		add("image_name is required")
	}
	if c.Cloud == "" && c.IdentityEndpoint == "" {
		add("cloud or identity_endpoint: name a cloud of clouds.yaml (or set OS_CLOUD), or give identity_endpoint (or OS_AUTH_URL) and credentials")
	}
	errs = append(errs, checkURL("identity_endpoint", c.IdentityEndpoint), checkURL("endpoint_override", c.EndpointOverride))
	if c.Cloud == "" && c.IdentityEndpoint != "" && c.Password == "" && c.Token == "" && c.ApplicationCredentialSecret == "" {
		add("password, token or application_credential_secret: identity_endpoint needs one (or OS_PASSWORD, OS_TOKEN, OS_APPLICATION_CREDENTIAL_SECRET)")
	}
	c.EndpointType = cmp.Or(c.EndpointType, "public")
	if !slices.Contains([]string{"public", "internal", "admin", "publicURL", "internalURL", "adminURL"}, c.EndpointType) {
		add("endpoint_type %q is not one of public, internal, admin", c.EndpointType)
	}
	for field, f := range map[string]string{"cacert": c.CACertFile, "cert": c.ClientCert, "key": c.ClientKey} {
		if f != "" {
			if _, err := os.Stat(f); err != nil {
				add("%s: %v", field, err)
			}
		}
	}
	if (c.ClientCert == "") != (c.ClientKey == "") {
		add("cert and key: set both")
	}
	if c.DiskFormat != "" && !slices.Contains(diskFormats, c.DiskFormat) {
		add("disk_format %q is not one of %v", c.DiskFormat, diskFormats)
	}
	c.ContainerFormat = cmp.Or(c.ContainerFormat, "bare")
	if !slices.Contains(containerFormats, c.ContainerFormat) {
		add("container_format %q is not one of %v", c.ContainerFormat, containerFormats)
	}
	c.Visibility = cmp.Or(c.Visibility, "private")
	if !slices.Contains(visibilities, c.Visibility) {
		add("visibility %q is not one of %v", c.Visibility, visibilities)
	}
	if len(c.Members) > 0 && c.Visibility != "shared" {
		add("members: the image's visibility must be \"shared\" to have members (it is %q)", c.Visibility)
	}
	if c.ImageAutoAcceptMembers && len(c.Members) == 0 {
		add("image_auto_accept_members: there are no members to accept for")
	}
	if c.MinDisk < 0 || c.MinRAM < 0 {
		add("min_disk and min_ram: not negative")
	}
	for k := range c.Properties {
		if !propertyKey.MatchString(k) {
			add("properties: %q is not a property name", k)
		}
	}
	c.OnConflict = cmp.Or(c.OnConflict, "error")
	if !slices.Contains(onConflicts, c.OnConflict) {
		add("on_conflict %q is not one of %v", c.OnConflict, onConflicts)
	}
	c.ImportMethod = cmp.Or(c.ImportMethod, "direct")
	if !slices.Contains([]string{"direct", "glance-direct", "web-download"}, c.ImportMethod) {
		add("import_method %q is not one of direct, glance-direct, web-download", c.ImportMethod)
	}
	if len(c.Stores) > 0 && c.ImportMethod == "direct" {
		add("stores: needs import_method = \"glance-direct\" or \"web-download\" (direct uploads go to the default store)")
	}
	if c.ImportMethod == "web-download" {
		if u, err := url.Parse(c.ImageURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("image_url %q: web-download needs the http:// or https:// URL Glance fetches the image from", c.ImageURL)
		}
	} else if c.ImageURL != "" {
		add("image_url: only for import_method = \"web-download\"")
	}
	if c.KeepReleases < 0 || c.KeepReleases > 0 && c.OnConflict != "rename" {
		add("keep_releases: a positive number, with on_conflict = \"rename\" (the older releases are the renamed images)")
	}
	if c.Timeout == 0 {
		c.Timeout = 60 * time.Minute
	}
	if c.Timeout < 0 {
		add("timeout: not negative")
	}
	if c.Retries == nil {
		r := 3
		c.Retries = &r
	}
	if *c.Retries < 0 {
		add("retries: not negative")
	}
	errs = slices.DeleteFunc(errs, func(e error) bool { return e == nil })
	if len(errs) > 0 {
		return packersdk.MultiErrorAppend(nil, errs...)
	}
	return nil
}

// fromEnv fills the unset settings from the OS_* variables, after the
// aliases. A name and an ID of the same thing are one setting: a project
// ID in the template is not joined by OS_PROJECT_NAME. Each is read in
// tiers, as the OpenStack clients read them: OS_PROJECT_* before
// OS_TENANT_*, a domain's own variables before OS_DOMAIN_*.
func (a *AuthConfig) fromEnv() {
	for _, f := range []struct {
		v   *string
		env string
	}{
		{&a.Cloud, "OS_CLOUD"}, {&a.IdentityEndpoint, "OS_AUTH_URL"},
		{&a.Password, "OS_PASSWORD"},
		{&a.ApplicationCredentialSecret, "OS_APPLICATION_CREDENTIAL_SECRET"},
		{&a.Token, "OS_TOKEN"}, {&a.Region, "OS_REGION_NAME"}, {&a.EndpointType, "OS_INTERFACE"},
		{&a.CACertFile, "OS_CACERT"}, {&a.ClientCert, "OS_CERT"}, {&a.ClientKey, "OS_KEY"},
		{&a.SystemScope, "OS_SYSTEM_SCOPE"},
	} {
		if *f.v == "" {
			*f.v = os.Getenv(f.env)
		}
	}
	for _, p := range []struct {
		name, id *string
		tiers    [][2]string // {name variable, ID variable}, first found wins
	}{
		{&a.Username, &a.UserID, [][2]string{{"OS_USERNAME", "OS_USER_ID"}}},
		{&a.ProjectName, &a.ProjectID, [][2]string{{"OS_PROJECT_NAME", "OS_PROJECT_ID"}, {"OS_TENANT_NAME", "OS_TENANT_ID"}}},
		{&a.UserDomainName, &a.UserDomainID, [][2]string{{"OS_USER_DOMAIN_NAME", "OS_USER_DOMAIN_ID"}, {"OS_DOMAIN_NAME", "OS_DOMAIN_ID"}}},
		{&a.ProjectDomainName, &a.ProjectDomainID, [][2]string{{"OS_PROJECT_DOMAIN_NAME", "OS_PROJECT_DOMAIN_ID"}, {"OS_DOMAIN_NAME", "OS_DOMAIN_ID"}}},
		{&a.ApplicationCredentialName, &a.ApplicationCredentialID, [][2]string{{"OS_APPLICATION_CREDENTIAL_NAME", "OS_APPLICATION_CREDENTIAL_ID"}}},
	} {
		for _, t := range p.tiers {
			if *p.name != "" || *p.id != "" {
				break
			}
			*p.name, *p.id = os.Getenv(t[0]), os.Getenv(t[1])
		}
	}
	if !a.Insecure && (os.Getenv("OS_INSECURE") == "true" || os.Getenv("OS_INSECURE") == "1") {
		a.Insecure = true
	}
}

// resolveAliases folds Packer's OpenStack builder's names into this
// plugin's: tenant_* are project_*, and domain_* are the user's and the
// project's domain where those are not set. Giving both names of one
// setting, with different values, is an error naming both.
func (a *AuthConfig) resolveAliases() []error {
	var errs []error
	for _, al := range []struct {
		alias, field string
		from, to     *string
	}{
		{"tenant_name", "project_name", &a.TenantName, &a.ProjectName},
		{"tenant_id", "project_id", &a.TenantID, &a.ProjectID},
	} {
		switch {
		case *al.from == "":
		case *al.to == "":
			*al.to = *al.from
		case *al.to != *al.from:
			errs = append(errs, fmt.Errorf("%s and %s: the same setting (Packer's OpenStack builder's name and the OpenStack clients'); give one", al.alias, al.field))
		}
	}
	for _, d := range []struct{ name, id *string }{
		{&a.UserDomainName, &a.UserDomainID}, {&a.ProjectDomainName, &a.ProjectDomainID},
	} {
		if *d.name == "" && *d.id == "" {
			*d.name, *d.id = a.DomainName, a.DomainID
		}
	}
	return errs
}

// checkScope runs after fromEnv: a system scope from OS_SYSTEM_SCOPE and a
// project from the template conflict as much as two settings do.
func (a *AuthConfig) checkScope() error {
	if a.SystemScope == "" {
		return nil
	}
	if a.SystemScope != "all" {
		return fmt.Errorf("system_scope %q (or OS_SYSTEM_SCOPE): the only system scope Keystone has is \"all\"", a.SystemScope)
	}
	if a.ProjectName != "" || a.ProjectID != "" {
		return errors.New("system_scope and project_name/project_id (or OS_SYSTEM_SCOPE and OS_PROJECT_*): a token is scoped to the system or to a project, not both")
	}
	return nil
}

// checkURL fails a set field that is not an http(s) URL with a host.
func checkURL(field, value string) error {
	if value == "" {
		return nil
	}
	if u, err := url.Parse(value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s %q is not an http:// or https:// URL, such as https://keystone.example:5000/v3", field, value)
	}
	return nil
}
