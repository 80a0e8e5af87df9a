package virt_test

import (
	"bufio"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// Over qemu+ssh:// to the harness's real sshd and libvirtd: the libvirt
// calls, the port QEMU's forward will take and the client's way to it all
// go over one SSH connection. The port is held on the libvirt host's
// loopback (here this machine's, where sshd listens for it), and reached
// through a local tunnel, as `ssh -L` would; once Close ran, the tunnel is
// gone.
func TestForwardsOverSSH(t *testing.T) {
	uri := testenv.Get(t, "CLOUDIMAGE_LIBVIRT_SSH_URI")[0]
	d, err := virt.Dial(uri)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.CheckPool("default"); err != nil {
		t.Fatalf("a libvirt call over SSH: %v", err)
	}

	f, err := d.ReserveForwards(t.Context(), 40000, 40999, 22)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	port := f.HostPorts[0]
	if f.Listen != "127.0.0.1" || port < 40000 || port > 40999 || f.Host != "127.0.0.1" || f.Ports[0] == port {
		t.Fatalf("forwards %+v: want QEMU on the libvirt host's 127.0.0.1 in 40000-40999, the client on a local tunnel", f)
	}
	if x := f.UserNet().Forwards[0]; x.HostAddr != "127.0.0.1" || x.HostPort != port || x.GuestPort != 22 {
		t.Errorf("QEMU's forward: %+v", x)
	}
	if !strings.Contains(f.Describe(0), "through SSH") {
		t.Errorf("Describe: %q", f.Describe(0))
	}
	// sshd holds the port on the libvirt host: nothing else can take it.
	if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
		l.Close()
		t.Fatalf("port %d is free while reserved", port)
	}

	// Released, the port is QEMU's to take: a stand-in takes it.
	f.Release()
	qemu := listenEventually(t, "127.0.0.1:"+strconv.Itoa(port))
	defer qemu.Close()
	go func() {
		for {
			c, err := qemu.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, "SSH-2.0-guest\r\n")
			c.Close()
		}
	}()
	c, err := net.DialTimeout("tcp", net.JoinHostPort(f.Host, strconv.Itoa(f.Ports[0])), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	banner, err := bufio.NewReader(c).ReadString('\n')
	c.Close()
	if banner != "SSH-2.0-guest\r\n" {
		t.Fatalf("through the tunnel: %q, %v; want the guest's banner", banner, err)
	}

	f.Close()
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(f.Host, strconv.Itoa(f.Ports[0])), time.Second); err == nil {
		c.Close()
		t.Errorf("the tunnel still listens after Close")
	}
}

// listenEventually listens on addr once sshd has let go of it: sshd
// closes its listener when it reads the cancel, a moment after Release.
func listenEventually(t *testing.T, addr string) net.Listener {
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err := net.Listen("tcp", addr)
		if err == nil {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is still held after Release: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The host key is checked: a known_hosts file that holds another key for
// the host stops the connection, and says so.
func TestSSHHostKeyChecked(t *testing.T) {
	uri := testenv.Get(t, "CLOUDIMAGE_LIBVIRT_SSH_URI")[0]
	other := t.TempDir() + "/known_hosts"
	host := uri[len("qemu+ssh://root@"):strings.Index(uri, "/system")]
	h, p, _ := net.SplitHostPort(host)
	line := "[" + h + "]:" + p + " ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
	if err := os.WriteFile(other, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	i := strings.Index(uri, "known_hosts=")
	_, err := virt.Dial(uri[:i] + "known_hosts=" + other)
	if err == nil || !strings.Contains(err.Error(), "key mismatch") {
		t.Fatalf("Dial with the wrong host key: %v; want a key mismatch", err)
	}
}

// A remote daemon that stops answering, as behind a dead link: the
// keepalive cuts the connection, a call fails instead of hanging, the
// driver's user hears why, and Close returns. A live connection that sits
// idle for several timeouts is not cut. The fault: a proxy in front of the
// harness's real libvirtd (qemu+tcp://) that stops passing bytes, keeping
// both connections open.
func TestKeepaliveCutsADeadConnection(t *testing.T) {
	tcp := testenv.Get(t, "CLOUDIMAGE_LIBVIRT_TCP_URI")[0]
	defer virt.SetKeepalive(50*time.Millisecond, 500*time.Millisecond)()
	p := newFreezer(t, "127.0.0.1:16509")
	if !strings.HasPrefix(tcp, "qemu+tcp://127.0.0.1/") {
		t.Fatalf("CLOUDIMAGE_LIBVIRT_TCP_URI %q: want libvirtd on 127.0.0.1:16509", tcp)
	}
	d, err := virt.Dial("qemu+tcp://" + p.addr() + "/system")
	if err != nil {
		t.Fatal(err)
	}
	lost := make(chan error, 1)
	d.OnLost(func(err error) { lost <- err })

	time.Sleep(2 * time.Second) // four timeouts, idle but for the keepalive
	if err := d.CheckPool("default"); err != nil {
		t.Fatalf("after an idle spell: %v", err)
	}

	p.freeze()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- d.CheckPool("default") }()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("a call to a daemon that stopped answering still hangs after 20s")
	}
	if err == nil {
		t.Fatal("a call to a daemon that stopped answering succeeded")
	}
	t.Logf("the call failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
	select {
	case err := <-lost:
		if !strings.Contains(err.Error(), "connection closed") {
			t.Errorf("OnLost: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("OnLost was not called")
	}
	closed := make(chan struct{})
	go func() { _ = d.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs on a dead connection")
	}
}

// freezer passes bytes between its clients and target until freeze, then
// holds every connection open and passes nothing.
type freezer struct {
	l      net.Listener
	mu     sync.Mutex
	frozen bool
	conns  []net.Conn
}

func newFreezer(t *testing.T, target string) *freezer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{l: l}
	t.Cleanup(f.close)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			f.mu.Lock()
			f.conns = append(f.conns, c, s)
			f.mu.Unlock()
			go f.pass(c, s)
			go f.pass(s, c)
		}
	}()
	return f
}

func (f *freezer) addr() string { return f.l.Addr().String() }

func (f *freezer) pass(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			return
		}
		f.mu.Lock()
		frozen := f.frozen
		f.mu.Unlock()
		// Frozen, the bytes are swallowed: the link is dead, the sockets
		// still open.
		if !frozen {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
	}
}

func (f *freezer) freeze() {
	f.mu.Lock()
	f.frozen = true
	f.mu.Unlock()
}

func (f *freezer) close() {
	f.l.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.Close()
	}
}
