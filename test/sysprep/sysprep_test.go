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

	"github.com/cloudimage/packer-plugin-cloudimage/internal/testenv"
)

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

// guestfish runs a guestfish script on image, read-write and offline, and
// returns its output.
func guestfish(t *testing.T, image, script string) string {
	t.Helper()
	cmd := exec.Command("guestfish", "--format=qcow2", "-a", image, "-i")
	cmd.Env = append(os.Environ(), testenv.GuestfsEnv...)
	cmd.Stdin = strings.NewReader(script)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("guestfish: %v\n%s", err, b)
	}
	return string(b)
}

// The post-processor cleans a used guest: SSH host keys, machine-id, shell
// history, DHCP leases and login records are gone from the output (read
// offline with guestfish), the firstboot script is installed, the input is
// untouched, and every format is written with checksums that `sha256sum
// -c` accepts and the same content as the qcow2 output, compressed with
// zstd. The guest is made used offline, by writing what a boot leaves;
// the main job (test/verify) checks the same on a guest really booted and
// provisioned, and that sysprep's output boots. How its size and time
// compare with virt-sparsify's and qemu-img's is hack/bench-sysprep.sh's.
func TestSysprepCleansAUsedGuest(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_IMAGE")
	dir := testenv.VMDir(t)
	input := filepath.Join(dir, "used.qcow2")
	testenv.Run(t, "qemu-img", "convert", "-f", "qcow2", "-O", "qcow2", env[0], input)
	used := guestfish(t, input, `
write /etc/machine-id "0b2a4c3f1d6e48a7b9c0d1e2f3a4b5c6\n"
write /root/.bash_history "ls /secret-history-line\n"
mkdir-p /var/lib/dhcp
write /var/lib/dhcp/dhclient.leases "lease { fixed-address 10.0.2.15; }\n"
write /var/log/wtmp "a login record"
echo keys:
glob-expand /etc/ssh/ssh_host_*
`)
	if !strings.Contains(used, "/etc/ssh/ssh_host_") {
		t.Fatalf("the fixture has no SSH host keys to clean: %s", used)
	}
	inputSum := testenv.SHA256(t, input)

	script := filepath.Join(dir, "regen-keys.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n# sshd failed at boot without keys, up to its start limit.\nssh-keygen -A\nsystemctl reset-failed ssh.service\nsystemctl restart ssh.service\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	start := time.Now()
	log := testenv.Packer(t, dir, "build", template(t, dir, input, fmt.Sprintf(`
      formats           = ["qcow2", "raw", "vmdk", "vhdx", "vpc", "vdi"]
      compression       = "zstd"
      checksum_types    = ["sha256", "md5"]
      firstboot_scripts = [%q]
      keep_input        = true
      output_directory  = %q
      output_name       = "debian12"
`, script, out)))
	t.Logf("packer build: %s\n%s", time.Since(start).Round(time.Second), log)
	// KVM aborts here: one line says so, QEMU's assertion stays in the log.
	if strings.Contains(log, "Assertion") {
		t.Errorf("the build output carries QEMU's raw assertion")
	}
	for _, want := range []string{"KVM is unusable on this host (see the log); libguestfs uses software emulation (TCG)", "guest: linux debian 12", "Cleaning the guest with virt-sysprep", "Sparsifying the disk in place with virt-sparsify"} {
		if !strings.Contains(log, want) {
			t.Errorf("the build output lacks %q", want)
		}
	}

	if got := testenv.SHA256(t, input); got != inputSum {
		t.Errorf("keep_input: the input changed (sha256 %s, was %s)", got, inputSum)
	}
	qcow2 := filepath.Join(out, "debian12.qcow2")
	for _, f := range []struct{ ext, format string }{{"qcow2", "qcow2"}, {"raw", "raw"}, {"vmdk", "vmdk"}, {"vhdx", "vhdx"}, {"vhd", "vpc"}, {"vdi", "vdi"}} {
		path := filepath.Join(out, "debian12."+f.ext)
		for _, sum := range []string{"sha256sum", "md5sum"} {
			cmd := exec.Command(sum, "-c", filepath.Base(path)+"."+strings.TrimSuffix(sum, "sum"))
			cmd.Dir = out
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s -c: %v\n%s", sum, err, b)
			}
		}
		if f.ext != "qcow2" {
			if b, err := exec.Command("qemu-img", "compare", "-f", "qcow2", "-F", f.format, qcow2, path).CombinedOutput(); err != nil {
				t.Errorf("qemu-img compare %s: %v\n%s", path, err, b)
			}
		}
	}
	if info := testenv.Run(t, "qemu-img", "info", "-f", "qcow2", qcow2); !strings.Contains(info, "compression type: zstd") {
		t.Errorf("compression = zstd: qemu-img info says\n%s", info)
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	t.Logf("input %d KiB, qcow2 output %d KiB", size(t, input)>>10, size(t, qcow2)>>10)

	if got := testenv.Cleanliness(t, qcow2, "qcow2"); got != testenv.Clean {
		t.Errorf("guestfish on the output says %q, want %q", got, testenv.Clean)
	}
	firstboot := testenv.Run(t, "virt-ls", "--format=qcow2", "-a", qcow2, "/usr/lib/virt-sysprep/scripts")
	if !strings.Contains(firstboot, "regen-keys") {
		t.Errorf("the firstboot script is not installed: /usr/lib/virt-sysprep/scripts holds %q", firstboot)
	}
}

// Both sparsify modes drop free space: the output is smaller than a plain
// conversion of the input, by the deleted file's blocks that only look
// used, and the input stays untouched. in-place (the default) discards in
// the overlay; copy has virt-sparsify write the output.
func TestSparsifyModes(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_IMAGE")
	dir := testenv.VMDir(t)
	input := filepath.Join(dir, "disk.qcow2")
	testenv.Run(t, "qemu-img", "convert", "-f", "qcow2", "-O", "qcow2", env[0], input)
	// 100 MiB of random data written and deleted: free space qemu-img
	// cannot tell from data.
	guestfish(t, input, "sh \"head -c 104857600 /dev/urandom > /junk && sync && rm /junk\"\n")
	sum := testenv.SHA256(t, input)
	plain := filepath.Join(dir, "plain.qcow2")
	testenv.Run(t, "qemu-img", "convert", "-f", "qcow2", "-O", "qcow2", input, plain)
	for _, tc := range []struct{ mode, said string }{
		{"in-place", "Sparsifying the disk in place"},
		{"copy", "Sparsifying the disk with virt-sparsify (copy mode)"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			log := testenv.Packer(t, dir, "build", template(t, dir, input, fmt.Sprintf(`
      sysprep       = false
      sparsify_mode = %q
      compression   = "none"
      keep_input    = true
      output_name   = "sparse-%s"
`, tc.mode, tc.mode)))
			if !strings.Contains(log, tc.said) {
				t.Errorf("no %q in the output:\n%s", tc.said, log)
			}
			out := filepath.Join(dir, "sparse-"+tc.mode+".qcow2")
			t.Logf("input %d MiB, plain qemu-img convert %d MiB, sparsified (%s) %d MiB", size(t, input)>>20, size(t, plain)>>20, tc.mode, size(t, out)>>20)
			if size(t, out) >= size(t, plain)-50<<20 {
				t.Errorf("%s: %d bytes, not 50 MiB smaller than qemu-img convert's %d", tc.mode, size(t, out), size(t, plain))
			}
			if testenv.SHA256(t, input) != sum {
				t.Errorf("the input changed")
			}
		})
	}
}

// Cancelled (Ctrl-C) while virt-sparsify runs, or while the second of two
// outputs is converted (the first complete under its temporary name, the
// second half written): no temporary file, overlay or output is left, the
// input is untouched, and no appliance keeps running. The SDK runs the
// cleanup of the steps that ran only: the temporaries go with the first
// step's.
func TestCancelLeavesNothing(t *testing.T) {
	env := testenv.Get(t, "CLOUDIMAGE_FIXTURE_IMAGE")
	for _, tc := range []struct{ name, at, extra string }{
		{"sparsify", "Sparsifying the disk", ""},
		{"convert", "Converting to raw", `formats = ["qcow2", "raw"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cancelLeavesNothing(t, env[0], tc.at, tc.extra)
		})
	}
}

func cancelLeavesNothing(t *testing.T, fixture, at, extra string) {
	dir := testenv.VMDir(t)
	// Its own name: the check for a QEMU left running looks for it.
	input := filepath.Join(dir, "disk-"+testenv.RandomHex(t, 4)+".qcow2")
	testenv.Run(t, "qemu-img", "convert", "-f", "qcow2", "-O", "qcow2", fixture, input)
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
      %s
`, out, tmp, extra))
	log, err := testenv.PackerBuild(t, dir, tmp, tmpl, at)
	if err == nil || !strings.Contains(log, at) {
		t.Fatalf("want a build cancelled at %q, got %v:\n%s", at, err, log)
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
