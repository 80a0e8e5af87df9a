package virt

import (
	"context"
	"fmt"
	"io"
	"net"

	sdknet "github.com/hashicorp/packer-plugin-sdk/net"
)

// Forwards are the host ports that user-mode networking forwards to a
// guest's ports, reserved until the domain starts.
type Forwards struct {
	// Host is where a client reaches the forwards: 127.0.0.1 when the
	// daemon runs on this machine or is reached over SSH, the libvirt
	// host otherwise.
	Host string
	// Ports are where a client reaches them, one per guest port asked
	// for, in order: QEMU's ports, or the local ends of SSH tunnels.
	Ports []int
	// Listen is where QEMU listens for them on the libvirt host, and
	// HostPorts are its ports there.
	Listen    string
	HostPorts []int

	guestPorts []int
	held       []io.Closer
	tunnels    []*tunnel
}

// ReserveForwards picks a free host port in min-max for each guest port,
// on this machine. Each stays held (a listener and the SDK's lock file)
// until Release, so that parallel builds cannot take the same one. For a
// daemon on another host, reached over tcp or tls, the ports are held on
// this machine only, which keeps this machine's builds apart; QEMU listens
// on the address this machine reaches that host by, never on all of the
// host's interfaces (one that often runs production VMs).
func ReserveForwards(ctx context.Context, uri string, min, max int, guestPorts ...int) (*Forwards, error) {
	f := &Forwards{Host: "127.0.0.1", Listen: "127.0.0.1", guestPorts: guestPorts}
	if !OnThisMachine(uri) {
		addr, err := hostAddress(ctx, Host(uri))
		if err != nil {
			return nil, err
		}
		f.Host, f.Listen = Host(uri), addr
	}
	for range guestPorts {
		l, err := sdknet.ListenRangeConfig{Addr: "127.0.0.1", Min: min, Max: max, Network: "tcp"}.Listen(ctx)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("host_port_min/host_port_max: no free port in %d-%d: %w", min, max, err)
		}
		f.held = append(f.held, l)
		f.Ports = append(f.Ports, l.Port)
		f.HostPorts = append(f.HostPorts, l.Port)
	}
	return f, nil
}

// UserNet is the user-mode network with these forwards.
func (f *Forwards) UserNet() *UserNet {
	u := &UserNet{}
	for i, p := range f.HostPorts {
		u.Forwards = append(u.Forwards, Forward{HostAddr: f.Listen, HostPort: p, GuestPort: f.guestPorts[i]})
	}
	return u
}

// Describe says where forward i listens, and how a client reaches it.
func (f *Forwards) Describe(i int) string {
	if f.tunnels == nil {
		return fmt.Sprintf("%s:%d", f.Listen, f.HostPorts[i])
	}
	return fmt.Sprintf("%s:%d on the libvirt host (here %s:%d, through SSH)", f.Listen, f.HostPorts[i], f.Host, f.Ports[i])
}

// Release frees the reserved ports, for QEMU's forwards to take; it may be
// called more than once.
func (f *Forwards) Release() {
	for _, l := range f.held {
		_ = l.Close()
	}
	f.held = nil
}

// Close releases the ports and closes the SSH tunnels to them.
func (f *Forwards) Close() {
	f.Release()
	for _, t := range f.tunnels {
		t.Close()
	}
	f.tunnels = nil
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
