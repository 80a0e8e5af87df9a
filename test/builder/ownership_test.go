package builder_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

// A domain and a volume made by hand under the build's name (on a shared
// hypervisor: a production VM and its disk) survive a build of that name,
// with and without -force, and the build says why it stopped. So does a
// volume alone under the name of the build's disk.
func TestForeignDomainAndVolumeSurvive(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_ISO")
	dir := testenv.VMDir(t)
	template := isoTemplate(t, dir, env[0], installerHTTP(t, dir, "reboot"))
	name := testenv.DomainName(t)[:24]
	tmp := filepath.Join(dir, "tmp")
	must(t, os.MkdirAll(tmp, 0o755))

	xml := filepath.Join(dir, "web01.xml")
	must(t, os.WriteFile(xml, []byte(fmt.Sprintf(`<domain type="qemu"><name>%s</name><memory unit="MiB">64</memory><os><type>hvm</type></os></domain>`, name)), 0o644))
	testenv.Run(t, "virsh", "define", xml)
	t.Cleanup(func() { _ = exec.Command("virsh", "undefine", name).Run() })
	uuid := testenv.Run(t, "virsh", "domuuid", name)
	alone := name + "-d"
	for _, vol := range []string{name + ".qcow2", alone + ".qcow2"} {
		testenv.Run(t, "virsh", "vol-create-as", "default", vol, "1M", "--format", "qcow2")
		t.Cleanup(func() { _ = exec.Command("virsh", "vol-delete", "--pool", "default", vol).Run() })
	}

	for _, args := range [][]string{nil, {"-force"}} {
		out, err := testenv.PackerBuild(t, dir, tmp, template(name, ""), "", args...)
		if err == nil || !strings.Contains(out, "a domain named "+name+" exists on qemu:///system") || !strings.Contains(out, "this plugin did not create it: it is left alone") {
			t.Errorf("build %v over a foreign domain: want it to stop and say why, got %v:\n%s", args, err, out)
		}
		if got := testenv.Run(t, "virsh", "domuuid", name); got != uuid {
			t.Errorf("build %v: domain %s is now %s, was %s", args, name, got, uuid)
		}
		testenv.Run(t, "virsh", "vol-info", "--pool", "default", name+".qcow2")

		out, err = testenv.PackerBuild(t, dir, tmp, template(alone, ""), "", args...)
		if err == nil || !strings.Contains(out, "volume "+alone+".qcow2 exists in pool default") || !strings.Contains(out, "this build did not create it: it is left alone") {
			t.Errorf("build %v over a foreign volume: want it to stop and say why, got %v:\n%s", args, err, out)
		}
		testenv.Run(t, "virsh", "vol-info", "--pool", "default", alone+".qcow2")
		if found, err := testenv.Driver(t).Mark(alone); err != nil || found != nil {
			t.Errorf("build %v: its own placeholder domain is left (%v)", args, err)
		}
	}
	testenv.AssertEmptyDir(t, tmp)
}
