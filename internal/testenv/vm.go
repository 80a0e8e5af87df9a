package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/digitalocean/go-libvirt"

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
	t.Cleanup(func() { _ = l.Close() })
	return l.Libvirt
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

// Driver is the plugin's libvirt driver on the harness's libvirtd, closed
// when the test ends.
func Driver(t *testing.T) *virt.Libvirt {
	t.Helper()
	d, err := virt.Dial(Get(t, "LIBVIRT_DEFAULT_URI")[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}
