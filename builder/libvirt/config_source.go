//go:generate go tool packer-sdc struct-markdown

package libvirt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/packer-plugin-sdk/multistep/commonsteps"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/image"
)

// SourceConfig is the alternative to an install ISO: a base disk image
// (a distribution's cloud image, say) that the build boots and changes.
type SourceConfig struct {
	// URL (or path) of a base disk image, qcow2 or raw, used instead of
	// `iso_url`. It is downloaded and cached like an ISO.
	DiskImageURL string `mapstructure:"disk_image_url"`
	// Checksum of `disk_image_url`, in the form `sha256:...` or
	// `file:URL-of-a-SHA256SUMS`; `none` skips the check.
	DiskImageChecksum string `mapstructure:"disk_image_checksum"`
	// Build on a copy-on-write overlay of the base image instead of a full
	// copy. The exported disk is always standalone.
	UseBackingFile bool `mapstructure:"use_backing_file"`
}

// prepare checks the source: a base image, or else the ISO settings.
func (c *SourceConfig) prepare(iso *commonsteps.ISOConfig, ctx *interpolate.Context) ([]string, []error) {
	if c.DiskImageURL == "" {
		if c.UseBackingFile {
			return nil, []error{errors.New("use_backing_file: needs disk_image_url")}
		}
		if c.DiskImageChecksum != "" {
			return nil, []error{errors.New("disk_image_checksum: needs disk_image_url")}
		}
		warnings, errs := iso.Prepare(ctx)
		for i, err := range errs {
			errs[i] = fmt.Errorf("iso_url/iso_checksum: %w", err)
		}
		return warnings, errs
	}
	var errs []error
	if iso.RawSingleISOUrl != "" || len(iso.ISOUrls) > 0 {
		errs = append(errs, errors.New("disk_image_url: set either an ISO (iso_url, iso_urls) or a base image (disk_image_url), not both"))
	}
	if c.DiskImageChecksum == "" {
		return nil, append(errs, errors.New("disk_image_checksum: required with disk_image_url (sha256:..., file:URL, or none)"))
	}
	// The SDK's ISO checks parse the checksum the same way the download will.
	img := commonsteps.ISOConfig{RawSingleISOUrl: c.DiskImageURL, ISOChecksum: c.DiskImageChecksum}
	if _, ierrs := img.Prepare(ctx); len(ierrs) > 0 {
		for _, err := range ierrs {
			errs = append(errs, fmt.Errorf("disk_image_checksum: %w", err))
		}
	}
	return nil, errs
}

// probedBase is a local base image Prepare probed.
type probedBase struct {
	path string
	info image.Info
}

// checkBaseImageSize checks a base image that is a local file as the
// build will, so that packer validate tells: its size against disk_size,
// and that it points at no other file. A URL is checked once downloaded.
func (c *Config) checkBaseImageSize() []error {
	path, ok := localPath(c.DiskImageURL)
	if !ok {
		return nil
	}
	info, err := image.Inspect(context.Background(), path, "")
	if err != nil {
		return []error{fmt.Errorf("disk_image_url: %w", err)}
	}
	if err := info.SelfContained("disk_image_url: the base image " + path); err != nil {
		return []error{err}
	}
	// The build uses the file in place: its probe is this one.
	c.localBase = &probedBase{path: path, info: info}
	if err := c.fitsBaseImage(info); err != nil {
		return []error{err}
	}
	return nil
}

// fitsBaseImage fails a disk_size smaller than the base image: the copy or
// overlay would cut its end off. Prepare asks it of a local file, the
// build of the downloaded one.
func (c *Config) fitsBaseImage(base image.Info) error {
	if c.diskBytes > 0 && c.diskBytes < base.VirtualSize {
		return fmt.Errorf("disk_size %s is smaller than the base image's virtual size (%d bytes)", c.DiskSize, base.VirtualSize)
	}
	return nil
}

// localPath returns the file a URL or path names, if it is a local file
// that exists.
func localPath(s string) (string, bool) {
	p := strings.TrimPrefix(s, "file://")
	if strings.Contains(p, "://") {
		return "", false
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		return "", false
	}
	return p, true
}
