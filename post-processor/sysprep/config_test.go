package sysprep

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
)

func TestConfigDefaults(t *testing.T) {
	var c Config
	if err := c.prepare(); err != nil {
		t.Fatal(err)
	}
	if !*c.Sparsify || c.SparsifyMode != "in-place" || !slices.Equal(c.Formats, []string{"qcow2"}) || c.Compression != "zlib" ||
		!slices.Equal(c.ChecksumTypes, []string{"sha256"}) || c.Accelerator != "auto" || c.KeepInput {
		t.Errorf("defaults: %+v", c)
	}
	var raw Config
	if err := raw.prepare(map[string]interface{}{"formats": []string{"raw", "vmdk"}}); err != nil || raw.Compression != "none" {
		t.Errorf("formats without qcow2: compression %q, error %v; want none", raw.Compression, err)
	}
}

func TestConfigRejectsBadInput(t *testing.T) {
	script := filepath.Join(t.TempDir(), "fb.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		raw   map[string]interface{}
		field string
	}{
		{map[string]interface{}{"operations": []string{"ssh hostkeys"}}, "operations"},
		{map[string]interface{}{"enable": []string{"user-account"}, "disable": []string{"user-account"}}, "enable and disable"},
		{map[string]interface{}{"keep_user_accounts": []string{"root"}, "remove_user_accounts": []string{"bob"}}, "keep_user_accounts and remove_user_accounts"},
		{map[string]interface{}{"remove_user_accounts": []string{"bob;reboot"}}, "remove_user_accounts"},
		{map[string]interface{}{"firstboot_scripts": []string{"/no/such/script"}}, "firstboot_scripts"},
		{map[string]interface{}{"firstboot_scripts": []string{filepath.Dir(script)}}, "firstboot_scripts"},
		{map[string]interface{}{"sparsify_mode": "inplace"}, "sparsify_mode"},
		{map[string]interface{}{"tmp_dir": script}, "tmp_dir"},
		{map[string]interface{}{"formats": []string{"qcow"}}, "formats"},
		{map[string]interface{}{"formats": []string{"raw", "raw"}}, "formats"},
		{map[string]interface{}{"compression": "gzip"}, "compression"},
		{map[string]interface{}{"formats": []string{"raw"}, "compression": "zstd"}, "compression"},
		{map[string]interface{}{"output_name": "a/b"}, "output_name"},
		{map[string]interface{}{"output_name": ".."}, "output_name"},
		{map[string]interface{}{"checksum_types": []string{"sha1"}}, "checksum_types"},
		{map[string]interface{}{"accelerator": "hvf"}, "accelerator"},
		{map[string]interface{}{"libguestfs_backend": "direct --x"}, "libguestfs_backend"},
		{map[string]interface{}{"sparsify": "maybe"}, "sparsify"},
	} {
		var c Config
		err := c.prepare(tc.raw)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%v: error %v, want one naming %s", tc.raw, err, tc.field)
		}
	}
}

func TestSysprepArgs(t *testing.T) {
	for _, tc := range []struct {
		raw  map[string]interface{}
		want string
	}{
		{nil, "--format qcow2 -a d.qcow2 --run-command if [ -s /etc/machine-id ]; then : > /etc/machine-id; fi"},
		{map[string]interface{}{"disable": []string{"machine-id"}, "enable": []string{"user-account"}, "keep_user_accounts": []string{"root", "cloud"}},
			"--format qcow2 -a d.qcow2 --operations defaults,user-account,-machine-id --keep-user-accounts root,cloud"},
		{map[string]interface{}{"operations": []string{"ssh-hostkeys", "logfiles"}, "extra_args": []string{"--hostname", "localhost"}},
			"--format qcow2 -a d.qcow2 --operations ssh-hostkeys,logfiles --hostname localhost"},
	} {
		var c Config
		if err := c.prepare(tc.raw); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(c.sysprepArgs("d.qcow2"), " "); got != tc.want {
			t.Errorf("%v:\n got %s\nwant %s", tc.raw, got, tc.want)
		}
	}
}

// Outputs are named <dir>/<name>.<extension>, with temporary names beside
// them that a user sees as hidden files.
func TestPlan(t *testing.T) {
	var c Config
	if err := c.prepare(map[string]interface{}{"formats": []string{"qcow2", "vpc"}}); err != nil {
		t.Fatal(err)
	}
	outs, base := c.plan("/out/build/vm.qcow2")
	if len(outs) != 2 || outs[0].final != "/out/build/vm.qcow2" || outs[1].final != "/out/build/vm.vhd" {
		t.Fatalf("outputs %+v", outs)
	}
	if !strings.HasPrefix(base, "/out/build/.vm.tmp-") || outs[1].temp != base+".vhd" {
		t.Errorf("temporary names %s, %s", base, outs[1].temp)
	}
	c.OutputDirectory, c.OutputName = "/x", "img"
	if outs, _ := c.plan("/out/build/packer-qemu"); outs[0].final != "/x/img.qcow2" {
		t.Errorf("output_directory and output_name: %s", outs[0].final)
	}
	if got := stem("/a/packer-qemu"); got != "packer-qemu" {
		t.Errorf("stem of a file without extension: %s", got)
	}
}

func TestParseInspection(t *testing.T) {
	xml := `<?xml version="1.0"?>
<operatingsystems>
  <operatingsystem>
    <root>/dev/sda1</root>
    <name>linux</name>
    <arch>x86_64</arch>
    <distro>debian</distro>
    <product_name>12.15</product_name>
    <major_version>12</major_version>
    <minor_version>15</minor_version>
    <hostname>fixture</hostname>
    <osinfo>debian12</osinfo>
  </operatingsystem>
</operatingsystems>`
	g, err := parseInspection([]byte(xml))
	if err != nil {
		t.Fatal(err)
	}
	if g != (Guest{Type: "linux", Distro: "debian", Product: "12.15", Major: "12", Minor: "15", Arch: "x86_64", Hostname: "fixture", Osinfo: "debian12"}) {
		t.Errorf("guest %+v", g)
	}
	if _, err := parseInspection([]byte("<operatingsystems/>")); err == nil || !strings.Contains(err.Error(), "no operating system") {
		t.Errorf("no OS: %v", err)
	}
}

// Each checksum is computed in one read and matches the known digests.
func TestChecksums(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	sums, err := checksums(t.Context(), path, []string{"sha256", "md5", "sha512"})
	if err != nil {
		t.Fatal(err)
	}
	if sums["sha256"] != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" || sums["md5"] != "900150983cd24fb0d6963f7d28e17f72" || !strings.HasPrefix(sums["sha512"], "ddaf35a193617aba") {
		t.Errorf("checksums %v", sums)
	}
}

// checkSpace reads the file systems' free space (fsFree, per OS) and
// names the folder that lacks room.
func TestCheckSpace(t *testing.T) {
	tmp, out := t.TempDir(), t.TempDir()
	if err := checkSpace(tmp, 1<<20, out, 1<<20); err != nil {
		t.Errorf("1 MiB each: %v", err)
	}
	err := checkSpace(tmp, 1<<62, out, 1<<20)
	if err == nil || !strings.Contains(err.Error(), "tmp_dir "+tmp) {
		t.Errorf("an exabyte in tmp_dir: %v, want an error naming tmp_dir %s", err, tmp)
	}
	if _, _, err := fsFree(filepath.Join(tmp, "missing")); err == nil {
		t.Error("fsFree of a missing folder: no error")
	}
}

// The passwords of extra_args never show in a tool's error, which quotes
// its command line.
func TestExtraArgsPasswordsHidden(t *testing.T) {
	c := &Config{}
	if err := c.prepare(map[string]interface{}{"extra_args": []string{
		"--root-password", "password:Zq9-root-pw", "--password=alice:password:Zq9-alice-pw", "--hostname", "web",
	}}); err != nil {
		t.Fatal(err)
	}
	err := tool{ui: packersdk.TestUi(t)}.run(context.Background(), "false", c.ExtraArgs...)
	if err == nil || strings.Contains(err.Error(), "Zq9") || !strings.Contains(err.Error(), "--hostname web") {
		t.Errorf("error %v: want the command line without its passwords", err)
	}
}
