package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// GuestfsEnv is how libguestfs runs here: the direct backend, software
// emulation (KVM is broken on these machines).
var GuestfsEnv = []string{"LIBGUESTFS_BACKEND=direct", "LIBGUESTFS_BACKEND_SETTINGS=force_tcg"}

// Clean is what guestfish says of a cleaned image: no SSH host keys, an
// empty machine-id, no root shell history, no DHCP lease, no wtmp.
const Clean = "keys: machine-id: history: false lease: wtmp: false"

// Cleanliness asks guestfish, read-only and offline, what a user would
// look for in a published image, in one appliance launch; compare it with
// Clean.
func Cleanliness(t *testing.T, image, format string) string {
	t.Helper()
	cmd := exec.Command("guestfish", "--ro", "--format="+format, "-a", image, "-i")
	cmd.Env = append(os.Environ(), GuestfsEnv...)
	cmd.Stdin = strings.NewReader(`
echo keys:
glob-expand /etc/ssh/ssh_host_*
echo machine-id:
cat /etc/machine-id
echo history:
is-file /root/.bash_history
echo lease:
glob-expand /var/lib/dhcp/*
echo wtmp:
is-file /var/log/wtmp
`)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("guestfish on %s: %v\n%s", image, err, b)
	}
	return strings.Join(strings.Fields(string(b)), " ")
}
