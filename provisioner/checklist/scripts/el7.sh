# shellcheck shell=dash
# shellcheck disable=SC2034 # set here, read by the other files of the one script (script_test.go)
# Family el7: CentOS 7, RHEL 7 (systemd, yum, firewalld, NetworkManager with
# ifcfg files, grub2 from /etc/default/grub).

# Packages: rpm.sh; the mirror holds the os, updates and extras
# repositories of CentOS 7 ($CL_MIRROR/os/x86_64/).

# grub_cfg: the grub.cfg grub reads: UEFI's beside the EFI binary, else
# BIOS's.
grub_cfg() {
  local f
  for f in "$R"/boot/efi/EFI/centos/grub.cfg "$R"/boot/efi/EFI/redhat/grub.cfg; do
    [ -f "$f" ] && { echo "${f#"$R"}"; return; }
  done
  echo /boot/grub2/grub.cfg
}
grub_update() { grub2-mkconfig -o "$(grub_cfg)"; }

# --- L08, L11: NetworkManager brings a new NIC up by DHCP ("Wired
# connection N") unless no-auto-default turns that off.
NIC_HOTPLUG="NetworkManager configures a NIC added while running by DHCP (its automatic default connection)"

