//go:generate go tool packer-sdc struct-markdown

package libvirt

import (
	"cmp"
	"fmt"
	"os"
)

// OutputConfig says where the exported disk goes and how it is written.
type OutputConfig struct {
	// The directory the disk image and console log are written to. Defaults
	// to `output-<build name>`. It must not exist, unless the build runs
	// with `-force`, which deletes it first. A build that fails or is cancelled deletes
	// what it wrote there but its evidence, `console.log` and the checklist
	// report, and prints where they are.
	OutputDir string `mapstructure:"output_directory"`
	// Export the disk as it is, without `qemu-img convert` dropping unused
	// and zeroed clusters. Faster, and the image is larger.
	SkipCompaction bool `mapstructure:"skip_compaction"`
	// With qcow2: compress the exported image (`qemu-img convert -c`).
	// Smaller, slower to write, and slower to read until the cloud copies it.
	DiskCompression bool `mapstructure:"disk_compression"`
}

func (c *OutputConfig) prepare(buildName, diskFormat string, force bool) []error {
	c.OutputDir = cmp.Or(c.OutputDir, "output-"+buildName)
	var errs []error
	// As the SDK's output directory step will judge it, after the
	// download: any directory there, even empty, stops a build without
	// -force.
	if _, err := os.Stat(c.OutputDir); err == nil && !force {
		errs = append(errs, fmt.Errorf("output_directory %q exists: remove it, or build with -force (which deletes it)", c.OutputDir))
	}
	if c.SkipCompaction && c.DiskCompression {
		errs = append(errs, fmt.Errorf("disk_compression: cannot compress with skip_compaction set"))
	}
	if c.DiskCompression && diskFormat == "raw" {
		errs = append(errs, fmt.Errorf("disk_compression: raw images cannot be compressed; use disk_format = \"qcow2\""))
	}
	return errs
}
