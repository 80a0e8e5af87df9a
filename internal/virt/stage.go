package virt

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ReadableInPlace is the one rule for whether QEMU, on the libvirt host of
// uri, can open the local file path where it is: the daemon must be this
// machine's own (a unix-socket URI: a TCP or SSH URI may lead anywhere,
// loopback included, through a tunnel) and, for a system daemon, which
// runs QEMU as its own user, every folder above the file must be
// searchable by others (libvirt hands QEMU the file, not the folders). A
// session daemon runs QEMU as the caller. why says what stands in the way.
func ReadableInPlace(uri, path string) (ok bool, why string) {
	u, err := ParseURI(uri)
	if err != nil {
		return false, err.Error()
	}
	if !IsLocal(uri) {
		return false, "the libvirt host is not this machine's own daemon"
	}
	if u.Path == "/session" {
		return true, ""
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return false, err.Error()
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		st, err := os.Stat(dir)
		if err != nil {
			return false, err.Error()
		}
		if st.Mode().Perm()&0o001 == 0 {
			return false, fmt.Sprintf("folder %s is not searchable by others", dir)
		}
		if dir == "/" {
			return true, ""
		}
	}
}

// UI is what staging shows its user; Packer's packersdk.Ui is one.
type UI interface {
	Say(string)
	TrackProgress(src string, currentSize, totalSize int64, stream io.ReadCloser) io.ReadCloser
}

// Staged is a local file made readable by QEMU on the libvirt host.
type Staged struct {
	// Path is where QEMU opens it: the file itself, or its volume's path.
	Path string
	// Volume is the volume it was uploaded to ("" when used in place); the
	// stager deletes it when done.
	Volume string
	// Why it could not be used in place ("" when it was).
	Why string
}

// Stage makes the local file src readable by QEMU on the libvirt host of
// the build o: in place where ReadableInPlace allows, otherwise uploaded
// into a new volume of pool named name, in the given format (never
// guessed from the file).
func Stage(ctx context.Context, o *Owned, pool, src, name, format string, ui UI) (Staged, error) {
	ok, why := ReadableInPlace(o.Driver().URI(), src)
	if ok {
		return Staged{Path: src}, nil
	}
	ui.Say(fmt.Sprintf("Uploading %s to volume %s of pool %s (QEMU cannot read it in place: %s)...", filepath.Base(src), name, pool, why))
	vol, err := uploadFile(ctx, o, pool, src, name, format, ui)
	if err != nil {
		return Staged{}, err
	}
	return Staged{Path: vol.Path, Volume: name, Why: why}, nil
}

// uploadFile copies the local file src into a new volume of pool and
// returns it. A failed upload leaves no volume.
func uploadFile(ctx context.Context, o *Owned, pool, src, name, format string, ui UI) (Volume, error) {
	f, err := os.Open(src)
	if err != nil {
		return Volume{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Volume{}, err
	}
	vol, err := o.CreateVolume(pool, VolumeSpec{Name: name, Format: format, Capacity: uint64(st.Size())})
	if err != nil {
		return Volume{}, err
	}
	r := ui.TrackProgress(filepath.Base(src), 0, st.Size(), f)
	defer r.Close()
	if err := o.Driver().UploadVolume(ctx, vol, r, uint64(st.Size())); err != nil {
		_ = o.DeleteVolume(pool, name)
		return Volume{}, err
	}
	return vol, nil
}
