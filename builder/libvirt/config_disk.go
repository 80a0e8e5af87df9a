//go:generate go tool packer-sdc struct-markdown

package libvirt

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/field"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// DiskConfig describes the disk the guest is installed on.
type DiskConfig struct {
	// Size of the disk: a number of MiB, or a number with a K, M, G or T
	// suffix (`10G`). Defaults to `10G` for an ISO build and to the base
	// image's virtual size for a `disk_image_url` build; it may not be
	// smaller than the base image, nor than 64 MiB.
	DiskSize string `mapstructure:"disk_size"`
	// Format of the build disk and of the exported image: `qcow2` (the
	// default) or `raw`.
	DiskFormat string `mapstructure:"disk_format"`
	// Bus of the disk: `virtio` (the default, virtio-blk), `virtio-scsi`,
	// `sata` or `ide`.
	DiskInterface string `mapstructure:"disk_interface"`
	// QEMU cache mode of the disk: `writeback` (the default), `none`,
	// `writethrough`, `directsync` or `unsafe` (fastest; the build disk is
	// thrown away if the host crashes anyway).
	DiskCache string `mapstructure:"disk_cache"`
	// What happens to the guest's discard (TRIM) requests: `unmap` (the
	// default: freed blocks leave the image) or `ignore`.
	DiskDiscard string `mapstructure:"disk_discard"`
	// Bus of the CD-ROM drives (the ISO and `cd_files`): `ide` (the default
	// for `machine_type = "pc"`), `sata` (the default for q35) or `scsi`.
	CDROMInterface string `mapstructure:"cdrom_interface"`

	// diskBytes is DiskSize parsed; 0 = the base image's size.
	diskBytes uint64
	// localBase is the local base image Prepare probed, nil otherwise.
	localBase *probedBase
}

// minDiskSize is the smallest disk_size: below it no system fits, and a
// typo (disk_size = "10" for 10 GiB) would only fail deep in the install.
const minDiskSize = 64 << 20

var (
	diskFormats    = []string{"qcow2", "raw"}
	diskInterfaces = []string{"virtio", "virtio-scsi", "sata", "ide"}
	diskCaches     = []string{"writeback", "none", "writethrough", "directsync", "unsafe"}
	diskDiscards   = []string{"unmap", "ignore"}
	cdInterfaces   = []string{"ide", "sata", "scsi"}
)

func (c *DiskConfig) prepare(machineType string) []error {
	var errs []error
	if c.DiskSize != "" {
		n, err := field.ParseSize(c.DiskSize)
		if err != nil {
			errs = append(errs, fmt.Errorf("disk_size: %w", err))
		}
		c.diskBytes = n
		if err == nil && n < minDiskSize {
			errs = append(errs, fmt.Errorf("disk_size %s: below 64 MiB, which holds no operating system (omit it to take the base image's size, or 10 GiB for an ISO build)", c.DiskSize))
		}
	}
	c.DiskFormat = cmp.Or(c.DiskFormat, "qcow2")
	c.DiskInterface = cmp.Or(c.DiskInterface, "virtio")
	c.DiskCache = cmp.Or(c.DiskCache, "writeback")
	c.DiskDiscard = cmp.Or(c.DiskDiscard, "unmap")
	cd := "ide"
	if virt.IsQ35(machineType) {
		cd = "sata" // q35 has no IDE controller
	}
	c.CDROMInterface = cmp.Or(c.CDROMInterface, cd)
	errs = append(errs,
		field.OneOf("disk_format", c.DiskFormat, diskFormats),
		field.OneOf("disk_interface", c.DiskInterface, diskInterfaces),
		field.OneOf("disk_cache", c.DiskCache, diskCaches),
		field.OneOf("disk_discard", c.DiskDiscard, diskDiscards),
		field.OneOf("cdrom_interface", c.CDROMInterface, cdInterfaces))
	errs = append(errs, virt.CheckBuses(machineType, virt.Bus{Field: "disk_interface", Value: c.DiskInterface}, virt.Bus{Field: "cdrom_interface", Value: c.CDROMInterface}))
	return compact(errs)
}

// compact drops the nil errors of a list of checks.
func compact(errs []error) []error {
	return slices.DeleteFunc(errs, func(e error) bool { return e == nil })
}
