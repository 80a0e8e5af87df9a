package libvirt

import (
	"context"
	"fmt"

	"github.com/digitalocean/go-libvirt"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"libvirt.org/go/libvirtxml"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// defaultISODiskSize is the disk of an ISO build without disk_size: room
// for a server install; the cloud grows the root at first boot.
const defaultISODiskSize = 10 << 30

// stepCreateDisk creates the build disk as a volume of the storage pool:
// empty for an ISO build, an overlay on or a copy of the base image
// otherwise. Cleanup deletes it.
type stepCreateDisk struct {
	config *Config
	name   string
}

func (s *stepCreateDisk) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	conn := state.Get("libvirt").(*libvirt.Libvirt)
	pool := state.Get("pool").(libvirt.StoragePool)
	c := s.config
	s.name = c.VMName + "." + c.DiskFormat

	size := c.diskBytes
	var base image.Info
	basePath, fromImage := state.GetOk("base_image_path")
	if fromImage {
		var err error
		if base, err = image.Inspect(ctx, basePath.(string)); err != nil {
			return halt(state, fmt.Errorf("disk_image_url: %w", err))
		}
		if size == 0 {
			size = base.VirtualSize
		}
		if size < base.VirtualSize {
			return halt(state, fmt.Errorf("disk_size %s is smaller than the base image's virtual size (%d bytes)", c.DiskSize, base.VirtualSize))
		}
	} else if size == 0 {
		size = defaultISODiskSize
	}

	var backing *libvirtxml.StorageVolumeBackingStore
	if fromImage && c.UseBackingFile {
		backing = &libvirtxml.StorageVolumeBackingStore{
			Path:   state.Get("base_image_host_path").(string),
			Format: &libvirtxml.StorageVolumeTargetFormat{Type: base.Format},
		}
	}
	if err := virt.DeleteVolume(conn, pool, s.name); err != nil {
		return halt(state, err)
	}
	ui.Say(fmt.Sprintf("Creating disk %s (%s, %d MiB) in pool %s...", s.name, c.DiskFormat, size>>20, c.StoragePool))
	vol, err := virt.CreateVolume(conn, pool, s.name, c.DiskFormat, size, backing)
	if err != nil {
		return halt(state, err)
	}
	state.Put("disk_volume", vol)

	if fromImage && !c.UseBackingFile {
		if !virt.IsLocal(c.LibvirtURI) {
			return halt(state, fmt.Errorf("disk_image_url without use_backing_file on a remote libvirt host is not supported yet: set use_backing_file = true"))
		}
		ui.Say("Copying the base image into the disk...")
		if err := image.CopyInto(ctx, basePath.(string), vol.Path, c.DiskFormat); err != nil {
			return halt(state, err)
		}
	}
	return multistep.ActionContinue
}

func (s *stepCreateDisk) Cleanup(state multistep.StateBag) {
	if s.name == "" {
		return
	}
	conn := state.Get("libvirt").(*libvirt.Libvirt)
	pool := state.Get("pool").(libvirt.StoragePool)
	if err := virt.DeleteVolume(conn, pool, s.name); err != nil {
		state.Get("ui").(packersdk.Ui).Error(err.Error())
	}
}
