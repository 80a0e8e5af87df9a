package libvirt

import (
	"errors"
	"fmt"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclparse"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/field"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// del, as an override value, removes the key from the raw config.
type deleteKey struct{}

var del = deleteKey{}

// writeFile creates a file of size bytes in dir and returns its path.
func writeFile(t *testing.T, dir, name string, size int64) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// baseRaw is the smallest valid raw configuration of an ISO build, the way
// Packer passes it: a local ISO (nothing is downloaded), no checksum, the
// SSH communicator, and an output directory that does not exist yet.
func baseRaw(t *testing.T) map[string]interface{} {
	t.Helper()
	dir := t.TempDir()
	return map[string]interface{}{
		"packer_build_name": "test",
		"iso_url":           writeFile(t, dir, "install.iso", 1<<20),
		"iso_checksum":      "none",
		"communicator":      "ssh",
		"ssh_username":      "root",
		"output_directory":  filepath.Join(dir, "output"),
	}
}

// with copies base and applies overrides; a value of del removes the key.
func with(base map[string]interface{}, overrides map[string]interface{}) map[string]interface{} {
	raw := maps.Clone(base)
	for k, v := range overrides {
		if _, ok := v.(deleteKey); ok {
			delete(raw, k)
			continue
		}
		raw[k] = v
	}
	return raw
}

// prepare runs Config.Prepare on raw and fails the test on an error.
func prepare(t *testing.T, raw map[string]interface{}) (*Config, []string) {
	t.Helper()
	var c Config
	warnings, err := c.Prepare(raw)
	if err != nil {
		t.Fatalf("Prepare(%v): %v", raw, err)
	}
	return &c, warnings
}

// errorList flattens the error Prepare returns into its parts.
func errorList(err error) []error {
	var multi *packersdk.MultiError
	if errors.As(err, &multi) {
		return multi.Errors
	}
	return []error{err}
}

func TestConfigDefaults(t *testing.T) {
	base := baseRaw(t)
	c, warnings := prepare(t, with(base, map[string]interface{}{"output_directory": del}))

	checks := []struct {
		field     string
		got, want interface{}
	}{
		{"libvirt_uri", c.LibvirtURI, "qemu:///system"},
		{"storage_pool", c.StoragePool, "default"},
		{"disk_format", c.DiskFormat, "qcow2"},
		{"disk_interface", c.DiskInterface, "virtio"},
		{"disk_cache", c.DiskCache, "writeback"},
		{"disk_discard", c.DiskDiscard, "unmap"},
		{"cdrom_interface", c.CDROMInterface, "ide"},
		{"disk_size", c.DiskSize, ""},
		{"disk_size (bytes; 0 = decided when the disk is created)", c.diskBytes, uint64(0)},
		{"vm_name", c.VMName, "packer-test"},
		{"domain_type", c.DomainType, "kvm"},
		{"machine_type", c.MachineType, "pc"},
		{"firmware", c.Firmware, "bios"},
		{"secure_boot", c.SecureBoot, false},
		{"cpu_mode (decided with the domain type)", c.CPUMode, ""},
		{"cpus", c.CPUs, 1},
		{"memory", c.Memory, 1024},
		{"net_device", c.NetDevice, "virtio"},
		{"video", c.Video, "vga"},
		{"network_mode", c.NetworkMode, virt.NetworkLibvirt},
		{"network", c.Network, "default"},
		{"network_bridge", c.NetworkBridge, ""},
		{"host_port_min", c.HostPortMin, 2222},
		{"host_port_max", c.HostPortMax, 4444},
		{"output_directory", c.OutputDir, "output-test"},
		{"skip_compaction", c.SkipCompaction, false},
		{"disk_compression", c.DiskCompression, false},
		{"shutdown_timeout", c.ShutdownTimeout, 5 * time.Minute},
		{"shutdownTimeoutSet", c.shutdownTimeoutSet, false},
		{"vnc_bind_address", c.VNCBindAddress, "127.0.0.1"},
		{"vnc_password length", len(c.VNCPassword), 8},
		{"http_bind_address", c.HTTPAddress, "0.0.0.0"},
		{"httpAddressSet", c.httpAddressSet, false},
		{"http_port_min", c.HTTPPortMin, 8000},
		{"http_port_max", c.HTTPPortMax, 9000},
		{"boot_wait", c.BootWait, 10 * time.Second},
		{"iso_urls", len(c.ISOUrls), 1},
		{"iso_target_extension", c.TargetExtension, "iso"},
		{"disk_image_url", c.DiskImageURL, ""},
		{"use_backing_file", c.UseBackingFile, false},
		{"communicator", c.Comm.Type, "ssh"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %#v, want %#v", ch.field, ch.got, ch.want)
		}
	}
	if len(c.ISOUrls) == 1 && c.ISOUrls[0] != base["iso_url"] {
		t.Errorf("iso_urls = %q, want [%q]", c.ISOUrls, base["iso_url"])
	}
	if defaultISODiskSize != 10<<30 {
		t.Errorf("an ISO build's default disk is %d bytes, want 10G", defaultISODiskSize)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "checksum") {
		t.Errorf("warnings = %q, want one about iso_checksum none", warnings)
	}

	// The VNC password is random: two builds do not share one.
	c2, _ := prepare(t, base)
	if c.VNCPassword == c2.VNCPassword {
		t.Errorf("two Prepares generated the same VNC password %q", c.VNCPassword)
	}

	t.Run("session URIs use user networking", func(t *testing.T) {
		for _, uri := range []string{
			"qemu:///session",
			"qemu:///session?socket=/run/user/1000/libvirt/libvirt-sock",
			"qemu+ssh://builder@kvm.example.com/session",
		} {
			c, _ := prepare(t, with(base, map[string]interface{}{"libvirt_uri": uri}))
			if c.NetworkMode != virt.NetworkUser {
				t.Errorf("%s: network_mode = %q, want %q", uri, c.NetworkMode, virt.NetworkUser)
			}
		}
		for _, uri := range []string{"qemu:///system", "qemu+ssh://builder@kvm.example.com/system", "qemu+tcp://kvm/system"} {
			c, _ := prepare(t, with(base, map[string]interface{}{"libvirt_uri": uri}))
			if c.NetworkMode != virt.NetworkLibvirt {
				t.Errorf("%s: network_mode = %q, want %q", uri, c.NetworkMode, virt.NetworkLibvirt)
			}
		}
	})

	t.Run("q35 puts the CD-ROM on SATA", func(t *testing.T) {
		for _, mt := range []string{"q35", "pc-q35-7.2"} {
			c, _ := prepare(t, with(base, map[string]interface{}{"machine_type": mt}))
			if c.CDROMInterface != "sata" {
				t.Errorf("machine_type %s: cdrom_interface = %q, want sata", mt, c.CDROMInterface)
			}
		}
	})

	t.Run("settings the user chose are kept", func(t *testing.T) {
		c, _ := prepare(t, with(base, map[string]interface{}{
			"http_bind_address": "192.0.2.1",
			"shutdown_timeout":  "30m",
			"vnc_password":      "secret",
			"disk_size":         "20G",
			"cpus":              4,
			"memory":            4096,
			"vm_name":           "centos7",
			"cpu_mode":          "host-model",
		}))
		if c.HTTPAddress != "192.0.2.1" || !c.httpAddressSet {
			t.Errorf("http_bind_address = %q (set %v), want 192.0.2.1 (set)", c.HTTPAddress, c.httpAddressSet)
		}
		if c.ShutdownTimeout != 30*time.Minute || !c.shutdownTimeoutSet {
			t.Errorf("shutdown_timeout = %v (set %v), want 30m (set)", c.ShutdownTimeout, c.shutdownTimeoutSet)
		}
		if c.VNCPassword != "secret" {
			t.Errorf("vnc_password = %q, want secret", c.VNCPassword)
		}
		if c.diskBytes != 20<<30 {
			t.Errorf("disk_size 20G = %d bytes, want %d", c.diskBytes, uint64(20<<30))
		}
		if c.CPUs != 4 || c.Memory != 4096 || c.VMName != "centos7" || c.CPUMode != "host-model" {
			t.Errorf("cpus, memory, vm_name, cpu_mode = %d, %d, %q, %q", c.CPUs, c.Memory, c.VMName, c.CPUMode)
		}
	})

	t.Run("disk_image_url build", func(t *testing.T) {
		img := writeFile(t, t.TempDir(), "base.img", 4<<20)
		c, _ := prepare(t, with(base, map[string]interface{}{
			"iso_url": del, "iso_checksum": del,
			"disk_image_url": img, "disk_image_checksum": "none", "use_backing_file": true,
		}))
		if c.diskBytes != 0 || len(c.ISOUrls) != 0 {
			t.Errorf("diskBytes = %d, iso_urls = %q; want 0 (the base image's size) and none", c.diskBytes, c.ISOUrls)
		}
	})
}

// TestConfigAccepts checks valid configurations next to the rejected ones,
// so that a rejection below is not an accident of the base configuration.
func TestConfigAccepts(t *testing.T) {
	base := baseRaw(t)
	dir := t.TempDir()
	full := filepath.Join(dir, "full")
	if err := os.Mkdir(full, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, full, "old.qcow2", 1)
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	code := writeFile(t, dir, "OVMF_CODE.fd", 1)
	vars := writeFile(t, dir, "OVMF_VARS.fd", 1)

	rows := []struct {
		name      string
		overrides map[string]interface{}
	}{
		{"communicator none", map[string]interface{}{"communicator": "none", "ssh_username": del}},
		{"remote ssh URI", map[string]interface{}{"libvirt_uri": "qemu+ssh://builder@kvm.example.com:2222/system?keyfile=/k&no_verify=1"}},
		{"tls URI", map[string]interface{}{"libvirt_uri": "qemu+tls://kvm.example.com/system?pkipath=/pki"}},
		{"socket URI", map[string]interface{}{"libvirt_uri": "qemu+unix:///system?socket=/run/libvirt/libvirt-sock"}},
		{"uefi secure boot on q35", map[string]interface{}{"firmware": "uefi", "machine_type": "q35", "secure_boot": true, "efi_firmware_code": code, "efi_firmware_vars": vars}},
		{"remote efi files are not checked here", map[string]interface{}{"libvirt_uri": "qemu+ssh://kvm/system", "firmware": "uefi", "efi_firmware_code": "/usr/share/OVMF/OVMF_CODE.fd"}},
		{"every disk option", map[string]interface{}{"disk_format": "raw", "disk_interface": "virtio-scsi", "disk_cache": "unsafe", "disk_discard": "ignore", "cdrom_interface": "scsi", "disk_size": "10240"}},
		{"q35 sata", map[string]interface{}{"machine_type": "pc-q35-8.2", "disk_interface": "sata"}},
		{"i440fx versioned", map[string]interface{}{"machine_type": "pc-i440fx-2.11", "disk_interface": "ide"}},
		{"bridge", map[string]interface{}{"network_mode": "bridge", "network_bridge": "br0"}},
		{"user networking ports", map[string]interface{}{"network_mode": "user", "host_port_min": 5000, "host_port_max": 5000}},
		{"other devices", map[string]interface{}{"domain_type": "auto", "net_device": "e1000e", "video": "none", "cpu_mode": "maximum"}},
		{"devices_xml", map[string]interface{}{"devices_xml": `<watchdog model="i6300esb" action="reset"/><rng model="virtio"><backend model="random">/dev/urandom</backend></rng>`}},
		{"boot_steps", map[string]interface{}{"boot_steps": [][]string{{"<tab> text ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg", "kickstart"}, {"<enter>"}}}},
		{"boot_command", map[string]interface{}{"boot_command": []string{"<tab> text<enter>"}}},
		{"boot_command typed through libvirt without VNC", map[string]interface{}{"disable_vnc": true, "boot_command": []string{"<tab> text<enter>"}}},
		{"output_directory exists with -force", map[string]interface{}{"output_directory": full, "packer_force": true}},
		{"output_directory exists and is empty, with -force", map[string]interface{}{"output_directory": empty, "packer_force": true}},
		{"compression", map[string]interface{}{"disk_compression": true}},
		{"vnc on all addresses", map[string]interface{}{"vnc_bind_address": "0.0.0.0", "vnc_password": "12345678"}},
		{"additional ISOs fill the IDE bus", map[string]interface{}{"cd_content": map[string]string{"a": "b"}, "additional_iso_files": isos(2)}},
		{"additional ISOs on sata", map[string]interface{}{"cdrom_interface": "sata", "additional_iso_files": isos(6)}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			prepare(t, with(base, row.overrides))
		})
	}
}

// boot_wait = "auto" is taken out before the SDK reads boot_wait as a
// duration, in whichever raw configuration it is, without changing the
// caller's maps; the settle and timeout defaults apply.
func TestConfigBootWaitAuto(t *testing.T) {
	base := baseRaw(t)
	override := map[string]interface{}{"boot_wait": "auto"}
	var c Config
	if _, err := c.Prepare(base, override); err != nil {
		t.Fatal(err)
	}
	if !c.bootWaitAuto || c.BootWaitSettle != 2*time.Second || c.BootWaitTimeout != 5*time.Minute {
		t.Errorf("auto %v, settle %s, timeout %s; want true, 2s, 5m", c.bootWaitAuto, c.BootWaitSettle, c.BootWaitTimeout)
	}
	if override["boot_wait"] != "auto" {
		t.Errorf("the caller's map was changed: %v", override)
	}
	// As Packer sends an HCL2 source block: a cty object of every field.
	f, diags := hclparse.NewParser().ParseHCL([]byte(`boot_wait = "auto"`), "source.pkr.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	obj, diags := hcldec.Decode(f.Body, hcldec.ObjectSpec((&FlatConfig{}).HCL2Spec()), nil)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	c = Config{}
	if _, err := c.Prepare(obj, base); err != nil {
		t.Fatal(err)
	}
	if !c.bootWaitAuto {
		t.Error("boot_wait = \"auto\" in an HCL2 block was not seen")
	}
	c = Config{}
	if _, err := c.Prepare(base, map[string]interface{}{"boot_wait": "7s", "boot_wait_settle": "5s"}); err != nil {
		t.Fatal(err)
	}
	if c.bootWaitAuto || c.BootWait != 7*time.Second || c.BootWaitSettle != 5*time.Second {
		t.Errorf("auto %v, boot_wait %s, settle %s; want false, 7s, 5s", c.bootWaitAuto, c.BootWait, c.BootWaitSettle)
	}
}

// isos is a raw additional_iso_files of n blocks.
func isos(n int) []map[string]interface{} {
	var l []map[string]interface{}
	for i := range n {
		l = append(l, map[string]interface{}{"iso_url": fmt.Sprintf("https://mirror.example/%d.iso", i), "iso_checksum": "sha256:" + strings.Repeat("ab", 32)})
	}
	return l
}

// Each additional ISO reaches the download step as the SDK's ISO checks
// left it, in order.
func TestAdditionalISOs(t *testing.T) {
	dir := t.TempDir()
	local := writeFile(t, dir, "virtio-win.iso", 1<<20)
	// The SDK reads a file: checksum list here already, so it is local.
	sums := filepath.Join(dir, "SHA256SUMS")
	if err := os.WriteFile(sums, []byte(strings.Repeat("ab", 32)+"  drivers.iso\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, _ := prepare(t, with(baseRaw(t), map[string]interface{}{"additional_iso_files": []map[string]interface{}{
		{"iso_url": local, "iso_checksum": "none"},
		{"iso_url": "https://mirror.example/drivers.iso", "iso_checksum": "file:" + sums},
	}}))
	if len(c.AdditionalISOFiles) != 2 {
		t.Fatalf("additional_iso_files: %+v", c.AdditionalISOFiles)
	}
	for i, want := range []string{local, "https://mirror.example/drivers.iso"} {
		if got := c.AdditionalISOFiles[i].urls; len(got) != 1 || got[0] != want {
			t.Errorf("additional_iso_files[%d] downloads %q, want [%s]", i, got, want)
		}
	}
}

func TestConfigRejectsBadInput(t *testing.T) {
	base := baseRaw(t)
	dir := t.TempDir()
	full := filepath.Join(dir, "full")
	if err := os.Mkdir(full, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, full, "old.qcow2", 1)
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	baseImage := writeFile(t, dir, "base.img", 4<<20)
	code := writeFile(t, dir, "OVMF_CODE.fd", 1)
	missing := filepath.Join(dir, "missing.fd")
	noISO := map[string]interface{}{"iso_url": del, "iso_checksum": del}
	fromImage := func(o map[string]interface{}) map[string]interface{} {
		m := map[string]interface{}{"iso_url": del, "iso_checksum": del, "disk_image_url": baseImage, "disk_image_checksum": "none"}
		maps.Copy(m, o)
		return m
	}
	uefi := func(o map[string]interface{}) map[string]interface{} {
		m := map[string]interface{}{"firmware": "uefi", "machine_type": "q35"}
		maps.Copy(m, o)
		return m
	}

	rows := []struct {
		name      string
		overrides map[string]interface{}
		field     string // the field the error must name
		hint      string // what the error must say is allowed, if anything
		needs     string // a program the check runs
	}{
		// Connection
		{"libvirt_uri unparsable", map[string]interface{}{"libvirt_uri": "qemu://%zz/system"}, "libvirt_uri", "not a URI", ""},
		{"libvirt_uri other driver", map[string]interface{}{"libvirt_uri": "xen:///system"}, "libvirt_uri", "qemu:///system", ""},
		{"libvirt_uri no scheme", map[string]interface{}{"libvirt_uri": "/var/run/libvirt/libvirt-sock"}, "libvirt_uri", "qemu", ""},
		{"libvirt_uri unknown transport", map[string]interface{}{"libvirt_uri": "qemu+http://host/system"}, "libvirt_uri", "ssh", ""},
		{"libvirt_uri bad path", map[string]interface{}{"libvirt_uri": "qemu:///embed"}, "libvirt_uri", "/system or /session", ""},

		// Source
		{"iso_url and disk_image_url", map[string]interface{}{"disk_image_url": baseImage, "disk_image_checksum": "none"}, "disk_image_url", "not both", ""},
		{"iso_urls and disk_image_url", map[string]interface{}{"iso_url": del, "iso_urls": []string{"a.iso"}, "disk_image_url": baseImage, "disk_image_checksum": "none"}, "disk_image_url", "not both", ""},
		{"neither iso_url nor disk_image_url", noISO, "iso_url", "", ""},
		{"iso_url without iso_checksum", map[string]interface{}{"iso_checksum": del}, "iso_checksum", "checksum must be specified", ""},
		{"iso_url and iso_urls", map[string]interface{}{"iso_urls": []string{"b.iso"}}, "iso_url", "iso_urls", ""},
		{"disk_image_url without checksum", fromImage(map[string]interface{}{"disk_image_checksum": del}), "disk_image_checksum", "sha256", ""},
		{"disk_image_checksum bad", fromImage(map[string]interface{}{"disk_image_checksum": "sha256:not-hex"}), "disk_image_checksum", "", ""},
		{"disk_image_checksum without disk_image_url", map[string]interface{}{"disk_image_checksum": "none"}, "disk_image_checksum", "disk_image_url", ""},
		{"use_backing_file without disk_image_url", map[string]interface{}{"use_backing_file": true}, "use_backing_file", "disk_image_url", ""},
		{"disk_size smaller than the base image", fromImage(map[string]interface{}{"disk_size": "1M"}), "disk_size", "virtual size", "qemu-img"},

		// Disk
		{"disk_format", map[string]interface{}{"disk_format": "vmdk"}, "disk_format", "qcow2, raw", ""},
		{"disk_interface", map[string]interface{}{"disk_interface": "scsi"}, "disk_interface", "virtio-scsi", ""},
		{"disk_cache", map[string]interface{}{"disk_cache": "fast"}, "disk_cache", "writeback", ""},
		{"disk_discard", map[string]interface{}{"disk_discard": "on"}, "disk_discard", "unmap, ignore", ""},
		{"cdrom_interface", map[string]interface{}{"cdrom_interface": "virtio"}, "cdrom_interface", "ide, sata, scsi", ""},
		{"additional ISO without iso_url", map[string]interface{}{"additional_iso_files": []map[string]interface{}{{"iso_checksum": "none"}}}, "additional_iso_files[0].iso_url", "required", ""},
		{"additional ISO without iso_checksum", map[string]interface{}{"additional_iso_files": []map[string]interface{}{isos(1)[0], {"iso_url": "b.iso"}}}, "additional_iso_files[1].iso_checksum", "sha256", ""},
		{"additional ISO bad checksum", map[string]interface{}{"additional_iso_files": []map[string]interface{}{{"iso_url": "b.iso", "iso_checksum": "sha256:not-hex"}}}, "additional_iso_files[0]", "", ""},
		{"too many ISOs on IDE", map[string]interface{}{"additional_iso_files": isos(4)}, "additional_iso_files", "cdrom_interface = \"sata\"", ""},
		{"ide disk on q35", map[string]interface{}{"machine_type": "q35", "disk_interface": "ide"}, "disk_interface", "sata", ""},
		{"ide cdrom on q35", map[string]interface{}{"machine_type": "pc-q35-7.2", "cdrom_interface": "ide"}, "cdrom_interface", "sata", ""},
		{"disk_size words", map[string]interface{}{"disk_size": "ten gigs"}, "disk_size", "10G", ""},
		{"disk_size zero", map[string]interface{}{"disk_size": "0"}, "disk_size", "10G", ""},
		{"disk_size unknown unit", map[string]interface{}{"disk_size": "10P"}, "disk_size", "K, M, G or T", ""},
		{"disk_size negative", map[string]interface{}{"disk_size": "-10G"}, "disk_size", "", ""},

		// Domain
		{"vm_name with a slash", map[string]interface{}{"vm_name": "../etc/x"}, "vm_name", "letters, digits", ""},
		{"vm_name with a space", map[string]interface{}{"vm_name": "my vm"}, "vm_name", "letters, digits", ""},
		{"vm_name too long", map[string]interface{}{"vm_name": strings.Repeat("a", 64)}, "vm_name", "63", ""},
		{"domain_type", map[string]interface{}{"domain_type": "xen"}, "domain_type", "kvm, qemu, auto", ""},
		{"machine_type", map[string]interface{}{"machine_type": "virt"}, "machine_type", "q35", ""},
		{"firmware", map[string]interface{}{"firmware": "efi"}, "firmware", "bios, uefi", ""},
		{"secure_boot without uefi", map[string]interface{}{"secure_boot": true, "machine_type": "q35"}, "secure_boot", "uefi", ""},
		{"efi_firmware_code without uefi", map[string]interface{}{"efi_firmware_code": code}, "efi_firmware_code", "uefi", ""},
		{"secure_boot on pc", uefi(map[string]interface{}{"secure_boot": true, "machine_type": "pc"}), "secure_boot", "q35", ""},
		{"efi_firmware_vars without code", uefi(map[string]interface{}{"efi_firmware_vars": code}), "efi_firmware_vars", "efi_firmware_code", ""},
		{"efi_firmware_code missing", uefi(map[string]interface{}{"efi_firmware_code": missing}), "efi_firmware_code", "no such file", ""},
		{"efi_firmware_vars missing", uefi(map[string]interface{}{"efi_firmware_code": code, "efi_firmware_vars": missing}), "efi_firmware_vars", "no such file", ""},
		{"cpu_mode", map[string]interface{}{"cpu_mode": "passthrough"}, "cpu_mode", "host-passthrough", ""},
		{"cpu_mode host-passthrough with qemu", map[string]interface{}{"cpu_mode": "host-passthrough", "domain_type": "qemu"}, "cpu_mode", "maximum", ""},
		{"cpus not a number", map[string]interface{}{"cpus": "two"}, "cpus", "int", ""},
		{"memory not a number", map[string]interface{}{"memory": "1G"}, "memory", "int", ""},
		{"memory too small", map[string]interface{}{"memory": 64}, "memory", "128", ""},
		{"cpus negative", map[string]interface{}{"cpus": -1}, "cpus", "between 1 and 1024", ""},
		{"cpus too many", map[string]interface{}{"cpus": 4096}, "cpus", "between 1 and 1024", ""},
		{"memory negative", map[string]interface{}{"memory": -1024}, "memory", "between 128", ""},
		{"net_device", map[string]interface{}{"net_device": "virtio-net"}, "net_device", "e1000", ""},
		{"video", map[string]interface{}{"video": "vmware"}, "video", "qxl", ""},
		{"devices_xml not well-formed", map[string]interface{}{"devices_xml": `<tpm model="tpm-crb">`}, "devices_xml", "XML", ""},

		// Network
		{"network_mode", map[string]interface{}{"network_mode": "nat"}, "network_mode", "user, network, bridge", ""},
		{"bridge without network_bridge", map[string]interface{}{"network_mode": "bridge"}, "network_bridge", "required", ""},
		{"network_bridge without bridge mode", map[string]interface{}{"network_bridge": "br0"}, "network_bridge", "bridge", ""},
		{"host_port_min > host_port_max", map[string]interface{}{"host_port_min": 5000, "host_port_max": 4000}, "host_port_min", "1-65535", ""},
		{"host_port_max too large", map[string]interface{}{"host_port_max": 70000}, "host_port_max", "1-65535", ""},
		{"host_port_min negative", map[string]interface{}{"host_port_min": -1}, "host_port_min", "1-65535", ""},
		{"http_port_min > http_port_max", map[string]interface{}{"http_port_min": 9000, "http_port_max": 8000}, "http_port_min", "http_port_max", ""},
		{"http_bind_address and http_interface", map[string]interface{}{"http_bind_address": "0.0.0.0", "http_interface": "eth0"}, "http_bind_address", "http_interface", ""},

		// Console
		{"vnc_bind_address host name", map[string]interface{}{"vnc_bind_address": "localhost"}, "vnc_bind_address", "IP address", ""},
		{"vnc_bind_address garbage", map[string]interface{}{"vnc_bind_address": "127.0.0.256"}, "vnc_bind_address", "IP address", ""},
		{"vnc_password too long", map[string]interface{}{"vnc_password": "123456789"}, "vnc_password", "8 characters", ""},
		{"boot_steps and boot_command", map[string]interface{}{"boot_command": []string{"<enter>"}, "boot_steps": [][]string{{"<enter>", "go"}}}, "boot_steps", "not both", ""},
		{"boot_steps step too long", map[string]interface{}{"boot_steps": [][]string{{"<enter>", "go", "extra"}}}, "boot_steps[0]", "description", ""},
		{"boot_steps empty step", map[string]interface{}{"boot_steps": [][]string{{"<enter>"}, {}}}, "boot_steps[1]", "description", ""},
		{"boot_steps without VNC", map[string]interface{}{"disable_vnc": true, "boot_key_transport": "vnc", "boot_steps": [][]string{{"<enter>"}}}, "disable_vnc", "VNC", ""},
		{"boot_command without VNC", map[string]interface{}{"disable_vnc": true, "boot_key_transport": "vnc", "boot_command": []string{"<enter>"}}, "disable_vnc", "VNC", ""},
		{"boot_wait auto without video", map[string]interface{}{"boot_wait": "auto", "video": "none"}, "boot_wait", "video", ""},
		{"boot_wait_settle negative", map[string]interface{}{"boot_wait": "auto", "boot_wait_settle": "-1s"}, "boot_wait_settle", "negative", ""},
		{"boot_wait_timeout negative", map[string]interface{}{"boot_wait_timeout": "-1s"}, "boot_wait_timeout", "negative", ""},
		{"boot_wait neither a duration nor auto", map[string]interface{}{"boot_wait": "soon"}, "boot_wait", "", ""},
		{"boot_key_transport unknown", map[string]interface{}{"boot_key_transport": "usb"}, "boot_key_transport", "\"libvirt\" or \"vnc\"", ""},

		// Output
		{"output_directory not empty", map[string]interface{}{"output_directory": full}, "output_directory", "-force", ""},
		{"disk_size below any system", map[string]interface{}{"disk_size": "10"}, "disk_size", "below 64 MiB", ""},
		// The SDK's output directory step refuses it after the download.
		{"output_directory exists and is empty", map[string]interface{}{"output_directory": empty}, "output_directory", "exists: remove it, or build with -force", ""},
		{"disk_compression with skip_compaction", map[string]interface{}{"skip_compaction": true, "disk_compression": true}, "disk_compression", "skip_compaction", ""},
		{"disk_compression with skip_compaction and -force", map[string]interface{}{"skip_compaction": true, "disk_compression": true, "packer_force": true}, "disk_compression", "skip_compaction", ""},
		{"disk_compression with raw", map[string]interface{}{"disk_format": "raw", "disk_compression": true}, "disk_compression", "qcow2", ""},
		{"use_backing_file with raw", fromImage(map[string]interface{}{"use_backing_file": true, "disk_format": "raw"}), "use_backing_file", "qcow2", ""},
		{"shutdown_timeout negative", map[string]interface{}{"shutdown_timeout": "-5m"}, "shutdown_timeout", "negative", ""},
		{"boot_key_interval negative", map[string]interface{}{"boot_key_interval": "-10ms"}, "boot_key_interval", "negative", ""},

		// Communicator and keys
		{"ssh without ssh_username", map[string]interface{}{"ssh_username": del}, "ssh_username", "", ""},
		{"misspelt key", map[string]interface{}{"disk_fromat": "qcow2"}, "disk_fromat", "unknown configuration key", ""},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			if row.needs != "" {
				if _, err := exec.LookPath(row.needs); err != nil {
					t.Skipf("needs %s: %v", row.needs, err)
				}
			}
			raw := with(base, row.overrides)
			var c Config
			_, err := c.Prepare(raw)
			if err == nil {
				t.Fatalf("Prepare accepted %v; want an error about %s", row.overrides, row.field)
			}
			// The error is about the row's field, and only about it: the
			// rest of the configuration is the valid base.
			errs := errorList(err)
			var about error
			for _, e := range errs {
				if strings.Contains(e.Error(), row.field) {
					about = e
					continue
				}
				t.Errorf("unrelated error: %v", e)
			}
			if about == nil {
				t.Fatalf("error does not name %s: %v", row.field, err)
			}
			if !strings.Contains(about.Error(), row.hint) {
				t.Errorf("error about %s does not say %q: %v", row.field, row.hint, about)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	const (
		K = uint64(1) << 10
		M = uint64(1) << 20
		G = uint64(1) << 30
		T = uint64(1) << 40
	)
	valid := []struct {
		in   string
		want uint64
	}{
		{"1", M},
		{"10240", 10240 * M},
		{"512K", 512 * K},
		{"512k", 512 * K},
		{"512KB", 512 * K},
		{"512KiB", 512 * K},
		{"10240M", 10 * G},
		{"512MiB", 512 * M},
		{"512mb", 512 * M},
		{"10G", 10 * G},
		{"10g", 10 * G},
		{"10GiB", 10 * G},
		{"10GB", 10 * G},
		{"2T", 2 * T},
		{"2TiB", 2 * T},
	}
	for _, v := range valid {
		got, err := field.ParseSize(v.in)
		if err != nil || got != v.want {
			t.Errorf("field.ParseSize(%q) = %d, %v; want %d", v.in, got, err, v.want)
		}
	}
	invalid := []string{
		"", "0", "0G", "G", "MiB", "-1", "-10G", "+10G", "1.5G", "10 G", " 10G", "10G ", "10B", "10IB", "10GI", "16777216T", "18446744073709551615",
		"10P", "10X", "ten", "10GG", "10BI", "10MK", "0x10", "1e3",
		"99999999999999999999", // overflows uint64
	}
	for _, in := range invalid {
		if got, err := field.ParseSize(in); err == nil {
			t.Errorf("field.ParseSize(%q) = %d, want an error", in, got)
		} else if !strings.Contains(err.Error(), "10G") && !strings.Contains(err.Error(), "too large") {
			t.Errorf("field.ParseSize(%q): error %q does not say what a size looks like", in, err)
		}
	}
}

func TestOneOf(t *testing.T) {
	allowed := []string{"qcow2", "raw"}
	if err := field.OneOf("disk_format", "raw", allowed); err != nil {
		t.Errorf("field.OneOf(raw) = %v", err)
	}
	err := field.OneOf("disk_format", "QCOW2", allowed)
	if err == nil || err.Error() != `disk_format "QCOW2" is not one of qcow2, raw` {
		t.Errorf("field.OneOf(QCOW2) = %v", err)
	}
	if err := field.OneOf("disk_format", "", allowed); err == nil {
		t.Error("field.OneOf(\"\") accepted the empty value")
	}
}

func TestCompact(t *testing.T) {
	a, b := errors.New("a"), errors.New("b")
	got := compact([]error{nil, a, nil, nil, b, nil})
	if len(got) != 2 || got[0] != a || got[1] != b {
		t.Errorf("compact = %v, want [a b]", got)
	}
	if got := compact([]error{nil, nil}); len(got) != 0 {
		t.Errorf("compact(nils) = %v, want none", got)
	}
	if got := compact(nil); len(got) != 0 {
		t.Errorf("compact(nil) = %v, want none", got)
	}
}

// A local base image that points at a file of this machine is refused by
// packer validate, before anything is downloaded or booted.
func TestConfigRefusesBackedBaseImage(t *testing.T) {
	dir := t.TempDir()
	backed := filepath.Join(dir, "base.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", "-b", "/etc/hostname", "-F", "raw", backed, "1M").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	raw := with(baseRaw(t), map[string]interface{}{"iso_url": del, "iso_checksum": del, "disk_image_url": backed, "disk_image_checksum": "none"})
	var c Config
	_, err := c.Prepare(raw)
	if err == nil || !strings.Contains(err.Error(), "disk_image_url: the base image "+backed+" (qcow2) has a backing file, /etc/hostname") {
		t.Errorf("Prepare: %v", err)
	}
}
