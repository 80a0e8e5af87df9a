package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/digitalocean/go-libvirt"
	"golang.org/x/crypto/ssh"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/virt"
)

// connect opens the harness's libvirt connection for the test.
func Connect(t *testing.T) *libvirt.Libvirt {
	t.Helper()
	uri := Get(t, "LIBVIRT_DEFAULT_URI")[0]
	l, err := virt.Connect(uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Disconnect() })
	return l
}

var unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9-]+`)

// domainName is a name no other test, or a parallel run, uses.
func DomainName(t *testing.T) string {
	return "cloudimage-" + strings.ToLower(unsafeChars.ReplaceAllString(t.Name(), "-")) + "-" + RandomHex(t, 3)
}

func RandomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// vmDir is a temporary folder QEMU can read and write: libvirt runs it as
// another user, who cannot enter t.TempDir()'s 0700 folders.
func VMDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "cloudimage-vm-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func Run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// freePort returns a TCP port on 127.0.0.1 that is free now.
func FreePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startMachine defines and starts m, and removes it when the test ends.
func StartMachine(t *testing.T, l *libvirt.Libvirt, m virt.Machine) libvirt.Domain {
	t.Helper()
	if m.SerialLog != "" {
		// QEMU runs as another user and cannot create files in our folder;
		// libvirt hands it an existing one.
		if err := os.WriteFile(m.SerialLog, nil, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	dom, err := virt.Define(l, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := virt.Remove(l, m.Name); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if err := l.DomainCreate(dom); err != nil {
		t.Fatalf("starting %s: %v", m.Name, err)
	}
	return dom
}

// waitForSSH polls until root can log in with password on 127.0.0.1:port
// and returns the client. It gives up early, with the serial log, when the
// domain stops running.
func WaitForSSH(t *testing.T, l *libvirt.Libvirt, dom libvirt.Domain, port int, password, serialLog string, timeout time.Duration) *ssh.Client {
	t.Helper()
	cfg := &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.Password(password)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), // a throwaway test guest
		Timeout:         10 * time.Second,
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		// slirp accepts the TCP connection before the guest listens, so only
		// a completed SSH handshake counts.
		c, err := ssh.Dial("tcp", addr, cfg)
		if err == nil {
			return c
		}
		lastErr = err
		if state, _, err := l.DomainGetState(dom, 0); err == nil && libvirt.DomainState(state) != libvirt.DomainRunning {
			t.Fatalf("the domain stopped (state %d) before SSH answered; serial log:\n%s", state, Tail(serialLog))
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("no SSH login on %s within %s (last error: %v); serial log:\n%s", addr, timeout, lastErr, Tail(serialLog))
	return nil
}

// sshRun runs cmd on the guest and returns its trimmed output.
func SSHRun(t *testing.T, c *ssh.Client, cmd string) string {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	if err != nil {
		t.Fatalf("guest: %s: %v\n%s", cmd, err, out)
	}
	return strings.TrimSpace(string(out))
}

// tail returns the end of a log file, for failure messages.
func Tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// waitForFile polls path until it contains want.
func WaitForFile(ctx context.Context, path string, want []byte) error {
	for {
		if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, want) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%q did not appear in %s: %w", want, filepath.Base(path), ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// BootOverlay starts a domain (TCG, 1 GiB, user networking) on a
// copy-on-write overlay of disk, removed when the test ends, and returns a
// root SSH login on it, the domain and the overlay's path.
func BootOverlay(t *testing.T, l *libvirt.Libvirt, disk, password string) (*ssh.Client, libvirt.Domain, string) {
	t.Helper()
	dir := VMDir(t)
	overlay := filepath.Join(dir, "disk.qcow2")
	Run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", disk, overlay)
	port := FreePort(t)
	m := virt.Machine{
		Name: DomainName(t), DomainType: "qemu", MemoryMiB: 1024, CPUs: 2,
		Disks:     []virt.Disk{{Path: overlay, BootOrder: 1}},
		SerialLog: filepath.Join(dir, "console.log"),
		NIC:       &virt.NIC{User: &virt.UserNet{Forwards: []virt.Forward{{HostAddr: "127.0.0.1", HostPort: port, GuestPort: 22}}}},
	}
	dom := StartMachine(t, l, m)
	c := WaitForSSH(t, l, dom, port, password, m.SerialLog, 6*time.Minute)
	t.Cleanup(func() { c.Close() })
	return c, dom, overlay
}
