package checklist

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/report"
)

func TestDetectFamily(t *testing.T) {
	for _, tc := range []struct {
		name, osRelease, redhat, lsb, want string
	}{
		{"debian 12", "ID=debian\nVERSION_ID=\"12\"\n", "", "", "debian"},
		{"debian 10", "ID=debian\nVERSION_ID=\"10\"\n", "", "", "debian"},
		{"ubuntu 14.04", "ID=ubuntu\nVERSION_ID=\"14.04\"\nID_LIKE=debian\n", "", "", "ubuntu1404"},
		{"ubuntu 16.04", "ID=ubuntu\nVERSION_ID=\"16.04\"\n", "", "", "ubuntu1604"},
		{"ubuntu 18.04", "ID=ubuntu\nVERSION_ID=\"18.04\"\n", "", "", "ubuntu-netplan"},
		{"ubuntu 24.04", "ID=ubuntu\nVERSION_ID=\"24.04\"\n", "", "", "ubuntu-netplan"},
		{"centos 7", "ID=\"centos\"\nVERSION_ID=\"7\"\nID_LIKE=\"rhel fedora\"\n", "CentOS Linux release 7.9.2009 (Core)\n", "", "el7"},
		{"rocky 9", "ID=\"rocky\"\nVERSION_ID=\"9.4\"\nID_LIKE=\"rhel centos fedora\"\n", "", "", "el8"},
		{"almalinux 10", "ID=\"almalinux\"\nVERSION_ID=\"10.0\"\nID_LIKE=\"rhel centos fedora\"\n", "", "", "el8"},
		{"rhel 8", "ID=\"rhel\"\nVERSION_ID=\"8.10\"\n", "", "", "el8"},
		{"centos 6: no os-release", "", "CentOS release 6.10 (Final)\n", "", "el6"},
		{"rhel 6: no os-release", "", "Red Hat Enterprise Linux Server release 6.10 (Santiago)\n", "", "el6"},
		{"ubuntu 14.04 by lsb-release", "", "", "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=14.04\n", "ubuntu1404"},
		{"a debian derivative", "ID=devuan\nID_LIKE=debian\n", "", "", "debian"},
		{"unknown", "ID=alpine\nVERSION_ID=3.20\n", "", "", ""},
		{"nothing", "", "", "", ""},
		{"redhat-release cut short", "", "Some Linux release ", "", "el8"},
	} {
		if got := detectFamily(tc.osRelease, tc.redhat, tc.lsb); got != tc.want {
			t.Errorf("%s: detectFamily = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestConfigDefaultsAndSkips(t *testing.T) {
	var c Config
	if err := c.prepare(map[string]interface{}{"packer_build_name": "b"}); err != nil {
		t.Fatal(err)
	}
	if c.Family != "auto" || c.Mode != "apply" || c.FailOn != "required" || c.SELinux != "disabled" || c.Firewall != "disabled" {
		t.Errorf("defaults: %+v", c)
	}
	if !slices.Equal(c.CloudInitDatasources, []string{"ConfigDrive", "OpenStack", "NoCloud", "Ec2"}) {
		t.Errorf("cloud_init_datasources = %v", c.CloudInitDatasources)
	}
	if s := c.skipped(); len(s) != 0 {
		t.Errorf("by default no item is skipped, got %v", s)
	}
	c = Config{}
	if err := c.prepare(map[string]interface{}{
		"web_server": false, "selinux": "keep", "growroot": false, "skip_items": []string{"L09"},
	}); err != nil {
		t.Fatal(err)
	}
	got := c.skipped()
	slices.Sort(got)
	if want := []string{"L09", "L10", "L13", "L14", "L17", "W02", "W05"}; !slices.Equal(got, want) {
		t.Errorf("skipped = %v, want %v", got, want)
	}
}

// A proxy URL's password does not appear in the error.
func TestConfigHidesProxyPassword(t *testing.T) {
	var c Config
	err := c.prepare(map[string]interface{}{"package_proxy": "socks5://user:s3cret@proxy:1080"})
	if err == nil || !strings.Contains(err.Error(), "package_proxy") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v: want one naming package_proxy without the password", err)
	}
}

func TestConfigRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		raw   map[string]interface{}
		field string
	}{
		{map[string]interface{}{"family": "centos"}, "family"},
		{map[string]interface{}{"mode": "fix"}, "mode"},
		{map[string]interface{}{"fail_on": "any"}, "fail_on"},
		{map[string]interface{}{"selinux": "enforcing"}, "selinux"},
		{map[string]interface{}{"firewall": "on"}, "firewall"},
		{map[string]interface{}{"cloud_init_datasources": []string{}}, "cloud_init_datasources"},
		{map[string]interface{}{"cloud_init_datasources": []string{"Config Drive"}}, "cloud_init_datasources"},
		{map[string]interface{}{"skip_items": []string{"L99"}}, "skip_items"},
		{map[string]interface{}{"extra_packages": []string{"vim; reboot"}}, "extra_packages"},
		{map[string]interface{}{"package_proxy": "10.0.2.2:3128"}, "package_proxy"},
		{map[string]interface{}{"package_mirror": "ftp://mirror/debian"}, "package_mirror"},
		{map[string]interface{}{"package_mirror": "http://mirror/debian'; reboot; '"}, "package_mirror"},
		{map[string]interface{}{"web_server": "maybe"}, "web_server"},
	} {
		var c Config
		err := c.prepare(tc.raw)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%v: error %v, want one naming %s", tc.raw, err, tc.field)
		}
	}
}

// The script carries the settings quoted for sh, and knows only the
// families whose files exist.
func TestLinuxScript(t *testing.T) {
	s := settings{Family: "debian", Mode: "apply", Items: []string{"L01"}, Mirror: "http://m/it's"}
	script, err := linuxScript(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`CL_MIRROR='http://m/it'\''s'`, "CL_ITEMS='L01'", "# ---- debian.sh ----", "exec sudo -n", "\nrun_checklist\n"} {
		if !strings.Contains(script, want) {
			t.Errorf("the script lacks %q", want)
		}
	}
	s.Family = "windows"
	if _, err := linuxScript(s); err == nil || !strings.Contains(err.Error(), "windows") {
		t.Errorf("windows: error %v, want one naming the family", err)
	}
}

func TestParseAndReport(t *testing.T) {
	out := "Reading package lists...\n" +
		"@@step L03 installing cloud-init\n" +
		"@@result L01 pass cm9vdDogL2Rldi92ZGExCg==\n" +
		"@@result L14 not-applicable \n"
	results := parse(strings.NewReader(out), discardUi{})
	want := []Result{
		{ID: "L01", Name: "no-lvm", Status: "pass", Evidence: "root: /dev/vda1"},
		{ID: "L14", Name: "selinux-off", Status: "not-applicable"},
	}
	if !slices.Equal(results, want) {
		t.Fatalf("parse = %+v, want %+v", results, want)
	}
	path := filepath.Join(t.TempDir(), "out", "checklist.json")
	if err := report.Write(path, results); err != nil {
		t.Fatal(err)
	}
	var back []map[string]string
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &back); err != nil || len(back) != 2 || back[0]["id"] != "L01" || back[0]["status"] != "pass" || back[0]["evidence"] != "root: /dev/vda1" {
		t.Errorf("report %s: %v", data, err)
	}
	if tab := report.Table(results); !strings.Contains(tab, "L01  no-lvm         pass            root: /dev/vda1") {
		t.Errorf("table:\n%s", tab)
	}
}

func TestReportPath(t *testing.T) {
	c := Config{}
	c.PackerBuildName = "b"
	for _, tc := range []struct {
		data map[string]interface{}
		want string
	}{
		{map[string]interface{}{"OutputDir": "output-b"}, "output-b/checklist.json"},
		{map[string]interface{}{"OutputDir": "<unknown>"}, "checklist-b.json"},
		{nil, "checklist-b.json"},
	} {
		if got := c.reportPath(tc.data); got != tc.want {
			t.Errorf("reportPath(%v) = %q, want %q", tc.data, got, tc.want)
		}
	}
}
