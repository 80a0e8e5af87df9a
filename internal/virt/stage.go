package virt

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/digitalocean/go-libvirt"
)

// QEMUCannotReach says why QEMU, run by a system libvirtd as its own user,
// could not open path, or returns "" when it can. libvirt hands QEMU the
// file itself but not the folders above it: each needs "search" permission
// for others. A session libvirtd runs QEMU as the calling user.
func QEMUCannotReach(path, uri string) string {
	if u, err := ParseURI(uri); err != nil || u.Path == "/session" {
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

// Progress wraps a stream in a progress bar: Packer's Ui.TrackProgress.
type Progress func(src string, currentSize, totalSize int64, stream io.ReadCloser) io.ReadCloser

// UploadFile copies the local file src into a new volume name of pool,
// replacing a leftover of that name, and returns it. The volume's format is
// qcow2 for a .qcow2 file, raw otherwise.
func UploadFile(ctx context.Context, conn *libvirt.Libvirt, pool libvirt.StoragePool, src, name string, progress Progress) (Volume, error) {
	f, err := os.Open(src)
	if err != nil {
		return Volume{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Volume{}, err
	}
	format := "raw"
	if strings.HasSuffix(src, ".qcow2") {
		format = "qcow2"
	}
	if err := DeleteVolume(conn, pool, name); err != nil {
		return Volume{}, err
	}
	vol, err := CreateVolume(conn, pool, name, format, uint64(st.Size()), nil)
	if err != nil {
		return Volume{}, err
	}
	r := progress(filepath.Base(src), 0, st.Size(), f)
	defer r.Close()
	if err := Upload(conn, vol.Vol, ContextReader(ctx, r), uint64(st.Size())); err != nil {
		conn.StorageVolDelete(vol.Vol, 0)
		return Volume{}, err
	}
	return vol, nil
}

// ContextReader stops a stream when ctx is cancelled (Ctrl-C).
func ContextReader(ctx context.Context, r io.Reader) readerFunc {
	return func(p []byte) (int, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return r.Read(p)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
