// Package artifact is the artifact contract: the state keys this plugin's
// components write (keys.go), their getters, and how a post-processor finds
// the disk of the artifact it is given.
package artifact

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	packersdk "github.com/hashicorp/packer-plugin-sdk/packer"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
)

var diskExtensions = []string{".qcow2", ".img", ".raw", ".vmdk", ".vhdx", ".vhd", ".vdi"}

// Disk finds the artifact's one disk file and what is known of it. Its
// path is the state's "disk_path" (this plugin's components), else the
// artifact's only file, or the one file with a disk image's extension or
// a format qemu-img recognises (the QEMU builder writes files without an
// extension). Its format and virtual size come from the state where the
// component that wrote the file put them; only an artifact that names
// neither is probed with qemu-img, once. A probed disk that points at other
// files (a backing file, a data file) is refused: no component of this
// plugin writes one.
func Disk(ctx context.Context, a packersdk.Artifact) (string, image.Info, error) {
	path := DiskPath(a)
	format, size := DiskFormat(a), VirtualSize(a)
	if path != "" && format != "" && size > 0 {
		return path, image.Info{Format: format, VirtualSize: size}, nil
	}
	if path == "" {
		var err error
		if path, err = onlyDisk(ctx, a); err != nil {
			return "", image.Info{}, err
		}
	}
	info, err := image.Inspect(ctx, path, format)
	if err != nil {
		return "", image.Info{}, fmt.Errorf("the input disk: %w", err)
	}
	if err := info.SelfContained("the input disk " + path); err != nil {
		return "", image.Info{}, err
	}
	return path, info, nil
}

func onlyDisk(ctx context.Context, a packersdk.Artifact) (string, error) {
	files := a.Files()
	var disks []string
	for _, f := range files {
		if len(files) == 1 || HasDiskExtension(f) {
			disks = append(disks, f)
			continue
		}
		if info, err := image.Inspect(ctx, f, ""); err == nil && info.Format != "raw" {
			disks = append(disks, f)
		}
	}
	if len(disks) != 1 {
		return "", fmt.Errorf("the input artifact (%s) has %d disk files among %q: a post-processor of this plugin takes an artifact with one", a.BuilderId(), len(disks), files)
	}
	return disks[0], nil
}

// HasDiskExtension: whether path ends in a disk image's extension.
func HasDiskExtension(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	for _, e := range diskExtensions {
		if ext == e {
			return true
		}
	}
	return false
}
