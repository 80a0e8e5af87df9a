package glance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
)

// Packer's OpenStack builder's names and openrc's variables mean what they
// mean there: tenant_* is the project, domain_* the user's and the
// project's domain unless those are given.
func TestOpenStackBuilderNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  map[string]interface{}
		env  map[string]string
		// want: user domain, project name, project domain of the options
		user, project, projectDomain string
		system                       bool
	}{
		{name: "template aliases", raw: map[string]interface{}{"tenant_name": "web", "domain_name": "corp"}, user: "corp", project: "web", projectDomain: "corp"},
		{name: "own domains win over domain_name", raw: map[string]interface{}{"tenant_name": "web", "domain_name": "corp", "user_domain_name": "users"}, user: "users", project: "web", projectDomain: "corp"},
		{name: "openrc v2 variables", env: map[string]string{"OS_TENANT_NAME": "web", "OS_DOMAIN_NAME": "corp"}, user: "corp", project: "web", projectDomain: "corp"},
		{name: "OS_PROJECT_* before OS_TENANT_*", env: map[string]string{"OS_TENANT_NAME": "old", "OS_PROJECT_NAME": "web", "OS_PROJECT_DOMAIN_NAME": "pd", "OS_DOMAIN_NAME": "corp"}, user: "corp", project: "web", projectDomain: "pd"},
		{name: "the template's domain before the environment's", raw: map[string]interface{}{"domain_name": "corp", "project_name": "web"}, env: map[string]string{"OS_USER_DOMAIN_NAME": "env"}, user: "corp", project: "web", projectDomain: "corp"},
		{name: "system scope from openrc", env: map[string]string{"OS_SYSTEM_SCOPE": "all", "OS_USER_DOMAIN_NAME": "Default"}, user: "Default", system: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cleanEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			raw := map[string]interface{}{"image_name": "x", "identity_endpoint": "http://127.0.0.1:5000/v3", "username": "u", "password": "pw"}
			for k, v := range tc.raw {
				raw[k] = v
			}
			var c Config
			if err := c.prepare(raw); err != nil {
				t.Fatal(err)
			}
			ao := c.authOptions()
			if ao.DomainName != tc.user {
				t.Errorf("user domain %q, want %q", ao.DomainName, tc.user)
			}
			switch {
			case tc.system:
				if ao.Scope == nil || !ao.Scope.System || ao.TenantName != "" {
					t.Errorf("scope %+v tenant %q, want the system", ao.Scope, ao.TenantName)
				}
			case ao.Scope == nil || ao.Scope.ProjectName != tc.project || ao.Scope.DomainName != tc.projectDomain:
				t.Errorf("scope %+v, want project %q in domain %q", ao.Scope, tc.project, tc.projectDomain)
			}
		})
	}
	// An ID in the template is not joined by a name from the environment.
	cleanEnv(t)
	t.Setenv("OS_PROJECT_NAME", "env-project")
	var c Config
	if err := c.prepare(map[string]interface{}{"image_name": "x", "cloud": "c", "tenant_id": "0123"}); err != nil {
		t.Fatal(err)
	}
	if c.ProjectID != "0123" || c.ProjectName != "" {
		t.Errorf("project %q / %q, want the ID alone", c.ProjectName, c.ProjectID)
	}
}

func TestOpenStackBuilderNamesRefused(t *testing.T) {
	cleanEnv(t)
	for _, tc := range []struct {
		raw   map[string]interface{}
		env   map[string]string
		field string
	}{
		{raw: map[string]interface{}{"tenant_name": "a", "project_name": "b"}, field: "tenant_name and project_name"},
		{raw: map[string]interface{}{"tenant_id": "a", "project_id": "b"}, field: "tenant_id and project_id"},
		{raw: map[string]interface{}{"system_scope": "domain"}, field: `system_scope "domain"`},
		{raw: map[string]interface{}{"system_scope": "all", "project_name": "p"}, field: "system_scope and project_name"},
		{raw: map[string]interface{}{"project_name": "p"}, env: map[string]string{"OS_SYSTEM_SCOPE": "all"}, field: "OS_SYSTEM_SCOPE and OS_PROJECT_"},
		{raw: map[string]interface{}{"image_auto_accept_members": true}, field: "image_auto_accept_members"},
	} {
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		raw := map[string]interface{}{"image_name": "x", "cloud": "c"}
		for k, v := range tc.raw {
			raw[k] = v
		}
		var c Config
		if err := c.prepare(raw); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%v %v: error %v, want one naming %s", tc.raw, tc.env, err, tc.field)
		}
		for k := range tc.env {
			t.Setenv(k, "")
		}
	}
}

// In cloud mode the settings override the file's scope too: clouds.Parse
// alone would keep the file's project domain, and know no system scope
// but the file's.
func TestCloudScopeOverrides(t *testing.T) {
	cleanEnv(t)
	file := filepath.Join(t.TempDir(), "clouds.yaml")
	if err := os.WriteFile(file, []byte(`clouds:
  c:
    auth:
      auth_url: http://127.0.0.1:5000/v3
      username: u
      password: pw
      project_name: web
      project_domain_name: file-domain
      user_domain_name: Default
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OS_CLIENT_CONFIG_FILE", file)
	for _, tc := range []struct {
		name              string
		raw               map[string]interface{}
		domainName, domID string
		system            bool
	}{
		{name: "the file's", domainName: "file-domain"},
		{name: "project_domain_name", raw: map[string]interface{}{"project_domain_name": "corp"}, domainName: "corp"},
		{name: "project_domain_id", raw: map[string]interface{}{"project_domain_id": "d01"}, domID: "d01"},
		{name: "domain_name", raw: map[string]interface{}{"domain_name": "corp"}, domainName: "corp"},
		{name: "system_scope", raw: map[string]interface{}{"system_scope": "all", "project_name": ""}, system: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := map[string]interface{}{"image_name": "x", "cloud": "c"}
			for k, v := range tc.raw {
				raw[k] = v
			}
			var c Config
			if err := c.prepare(raw); err != nil {
				t.Fatal(err)
			}
			ao, _, _, err := c.options()
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.system:
				if ao.Scope == nil || !ao.Scope.System || ao.TenantName != "" {
					t.Errorf("scope %+v, tenant %q: want the system", ao.Scope, ao.TenantName)
				}
			case ao.Scope == nil || ao.Scope.ProjectName != "web" || ao.Scope.DomainName != tc.domainName || ao.Scope.DomainID != tc.domID:
				t.Errorf("scope %+v, want project web in domain %q/%q", ao.Scope, tc.domainName, tc.domID)
			}
		})
	}
}

// The properties Nova reads follow what the build used and proved; the
// user's properties still win.
func TestPropertiesFromTheBuild(t *testing.T) {
	cleanEnv(t)
	for _, tc := range []struct {
		name  string
		state map[string]interface{}
		user  map[string]string
		want  map[string]string
		not   []string
	}{
		{
			name: "virtio-scsi, e1000, secure boot, verified admin",
			state: map[string]interface{}{
				"disk_interface": "virtio-scsi", "net_device": "e1000", "architecture": "x86_64",
				"firmware": "uefi", "secure_boot": true, "admin_user": "root",
				"guest": map[string]string{"os_type": "linux", "distro": "archlinux"},
			},
			want: map[string]string{
				"hw_disk_bus": "scsi", "hw_scsi_model": "virtio-scsi", "hw_vif_model": "e1000", "architecture": "x86_64",
				"hw_firmware_type": "uefi", "os_secure_boot": "required", "os_admin_user": "root", "os_distro": "arch",
			},
		},
		{
			name:  "sata, rhel",
			state: map[string]interface{}{"disk_interface": "sata", "guest": map[string]string{"os_type": "linux", "distro": "rhel", "major_version": "9"}},
			want:  map[string]string{"hw_disk_bus": "sata", "hw_vif_model": "virtio", "os_distro": "rhel", "os_version": "9"},
			not:   []string{"hw_scsi_model", "os_secure_boot", "os_admin_user", "architecture"},
		},
		{
			name:  "a generic distro has no Glance name",
			state: map[string]interface{}{"guest": map[string]string{"os_type": "linux", "distro": "redhat-based"}},
			want:  map[string]string{"hw_disk_bus": "virtio"},
			not:   []string{"os_distro"},
		},
		{
			name:  "the user's properties win",
			state: map[string]interface{}{"disk_interface": "virtio-scsi", "secure_boot": true},
			user:  map[string]string{"hw_disk_bus": "virtio", "os_secure_boot": "optional"},
			want:  map[string]string{"hw_disk_bus": "virtio", "hw_scsi_model": "virtio-scsi", "os_secure_boot": "optional"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Config
			if err := c.prepare(map[string]interface{}{"image_name": "x", "cloud": "c", "properties": tc.user}); err != nil {
				t.Fatal(err)
			}
			o := c.createOpts(stateArtifact{state: tc.state}, image.Info{Format: "qcow2", VirtualSize: 1 << 30})
			for k, v := range tc.want {
				if o.Properties[k] != v {
					t.Errorf("%s = %q, want %q (all: %v)", k, o.Properties[k], v, o.Properties)
				}
			}
			for _, k := range tc.not {
				if v, ok := o.Properties[k]; ok {
					t.Errorf("%s = %q, want none", k, v)
				}
			}
		})
	}
}
