package virt

import (
	"sync"

	"github.com/digitalocean/go-libvirt"
)

// Libvirt is the Driver of a libvirt daemon, reached over go-libvirt.
type Libvirt struct {
	uri  string
	conn *libvirt.Libvirt

	mu sync.Mutex
	// watches are the lifecycle watches of the domains Start started, for
	// WaitStopped.
	watches map[libvirt.UUID]*stopWatch
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

// URI is the URI the driver was dialled with.
func (d *Libvirt) URI() string { return d.uri }

// Close ends the connection.
func (d *Libvirt) Close() error {
	d.mu.Lock()
	for id, w := range d.watches {
		w.close()
		delete(d.watches, id)
	}
	d.mu.Unlock()
	return d.conn.Disconnect()
}
