package virt

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket"
	"github.com/digitalocean/go-libvirt/socket/dialers"
	"golang.org/x/crypto/ssh"
)

// Conn is a connection to a libvirt daemon. The plugin dials the socket
// itself, with go-libvirt's dialers or, for the ssh transports, its own SSH
// client, so that it can cut a connection the keepalive finds dead (every
// call waiting on it then fails, instead of hanging), and so that the
// tunnels to QEMU's forwarded ports share the libvirt connection's SSH
// connection, as `ssh -L` would.
type Conn struct {
	*libvirt.Libvirt
	uri string
	// ssh is the SSH connection of an ssh transport; nil for the others.
	ssh *ssh.Client
	// shared: ssh belongs to the connection this one was opened beside.
	shared bool
	raw    *watched
	alive  *keepalive
}

// Connect opens a libvirt connection for uri.
func Connect(uri string) (*Conn, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	c := &Conn{uri: uri}
	if isSSH(u) {
		if c.ssh, err = dialSSH(u); err != nil {
			return nil, c.dialError(err)
		}
	}
	return c, c.open(u)
}

// Beside opens a second connection to c's daemon, over c's SSH connection
// when it has one: the console stream gets a connection of its own.
func (c *Conn) Beside() (*Conn, error) {
	u, err := ParseURI(c.uri)
	if err != nil {
		return nil, err
	}
	b := &Conn{uri: c.uri, ssh: c.ssh, shared: c.ssh != nil}
	return b, b.open(u)
}

// open dials the daemon's socket and says hello.
func (c *Conn) open(u *url.URL) error {
	d, err := c.dialer(u)
	if err != nil {
		c.closeSSH()
		return c.dialError(err)
	}
	raw, err := d.Dial()
	if err != nil {
		c.closeSSH()
		return c.dialError(err)
	}
	c.raw = watch(raw)
	c.Libvirt = libvirt.NewWithDialer(dialers.NewAlreadyConnected(c.raw))
	if err := c.ConnectToURI(libvirt.RemoteURI(u)); err != nil {
		_ = raw.Close()
		c.closeSSH()
		return c.dialError(err)
	}
	if !IsLocal(c.uri) {
		c.alive = startKeepalive(c)
	}
	return nil
}

// dialer is go-libvirt's dialer for u, as libvirt.ConnectToURI picks it;
// for the ssh transports, a channel to the daemon's socket on c's SSH
// connection.
func (c *Conn) dialer(u *url.URL) (socket.Dialer, error) {
	q := u.Query()
	switch _, transport, _ := strings.Cut(u.Scheme, "+"); {
	case c.ssh != nil:
		path := q.Get("socket")
		if path == "" {
			path = "/var/run/libvirt/libvirt-sock"
		}
		return dialFunc(func() (net.Conn, error) {
			conn, err := c.ssh.Dial("unix", path)
			if err != nil {
				return nil, fmt.Errorf("the libvirt socket %s on %s: %w", path, u.Hostname(), err)
			}
			return conn, nil
		}), nil
	case transport == "tcp":
		var opts []dialers.RemoteOption
		if p := u.Port(); p != "" {
			opts = append(opts, dialers.UsePort(p))
		}
		return dialers.NewRemote(u.Hostname(), opts...), nil
	case transport == "tls" || (transport == "" && u.Host != ""):
		var opts []dialers.TLSOption
		if p := u.Port(); p != "" {
			opts = append(opts, dialers.UseTLSPort(p))
		}
		if p := q.Get("pkipath"); p != "" {
			opts = append(opts, dialers.UsePKIPath(p))
		}
		if nv := q.Get("no_verify"); nv != "" && nv != "0" {
			opts = append(opts, dialers.WithInsecureNoVerify())
		}
		return dialers.NewTLS(u.Hostname(), opts...), nil
	default:
		var opts []dialers.LocalOption
		if s := q.Get("socket"); s != "" {
			opts = append(opts, dialers.WithSocket(s))
		}
		return dialers.NewLocal(opts...), nil
	}
}

// dialFunc is a socket.Dialer.
type dialFunc func() (net.Conn, error)

func (f dialFunc) Dial() (net.Conn, error) { return f() }

// dialError names the daemon, never the URI's password.
func (c *Conn) dialError(err error) error {
	msg := err.Error()
	if pw := URIPassword(c.uri); pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	return fmt.Errorf("connecting to libvirt at %s: %s", Redact(c.uri), msg)
}

// Close ends the connection. When the daemon does not answer the goodbye
// within the keepalive's timeout, the connection is cut.
func (c *Conn) Close() error {
	if c.alive != nil {
		c.alive.stop()
	}
	done := make(chan error, 1)
	go func() { done <- c.Disconnect() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(keepaliveTimeout):
		c.cut()
		err = fmt.Errorf("libvirt at %s did not answer within %s: connection closed", Redact(c.uri), keepaliveTimeout)
	}
	c.closeSSH()
	return err
}

func (c *Conn) closeSSH() {
	if c.ssh != nil && !c.shared {
		_ = c.ssh.Close()
	}
}

// OnLost sets what to call when the keepalive cuts the connection.
func (c *Conn) OnLost(f func(error)) {
	if c.alive != nil {
		c.alive.onLost.Store(&f)
	}
}

// cut closes the connection under go-libvirt: the SSH connection for the
// ssh transports (its tunnels and console go with it), the socket else.
func (c *Conn) cut() {
	c.closeSSH()
	_ = c.raw.Close()
}
