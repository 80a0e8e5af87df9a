package virt

import (
	"context"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"

	"golang.org/x/crypto/ssh"
)

// holdTries bounds the ports tried on the libvirt host: each is a round
// trip, and an SSH server that refuses forwarding refuses them all.
const holdTries = 20

// forwardsOverSSH reserves QEMU's forwards on the libvirt host's loopback,
// where nothing from outside reaches them. The SSH server holds each port
// (a remote forward, as `ssh -R` asks for) until Release, and a local
// listener takes the client's connections to it through the SSH
// connection, as `ssh -L` would.
func forwardsOverSSH(ctx context.Context, c *ssh.Client, min, max int, guestPorts ...int) (*Forwards, error) {
	f := &Forwards{Host: "127.0.0.1", Listen: "127.0.0.1", guestPorts: guestPorts, tunnels: []*tunnel{}}
	for range guestPorts {
		l, port, err := holdRemote(ctx, c, min, max)
		if err != nil {
			f.Close()
			return nil, err
		}
		f.held = append(f.held, l)
		f.HostPorts = append(f.HostPorts, port)
		t, err := openTunnel(c, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			f.Close()
			return nil, err
		}
		f.tunnels = append(f.tunnels, t)
		f.Ports = append(f.Ports, t.port())
	}
	return f, nil
}

// holdRemote has the SSH server listen on a free port in min-max of the
// libvirt host's loopback, starting at a random one.
func holdRemote(ctx context.Context, c *ssh.Client, min, max int) (net.Listener, int, error) {
	n := max - min + 1
	start := rand.IntN(n) //nolint:gosec // a starting point, not a secret
	var last error
	for i := 0; i < n && i < holdTries; i++ {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		port := min + (start+i)%n
		l, err := c.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			return l, port, nil
		}
		last = err
	}
	return nil, 0, fmt.Errorf("host_port_min/host_port_max: no port in %d-%d could be held on the libvirt host's loopback over SSH (the SSH server must allow TCP forwarding, AllowTcpForwarding): %v", min, max, last)
}

// tunnel is a local listener whose connections go to one address on the
// far side of an SSH connection.
type tunnel struct {
	l      net.Listener
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func openTunnel(c *ssh.Client, remote string) (*tunnel, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	t := &tunnel{l: l, conns: map[net.Conn]struct{}{}}
	go t.serve(c, remote)
	return t, nil
}

func (t *tunnel) port() int { return t.l.Addr().(*net.TCPAddr).Port }

func (t *tunnel) serve(c *ssh.Client, remote string) {
	for {
		local, err := t.l.Accept()
		if err != nil {
			return
		}
		go func() {
			far, err := c.Dial("tcp", remote)
			if err != nil {
				log.Printf("[WARN] SSH tunnel to %s on the libvirt host: %v", remote, err)
				_ = local.Close()
				return
			}
			if !t.track(local, far) {
				return
			}
			defer t.untrack(local, far)
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(far, local); done <- struct{}{} }()
			go func() { _, _ = io.Copy(local, far); done <- struct{}{} }()
			<-done
		}()
	}
}

// track records a pair of connections for Close, or closes them when the
// tunnel already is.
func (t *tunnel) track(conns ...net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		for _, c := range conns {
			_ = c.Close()
		}
		return false
	}
	for _, c := range conns {
		t.conns[c] = struct{}{}
	}
	return true
}

func (t *tunnel) untrack(conns ...net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
		delete(t.conns, c)
	}
}

// Close stops the listener and ends the connections through it.
func (t *tunnel) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	_ = t.l.Close()
	for c := range t.conns {
		_ = c.Close()
	}
}
