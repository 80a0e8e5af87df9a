package checklist

import "testing"

// The ubuntu1404 family on an Ubuntu 14.04 tree as the installer leaves
// it: a swap file, eth0 in /etc/network/interfaces, a persistent-net rule
// and udev's generator that writes them, ufw enabled (an upstart job), no
// cloud-init. The stub initctl knows cloud-init's upstart jobs (the stub
// apt-get writes no /etc/init files); apache2 and qemu-guest-agent are
// sysvinit scripts, whose rc links the stub update-rc.d makes.
func TestUbuntu1404OnTree(t *testing.T) {
	applyOnTree(t, "ubuntu1404", "ubuntu1404",
		[]string{"cloud-init-local", "cloud-init-nonet", "cloud-init", "cloud-config", "cloud-final"},
		[]string{"L14", "L18"})
}

// The ubuntu1604 family on an Ubuntu 16.04 tree: a swap file, ens3 in
// /etc/network/interfaces, ufw enabled, no cloud-init.
func TestUbuntu1604OnTree(t *testing.T) {
	applyOnTree(t, "ubuntu1604", "ubuntu1604", []string{"ufw"}, []string{"L14", "L18"})
}

// The ubuntu-netplan family on an Ubuntu 22.04 tree as Subiquity leaves
// it: /swap.img, a netplan file pinning the NIC by its MAC, cloud-init's
// networking turned off and its datasource_list set to [ None ] by the
// installer (99-installer.cfg, after 90_dpkg.cfg), cloud-init's sshd
// drop-in refusing passwords, "quiet splash", ufw enabled.
func TestUbuntuNetplanOnTree(t *testing.T) {
	applyOnTree(t, "ubuntu-netplan", "ubuntu2204", []string{"ufw"}, []string{"L14", "L18"})
}
