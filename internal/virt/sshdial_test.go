package virt

import (
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func newHostKey(t *testing.T) ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The client offers only the key types known_hosts holds for the host, so
// that it never agrees on one it cannot check; a known host's key passes,
// another key does not.
func TestHostKeysKnown(t *testing.T) {
	key := newHostKey(t)
	file := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(file, []byte(knownhosts.Line([]string{"[kvm1]:2222"}, key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cb, algos, err := hostKeys(file, "kvm1:2222", false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(algos, []string{ssh.KeyAlgoED25519}) {
		t.Errorf("algorithms %q, want only ssh-ed25519", algos)
	}
	addr := &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 2222}
	if err := cb("kvm1:2222", addr, key); err != nil {
		t.Errorf("the known key: %v", err)
	}
	if err := cb("kvm1:2222", addr, newHostKey(t)); err == nil {
		t.Error("another key for a known host passed")
	}
}

// Without known_hosts there is nothing to check against: an error that says
// what to do; known_hosts_verify=auto creates it and records the host.
func TestHostKeysUnknown(t *testing.T) {
	file := filepath.Join(t.TempDir(), "libvirt", "known_hosts")
	if _, _, err := hostKeys(file, "kvm1:22", false); err == nil || !strings.Contains(err.Error(), "known_hosts_verify=auto") {
		t.Errorf("no known_hosts file: %v", err)
	}
	cb, _, err := hostKeys(file, "kvm1:22", true)
	if err != nil {
		t.Fatal(err)
	}
	key := newHostKey(t)
	addr := &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 22}
	if err := cb("kvm1:22", addr, key); err != nil {
		t.Fatalf("auto, a new host: %v", err)
	}
	again, _, err := hostKeys(file, "kvm1:22", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := again("kvm1:22", addr, key); err != nil {
		t.Errorf("the recorded key: %v", err)
	}
}

// With no agent, no key file and no password, the error lists why each
// way is out.
func TestSSHAuthNothing(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	t.Setenv("HOME", t.TempDir())
	u, _ := url.Parse("qemu+ssh://u@kvm1/system")
	_, err := sshAuth(u)
	if err == nil || !strings.Contains(err.Error(), "SSH_AUTH_SOCK is not set") || !strings.Contains(err.Error(), "keyfile=") {
		t.Errorf("sshAuth: %v", err)
	}
	u, _ = url.Parse("qemu+ssh://u:pw@kvm1/system?keyfile=/nonexistent")
	if m, err := sshAuth(u); err != nil || len(m) != 1 {
		t.Errorf("a password only: %d methods, %v", len(m), err)
	}
}
