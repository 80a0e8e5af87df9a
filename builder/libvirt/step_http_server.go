package libvirt

import (
	"context"
	"fmt"
	"net"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	"github.com/hashicorp/packer-plugin-sdk/multistep/commonsteps"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// stepHTTPServer works out the address the guest reaches the host by
// ({{ .HTTPIP }}) and runs the SDK's HTTP server there, and only there:
// it serves files that hold passwords (a kickstart, user-data).
type stepHTTPServer struct {
	config *Config
	server *commonsteps.StepHTTPServer
	bind   string
}

func (s *stepHTTPServer) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	c := s.config
	httpIP, bind, err := httpAddress(c, state.Get("driver").(virt.Driver))
	if err != nil {
		return step.Halt(state, err)
	}
	s.bind = bind
	state.Put("http_ip", httpIP)
	putData(state, "HTTPIP", httpIP)
	cfg := c.HTTPConfig
	cfg.HTTPAddress = bind
	s.server = commonsteps.HTTPServerFromHTTPConfig(&cfg)
	return s.server.Run(ctx, state)
}

// httpAddress is {{ .HTTPIP }} and the address the server listens on.
// http_bind_address, when set, is where it listens, and, unless it is
// 0.0.0.0, what the guest is told. Otherwise both are guestReachesUsAt,
// but for user-mode networking on this machine, where the server listens
// on loopback, which QEMU shows the guest as 10.0.2.2. Never all
// interfaces unless http_bind_address says so.
func httpAddress(c *Config, d virt.Driver) (httpIP, bind string, err error) {
	userHere := c.NetworkMode == virt.NetworkUser && virt.OnThisMachine(c.LibvirtURI)
	if c.httpAddressSet {
		if ip := net.ParseIP(c.HTTPAddress); ip != nil && !ip.IsUnspecified() && !userHere {
			return c.HTTPAddress, c.HTTPAddress, nil
		}
	}
	if httpIP, err = guestReachesUsAt(c, d, userHere); err != nil {
		return "", "", err
	}
	switch {
	case c.httpAddressSet:
		return httpIP, c.HTTPAddress, nil
	case userHere && c.HTTPInterface == "":
		return httpIP, "127.0.0.1", nil
	}
	return httpIP, httpIP, nil
}

// guestReachesUsAt is the address of this machine the build's guest
// reaches:
//   - http_interface, when set: its IPv4 address;
//   - user-mode networking on this machine: QEMU's 10.0.2.2;
//   - a libvirt network of this machine: its bridge address;
//   - a bridge of this machine: the bridge's own address;
//   - on a remote libvirt host: this machine's address on the route to it,
//     through which a guest there reaches us.
func guestReachesUsAt(c *Config, d virt.Driver, userHere bool) (string, error) {
	local := virt.IsLocal(c.LibvirtURI)
	switch {
	case c.HTTPInterface != "":
		addr, err := interfaceAddress(c.HTTPInterface)
		if err != nil {
			return "", fmt.Errorf("http_interface: %w", err)
		}
		return addr, nil
	case userHere:
		return "10.0.2.2", nil
	case c.NetworkMode == virt.NetworkLibvirt && local:
		return d.NetworkAddress(c.Network)
	case c.NetworkMode == virt.NetworkBridge && local:
		addr, err := interfaceAddress(c.NetworkBridge)
		if err != nil {
			return "", fmt.Errorf("network_bridge: %w: set http_bind_address or http_interface to an address of this machine the guest can reach", err)
		}
		return addr, nil
	}
	return virt.LocalAddressToward(virt.Host(c.LibvirtURI))
}

// interfaceAddress is the first IPv4 address of a network interface of
// this machine.
func interfaceAddress(name string) (string, error) {
	iface, err := net.InterfaceByName(name)
	if err != nil {
		return "", fmt.Errorf("interface %s: %w", name, err)
	}
	addrs, err := iface.Addrs()
	if err != nil {
		return "", fmt.Errorf("interface %s: %w", name, err)
	}
	for _, a := range addrs {
		if ipnet, ok := a.(*net.IPNet); ok && ipnet.IP.To4() != nil {
			return ipnet.IP.String(), nil
		}
	}
	return "", fmt.Errorf("interface %s has no IPv4 address", name)
}

func (s *stepHTTPServer) Cleanup(state multistep.StateBag) {
	if s.server != nil {
		s.server.Cleanup(state)
	}
}
