package verify

import (
	"context"
	"fmt"
	"os"

	"github.com/digitalocean/go-libvirt"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// stepStageConfigDrive puts the config drive the SDK's StepCreateCD made
// where QEMU can read it: in place when it can, else in the storage pool
// (deleted on cleanup).
type stepStageConfigDrive struct {
	config *Config
	volume string
}

func (s *stepStageConfigDrive) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	path := state.Get("cd_path").(string)
	c := s.config
	// It holds the password in user-data: for root (and QEMU, which
	// libvirt gives it to while the domain runs) only.
	if err := os.Chmod(path, 0o600); err != nil {
		return halt(state, err)
	}
	if virt.OnThisMachine(c.LibvirtURI) && virt.QEMUCannotReach(path, c.LibvirtURI) == "" {
		state.Put("config_drive", path)
		return multistep.ActionContinue
	}
	conn := state.Get("libvirt").(*libvirt.Libvirt)
	pool := state.Get("pool").(libvirt.StoragePool)
	s.volume = c.VMName + "-config.iso"
	ui.Say(fmt.Sprintf("Uploading the config drive to volume %s...", s.volume))
	vol, err := virt.UploadFile(ctx, conn, pool, path, s.volume, ui.TrackProgress)
	if err != nil {
		return halt(state, err)
	}
	state.Put("config_drive", vol.Path)
	return multistep.ActionContinue
}

func (s *stepStageConfigDrive) Cleanup(state multistep.StateBag) {
	if s.volume == "" || keep(state, s.config) {
		return
	}
	conn := state.Get("libvirt").(*libvirt.Libvirt)
	pool := state.Get("pool").(libvirt.StoragePool)
	if err := virt.DeleteVolume(conn, pool, s.volume); err != nil {
		state.Get("ui").(packersdk.Ui).Error(err.Error())
	}
}
