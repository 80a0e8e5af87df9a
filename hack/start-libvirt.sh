#!/usr/bin/env bash
# Starts virtlogd and libvirtd without systemd (this machine has none) and
# makes sure the "default" storage pool exists and is active.
source "$(dirname "$0")/lib.sh"
require_root

SOCK=/var/run/libvirt/libvirt-sock
TCP_URI=qemu+tcp://127.0.0.1/system
virsh_ok() { virsh -c qemu:///system version; }
tcp_ok() { virsh -c "$TCP_URI" version; }

# libvirtd also listens on 127.0.0.1:16509 without authentication, so the
# remote code paths (qemu+tcp://: uploads into the pool, downloads out of
# it) are tested against the real daemon. Loopback only; a test machine.
CONF=$STATE_DIR/libvirtd.conf
mkdir -p "$STATE_DIR"
cat >"$CONF" <<'CONF'
listen_tls = 0
listen_tcp = 1
listen_addr = "127.0.0.1"
auth_tcp = "none"
CONF

if virsh_ok >/dev/null 2>&1 && tcp_ok >/dev/null 2>&1; then
  log "libvirtd: already answering on $SOCK and $TCP_URI"
else
  if pid=$(pgrep -x libvirtd); then
    log "libvirtd: restarting (pid $pid) to listen on $TCP_URI"
    kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  pgrep -x virtlogd >/dev/null || virtlogd -d || die "virtlogd did not start"
  libvirtd -d --listen -f "$CONF" --pid-file /var/run/libvirtd.pid || die "libvirtd did not start"
  wait_for "libvirtd on $SOCK" 60 virsh_ok
  wait_for "libvirtd on $TCP_URI" 30 tcp_ok
  log "libvirtd: started ($(virsh -c qemu:///system version | awk '/Running hypervisor/{print $3, $4}')), also on $TCP_URI"
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
set_env CLOUDIMAGE_LIBVIRT_TCP_URI "$TCP_URI"
log "libvirt storage pool 'default': active"
