// Package kvm tells whether this host's KVM can run a Linux guest. /dev/kvm
// may exist, open and even start a virtual machine where nested
// virtualisation is broken, and the guest then hangs once its kernel is
// decompressed. The probe boots the host's own kernel (the one libguestfs's
// appliance boots) with no root file system and waits for its panic: about
// a second where KVM works.
package kvm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// Timeout bounds the probe: a kernel under working KVM panics in well under
// a second; under TCG it takes about two.
const Timeout = 20 * time.Second

var cached struct {
	once   sync.Once
	ok     bool
	reason string
}

// Unusable is the one line every component (the builder, sysprep, verify)
// shows when the probe finds KVM unusable; user is what falls back to
// software emulation ("libguestfs", "the domain"). The probe's own words,
// such as QEMU's assertion, are in the log only (PACKER_LOG): Usable logs
// them.
func Unusable(user string) string {
	return "KVM is unusable on this host (see the log); " + user + " uses software emulation (TCG), which is slower"
}

// Usable reports whether KVM runs a Linux guest here, and why (the probe's
// detail, for the log: show Unusable's line instead). The probe runs once
// per process, and its answer is kept in the user's cache folder until the
// host reboots or its kernel or QEMU changes.
func Usable(ctx context.Context) (bool, string) {
	defer func() {
		log.Printf("[INFO] KVM probe: usable %v: %s", cached.ok, cached.reason)
	}()
	cached.once.Do(func() {
		key := cacheKey()
		file := cacheFile()
		if b, err := os.ReadFile(file); err == nil && key != "" {
			if k, rest, ok := strings.Cut(string(b), "\n"); ok && k == key {
				verdict, reason, _ := strings.Cut(rest, "\n")
				cached.ok, cached.reason = verdict == "usable", reason+" (cached in "+file+")"
				return
			}
		}
		cached.ok, cached.reason = probe(ctx)
		if key != "" && ctx.Err() == nil {
			verdict := map[bool]string{true: "usable", false: "unusable"}[cached.ok]
			// Without the cache the next process only probes again.
			if err := writeCache(file, key+"\n"+verdict+"\n"+cached.reason); err != nil {
				log.Printf("[WARN] caching the KVM probe's answer: %v", err)
			}
		}
	})
	return cached.ok, cached.reason
}

// writeCache writes the cache file under a temporary name and renames it,
// so that another process never reads half of it.
func writeCache(file, content string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), filepath.Base(file)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.WriteString(content)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), file)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}

func cacheFile() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "packer-plugin-cloudimage", "kvm-probe")
}

// cacheKey changes when the answer may: a reboot (boot_id), another
// kernel, another QEMU. "" when it cannot be told.
func cacheKey() string {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	key := strings.TrimSpace(string(boot))
	kernels, _ := filepath.Glob("/boot/vmlinuz-*")
	key += " " + strings.Join(kernels, ",")
	if qemu, err := exec.LookPath("qemu-system-x86_64"); err == nil {
		if st, err := os.Stat(qemu); err == nil {
			key += fmt.Sprintf(" %s@%d", qemu, st.ModTime().Unix())
		}
	}
	return key
}

func probe(ctx context.Context) (bool, string) {
	if runtime.GOARCH != "amd64" {
		return false, "the KVM probe knows x86_64 hosts only"
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false, fmt.Sprintf("/dev/kvm: %v", err)
	}
	f.Close()
	kernels, _ := filepath.Glob("/boot/vmlinuz-*")
	if len(kernels) == 0 {
		return false, "no kernel in /boot to probe KVM with"
	}
	slices.Sort(kernels)
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64",
		"-accel", "kvm", "-machine", "pc", "-cpu", "host", "-m", "256",
		"-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio",
		"-kernel", kernels[len(kernels)-1], "-append", "console=ttyS0 panic=-1 quiet")
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return false, fmt.Sprintf("a Linux kernel under KVM did not finish booting in %s (broken nested KVM?)", Timeout)
	case err != nil:
		return false, fmt.Sprintf("qemu with KVM: %v: %s", err, lastLine(out.String()))
	case !strings.Contains(out.String(), "Kernel panic"):
		return false, fmt.Sprintf("a Linux kernel under KVM stopped without its panic: %s", lastLine(out.String()))
	}
	return true, fmt.Sprintf("a Linux kernel booted under KVM in %.1f s", time.Since(start).Seconds())
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
