package virt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/stream"
)

// Volume is a storage volume with its path on the libvirt host.
type Volume struct {
	Vol  libvirt.StorageVol
	Path string
}

// Name is the volume's name in its pool.
func (v Volume) Name() string { return v.Vol.Name }

// pool looks up a storage pool by name.
func (d *Libvirt) pool(name string) (libvirt.StoragePool, error) {
	pool, err := d.conn.StoragePoolLookupByName(name)
	if err != nil {
		return pool, fmt.Errorf("storage_pool %q: %w", name, err)
	}
	return pool, nil
}

// CheckPool fails unless the pool exists and is active.
func (d *Libvirt) CheckPool(name string) error {
	pool, err := d.pool(name)
	if err != nil {
		return err
	}
	if active, err := d.conn.StoragePoolIsActive(pool); err != nil || active == 0 {
		return fmt.Errorf("storage_pool %q is not active (virsh pool-start %s)", name, name)
	}
	return nil
}

// CreateVolume creates a volume in pool. A relative backing path can only
// be a file of this machine (a pool's paths are absolute): it is made
// absolute, as libvirt would look for it in the pool's folder.
func (d *Libvirt) CreateVolume(poolName string, spec VolumeSpec) (Volume, error) {
	pool, err := d.pool(poolName)
	if err != nil {
		return Volume{}, err
	}
	v := libvirtxml.StorageVolume{
		Name:     spec.Name,
		Capacity: &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: spec.Capacity},
		Target:   &libvirtxml.StorageVolumeTarget{Format: &libvirtxml.StorageVolumeTargetFormat{Type: spec.Format}},
	}
	if spec.Backing != "" {
		if spec.BackingFormat == "" {
			return Volume{}, fmt.Errorf("volume %s: the backing file %s has no format: it is never guessed", spec.Name, spec.Backing)
		}
		path, err := filepath.Abs(spec.Backing)
		if err != nil {
			return Volume{}, fmt.Errorf("volume %s: backing file %s: %w", spec.Name, spec.Backing, err)
		}
		v.BackingStore = &libvirtxml.StorageVolumeBackingStore{
			Path: path, Format: &libvirtxml.StorageVolumeTargetFormat{Type: spec.BackingFormat},
		}
	}
	x, err := v.Marshal()
	if err != nil {
		return Volume{}, err
	}
	vol, err := d.conn.StorageVolCreateXML(pool, x, 0)
	if err != nil {
		return Volume{}, fmt.Errorf("creating volume %s in pool %s: %w", spec.Name, poolName, err)
	}
	path, err := d.conn.StorageVolGetPath(vol)
	if err != nil {
		_ = d.conn.StorageVolDelete(vol, 0)
		return Volume{}, fmt.Errorf("volume %s: %w", spec.Name, err)
	}
	return Volume{Vol: vol, Path: path}, nil
}

// VolumeExists reports whether pool has a volume named name.
func (d *Libvirt) VolumeExists(poolName, name string) (bool, error) {
	pool, err := d.pool(poolName)
	if err != nil {
		return false, err
	}
	_, err = d.conn.StorageVolLookupByName(pool, name)
	if isNoVolume(err) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("looking up volume %s: %w", name, err)
	}
	return true, nil
}

// DeleteVolume deletes the named volume of pool; one that does not exist is
// not an error, as cleanup paths call this whatever the build reached.
func (d *Libvirt) DeleteVolume(poolName, name string) error {
	pool, err := d.pool(poolName)
	if err != nil {
		return err
	}
	vol, err := d.conn.StorageVolLookupByName(pool, name)
	if isNoVolume(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("looking up volume %s: %w", name, err)
	}
	if err := d.conn.StorageVolDelete(vol, 0); err != nil && !isNoVolume(err) {
		return fmt.Errorf("deleting volume %s: %w", name, err)
	}
	return nil
}

// UploadVolume streams size bytes of r into vol; Ctrl-C stops it.
func (d *Libvirt) UploadVolume(ctx context.Context, vol Volume, r io.Reader, size uint64) error {
	if err := d.conn.StorageVolUpload(vol.Vol, stream.Reader(ctx, r), 0, size, 0); err != nil {
		return fmt.Errorf("uploading into volume %s: %w", vol.Vol.Name, err)
	}
	return nil
}

// DownloadVolume streams vol into w; Ctrl-C stops it.
func (d *Libvirt) DownloadVolume(ctx context.Context, vol Volume, w io.Writer) error {
	if err := d.conn.StorageVolDownload(vol.Vol, stream.Writer(ctx, w), 0, 0, 0); err != nil {
		return fmt.Errorf("downloading volume %s: %w", vol.Vol.Name, err)
	}
	return nil
}

// VolumeAllocation is how many bytes vol takes on the host.
func (d *Libvirt) VolumeAllocation(vol Volume) (uint64, error) {
	_, _, allocation, err := d.conn.StorageVolGetInfo(vol.Vol)
	if err != nil {
		return 0, fmt.Errorf("volume %s: %w", vol.Vol.Name, err)
	}
	return allocation, nil
}

// isNoVolume detects libvirt's VIR_ERR_NO_STORAGE_VOL (go-libvirt's
// IsNotFound knows domains only).
func isNoVolume(err error) bool {
	var e libvirt.Error
	return errors.As(err, &e) && e.Code == uint32(libvirt.ErrNoStorageVol)
}
