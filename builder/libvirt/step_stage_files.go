package libvirt

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/digitalocean/go-libvirt"
	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// stepStageFiles makes the files the domain boots from (the ISO, the CD and
// floppy images, a base image used as a backing file) readable by QEMU on
// the libvirt host. A local file QEMU can reach is used where it is; any
// other is uploaded into the storage pool, and that copy is deleted on
// cleanup.
type stepStageFiles struct {
	config   *Config
	uploaded []string
}

type stagedFile struct{ from, to, role string }

// stagedFiles maps the state keys of the local files to the state keys of
// their paths on the libvirt host.
var stagedFiles = []stagedFile{
	{"iso_path", "iso_host_path", "iso"},
	{"cd_path", "cd_host_path", "cd"},
	{"floppy_path", "floppy_host_path", "floppy"},
	{"base_image_path", "base_image_host_path", "base"},
}

func (s *stepStageFiles) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	ui := state.Get("ui").(packersdk.Ui)
	conn := state.Get("libvirt").(*libvirt.Libvirt)
	pool := state.Get("pool").(libvirt.StoragePool)
	local := virt.IsLocal(s.config.LibvirtURI)
	files := slices.Clone(stagedFiles)
	for i := range s.config.AdditionalISOFiles {
		from, to := additionalISOKey(i)
		files = append(files, stagedFile{from, to, fmt.Sprintf("iso%d", i+1)})
	}
	for _, f := range files {
		path, ok := state.GetOk(f.from)
		if !ok || path.(string) == "" {
			continue
		}
		if f.role == "base" && !s.config.UseBackingFile {
			continue // copied into the build disk instead
		}
		src := path.(string)
		if local {
			why := virt.QEMUCannotReach(src, s.config.LibvirtURI)
			if why == "" {
				state.Put(f.to, src)
				continue
			}
			ui.Say(fmt.Sprintf("QEMU cannot read %s (%s): copying it into storage pool %s", src, why, s.config.StoragePool))
		}
		name := fmt.Sprintf("%s-%s%s", s.config.VMName, f.role, filepath.Ext(src))
		hostPath, err := s.upload(ctx, ui, conn, pool, src, name)
		if err != nil {
			return halt(state, err)
		}
		state.Put(f.to, hostPath)
	}
	return multistep.ActionContinue
}

func (s *stepStageFiles) upload(ctx context.Context, ui packersdk.Ui, conn *libvirt.Libvirt, pool libvirt.StoragePool, src, name string) (string, error) {
	ui.Say(fmt.Sprintf("Uploading %s to volume %s...", filepath.Base(src), name))
	vol, err := virt.UploadFile(ctx, conn, pool, src, name, ui.TrackProgress)
	if err != nil {
		return "", err
	}
	s.uploaded = append(s.uploaded, name)
	return vol.Path, nil
}

func (s *stepStageFiles) Cleanup(state multistep.StateBag) {
	if len(s.uploaded) == 0 {
		return
	}
	conn := state.Get("libvirt").(*libvirt.Libvirt)
	pool := state.Get("pool").(libvirt.StoragePool)
	for _, name := range s.uploaded {
		if err := virt.DeleteVolume(conn, pool, name); err != nil {
			state.Get("ui").(packersdk.Ui).Error(err.Error())
		}
	}
}
