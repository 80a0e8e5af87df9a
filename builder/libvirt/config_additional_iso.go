//go:generate go tool packer-sdc struct-markdown

package libvirt

import (
	"fmt"

	"github.com/hashicorp/packer-plugin-sdk/multistep/commonsteps"
	"github.com/hashicorp/packer-plugin-sdk/template/interpolate"
)

// AdditionalISOConfig attaches more ISOs than the install medium: a driver
// disc such as virtio-win, which Windows Setup needs to see a virtio disk.
type AdditionalISOConfig struct {
	// ISOs attached as further CD-ROM drives, in order, after the install
	// ISO and the `cd_files` CD, on `cdrom_interface`'s bus. Each is
	// downloaded, checked and cached like `iso_url`, and uploaded into the
	// storage pool where QEMU cannot read it where it is (a remote host).
	// A block each:
	//
	// ```hcl
	// additional_iso_files {
	//   iso_url      = "https://fedorapeople.org/.../virtio-win-0.1.229.iso"
	//   iso_checksum = "sha256:..."
	// }
	// ```
	AdditionalISOFiles []AdditionalISO `mapstructure:"additional_iso_files"`
}

// AdditionalISO is one ISO of `additional_iso_files`.
type AdditionalISO struct {
	// URL or path of the ISO, as for `iso_url`.
	ISOUrl string `mapstructure:"iso_url" required:"true"`
	// Checksum of the ISO, as for `iso_checksum`: `sha256:...`,
	// `file:URL-of-a-SHA256SUMS`, or `none`.
	ISOChecksum string `mapstructure:"iso_checksum" required:"true"`

	urls []string // ISOUrl as the download step takes it
}

// The IDE bus of machine type pc has two channels of two devices each.
const ideDevices = 4

func (c *AdditionalISOConfig) prepare(ctx *interpolate.Context) []error {
	var errs []error
	for i := range c.AdditionalISOFiles {
		iso := &c.AdditionalISOFiles[i]
		field := fmt.Sprintf("additional_iso_files[%d]", i)
		if iso.ISOUrl == "" {
			errs = append(errs, fmt.Errorf("%s.iso_url: required", field))
			continue
		}
		if iso.ISOChecksum == "" {
			errs = append(errs, fmt.Errorf("%s.iso_checksum: required (sha256:..., file:URL, or none)", field))
			continue
		}
		// The SDK's ISO checks parse the URL and checksum the way the
		// download will.
		sdk := commonsteps.ISOConfig{RawSingleISOUrl: iso.ISOUrl, ISOChecksum: iso.ISOChecksum}
		_, ierrs := sdk.Prepare(ctx)
		for _, err := range ierrs {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
		}
		iso.urls = sdk.ISOUrls
	}
	return errs
}

// checkIDESlots fails a build that puts more devices on the IDE bus than it
// has.
func (c *Config) checkIDESlots() []error {
	n := 0
	if c.CDROMInterface == "ide" {
		n += len(c.AdditionalISOFiles)
		if c.DiskImageURL == "" {
			n++ // the install ISO
		}
		if len(c.CDFiles) > 0 || len(c.CDContent) > 0 {
			n++
		}
	}
	if c.DiskInterface == "ide" {
		n++
	}
	if n > ideDevices {
		return []error{fmt.Errorf("additional_iso_files: %d devices on the IDE bus (the disk, the ISOs and the cd_files CD), which has room for %d; set cdrom_interface = \"sata\" or \"scsi\"", n, ideDevices)}
	}
	return nil
}

// additionalISOKey is the state key of the downloaded file of
// additional_iso_files[i], and of its path on the libvirt host.
func additionalISOKey(i int) (local, host string) {
	return fmt.Sprintf("additional_iso_path_%d", i), fmt.Sprintf("additional_iso_host_path_%d", i)
}
