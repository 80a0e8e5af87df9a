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

var breakages = []breakage{
	{"swap", []string{
		"--run-command", "dd if=/dev/zero of=/swapfile bs=1M count=64 status=none && chmod 600 /swapfile && mkswap /swapfile",
		"--append-line", "/etc/fstab:/swapfile none swap sw 0 0",
	}, []string{"L02"}, false},
	{"mac-rule", []string{
		"--write", `/etc/udev/rules.d/70-persistent-net.rules:SUBSYSTEM=="net", ACTION=="add", ATTR{address}=="52:54:00:aa:bb:cc", NAME="eth0"`,
	}, []string{"L16"}, true},
	{"no-guest-agent", []string{"--run-command", "dpkg --purge qemu-guest-agent"}, []string{"L07"}, false},
	{"no-cloud-init", []string{"--run-command", "dpkg --purge cloud-init"}, []string{"L03", "L04", "L05", "L06", "L09", "L10", "L17"}, false},
}

// verifyBroken breaks an overlay of the image with virt-customize, runs
// cloudimage-verify on it, and checks the failed items; one run keeps its
// failed instance (keep_on_failure), the others report only.
func verifyBroken(t *testing.T, job mainJob, b breakage) {
	broken := filepath.Join(job.dir, b.name+".qcow2")
	testenv.Run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-b", job.image, "-F", "qcow2", broken)
	cmd := exec.Command("virt-customize", append([]string{"-q", "-a", broken}, b.customize...)...)
	cmd.Env = append(os.Environ(), "LIBGUESTFS_BACKEND=direct", "LIBGUESTFS_BACKEND_SETTINGS=force_tcg")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("virt-customize: %v\n%s", err, out)
	}
	reportFile := filepath.Join(job.dir, b.name+".json")
	vm := job.name + "-" + b.name
	settings := `fail_on = "none"`
	if b.name == "swap" {
		// NoCloud's cidata volume instead of the config drive.
		settings += "\n      datasource = \"nocloud\""
	}
	if b.keep {
		settings = `keep_on_failure = true`
	}
	p := testenv.PostProcessorTemplate(t, job.dir, broken, "cloudimage-verify", fmt.Sprintf(`
      domain_type = "qemu"
      vm_name     = %q
      report_file = %q
      %s`, vm, reportFile, settings))
	start := time.Now()
	log, err := testenv.PackerCommand(context.Background(), t, job.dir, "build", p).CombinedOutput()
	rs := testenv.ReadReport(t, reportFile)
	t.Logf("verify took %s; report:\n%s", time.Since(start).Round(time.Second), testenv.Table(rs))
	if failed := testenv.WithStatus(rs, "fail"); !slices.Equal(failed, b.want) {
		t.Errorf("failed items %v, want exactly %v", failed, b.want)
	}
	if !b.keep {
		if err != nil {
			t.Errorf("packer build with fail_on = \"none\": %v\n%s", err, log)
		}
		testenv.AssertNoLeftovers(t, job.l, vm)
		return
	}
	if err == nil || !strings.Contains(string(log), "failed 1 items of the checklist") || !strings.Contains(string(log), b.want[0]) {
		t.Errorf("packer build should fail naming %v: %v\n%s", b.want, err, log)
	}
	dom, err := job.l.DomainLookupByName(vm)
	if err != nil {
		t.Fatalf("keep_on_failure: domain %s is gone: %v", vm, err)
	}
	if state, _, err := job.l.DomainGetState(dom, 0); err != nil || libvirt.DomainState(state) != libvirt.DomainRunning {
		t.Errorf("keep_on_failure: domain %s is not running (state %d, %v)", vm, state, err)
	}
	testenv.Run(t, "virsh", "destroy", vm)
	testenv.Run(t, "virsh", "undefine", vm)
	testenv.Run(t, "virsh", "vol-delete", "--pool", "default", vm+".qcow2")
	testenv.AssertNoLeftovers(t, job.l, vm)
}
