package libvirt

import (
	"context"

	"github.com/hashicorp/packer-plugin-sdk/multistep"
	"github.com/hashicorp/packer-plugin-sdk/multistep/commonsteps"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/step"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// stepHTTPServer works out the address the guest reaches the host by
// ({{ .HTTPIP }}) and runs the SDK's HTTP server there: on loopback for
// user-mode networking (QEMU shows it to the guest as 10.0.2.2), on the
// network's bridge address for a local libvirt network, on the address the
// user gives otherwise.
type stepHTTPServer struct {
	config *Config
	server *commonsteps.StepHTTPServer
}

func (s *stepHTTPServer) Run(ctx context.Context, state multistep.StateBag) multistep.StepAction {
	c := s.config
	// Unset, http_bind_address reads 0.0.0.0 (the SDK's default).
	httpIP, bind := c.HTTPAddress, c.HTTPAddress
	switch {
	case c.NetworkMode == virt.NetworkUser && virt.OnThisMachine(c.LibvirtURI):
		httpIP = "10.0.2.2"
		if !c.httpAddressSet {
			bind = "127.0.0.1"
		}
	case c.NetworkMode == virt.NetworkUser:
		// A guest on a remote host reaches us through that host's routes.
		addr, err := virt.LocalAddressToward(virt.Host(c.LibvirtURI))
		if err != nil {
			return step.Halt(state, err)
		}
		httpIP = addr
		if !c.httpAddressSet {
			bind = addr
		}
	case c.NetworkMode == virt.NetworkLibvirt && virt.IsLocal(c.LibvirtURI):
		addr, err := state.Get("driver").(virt.Driver).NetworkAddress(c.Network)
		if err != nil {
			return step.Halt(state, err)
		}
		httpIP = addr
		if !c.httpAddressSet {
			bind = addr
		}
	}
	state.Put("http_ip", httpIP)
	putData(state, "HTTPIP", httpIP)
	cfg := c.HTTPConfig
	cfg.HTTPAddress = bind
	s.server = commonsteps.HTTPServerFromHTTPConfig(&cfg)
	return s.server.Run(ctx, state)
}

func (s *stepHTTPServer) Cleanup(state multistep.StateBag) {
	if s.server != nil {
		s.server.Cleanup(state)
	}
}
