package verify

import (
	"context"
	"os"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// stepStageConfigDrive puts the config drive the SDK's StepCreateCD made
// where QEMU can read it (virt.Stage): in place when it can, else in the
// storage pool (deleted on cleanup).
type stepStageConfigDrive struct {
	config *Config
	volume string
}

func (s *stepStageConfigDrive) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	owned := state.Get("owned").(*virt.Owned)
	path := state.Get("cd_path").(string)
	c := s.config
	// It holds the password in user-data: for root (and QEMU, which
	// libvirt gives it to while the domain runs) only.
	if err := os.Chmod(path, 0o600); err != nil {
		return step.Halt(state, err)
	}
	staged, err := virt.Stage(ctx, owned, c.StoragePool, path, c.VMName+"-config.iso", "raw", ui)
	if err != nil {
		return step.Halt(state, err)
	}
	s.volume = staged.Volume
	state.Put("config_drive", staged.Path)
	return multistep.ActionContinue
}

func (s *stepStageConfigDrive) Cleanup(state multistep.StateBag) {
	if s.volume == "" || keep(state, s.config) {
		return
	}
	owned := state.Get("owned").(*virt.Owned)
	if err := owned.DeleteVolume(s.config.StoragePool, s.volume); err != nil {
		state.Get("ui").(packersdk.Ui).Error(err.Error())
	}
}
