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
	tools(t, map[string]string{
		"virt-inspector": inspectLinux,
		"virt-sysprep":   "echo 'virt-sysprep: error: no space left on the appliance' >&2\nexit 1",
	})
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

// tools puts scripts on PATH under the names of the libguestfs programs.
func tools(t *testing.T, scripts map[string]string) {
	t.Helper()
	for _, p := range []string{"qemu-img", "qemu-io"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skip("no " + p)
		}
	}
	dir := t.TempDir()
	for name, script := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

const (
	inspectLinux   = "echo '<operatingsystems><operatingsystem><name>linux</name><distro>debian</distro><major_version>12</major_version></operatingsystem></operatingsystems>'"
	inspectWindows = "echo '<operatingsystems><operatingsystem><name>windows</name><distro>windows</distro><major_version>10</major_version></operatingsystem></operatingsystems>'"
	// sysprepWrites writes 0x55 over the disk's first 64 KiB ("-a DISK" is
	// its last pair of arguments but for the machine-id command).
	sysprepWrites = `while [ "$1" != "-a" ]; do shift; done; qemu-io -f qcow2 -c 'write -P 0x55 0 64k' "$2" >/dev/null`
)

// runSysprep runs the post-processor on a new 16 MiB qcow2 whose first
// 64 KiB hold 0x11, and returns the UI and the qcow2 output's path.
func runSysprep(t *testing.T) (*uitest.UI, string, error) {
	t.Helper()
	dir := t.TempDir()
	disk := filepath.Join(dir, "web.qcow2")
	for _, args := range [][]string{
		{"qemu-img", "create", "-q", "-f", "qcow2", disk, "16M"},
		{"qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 64k", disk},
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", args, err, out)
		}
	}
	var p PostProcessor
	if err := p.Configure(map[string]interface{}{"accelerator": "tcg", "keep_input": true, "output_name": "out", "checksum_types": []string{}, "sparsify_mode": "in-place"}); err != nil {
		t.Fatal(err)
	}
	ui := uitest.New()
	_, _, _, err := p.PostProcess(context.Background(), ui, diskArtifact(disk))
	return ui, filepath.Join(dir, "out.qcow2"), err
}

// holds reports whether the disk's first 64 KiB are all the byte pattern.
func holds(t *testing.T, disk, pattern string) bool {
	t.Helper()
	out, err := exec.Command("qemu-io", "-f", "qcow2", "-c", "read -P "+pattern+" 0 64k", disk).CombinedOutput()
	return err == nil && !strings.Contains(string(out), "Pattern verification failed")
}

// virt-sysprep runs beside the inspection. On a Linux guest its work is
// in the output; on a Windows guest, which it does not support, its work
// is thrown away with a warning, and the input's bytes are converted.
func TestSysprepBesideInspection(t *testing.T) {
	for _, tc := range []struct {
		name, inspector, want string
		warned                bool
	}{
		{"linux, inspection first", inspectLinux, "0x55", false},
		{"linux, inspection last", "sleep 1; " + inspectLinux, "0x55", false},
		{"windows, inspection first", inspectWindows, "0x11", true},
		{"windows, inspection last", "sleep 1; " + inspectWindows, "0x11", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tools(t, map[string]string{"virt-inspector": tc.inspector, "virt-sysprep": sysprepWrites, "virt-sparsify": "exit 0"})
			ui, out, err := runSysprep(t)
			if err != nil {
				t.Fatalf("%v\n%s", err, ui.Output())
			}
			if !holds(t, out, tc.want) {
				t.Errorf("the output's first 64 KiB are not %s", tc.want)
			}
			if warned := ui.ErrorSaid("virt-sysprep does not support Windows guests"); warned != tc.warned {
				t.Errorf("warned %v, want %v:\n%s", warned, tc.warned, ui.Output())
			}
		})
	}
}

// A failed inspection fails the run with its error and stops virt-sysprep;
// a failed virt-sysprep fails it without waiting for the inspection.
func TestSysprepOrInspectionFails(t *testing.T) {
	dir := t.TempDir()
	stopped := filepath.Join(dir, "sysprep-finished")
	for _, tc := range []struct {
		name      string
		scripts   map[string]string
		wantError string
	}{
		{"inspection", map[string]string{
			"virt-inspector": "echo 'virt-inspector: no root device found' >&2; exit 1",
			"virt-sysprep":   "sleep 30; touch " + stopped,
		}, "no root device found"},
		{"virt-sysprep", map[string]string{
			"virt-inspector": "sleep 30; " + inspectLinux,
			"virt-sysprep":   "echo 'virt-sysprep: error: no space left on the appliance' >&2; exit 1",
		}, "no space left on the appliance"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tools(t, tc.scripts)
			_, _, err := runSysprep(t)
			if err == nil || !strings.Contains(err.Error(), tc.wantError) {
				t.Fatalf("error %v, want %q", err, tc.wantError)
			}
			if _, err := os.Stat(stopped); err == nil {
				t.Error("virt-sysprep ran on after the inspection failed")
			}
		})
	}
}
