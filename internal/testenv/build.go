package testenv

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// PackerBuild runs `packer build` with TMPDIR=tmp; when interruptAt is set it
// sends SIGINT (Ctrl-C) as that text appears in the output.
func PackerBuild(t *testing.T, dir, tmp, tmpl, interruptAt string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	sent := false
	return PackerWatch(ctx, t, dir, []string{"TMPDIR=" + tmp}, func(line string, interrupt func()) {
		if interruptAt != "" && !sent && strings.Contains(line, interruptAt) {
			interrupt()
			sent = true
		}
	}, append(append([]string{"build", "-machine-readable"}, args...), tmpl)...)
}

// PackerWatch runs Packer with args in dir, the extra environment, and its
// own packer_cache; each line of its output goes to watch as it comes,
// with a way to press Ctrl-C. It returns the whole output.
func PackerWatch(ctx context.Context, t *testing.T, dir string, env []string, watch func(line string, interrupt func()), args ...string) (string, error) {
	t.Helper()
	cmd := PackerCommand(ctx, t, dir, args...)
	cmd.Env = append(append(cmd.Env, "PACKER_CACHE_DIR="+filepath.Join(dir, "packer_cache")), env...)
	// Its own process group, which gets the SIGINT as a terminal's Ctrl-C
	// would: Packer's outer (panicwrap) process ignores one sent to it alone.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	interrupt := func() {
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
			t.Errorf("interrupting packer: %v", err)
		}
	}
	var out strings.Builder
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if watch != nil {
				watch(sc.Text(), interrupt)
			}
		}
		_, _ = io.Copy(io.Discard, pr) // a line too long for the scanner
	}()
	err := cmd.Wait()
	pw.Close()
	<-done
	return out.String(), err
}

// AssertEmptyDir fails the test for each file in dir.
func AssertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("temporary file left behind: %s", filepath.Join(dir, e.Name()))
	}
}

// FixtureSource is the source block `source "cloudimage-libvirt" "debian"`
// that boots the Debian fixture image as vmName under software emulation
// (an overlay of 3 GiB, user-mode networking, root's password), its disk
// exported to outputDir; extra lines go into the block.
func FixtureSource(t *testing.T, vmName, outputDir string, extra ...string) string {
	env := Get(t, "CLOUDIMAGE_FIXTURE_IMAGE", "CLOUDIMAGE_FIXTURE_PASSWORD")
	return fmt.Sprintf(`
source "cloudimage-libvirt" "debian" {
  disk_image_url      = %q
  disk_image_checksum = "none"
  use_backing_file    = true
  disk_size           = "3G"
  domain_type         = "qemu"
  network_mode        = "user"
  vm_name             = %q
  cpus                = 2
  memory              = 1536
  ssh_username        = "root"
  ssh_password        = %q
  ssh_timeout         = "10m"
  output_directory    = %q
  %s
}
`, env[0], vmName, env[1], outputDir, strings.Join(extra, "\n  "))
}
