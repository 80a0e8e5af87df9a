// Package sysprep_test runs the cloudimage-sysprep post-processor in a real
// Packer build (the null builder and the artifice post-processor hand it a
// disk file) with real libguestfs on the Debian fixture.
package sysprep_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitalocean/go-libvirt"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

// The libguestfs tools the test runs by hand: software emulation, as KVM
// is broken on this machine.
var guestfsEnv = []string{"LIBGUESTFS_BACKEND=direct", "LIBGUESTFS_BACKEND_SETTINGS=force_tcg"}

// template is a build whose only job is the post-processor, on file.
func template(t *testing.T, dir, file, settings string) string {
	t.Helper()
	return testenv.PostProcessorTemplate(t, dir, file, "cloudimage-sysprep", settings)
}

func size(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// timed runs a command with the libguestfs environment and returns how
// long it took.
func timed(t *testing.T, name string, args ...string) time.Duration {
	t.Helper()
	start := time.Now()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), guestfsEnv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return time.Since(start)
}

// boot starts a domain on a copy-on-write overlay of disk and returns it
// with a root SSH login.
func boot(t *testing.T, l *libvirt.Libvirt, disk, password string) (*sshClient, libvirt.Domain) {
	t.Helper()
	c, dom, overlay := testenv.BootOverlay(t, l, disk, password)
	return &sshClient{t: t, c: c, overlay: overlay}, dom
}

// The post-processor cleans a booted guest: SSH host keys, machine-id,
// shell history, DHCP leases and login records are gone from the output
// (read offline with guestfish), the input is untouched, every format is
// written with checksums that `sha256sum -c` accepts and the same content
// as the qcow2 output, the qcow2 output is smaller than a compressed
// qemu-img convert of the input and no larger than virt-sparsify
// --compress of it, and it boots to SSH with new host keys.
func TestSysprepCleansABootedGuest(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_IMAGE", "CLOUDIMAGE_FIXTURE_PASSWORD")
	password := env[1]
	l := testenv.Connect(t)
	dir := testenv.VMDir(t)

	// Boot it: host keys, a machine-id, logins in wtmp; shell history and a
	// DHCP lease where dhclient keeps one (the fixture's networkd keeps its
	// lease under /run).
	g, dom := boot(t, l, env[0], password)
	g.run("echo 'ls /secret-history-line' >> /root/.bash_history")
	g.run("mkdir -p /var/lib/dhcp && cat /run/systemd/netif/leases/* > /var/lib/dhcp/dhclient.leases && test -s /var/lib/dhcp/dhclient.leases")
	before := map[string]string{
		"host keys":  g.run("ls /etc/ssh/ssh_host_*_key | wc -l"),
		"machine-id": g.run("cat /etc/machine-id"),
		"history":    g.run("wc -l < /root/.bash_history"),
		"lease":      g.run("wc -c < /var/lib/dhcp/dhclient.leases"),
		"wtmp":       g.run("wc -c < /var/log/wtmp"),
	}
	t.Logf("booted guest: %v", before)
	g.poweroff(l, dom)
	// The booted disk, flattened, is the input.
	input := filepath.Join(dir, "booted.qcow2")
	testenv.Run(t, "qemu-img", "convert", "-O", "qcow2", g.overlay, input)
	inputSum := testenv.SHA256(t, input)

	// By hand, for the sizes: qemu-img's compressed copy, virt-sparsify's.
	refConvert := filepath.Join(dir, "ref-convert.qcow2")
	tConvert := timed(t, "qemu-img", "convert", "-c", "-O", "qcow2", input, refConvert)
	refSparsify := filepath.Join(dir, "ref-sparsify.qcow2")
	tSparsify := timed(t, "virt-sparsify", "--check-tmpdir=fail", "--compress", "--convert", "qcow2", input, refSparsify)

	script := filepath.Join(dir, "regen-keys.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n# sshd failed at boot without keys, up to its start limit.\nssh-keygen -A\nsystemctl reset-failed ssh.service\nsystemctl restart ssh.service\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	start := time.Now()
	log := testenv.Packer(t, dir, "build", template(t, dir, input, fmt.Sprintf(`
      formats           = ["qcow2", "raw", "vmdk", "vhdx", "vpc", "vdi"]
      checksum_types    = ["sha256", "md5"]
      firstboot_scripts = [%q]
      keep_input        = true
      output_directory  = %q
      output_name       = "debian12"
`, script, out)))
	tPlugin := time.Since(start)
	t.Logf("packer build: %s\n%s", tPlugin.Round(time.Second), log)
	for _, want := range []string{"libguestfs: software emulation (TCG)", "guest: linux debian 12", "Cleaning the guest with virt-sysprep", "Sparsifying the disk with virt-sparsify (copy mode)"} {
		if !strings.Contains(log, want) {
			t.Errorf("the build output lacks %q", want)
		}
	}

	if got := testenv.SHA256(t, input); got != inputSum {
		t.Errorf("keep_input: the input changed (sha256 %s, was %s)", got, inputSum)
	}
	qcow2 := filepath.Join(out, "debian12.qcow2")
	for _, ext := range []string{"qcow2", "raw", "vmdk", "vhdx", "vhd", "vdi"} {
		f := filepath.Join(out, "debian12."+ext)
		for _, sum := range []string{"sha256sum", "md5sum"} {
			cmd := exec.Command(sum, "-c", filepath.Base(f)+"."+strings.TrimSuffix(sum, "sum"))
			cmd.Dir = out
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s -c: %v\n%s", sum, err, b)
			}
		}
		if ext != "qcow2" {
			if b, err := exec.Command("qemu-img", "compare", qcow2, f).CombinedOutput(); err != nil {
				t.Errorf("qemu-img compare %s: %v\n%s", f, err, b)
			}
		}
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}

	sizes := fmt.Sprintf("input %d KiB; qemu-img convert -c %d KiB in %s; virt-sparsify --compress %d KiB in %s; cloudimage-sysprep qcow2 %d KiB (whole post-processor, 6 formats and checksums, %s)",
		size(t, input)>>10, size(t, refConvert)>>10, tConvert.Round(time.Second), size(t, refSparsify)>>10, tSparsify.Round(time.Second), size(t, qcow2)>>10, tPlugin.Round(time.Second))
	t.Log(sizes)
	if size(t, qcow2) >= size(t, refConvert) {
		t.Errorf("the qcow2 output is not smaller than qemu-img convert -c: %s", sizes)
	}
	if size(t, qcow2) > size(t, refSparsify) {
		t.Errorf("the qcow2 output is larger than virt-sparsify --compress: %s", sizes)
	}

	// Offline, as a user would look: one guestfish session.
	cmd := exec.Command("guestfish", "--ro", "-a", qcow2, "-i")
	cmd.Env = append(os.Environ(), guestfsEnv...)
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
		t.Fatalf("guestfish: %v\n%s", err, b)
	}
	got := strings.Fields(strings.ReplaceAll(string(b), "\n", " "))
	if want := "keys: machine-id: history: false lease: wtmp: false"; strings.Join(got, " ") != want {
		t.Errorf("guestfish on the output says %q, want %q (no host keys, an empty machine-id, no history, no lease, no wtmp)", strings.Join(got, " "), want)
	}

	// It boots; the firstboot script made new host keys; systemd a new
	// machine-id.
	g2, _ := boot(t, l, qcow2, password)
	if n := g2.run("ls /etc/ssh/ssh_host_*_key | wc -l"); n == "0" {
		t.Errorf("no host keys after the first boot")
	}
	if id := g2.run("cat /etc/machine-id"); id == "" || id == before["machine-id"] {
		t.Errorf("machine-id after the first boot: %q (the booted guest's was %q)", id, before["machine-id"])
	}
}

// With virt-sysprep and virt-sparsify off, each format holds exactly the
// input's content; a keep_input = false run replaces the input in place.
func TestFormatsMatchTheInput(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_IMAGE")
	dir := testenv.VMDir(t)
	input := filepath.Join(dir, "disk.qcow2")
	testenv.Run(t, "qemu-img", "convert", "-O", "qcow2", env[0], input)
	ref := filepath.Join(dir, "reference.raw")
	testenv.Run(t, "qemu-img", "convert", "-O", "raw", input, ref)
	testenv.Packer(t, dir, "build", template(t, dir, input, `
      sysprep        = false
      sparsify       = false
      formats        = ["qcow2", "raw", "vmdk", "vhdx", "vpc", "vdi"]
      compression    = "zstd"
      checksum_types = []
`))
	for _, ext := range []string{"qcow2", "raw", "vmdk", "vhdx", "vhd", "vdi"} {
		f := filepath.Join(dir, "disk."+ext)
		if b, err := exec.Command("qemu-img", "compare", ref, f).CombinedOutput(); err != nil {
			t.Errorf("qemu-img compare with the input, %s: %v\n%s", ext, err, b)
		}
		if _, err := os.Stat(f + ".sha256"); !os.IsNotExist(err) {
			t.Errorf("checksum_types = []: %s.sha256 written", f)
		}
	}
	info := testenv.Run(t, "qemu-img", "info", filepath.Join(dir, "disk.qcow2"))
	if !strings.Contains(info, "compression type: zstd") {
		t.Errorf("compression = zstd: qemu-img info says\n%s", info)
	}
}

// In-place mode sparsifies the overlay: the output is smaller than a plain
// conversion of the input, by the deleted file's blocks that only look
// used, and the input stays untouched.
func TestInPlaceSparsify(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_IMAGE")
	dir := testenv.VMDir(t)
	input := filepath.Join(dir, "disk.qcow2")
	testenv.Run(t, "qemu-img", "convert", "-O", "qcow2", env[0], input)
	// 100 MiB of random data written and deleted: free space qemu-img
	// cannot tell from data.
	timed(t, "guestfish", "-a", input, "-i", "sh", "head -c 104857600 /dev/urandom > /junk && sync && rm /junk")
	sum := testenv.SHA256(t, input)
	plain := filepath.Join(dir, "plain.qcow2")
	testenv.Run(t, "qemu-img", "convert", "-O", "qcow2", input, plain)
	log := testenv.Packer(t, dir, "build", template(t, dir, input, `
      sysprep       = false
      sparsify_mode = "in-place"
      compression   = "none"
      keep_input    = true
      output_name   = "sparse"
`))
	if !strings.Contains(log, "Sparsifying the disk in place") {
		t.Errorf("no in-place sparsify in the output:\n%s", log)
	}
	out := filepath.Join(dir, "sparse.qcow2")
	t.Logf("input %d MiB, plain qemu-img convert %d MiB, in-place sparsified %d MiB", size(t, input)>>20, size(t, plain)>>20, size(t, out)>>20)
	if size(t, out) >= size(t, plain) {
		t.Errorf("in-place: %d bytes, not smaller than qemu-img convert's %d", size(t, out), size(t, plain))
	}
	if testenv.SHA256(t, input) != sum {
		t.Errorf("the input changed")
	}
}

// Cancelled (Ctrl-C) while virt-sparsify runs: no temporary file, overlay
// or output is left, the input is untouched, and no appliance keeps
// running.
func TestCancelLeavesNothing(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_IMAGE")
	dir := testenv.VMDir(t)
	input := filepath.Join(dir, "disk.qcow2")
	testenv.Run(t, "qemu-img", "convert", "-O", "qcow2", env[0], input)
	sum := testenv.SHA256(t, input)
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	tmpl := template(t, dir, input, fmt.Sprintf(`
      output_directory = %q
      tmp_dir          = %q
`, out, tmp))
	log, err := testenv.PackerBuild(t, dir, tmp, tmpl, "Sparsifying the disk")
	if err == nil || !strings.Contains(log, "Sparsifying the disk") {
		t.Fatalf("want a build cancelled during virt-sparsify, got %v:\n%s", err, log)
	}
	testenv.AssertEmptyDir(t, out)
	// tmp_dir (and TMPDIR) may keep libguestfs's appliance cache, nothing
	// else.
	left, _ := os.ReadDir(tmp)
	for _, e := range left {
		if !strings.HasPrefix(e.Name(), ".guestfs-") {
			t.Errorf("left in tmp_dir: %s", e.Name())
		}
	}
	if got := testenv.SHA256(t, input); got != sum {
		t.Errorf("the input changed")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left in the input's folder: %s", e.Name())
		}
	}
	// The appliance's QEMU dies with its tool's process group.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		b, _ := exec.Command("pgrep", "-f", "qemu.*"+filepath.Base(input)).Output()
		if len(strings.TrimSpace(string(b))) == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("a QEMU using the input is still running: %s", b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
