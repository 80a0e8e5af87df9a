package verify

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/digitalocean/go-libvirt"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"
	"libvirt.org/go/libvirtxml"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// stepDisk makes the instance's disk as Nova does: a qcow2 overlay, larger
// than the image, on the image itself, which is never written to. Where
// QEMU cannot read the image in place (a remote libvirt host, a private
// folder), a copy goes into the storage pool first. Cleanup deletes both.
type stepDisk struct {
	config  *Config
	input   string
	info    image.Info
	volumes []string
}

func (s *stepDisk) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	conn := state.Get("libvirt").(*libvirt.Libvirt)
	pool := state.Get("pool").(libvirt.StoragePool)
	in := state.Get("instance").(*instance)
	c := s.config

	backing := s.input
	why := "the libvirt host is another machine"
	if virt.OnThisMachine(c.LibvirtURI) {
		why = virt.QEMUCannotReach(s.input, c.LibvirtURI)
	}
	if why != "" {
		name := c.VMName + "-image" + filepath.Ext(s.input)
		ui.Say(fmt.Sprintf("QEMU cannot read %s (%s): copying it into storage pool %s...", s.input, why, c.StoragePool))
		s.volumes = append(s.volumes, name)
		vol, err := virt.UploadFile(ctx, conn, pool, s.input, name, ui.TrackProgress)
		if err != nil {
			return halt(state, err)
		}
		backing = vol.Path
	}

	in.diskBytes = s.info.VirtualSize + c.increase
	in.resized = in.diskBytes + c.resize
	name := c.VMName + ".qcow2"
	if err := virt.DeleteVolume(conn, pool, name); err != nil {
		return halt(state, err)
	}
	ui.Say(fmt.Sprintf("Creating the instance's disk %s: %d MiB on the image's %d MiB (%s)", name, in.diskBytes>>20, s.info.VirtualSize>>20, s.info.Format))
	s.volumes = append(s.volumes, name)
	vol, err := virt.CreateVolume(conn, pool, name, "qcow2", in.diskBytes, &libvirtxml.StorageVolumeBackingStore{
		Path: backing, Format: &libvirtxml.StorageVolumeTargetFormat{Type: s.info.Format},
	})
	if err != nil {
		return halt(state, err)
	}
	state.Put("disk", vol)
	return multistep.ActionContinue
}

func (s *stepDisk) Cleanup(state multistep.StateBag) {
	if keep(state, s.config) {
		return
	}
	conn := state.Get("libvirt").(*libvirt.Libvirt)
	pool := state.Get("pool").(libvirt.StoragePool)
	// The overlay first: it is the copy's child.
	for i := len(s.volumes) - 1; i >= 0; i-- {
		if err := virt.DeleteVolume(conn, pool, s.volumes[i]); err != nil {
			state.Get("ui").(packersdk.Ui).Error(err.Error())
		}
	}
}

// keep reports whether cleanup leaves things for debugging:
// keep_on_failure and a run that failed an item or stopped on an error.
// A cancelled run (Ctrl-C) leaves nothing.
func keep(state multistep.StateBag, c *Config) bool {
	if !c.KeepOnFailure {
		return false
	}
	if _, cancelled := state.GetOk(multistep.StateCancelled); cancelled {
		return false
	}
	_, failed := state.GetOk("failed")
	_, halted := state.GetOk(multistep.StateHalted)
	return failed || halted
}
