package virt

import (
	"context"
	"fmt"
	"net"

	sdknet "github.com/hashicorp/packer-plugin-sdk/net"
)

// Forwards are the host ports that user-mode networking forwards to a
// guest's ports, reserved until the domain starts.
type Forwards struct {
	// Host is where a client reaches the forwards: 127.0.0.1 when the
	// daemon runs on this machine, the libvirt host otherwise.
	Host string
	// Listen is where QEMU listens for them on the libvirt host.
	Listen string
	// Ports are the host ports, one per guest port asked for, in order.
	Ports []int

	guestPorts []int
	held       []*sdknet.Listener
}

// ReserveForwards picks a free host port in min-max for each guest port.
// Each stays held (a listener and the SDK's lock file) until Release, so
// that parallel builds cannot take the same one.
func ReserveForwards(ctx context.Context, uri string, min, max int, guestPorts ...int) (*Forwards, error) {
	f := &Forwards{Host: "127.0.0.1", Listen: "127.0.0.1", guestPorts: guestPorts}
	if !OnThisMachine(uri) {
		// The client comes from outside the libvirt host: QEMU listens on
		// the address the client reaches that host by, never on all of
		// the host's interfaces (one that often runs production VMs).
		addr, err := hostAddress(ctx, Host(uri))
		if err != nil {
			return nil, err
		}
		f.Host, f.Listen = Host(uri), addr
	}
	for range guestPorts {
		l, err := sdknet.ListenRangeConfig{Addr: "127.0.0.1", Min: min, Max: max, Network: "tcp"}.Listen(ctx)
		if err != nil {
			f.Release()
			return nil, fmt.Errorf("host_port_min/host_port_max: no free port in %d-%d: %w", min, max, err)
		}
		f.held = append(f.held, l)
		f.Ports = append(f.Ports, l.Port)
	}
	return f, nil
}

// UserNet is the user-mode network with these forwards.
func (f *Forwards) UserNet() *UserNet {
	u := &UserNet{}
	for i, p := range f.Ports {
		u.Forwards = append(u.Forwards, Forward{HostAddr: f.Listen, HostPort: p, GuestPort: f.guestPorts[i]})
	}
	return u
}

// Release frees the reserved ports, for QEMU's forwards to take; it may be
// called more than once.
func (f *Forwards) Release() {
	for _, l := range f.held {
		_ = l.Close()
	}
	f.held = nil
}

// hostAddress is the IPv4 address of the libvirt host: the URI's, or what
// its name resolves to.
func hostAddress(ctx context.Context, host string) (string, error) {
	if ip := net.ParseIP(host); ip != nil {
		return ip.String(), nil
	}
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip4", host)
	if err != nil || len(ips) == 0 {
		return "", fmt.Errorf("libvirt host %s: no IPv4 address for QEMU's forwarded ports to listen on (%v)", host, err)
	}
	return ips[0].String(), nil
}
