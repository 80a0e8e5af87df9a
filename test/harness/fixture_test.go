package harness_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

// The Debian fixture image boots under libvirt with software emulation to a
// root SSH login, with the shape the checklist expects of a good install:
// root on a plain partition, no swap, DHCP on the NIC it found.
func TestFixtureImageBootsToSSH(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_IMAGE", "CLOUDIMAGE_FIXTURE_PASSWORD")
	image, password := env[0], env[1]
	start := time.Now()
	c, _, _ := testenv.BootOverlay(t, testenv.Connect(t), image, password)
	t.Logf("SSH login %s after start", time.Since(start).Round(time.Second))

	if got := testenv.SSHRun(t, c, "cat /etc/debian_version"); !strings.HasPrefix(got, "12.") {
		t.Errorf("debian_version = %q, want 12.x", got)
	}
	if got := testenv.SSHRun(t, c, "findmnt -n -o SOURCE,FSTYPE /"); got != "/dev/vda1 ext4" {
		t.Errorf("root is %q, want /dev/vda1 ext4 (a plain partition, no LVM)", got)
	}
	if got := testenv.SSHRun(t, c, "tail -n +2 /proc/swaps | wc -l"); got != "0" {
		t.Errorf("%s swap areas are active, want none", got)
	}
	if got := testenv.SSHRun(t, c, "ip -4 -o addr show scope global | awk '{print $4}'"); !strings.HasPrefix(got, "10.0.2.") {
		t.Errorf("guest address %q, want a DHCP lease from user networking (10.0.2.x)", got)
	}
}
