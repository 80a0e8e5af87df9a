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
	cmd := PackerCommand(ctx, t, dir, append(append([]string{"build", "-machine-readable"}, args...), tmpl)...)
	cmd.Env = append(cmd.Env, "TMPDIR="+tmp, "PACKER_CACHE_DIR="+filepath.Join(dir, "packer_cache"))
	// Its own process group, which gets the SIGINT as a terminal's Ctrl-C
	// would: Packer's outer (panicwrap) process ignores one sent to it alone.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if interruptAt != "" && !sent && strings.Contains(sc.Text(), interruptAt) {
				syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
				sent = true
			}
		}
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
