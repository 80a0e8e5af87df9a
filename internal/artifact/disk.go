// Package artifact reads what post-processors need from the artifact they
// are given.
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

// Disk finds the artifact's one disk file: the "disk_path" its state
// names (this plugin's builder), its only file, or the one file with a
// disk image's extension or a format qemu-img recognises (the QEMU builder
// writes files without an extension).
func Disk(ctx context.Context, a packersdk.Artifact) (string, image.Info, error) {
	path, _ := a.State("disk_path").(string)
	if path == "" {
		files := a.Files()
		var disks []string
		for _, f := range files {
			if len(files) == 1 || HasDiskExtension(f) {
				disks = append(disks, f)
				continue
			}
			if info, err := image.Inspect(ctx, f); err == nil && info.Format != "raw" {
				disks = append(disks, f)
			}
		}
		if len(disks) != 1 {
			return "", image.Info{}, fmt.Errorf("the input artifact (%s) has %d disk files among %q: a post-processor of this plugin takes an artifact with one", a.BuilderId(), len(disks), files)
		}
		path = disks[0]
	}
	info, err := image.Inspect(ctx, path)
	if err != nil {
		return "", image.Info{}, fmt.Errorf("the input disk: %w", err)
	}
	return path, info, nil
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
