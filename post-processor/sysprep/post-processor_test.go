package sysprep

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/uitest"
)

// diskArtifact is an artifact whose one file is a disk.
type diskArtifact string

func (diskArtifact) BuilderId() string        { return "test" }
func (a diskArtifact) Files() []string        { return []string{string(a)} }
func (diskArtifact) Id() string               { return "" }
func (diskArtifact) String() string           { return "" }
func (diskArtifact) State(string) interface{} { return nil }
func (diskArtifact) Destroy() error           { return nil }

// fakeTools puts on PATH a virt-inspector that finds a Debian guest and a
// virt-sysprep that fails; the overlay is made by the real qemu-img.
func fakeTools(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("no qemu-img")
	}
	dir := t.TempDir()
	for name, script := range map[string]string{
		"virt-inspector": "#!/bin/sh\necho '<operatingsystems><operatingsystem><name>linux</name><distro>debian</distro><major_version>12</major_version></operatingsystem></operatingsystems>'\n",
		"virt-sysprep":   "#!/bin/sh\necho 'virt-sysprep: error: no space left on the appliance' >&2\nexit 1\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// With -on-error=abort a failed run keeps the overlay (and any temporary
// file) and names it in one line; without, nothing is left but the input.
func TestOnErrorAbortKeepsTheOverlay(t *testing.T) {
	fakeTools(t)
	for _, onError := range []string{"abort", "cleanup"} {
		t.Run(onError, func(t *testing.T) {
			dir := t.TempDir()
			disk := filepath.Join(dir, "web.qcow2")
			if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", disk, "16M").CombinedOutput(); err != nil {
				t.Fatalf("qemu-img create: %v: %s", err, out)
			}
			var p PostProcessor
			if err := p.Configure(map[string]interface{}{"accelerator": "tcg", "packer_on_error": onError}); err != nil {
				t.Fatal(err)
			}
			ui := uitest.New()
			_, _, _, err := p.PostProcess(context.Background(), ui, diskArtifact(disk))
			if err == nil || !strings.Contains(err.Error(), "no space left") {
				t.Fatalf("error %v, want virt-sysprep's", err)
			}
			overlays, _ := filepath.Glob(filepath.Join(dir, ".web.tmp-*.overlay.qcow2"))
			entries, _ := os.ReadDir(dir)
			if onError == "cleanup" {
				if len(entries) != 1 || ui.Said("kept") {
					t.Errorf("left %v; said %q", entries, ui.Output())
				}
				return
			}
			if len(overlays) != 1 {
				t.Fatalf("kept %v, want the overlay", entries)
			}
			want := "-on-error=abort: kept the overlay and temporary files for a look (remove them yourself): " + overlays[0]
			if !ui.Said(want) {
				t.Errorf("said\n%s\nwant a line %q", ui.Output(), want)
			}
		})
	}
}
