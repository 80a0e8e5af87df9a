package verify_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/digitalocean/go-libvirt"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

// breakage is a copy of the main job's image broken one way on purpose,
// and the items verify must fail on it: those, and nothing else.
type breakage struct {
	name      string
	customize []string // virt-customize's arguments
	want      []string
	keep      bool // keep_on_failure, and fail the build (fail_on's default)
}

// Faults that do not hide each other share one boot: a swap file, a pinned
// MAC and no guest agent are each seen through SSH. Without cloud-init
// there is no SSH (no host keys after virt-sysprep) and the guest agent is
// the way in, so that image has a boot of its own.
var breakages = []breakage{
	{"swap-mac-no-agent", []string{
		"--run-command", "dd if=/dev/zero of=/swapfile bs=1M count=64 status=none && chmod 600 /swapfile && mkswap /swapfile",
		"--append-line", "/etc/fstab:/swapfile none swap sw 0 0",
		"--write", `/etc/udev/rules.d/70-persistent-net.rules:SUBSYSTEM=="net", ACTION=="add", ATTR{address}=="52:54:00:aa:bb:cc", NAME="eth0"`,
		"--run-command", "dpkg --purge qemu-guest-agent",
	}, []string{"L02", "L07", "L16"}, true},
	{"no-cloud-init", []string{"--run-command", "dpkg --purge cloud-init"}, []string{"L03", "L04", "L05", "L06", "L09", "L10", "L17"}, false},
}

// verifyBroken breaks an overlay of the image with virt-customize, runs
// cloudimage-verify on it, and checks the failed items; one run keeps its
// failed instance (keep_on_failure), the others report only.
func verifyBroken(t *testing.T, j mainJob, b breakage) {
	l := testenv.Connect(t)
	overlay := filepath.Join(j.dir, b.name+"-overlay.qcow2")
	testenv.Run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-b", j.image, "-F", "qcow2", overlay)
	cmd := exec.Command("virt-customize", append([]string{"-q", "--format=qcow2", "-a", overlay}, b.customize...)...)
	cmd.Env = append(os.Environ(), "LIBGUESTFS_BACKEND=direct", "LIBGUESTFS_BACKEND_SETTINGS=force_tcg")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("virt-customize: %v\n%s", err, out)
	}
	// Verify refuses an input that points at another file (a backing
	// file may name any file of the host): the broken image is flattened,
	// as a user's own image would be.
	broken := filepath.Join(j.dir, b.name+".qcow2")
	testenv.Run(t, "qemu-img", "convert", "-f", "qcow2", "-O", "qcow2", overlay, broken)
	if err := os.Remove(overlay); err != nil {
		t.Fatal(err)
	}
	reportFile := filepath.Join(j.dir, b.name+".json")
	vm := testenv.DomainName(t) // not the main job's name: its leftover check runs beside
	settings := `fail_on = "none"`
	if b.keep {
		// NoCloud's cidata volume instead of the config drive, and the
		// failed instance kept for a look.
		settings = "keep_on_failure = true\n      datasource      = \"nocloud\""
	}
	p := testenv.PostProcessorTemplate(t, j.dir, broken, "cloudimage-verify", fmt.Sprintf(`
      domain_type = "qemu"
      vm_name     = %q
      report_file = %q
      %s`, vm, reportFile, settings))
	start := time.Now()
	log, err := testenv.PackerCommand(context.Background(), t, j.dir, "build", p).CombinedOutput()
	rs := testenv.ReadReport(t, reportFile)
	t.Logf("verify took %s; report:\n%s", time.Since(start).Round(time.Second), testenv.Table(rs))
	if failed := testenv.WithStatus(rs, "fail"); !slices.Equal(failed, b.want) {
		t.Errorf("failed items %v, want exactly %v", failed, b.want)
	}
	if !b.keep {
		if err != nil {
			t.Errorf("packer build with fail_on = \"none\": %v\n%s", err, log)
		}
		testenv.AssertNoLeftovers(t, l, vm)
		return
	}
	if err == nil || !strings.Contains(string(log), fmt.Sprintf("failed %d items of the checklist", len(b.want))) || !strings.Contains(string(log), b.want[0]) {
		t.Errorf("packer build should fail naming %v: %v\n%s", b.want, err, log)
	}
	dom, err := l.DomainLookupByName(vm)
	if err != nil {
		t.Fatalf("keep_on_failure: domain %s is gone: %v", vm, err)
	}
	if state, _, err := l.DomainGetState(dom, 0); err != nil || libvirt.DomainState(state) != libvirt.DomainRunning {
		t.Errorf("keep_on_failure: domain %s is not running (state %d, %v)", vm, state, err)
	}
	testenv.Run(t, "virsh", "destroy", vm)
	testenv.Run(t, "virsh", "undefine", vm)
	testenv.Run(t, "virsh", "vol-delete", "--pool", "default", vm+".qcow2")
	testenv.AssertNoLeftovers(t, l, vm)
}
