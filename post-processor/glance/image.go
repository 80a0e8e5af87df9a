package glance

import (
	"fmt"
	"maps"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/artifact"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// glanceFormats maps qemu-img's format names to Glance's.
var glanceFormats = map[string]string{"qcow2": "qcow2", "raw": "raw", "vmdk": "vmdk", "vpc": "vhd", "vhdx": "vhdx", "vdi": "vdi"}

// createOpts is the image record: the settings, the file's format and
// size, and the properties the build knows.
func (c *Config) createOpts(a packersdk.Artifact, info image.Info) images.CreateOpts {
	format := c.DiskFormat
	if format == "" {
		format = glanceFormats[info.Format]
	}
	minDisk := c.MinDisk
	if minDisk == 0 {
		minDisk = int((info.VirtualSize + 1<<30 - 1) >> 30)
	}
	visibility := images.ImageVisibility(c.Visibility)
	opts := images.CreateOpts{
		Name: c.ImageName, DiskFormat: format, ContainerFormat: c.ContainerFormat,
		Visibility: &visibility, Tags: c.Tags, MinDisk: minDisk, MinRAM: c.MinRAM,
		Properties: defaultProperties(a),
	}
	if c.Hidden {
		opts.Hidden = &c.Hidden
	}
	maps.Copy(opts.Properties, c.Properties)
	return opts
}

// defaultProperties: the guest agent that every image of this plugin
// has, and what the artifact's state tells: the builder's machine, disk
// bus and NIC model, the sysprep post-processor's inspection, verify's
// proof of the admin user. An artifact of another builder says none of
// it, and gets virtio, as Nova assumes.
func defaultProperties(a packersdk.Artifact) map[string]string {
	p := map[string]string{"hw_qemu_guest_agent": "yes", "hw_vif_model": "virtio"}
	maps.Copy(p, diskBus(artifact.DiskInterface(a)))
	if m := artifact.NetDevice(a); m != "" {
		p["hw_vif_model"] = m // virtio, e1000, e1000e, rtl8139: Nova's names too
	}
	if arch := artifact.Architecture(a); arch != "" {
		p["architecture"] = arch
	}
	if g := artifact.Guest(a); g != nil {
		if t := g["os_type"]; t == "linux" || t == "windows" {
			p["os_type"] = t
		}
		if d := glanceDistro(g); d != "" {
			p["os_distro"] = d
		}
		if v := osVersion(g); v != "" {
			p["os_version"] = v
		}
	}
	if artifact.Firmware(a) == "uefi" {
		p["hw_firmware_type"] = "uefi"
	}
	if artifact.SecureBoot(a) {
		p["os_secure_boot"] = "required"
	}
	if virt.IsQ35(artifact.MachineType(a)) {
		p["hw_machine_type"] = "q35"
	}
	if u := artifact.AdminUser(a); u != "" {
		p["os_admin_user"] = u
	}
	return p
}

// diskBus is hw_disk_bus (and hw_scsi_model) for the builder's
// disk_interface: the bus the image was installed and booted on.
func diskBus(diskInterface string) map[string]string {
	switch diskInterface {
	case "virtio-scsi":
		return map[string]string{"hw_disk_bus": "scsi", "hw_scsi_model": "virtio-scsi"}
	case "sata", "ide":
		return map[string]string{"hw_disk_bus": diskInterface}
	}
	return map[string]string{"hw_disk_bus": "virtio"}
}

// libguestfsDistros are libguestfs's distro names that Glance's os_distro
// vocabulary (the Glance docs' "useful image properties", which follows
// libosinfo's short ids) spells otherwise; the generic ones it has no
// word for are dropped.
var libguestfsDistros = map[string]string{
	"archlinux":    "arch",
	"mswindows":    "windows",
	"redhat-based": "",
	"suse-based":   "",
	"unknown":      "",
}

// glanceDistro is os_distro in Glance's vocabulary: rhel, centos, rocky,
// debian, ubuntu, fedora, sles, opensuse, arch, windows...
func glanceDistro(g map[string]string) string {
	if g["os_type"] == "windows" {
		return "windows"
	}
	d := g["distro"]
	if v, ok := libguestfsDistros[d]; ok {
		return v
	}
	return d
}

// osVersion is os_version as Glance's users write it: "22.04" for Ubuntu,
// the major version elsewhere ("12", "7").
func osVersion(g map[string]string) string {
	major, minor := g["major_version"], g["minor_version"]
	if major == "" || major == "0" {
		return ""
	}
	if g["distro"] == "ubuntu" {
		return fmt.Sprintf("%s.%02s", major, minor)
	}
	return major
}

// describeAuth says how the post-processor authenticates, without secrets.
func (c *Config) describeAuth() string {
	if c.Cloud != "" {
		return fmt.Sprintf("cloud %q", c.Cloud)
	}
	who := c.Username + c.UserID
	if c.ApplicationCredentialID != "" || c.ApplicationCredentialName != "" {
		who = "application credential " + c.ApplicationCredentialID + c.ApplicationCredentialName
	} else if c.Token != "" {
		who = "a token"
	}
	return fmt.Sprintf("%s as %s", c.IdentityEndpoint, who)
}
