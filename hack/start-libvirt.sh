#!/usr/bin/env bash
# Starts virtlogd and libvirtd without systemd (this machine has none) and
# makes sure the "default" storage pool exists and is active.
source "$(dirname "$0")/lib.sh"
require_root

SOCK=/var/run/libvirt/libvirt-sock
virsh_ok() { virsh -c qemu:///system version; }

if virsh_ok >/dev/null 2>&1; then
  log "libvirtd: already answering on $SOCK"
else
  pgrep -x virtlogd >/dev/null || virtlogd -d || die "virtlogd did not start"
  pgrep -x libvirtd >/dev/null || libvirtd -d --pid-file /var/run/libvirtd.pid || die "libvirtd did not start"
  wait_for "libvirtd on $SOCK" 60 virsh_ok
  log "libvirtd: started ($(virsh -c qemu:///system version | awk '/Running hypervisor/{print $3, $4}'))"
fi

if ! virsh -c qemu:///system pool-info default >/dev/null 2>&1; then
  mkdir -p /var/lib/libvirt/images
  virsh -c qemu:///system pool-define-as default dir --target /var/lib/libvirt/images >/dev/null
  virsh -c qemu:///system pool-autostart default >/dev/null
fi
pool_running() { virsh -c qemu:///system pool-info default | grep -q 'State:.*running'; }
# libvirtd autostarts pools in the background after its socket answers, so
# "inactive" may turn "running" between our check and pool-start.
if ! pool_running; then
  virsh -c qemu:///system pool-start default >/dev/null 2>&1 || true
  wait_for "storage pool 'default' to run" 30 pool_running
fi
set_env LIBVIRT_DEFAULT_URI qemu:///system
log "libvirt storage pool 'default': active"
