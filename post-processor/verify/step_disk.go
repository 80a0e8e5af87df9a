package verify

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
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
	owned := state.Get("owned").(*virt.Owned)
	in := state.Get("instance").(*instance)
	c := s.config

	staged, err := virt.Stage(ctx, owned, c.StoragePool, s.input, c.VMName+"-image"+filepath.Ext(s.input), s.info.Format, ui)
	if err != nil {
		return step.Halt(state, err)
	}
	if staged.Volume != "" {
		s.volumes = append(s.volumes, staged.Volume)
	}

	in.diskBytes = s.info.VirtualSize + c.increase
	in.resized = in.diskBytes + c.resize
	name := c.VMName + ".qcow2"
	ui.Say(fmt.Sprintf("Creating the instance's disk %s: %d MiB on the image's %d MiB (%s)", name, in.diskBytes>>20, s.info.VirtualSize>>20, s.info.Format))
	vol, err := owned.CreateVolume(c.StoragePool, virt.VolumeSpec{
		Name: name, Format: "qcow2", Capacity: in.diskBytes, Backing: staged.Path, BackingFormat: s.info.Format,
	})
	if err != nil {
		return step.Halt(state, err)
	}
	s.volumes = append(s.volumes, name)
	state.Put("disk", vol)
	return multistep.ActionContinue
}

func (s *stepDisk) Cleanup(state multistep.StateBag) {
	if keep(state, s.config) {
		return
	}
	owned := state.Get("owned").(*virt.Owned)
	// The overlay first: it is the copy's child.
	for i := len(s.volumes) - 1; i >= 0; i-- {
		if err := owned.DeleteVolume(s.config.StoragePool, s.volumes[i]); err != nil {
			state.Get("ui").(packersdk.Ui).Error(err.Error())
		}
	}
}

// keep reports whether cleanup leaves things for debugging:
// keep_on_failure and a run that failed an item or stopped on an error.
// A cancelled run (Ctrl-C) leaves nothing. The run's context tells, as the
// runner marks a cancel from another goroutine, which may not have done it
// when a step that saw the cancel halts.
func keep(state multistep.StateBag, c *Config) bool {
	if !c.KeepOnFailure {
		return false
	}
	if ctx, ok := state.Get("context").(context.Context); ok && ctx.Err() != nil {
		return false
	}
	if _, cancelled := state.GetOk(multistep.StateCancelled); cancelled {
		return false
	}
	_, failed := state.GetOk("failed")
	_, halted := state.GetOk(multistep.StateHalted)
	return failed || halted
}
