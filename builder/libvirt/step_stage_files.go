package libvirt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// stepStageFiles makes the files the domain boots from (the ISO, the CD and
// floppy images, a base image used as a backing file) readable by QEMU on
// the libvirt host (virt.Stage): in place where it can read them, else
// uploaded into the storage pool, and those copies deleted on cleanup.
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
	owned := state.Get("owned").(*virt.Owned)
	c := s.config
	files := slices.Clone(stagedFiles)
	for i := range c.AdditionalISOFiles {
		from, to := additionalISOKey(i)
		files = append(files, stagedFile{from, to, fmt.Sprintf("iso%d", i+1)})
	}
	for _, f := range files {
		path, ok := state.GetOk(f.from)
		if !ok || path.(string) == "" {
			continue
		}
		format := "raw" // ISO 9660, FAT floppies
		if f.role == "base" {
			if !c.UseBackingFile {
				continue // copied into the build disk instead
			}
			format = state.Get("base_image_info").(image.Info).Format
		}
		src := path.(string)
		if f.role == "cd" || f.role == "floppy" {
			// They may hold passwords (user-data, a kickstart): for root
			// and QEMU, which libvirt hands them to, only.
			if err := os.Chmod(src, 0o600); err != nil {
				return step.Halt(state, err)
			}
		}
		name := fmt.Sprintf("%s-%s%s", c.VMName, f.role, filepath.Ext(src))
		staged, err := virt.Stage(ctx, owned, c.StoragePool, src, name, format, ui)
		if err != nil {
			return step.Halt(state, err)
		}
		if staged.Volume != "" {
			s.uploaded = append(s.uploaded, staged.Volume)
		}
		state.Put(f.to, staged.Path)
	}
	return multistep.ActionContinue
}

func (s *stepStageFiles) Cleanup(state multistep.StateBag) {
	if len(s.uploaded) == 0 {
		return
	}
	owned := state.Get("owned").(*virt.Owned)
	for _, name := range s.uploaded {
		if err := owned.DeleteVolume(s.config.StoragePool, name); err != nil {
			state.Get("ui").(packersdk.Ui).Error(err.Error())
		}
	}
}
