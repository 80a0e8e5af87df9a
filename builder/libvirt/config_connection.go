//go:generate go tool packer-sdc struct-markdown

package libvirt

import (
	"cmp"
	"fmt"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// ConnectionConfig says which libvirt host builds the image.
type ConnectionConfig struct {
	// The libvirt connection URI: `qemu:///system` (the default),
	// `qemu:///session`, `qemu:///system?socket=/path`, or a remote host
	// such as `qemu+ssh://user@host[:port]/system` (ssh-agent, or
	// `?keyfile=`, `known_hosts=`, `no_verify=1`; `qemu+libssh://` also
	// takes `known_hosts_verify=` and `sshauth=`), `qemu+tcp://host/system`
	// or `qemu+tls://host/system?pkipath=/dir`. The plugin speaks libvirt's
	// protocol itself: no libvirt client library or `ssh` binary is needed.
	// On a remote host the ISO and disks are uploaded into `storage_pool`
	// and the result is downloaded; with `network_mode = "user"` over SSH,
	// the communicator reaches the guest through the same SSH connection.
	// A remote connection that passes nothing for 30 seconds is cut, and
	// the build fails.
	LibvirtURI string `mapstructure:"libvirt_uri"`
	// The libvirt storage pool that holds the build's disk (and, on a
	// remote host, its uploads). Defaults to `default`.
	StoragePool string `mapstructure:"storage_pool"`
}

func (c *ConnectionConfig) prepare() []error {
	var errs []error
	c.LibvirtURI = cmp.Or(c.LibvirtURI, virt.DefaultURI)
	if _, err := virt.ParseURI(c.LibvirtURI); err != nil {
		errs = append(errs, fmt.Errorf("libvirt_uri: %w", err))
	}
	c.StoragePool = cmp.Or(c.StoragePool, "default")
	return errs
}
