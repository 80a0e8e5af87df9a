package virt

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// Volume is a storage volume with its path on the libvirt host.
type Volume struct {
	Vol  libvirt.StorageVol
	Path string
}

// CreateVolume creates a volume in pool. With backing set, the volume is a
// qcow2 overlay on that file of the libvirt host. A relative backing path
// can only be a file of this machine (a pool's paths are absolute): it is
// made absolute, as libvirt would look for it in the pool's folder.
func CreateVolume(l *libvirt.Libvirt, pool libvirt.StoragePool, name, format string, capacity uint64, backing *libvirtxml.StorageVolumeBackingStore) (Volume, error) {
	if backing != nil && !filepath.IsAbs(backing.Path) {
		abs, err := filepath.Abs(backing.Path)
		if err != nil {
			return Volume{}, fmt.Errorf("volume %s: backing file %s: %w", name, backing.Path, err)
		}
		b := *backing
		b.Path = abs
		backing = &b
	}
	v := libvirtxml.StorageVolume{
		Name:         name,
		Capacity:     &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: capacity},
		Target:       &libvirtxml.StorageVolumeTarget{Format: &libvirtxml.StorageVolumeTargetFormat{Type: format}},
		BackingStore: backing,
	}
	x, err := v.Marshal()
	if err != nil {
		return Volume{}, err
	}
	vol, err := l.StorageVolCreateXML(pool, x, 0)
	if err != nil {
		return Volume{}, fmt.Errorf("creating volume %s in pool %s: %w", name, pool.Name, err)
	}
	path, err := l.StorageVolGetPath(vol)
	if err != nil {
		l.StorageVolDelete(vol, 0)
		return Volume{}, fmt.Errorf("volume %s: %w", name, err)
	}
	return Volume{Vol: vol, Path: path}, nil
}

// DeleteVolume deletes the named volume of pool; one that does not exist is
// not an error, as cleanup paths call this whatever the build reached.
func DeleteVolume(l *libvirt.Libvirt, pool libvirt.StoragePool, name string) error {
	vol, err := l.StorageVolLookupByName(pool, name)
	if isNoVolume(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("looking up volume %s: %w", name, err)
	}
	if err := l.StorageVolDelete(vol, 0); err != nil && !isNoVolume(err) {
		return fmt.Errorf("deleting volume %s: %w", name, err)
	}
	return nil
}

// Upload streams r (size bytes) into vol.
func Upload(l *libvirt.Libvirt, vol libvirt.StorageVol, r io.Reader, size uint64) error {
	if err := l.StorageVolUpload(vol, r, 0, size, 0); err != nil {
		return fmt.Errorf("uploading into volume %s: %w", vol.Name, err)
	}
	return nil
}

// Download streams vol into w.
func Download(l *libvirt.Libvirt, vol libvirt.StorageVol, w io.Writer) error {
	if err := l.StorageVolDownload(vol, w, 0, 0, 0); err != nil {
		return fmt.Errorf("downloading volume %s: %w", vol.Name, err)
	}
	return nil
}

// isNoVolume detects libvirt's VIR_ERR_NO_STORAGE_VOL (go-libvirt's
// IsNotFound knows domains only).
func isNoVolume(err error) bool {
	var e libvirt.Error
	return errors.As(err, &e) && e.Code == uint32(libvirt.ErrNoStorageVol)
}
