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

// defaultProperties: the guest agent and virtio that every image of this
// plugin has, and what the artifact's state tells (the sysprep
// post-processor's inspection, the builder's machine).
func defaultProperties(a packersdk.Artifact) map[string]string {
	p := map[string]string{"hw_qemu_guest_agent": "yes", "hw_disk_bus": "virtio", "hw_vif_model": "virtio"}
	if g := artifact.Guest(a); g != nil {
		if t := g["os_type"]; t == "linux" || t == "windows" {
			p["os_type"] = t
		}
		if d := g["distro"]; d != "" && d != "unknown" {
			p["os_distro"] = d
			if d == "mswindows" || g["os_type"] == "windows" {
				p["os_distro"] = "windows"
			}
		}
		if v := osVersion(g); v != "" {
			p["os_version"] = v
		}
	}
	if artifact.Firmware(a) == "uefi" {
		p["hw_firmware_type"] = "uefi"
	}
	if virt.IsQ35(artifact.MachineType(a)) {
		p["hw_machine_type"] = "q35"
	}
	return p
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
