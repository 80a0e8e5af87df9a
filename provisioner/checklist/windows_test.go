package checklist

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

// windowsCases are the configurations whose generated scripts are kept as
// golden files in testdata/windows and parsed.
var windowsCases = []struct {
	name string
	raw  map[string]interface{}
}{
	{"default", map[string]interface{}{"family": "windows"}},
	{"verify-admin-no-cloudbase-init", map[string]interface{}{
		"family": "windows", "mode": "verify", "account_name": "Admin",
		"administrator_password": "It's-a ‘secret’",
		"virtio_win":             `E:\`, "guest_agent_installer": `E:\guest-agent\qemu-ga-x86_64.msi`,
		"package_proxy": "http://builder:Zq9-proxy%21@10.0.2.2:3128",
		"skip_items":    []string{"W06"}, "firewall": "keep",
		"cloudbase_init": map[string]interface{}{"enabled": false},
	}},
	{"cloudbase-init-settings", map[string]interface{}{
		"family": "windows", "growroot": false,
		"cloudbase_init": map[string]interface{}{
			"installer":         "http://10.0.2.2:8080/CloudbaseInitSetup.msi",
			"set_password":      true,
			"metadata_services": []string{"cloudbaseinit.metadata.services.configdrive.ConfigDriveService"},
			"plugins":           []string{"cloudbaseinit.plugins.common.mtu.MTUPlugin", "cloudbaseinit.plugins.windows.extendvolumes.ExtendVolumesPlugin"},
			"settings":          map[string]string{"mtu_use_dhcp_config": "true", "bsdtar_path": `C:\Program Files\bsdtar.exe`},
		},
	}},
}

func windowsCaseScript(t *testing.T, raw map[string]interface{}) string {
	t.Helper()
	var c Config
	if err := c.prepare(raw); err != nil {
		t.Fatal(err)
	}
	script, where, err := c.script("windows")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(where.path, ".ps1") || !strings.Contains(where.run, "-File \""+where.path+"\"") || !strings.Contains(where.remove, where.path) {
		t.Errorf("target %+v: want a .ps1 run with -File and removed after", where)
	}
	// The password travels beside the script, never in it (PowerShell 5
	// may log the script's text).
	// So do the proxy's credentials.
	base := strings.TrimSuffix(where.path, ".ps1")
	var want []secretFile
	if pw := c.AdministratorPassword; pw != "" {
		want = append(want, secretFile{base + ".secret", pw})
	}
	if strings.Contains(c.PackageProxy, "@") {
		want = append(want, secretFile{base + ".proxy", "builder:Zq9-proxy!"})
	}
	for _, s := range want {
		if strings.Contains(script, s.text) || strings.Contains(script, "Zq9") || !slices.Contains(where.secrets, s) || !strings.Contains(where.remove, s.path) {
			t.Errorf("%s: in the script %v, target %+v, removal %q", s.path, strings.Contains(script, s.text), where.secrets, where.remove)
		}
	}
	if len(where.secrets) != len(want) {
		t.Errorf("secrets %+v, want %+v", where.secrets, want)
	}
	return script
}

// The generated part of each script, its settings, equals its golden file
// (rewritten with -update); the rest is scripts/windows.ps1, verbatim, and
// the call that runs it.
func TestWindowsScriptGolden(t *testing.T) {
	body, err := scripts.ReadFile("scripts/windows.ps1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range windowsCases {
		t.Run(tc.name, func(t *testing.T) {
			script := windowsCaseScript(t, tc.raw)
			head, tail, ok := strings.Cut(script, string(body))
			if !ok || tail != "\nInvoke-Checklist\n" {
				t.Fatalf("the script is not settings + scripts/windows.ps1 + Invoke-Checklist; it ends %q", script[max(0, len(script)-40):])
			}
			goldenFile(t, filepath.Join("testdata", "windows", tc.name+".ps1"), head)
		})
	}
}

// The settings reach the script as the values the items read.
func TestWindowsScriptSettings(t *testing.T) {
	script := windowsCaseScript(t, windowsCases[1].raw)
	for _, want := range []string{
		"$CL_MODE = 'verify'\n",
		"$CL_ACCOUNT = 'Admin'\n",
		"$CL_PASSWORD_SET = $true\n",
		"$CL_SKIP = @('W06', 'W07')\n",
		"$CL_CLOUDBASE_INIT = $false\n",
		"\nInvoke-Checklist\n",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("the script lacks %q", want)
		}
	}
	script = windowsCaseScript(t, windowsCases[2].raw)
	for _, want := range []string{
		"$CL_SKIP = @('W01', 'W02', 'W05')\n",
		"$CL_CBI_SET_PASSWORD = $true\n",
		`$CL_CBI_SETTINGS = @{'bsdtar_path' = 'C:\Program Files\bsdtar.exe'; 'mtu_use_dhcp_config' = 'true'}` + "\n",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("the script lacks %q", want)
		}
	}
}

// Each of PowerShell's single quotes, the typographic ones included, is
// doubled inside a single-quoted string.
func TestPsQuote(t *testing.T) {
	for in, want := range map[string]string{
		"":           "''",
		`C:\a b`:     `'C:\a b'`,
		"it's":       "'it''s'",
		"‘x’ ‚y‛":    "'‘‘x’’ ‚‚y‛‛'",
		"$(reboot)":  "'$(reboot)'",
		"a`nb \"q\"": "'a`nb \"q\"'",
	} {
		if got := psQuote(in); got != want {
			t.Errorf("psQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestWindowsConfigRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		raw   map[string]interface{}
		field string
	}{
		{map[string]interface{}{"account_name": "Admin'istrator"}, "account_name"},
		{map[string]interface{}{"account_name": "a/b"}, "account_name"},
		{map[string]interface{}{"account_name": "TwentyOneCharactersXX"}, "account_name"},
		{map[string]interface{}{"account_name": ". ."}, "account_name"},
		{map[string]interface{}{"administrator_password": "two\nlines"}, "administrator_password"},
		{map[string]interface{}{"virtio_win": "E:\\\r\n"}, "virtio_win"},
		{map[string]interface{}{"cloudbase_init": map[string]interface{}{"plugins": []string{"MTUPlugin"}}}, "cloudbase_init.plugins"},
		{map[string]interface{}{"cloudbase_init": map[string]interface{}{"metadata_services": []string{"a b.c"}}}, "cloudbase_init.metadata_services"},
		{map[string]interface{}{"cloudbase_init": map[string]interface{}{"settings": map[string]string{"Log Dir": "x"}}}, "cloudbase_init.settings"},
		{map[string]interface{}{"cloudbase_init": map[string]interface{}{"settings": map[string]string{"logdir": "a\nb"}}}, "cloudbase_init.settings.logdir"},
	} {
		var c Config
		err := c.prepare(tc.raw)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%v: error %v, want one naming %s", tc.raw, err, tc.field)
		}
	}
	var c Config
	if err := c.prepare(map[string]interface{}{"family": "windows", "extra_packages": []string{"vim"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.script("windows"); err == nil || !strings.Contains(err.Error(), "extra_packages") {
		t.Errorf("extra_packages on windows: error %v, want one naming the field", err)
	}
}

// administrator_password is replaced in Packer's logs.
func TestAdministratorPasswordIsFiltered(t *testing.T) {
	var c Config
	if err := c.prepare(map[string]interface{}{"administrator_password": "Zq9-unique-pw"}); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	packersdk.LogSecretFilter.SetOutput(&log)
	defer packersdk.LogSecretFilter.SetOutput(os.Stderr)
	if _, err := packersdk.LogSecretFilter.Write([]byte("running with Zq9-unique-pw\n")); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "Zq9-unique-pw") || !strings.Contains(log.String(), "<sensitive>") {
		t.Errorf("log line: %q", log.String())
	}
}

// Every generated script parses as PowerShell (tree-sitter's grammar,
// through hack/psparse; the harness installs it). Skipped only outside the
// acceptance run, when the parser is not installed.
func TestWindowsScriptParses(t *testing.T) {
	modules := os.Getenv("PSPARSE_MODULES")
	if modules == "" {
		if os.Getenv("PACKER_ACC") != "" {
			t.Fatal("PSPARSE_MODULES is not set: the harness installs the parser (hack/install-psparse.sh)")
		}
		t.Skip("no PowerShell parser: run hack/install-psparse.sh and load .harness/env")
	}
	dir := t.TempDir()
	var files []string
	for _, tc := range windowsCases {
		f := filepath.Join(dir, tc.name+".ps1")
		if err := os.WriteFile(f, []byte("\ufeff"+windowsCaseScript(t, tc.raw)), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	// A script broken on purpose must fail, or the check proves nothing.
	broken := filepath.Join(dir, "broken.ps1")
	script := windowsCaseScript(t, windowsCases[0].raw)
	if err := os.WriteFile(broken, []byte(strings.Replace(script, "function Test-W07 {", "function Test-W07 {{", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	parse := func(files ...string) (string, error) {
		cmd := exec.Command("node", append([]string{"../../hack/psparse/parse.mjs"}, files...)...)
		cmd.Env = append(os.Environ(), "PSPARSE_MODULES="+modules)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := parse(files...); err != nil {
		t.Errorf("the generated scripts do not parse: %v\n%s", err, out)
	}
	if out, err := parse(broken); err == nil {
		t.Errorf("the parser accepted a script with an unclosed brace:\n%s", out)
	}
}
