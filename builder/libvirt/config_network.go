//go:generate go tool packer-sdc struct-markdown

package libvirt

import (
	"cmp"
	"errors"
	"fmt"
	"strings"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/field"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// NetworkConfig says how the guest is networked and how Packer reaches it.
type NetworkConfig struct {
	// `user`: QEMU user-mode networking; the communicator's port is forwarded
	// to 127.0.0.1 on a free host port (on a remote libvirt host, to the
	// address its URI names, never to all its interfaces) and
	// `{{ .HTTPIP }}` is 10.0.2.2.
	// `network`: a libvirt network (`network`); the guest's address comes
	// from the network's DHCP leases, else the guest agent, else the ARP
	// table, and `{{ .HTTPIP }}` is the network's bridge address.
	// `bridge`: a host bridge (`network_bridge`); the address comes from the
	// guest agent or ARP, and `{{ .HTTPIP }}` is the bridge's own address.
	// On a remote libvirt host, `{{ .HTTPIP }}` is this machine's address on
	// the route to that host. In every mode Packer's HTTP server listens on
	// that address only, unless `http_bind_address` (or `http_interface`)
	// says otherwise. Defaults to `user` for `qemu:///session` and `network`
	// otherwise.
	NetworkMode string `mapstructure:"network_mode"`
	// The libvirt network of `network_mode = "network"`. Defaults to
	// `default`.
	Network string `mapstructure:"network"`
	// The host bridge of `network_mode = "bridge"`, such as `br0`.
	NetworkBridge string `mapstructure:"network_bridge"`
	// The range of host ports that user-mode networking picks the
	// communicator's forwarded port from. Defaults to 2222 to 4444.
	HostPortMin int `mapstructure:"host_port_min"`
	HostPortMax int `mapstructure:"host_port_max"`
}

func (c *NetworkConfig) prepare(uri string) []error {
	var errs []error
	if c.NetworkMode == "" {
		c.NetworkMode = virt.NetworkLibvirt
		if strings.HasSuffix(uri, "/session") || strings.Contains(uri, "/session?") {
			c.NetworkMode = virt.NetworkUser
		}
	}
	errs = append(errs, field.OneOf("network_mode", c.NetworkMode, virt.NetworkModes))
	c.Network = cmp.Or(c.Network, "default")
	if c.NetworkMode == virt.NetworkBridge && c.NetworkBridge == "" {
		errs = append(errs, errors.New(`network_bridge: required with network_mode = "bridge"`))
	}
	if c.NetworkMode != virt.NetworkBridge && c.NetworkBridge != "" {
		errs = append(errs, errors.New(`network_bridge: only used with network_mode = "bridge"`))
	}
	c.HostPortMin = cmp.Or(c.HostPortMin, 2222)
	c.HostPortMax = cmp.Or(c.HostPortMax, 4444)
	if c.HostPortMin < 1 || c.HostPortMax > 65535 || c.HostPortMin > c.HostPortMax {
		errs = append(errs, fmt.Errorf("host_port_min/host_port_max: %d-%d is not a port range within 1-65535", c.HostPortMin, c.HostPortMax))
	}
	return compact(errs)
}
