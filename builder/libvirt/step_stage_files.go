package libvirt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

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

// stagedFiles maps the state keys of the local files to the state keys of
// their paths on the libvirt host.
var stagedFiles = []struct{ from, to, role string }{
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
	for _, f := range stagedFiles {
		path, ok := state.GetOk(f.from)
		if !ok || path.(string) == "" {
			continue
		}
		if f.role == "base" && !s.config.UseBackingFile {
			continue // copied into the build disk instead
		}
		src := path.(string)
		if local {
			why := qemuCannotReach(src, s.config.LibvirtURI)
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
	f, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	format := "raw"
	if strings.HasSuffix(src, ".qcow2") {
		format = "qcow2"
	}
	// Delete a leftover of an aborted build of the same name first.
	if err := virt.DeleteVolume(conn, pool, name); err != nil {
		return "", err
	}
	vol, err := virt.CreateVolume(conn, pool, name, format, uint64(st.Size()), nil)
	if err != nil {
		return "", err
	}
	s.uploaded = append(s.uploaded, name)
	ui.Say(fmt.Sprintf("Uploading %s to volume %s...", filepath.Base(src), name))
	r := ui.TrackProgress(filepath.Base(src), 0, st.Size(), f)
	defer r.Close()
	if err := virt.Upload(conn, vol.Vol, contextReader(ctx, r), uint64(st.Size())); err != nil {
		return "", err
	}
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

// qemuCannotReach says why QEMU, run by a system libvirtd as its own user,
// could not open path, or returns "" when it can. libvirt hands QEMU the
// file itself but not the folders above it: each needs "search" permission
// for others. A session libvirtd runs QEMU as the calling user.
func qemuCannotReach(path, uri string) string {
	if u, err := virt.ParseURI(uri); err != nil || u.Path == "/session" {
		return ""
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err.Error()
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		st, err := os.Stat(dir)
		if err != nil {
			return err.Error()
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Sprintf("folder %s is not searchable by others", dir)
		}
		if dir == "/" {
			return ""
		}
	}
}

// contextReader stops a stream when ctx is cancelled (Ctrl-C).
func contextReader(ctx context.Context, r interface{ Read([]byte) (int, error) }) readerFunc {
	return func(p []byte) (int, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return r.Read(p)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
