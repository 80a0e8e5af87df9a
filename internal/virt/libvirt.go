package virt

import (
	"context"
	"sync"

	"github.com/digitalocean/go-libvirt"
)

// Libvirt is the Driver of a libvirt daemon, reached over go-libvirt.
type Libvirt struct {
	uri  string
	conn *Conn

	mu sync.Mutex
	// watches are the lifecycle watches of the domains Start started, for
	// WaitStopped.
	watches map[libvirt.UUID]*stopWatch
	// screens is the screenshots' own connection (screen.go), nil until
	// the first.
	screens *Conn
}

var _ Driver = (*Libvirt)(nil)

// Dial connects to the libvirt daemon of uri.
func Dial(uri string) (*Libvirt, error) {
	conn, err := Connect(uri)
	if err != nil {
		return nil, err
	}
	return &Libvirt{uri: uri, conn: conn, watches: map[libvirt.UUID]*stopWatch{}}, nil
}

// OnLost sets what to call when the keepalive finds the daemon gone and
// cuts the connection: every call then fails at once.
func (d *Libvirt) OnLost(f func(error)) { d.conn.OnLost(f) }

// URI is the URI the driver was dialled with.
func (d *Libvirt) URI() string { return d.uri }

// Close ends the connection.
func (d *Libvirt) Close() error {
	d.mu.Lock()
	for id, w := range d.watches {
		w.close()
		delete(d.watches, id)
	}
	screens := d.screens
	d.screens = nil
	d.mu.Unlock()
	if screens != nil {
		_ = screens.Close()
	}
	return d.conn.Close()
}

// ReserveForwards holds the forwards' ports on the libvirt host's loopback
// through the SSH connection for the ssh transports (forwardsOverSSH), on
// this machine for the others (ReserveForwards).
func (d *Libvirt) ReserveForwards(ctx context.Context, min, max int, guestPorts ...int) (*Forwards, error) {
	if d.conn.ssh != nil {
		return forwardsOverSSH(ctx, d.conn.ssh, min, max, guestPorts...)
	}
	return ReserveForwards(ctx, d.uri, min, max, guestPorts...)
}
