#!/usr/bin/env bash
# Installs the Debian packages the tests and the example need. Idempotent:
# a second run finds everything installed and returns in about a second.
source "$(dirname "$0")/lib.sh"
require_root

PACKAGES=(
  # libvirt and QEMU (software emulation works here; KVM may not)
  libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils ovmf
  # libvirt NAT networks (network_mode = "network" tests, in a netns)
  dnsmasq-base iptables
  # libguestfs; supermin needs a host kernel to build its appliance
  libguestfs-tools linux-image-cloud-amd64
  # fixtures: the Debian disk image and the installer ISO
  debootstrap xorriso isolinux syslinux-common busybox-static cpio kmod
  # real OpenStack services on loopback
  python3-glance python3-keystone
  # test plumbing
  iproute2 curl openssh-client openssh-server ca-certificates git make
  # static checks (hack/lint.sh)
  shellcheck
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# libguestfs's appliance runs under software emulation: nested KVM aborts on
# the CI machines.
set_env LIBGUESTFS_BACKEND direct
set_env LIBGUESTFS_BACKEND_SETTINGS force_tcg
if [ ${#missing[@]} -eq 0 ]; then
  log "system packages: all ${#PACKAGES[@]} installed"
  exit 0
fi

log "installing ${#missing[@]} system packages: ${missing[*]}"
# Without systemd, package scripts must not try to start services: the
# harness starts libvirtd, Keystone and Glance itself.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
fi
export DEBIAN_FRONTEND=noninteractive
run_logged apt-update apt-get update
run_logged apt-install apt-get install -y --no-install-recommends "${missing[@]}"
log "system packages installed"
