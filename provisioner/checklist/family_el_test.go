package checklist

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cloudimage/packer-plugin-cloudimage/internal/report"
)

// The el6 family on a CentOS 6 tree after a kickstart install: a swap
// file, HWADDR in ifcfg-eth0, the persistent-net rule and its generator,
// SELinux enforcing, the iptables services on, rhgb quiet in grub.conf.
// chkconfig's stub keeps the services' state in the tree's rc links.
func TestEl6OnTree(t *testing.T) {
	applyOnTree(t, "el6", "centos6", nil, []string{"L18"})
}

// The el7 family on a CentOS 7 tree: a swap file, HWADDR and UUID in
// ifcfg-eth0, SELinux enforcing, firewalld, grub2 with linux16 lines.
func TestEl7OnTree(t *testing.T) {
	applyOnTree(t, "el7", "centos7", []string{"firewalld"}, []string{"L18"})
}

// The el8 family on a Rocky 9 tree: BLS entries, a keyfile with the MAC,
// an sshd_config that includes sshd_config.d, firewalld and nftables.
func TestEl8OnTree(t *testing.T) {
	applyOnTree(t, "el8", "rocky9", []string{"firewalld", "nftables"}, []string{"L18"})
}

// Verify mode on a CentOS 7 tree broken after apply (a swap file, firewalld
// enabled again, HWADDR back, SELinux enforcing) reports exactly those
// four failures and changes nothing.
func TestEl7VerifyFindsBreakage(t *testing.T) {
	root := copyTree(t, "centos7")
	state := t.TempDir()
	runOnTree(t, "el7", "apply", root, state, "firewalld")

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	appendTo := func(name, text string) {
		f, err := os.OpenFile(filepath.Join(root, name), os.O_APPEND|os.O_WRONLY, 0)
		must(err)
		_, err = f.WriteString(text)
		must(err)
		must(f.Close())
	}
	appendTo("etc/fstab", "/swapfile none swap defaults 0 0\n")
	must(os.WriteFile(filepath.Join(root, "swapfile"), []byte("swap"), 0o600))
	must(os.WriteFile(filepath.Join(state, "svc", "firewalld"), nil, 0o644))
	appendTo("etc/sysconfig/network-scripts/ifcfg-eth0", "HWADDR=\"52:54:00:6e:1d:4a\"\n")
	cfg := filepath.Join(root, "etc/selinux/config")
	b, err := os.ReadFile(cfg)
	must(err)
	must(os.WriteFile(cfg, []byte(strings.Replace(string(b), "SELINUX=disabled", "SELINUX=enforcing", 1)), 0o644))
	before := render(snapshot(t, root))

	run := runOnTree(t, "el7", "verify", root, state, "firewalld")
	var failed []string
	for _, r := range run.results {
		if r.Status == "fail" {
			failed = append(failed, r.ID)
		}
	}
	if want := []string{"L02", "L14", "L15", "L16"}; !slices.Equal(failed, want) {
		t.Errorf("verify failed %v, want %v; results:\n%s", failed, want, report.Table(run.results))
	}
	if after := render(snapshot(t, root)); after != before {
		t.Errorf("verify mode changed the tree")
	}
	for _, call := range run.calls {
		for _, busy := range []string{"yum", "grub2-mkconfig", "systemctl enable", "systemctl disable"} {
			if strings.HasPrefix(call, busy) {
				t.Errorf("verify mode called %q", call)
			}
		}
	}
}
