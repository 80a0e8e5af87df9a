package libvirt

import (
	"context"
	"fmt"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// defaultISODiskSize is the disk of an ISO build without disk_size: room
// for a server install; the cloud grows the root at first boot.
const defaultISODiskSize = 10 << 30

// stepCreateDisk creates the build disk as a volume of the storage pool:
// empty for an ISO build, an overlay on or a copy of the base image
// otherwise. Cleanup deletes it; a volume of its name that the build did
// not create stops the build and is left alone.
type stepCreateDisk struct {
	config *Config
	// copyInto is image.CopyInto; tests replace it.
	copyInto func(ctx context.Context, src, srcFormat, dst, dstFormat string) error
	name     string
}

func (s *stepCreateDisk) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	owned := state.Get("owned").(*virt.Owned)
	c := s.config
	name := c.VMName + "." + c.DiskFormat

	spec := virt.VolumeSpec{Name: name, Format: c.DiskFormat, Capacity: c.diskBytes}
	base, fromImage := state.GetOk("base_image_info")
	if fromImage && spec.Capacity == 0 {
		spec.Capacity = base.(image.Info).VirtualSize
	}
	if spec.Capacity == 0 {
		spec.Capacity = defaultISODiskSize
	}
	if fromImage && c.UseBackingFile {
		spec.Backing = state.Get("base_image_host_path").(string)
		spec.BackingFormat = base.(image.Info).Format
	}
	how := "empty"
	if spec.Backing != "" {
		how = "an overlay on the base image"
	} else if fromImage {
		how = "a copy of the base image"
	}
	ui.Say(fmt.Sprintf("Creating disk %s (%s, %d MiB, %s) in pool %s...", name, c.DiskFormat, spec.Capacity>>20, how, c.StoragePool))
	vol, err := owned.CreateVolume(c.StoragePool, spec)
	if err != nil {
		return step.Halt(state, err)
	}
	s.name = name
	state.Put("disk_volume", vol)

	if fromImage && !c.UseBackingFile {
		// (Prepare refuses this on a remote libvirt host: vol.Path is a
		// file of this machine.)
		ui.Say("Copying the base image into the disk...")
		if err := s.copyInto(ctx, state.Get("base_image_path").(string), base.(image.Info).Format, vol.Path, c.DiskFormat); err != nil {
			return step.Halt(state, err)
		}
	}
	return multistep.ActionContinue
}

func (s *stepCreateDisk) Cleanup(state multistep.StateBag) {
	if s.name == "" {
		return
	}
	owned := state.Get("owned").(*virt.Owned)
	if err := owned.DeleteVolume(s.config.StoragePool, s.name); err != nil {
		state.Get("ui").(packersdk.Ui).Error(err.Error())
	}
}
