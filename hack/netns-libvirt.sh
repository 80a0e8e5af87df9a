#!/usr/bin/env bash
# netns-libvirt.sh start|stop NS DIR
#
# A private libvirtd inside network namespace NS, for the tests of
# network_mode = "network": its NAT network "default" (virbr0,
# 192.168.122.0/24), its dnsmasq and its guests all live in NS, so a test
# talks to guests only inside a namespace it made itself. Run Packer in the
# same namespace (`ip netns exec NS packer build ...`) with
# libvirt_uri = "qemu:///system?socket=DIR/run/libvirt-sock".
#
# The daemon shares no state with the machine's libvirtd: /etc/libvirt,
# /run/libvirt, /var/lib/libvirt, /var/cache/libvirt and /var/log/libvirt
# are folders of DIR bind-mounted in a private mount namespace. Its storage
# pool "default" is DIR/pool. `stop` kills every process in NS (daemons,
# dnsmasq, QEMU) and deletes NS; DIR is the caller's to remove.
source "$(dirname "$0")/lib.sh"
require_root

cmd=${1:-} ns=${2:-} dir=${3:-}
[[ -n $ns && -n $dir ]] || die "usage: $0 start|stop NS DIR"

start() {
  ip netns add "$ns" || die "ip netns add $ns failed (is $ns taken?)"
  ip -n "$ns" link set lo up
  mkdir -p "$dir"/{etc,run,lib,cache,log,pool}
  cp /etc/libvirt/*.conf "$dir/etc/"
  # QEMU runs as root so it reads the test's files wherever they are.
  printf 'user = "root"\ngroup = "root"\ndynamic_ownership = 0\nsecurity_driver = "none"\n' >"$dir/etc/qemu.conf"
  printf 'listen_tcp = 0\nlisten_tls = 0\n' >"$dir/etc/libvirtd.conf"

  # `ip netns exec` gives the command a mount namespace of its own; the
  # daemons it starts stay in it with the bind mounts below.
  # shellcheck disable=SC2016 # expanded by the bash inside the namespace
  ip netns exec "$ns" bash -euc '
    d=$1
    mount --bind "$d/etc" /etc/libvirt
    mount --bind "$d/run" /run/libvirt
    mount --bind "$d/lib" /var/lib/libvirt
    mount --bind "$d/cache" /var/cache/libvirt
    mount --bind "$d/log" /var/log/libvirt
    virtlogd -d -p "$d/virtlogd.pid"
    libvirtd -d -f /etc/libvirt/libvirtd.conf -p "$d/libvirtd.pid"
  ' _ "$dir" >"$dir/daemons.log" 2>&1 || { cat "$dir/daemons.log" >&2; die "the libvirt daemons did not start in $ns"; }

  local uri="qemu:///system?socket=$dir/run/libvirt-sock"
  wait_for "libvirtd in $ns" 60 virsh -c "$uri" version
  cat >"$dir/network.xml" <<'XML'
<network>
  <name>default</name>
  <forward mode='nat'/>
  <bridge name='virbr0' stp='on' delay='0'/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp>
  </ip>
</network>
XML
  virsh -q -c "$uri" net-define "$dir/network.xml" >/dev/null
  virsh -q -c "$uri" net-start default >/dev/null || die "the libvirt network 'default' did not start in $ns"
  virsh -q -c "$uri" pool-define-as default dir --target "$dir/pool" >/dev/null
  virsh -q -c "$uri" pool-start default >/dev/null
  echo "$uri"
}

stop() {
  if ip netns list | grep -qw "$ns"; then
    # shellcheck disable=SC2046
    kill $(ip netns pids "$ns") 2>/dev/null || true
    for _ in $(seq 50); do [ -z "$(ip netns pids "$ns")" ] && break; sleep 0.1; done
    # shellcheck disable=SC2046
    kill -9 $(ip netns pids "$ns") 2>/dev/null || true
    ip netns del "$ns"
  fi
}

case $cmd in
  start) start ;;
  stop) stop ;;
  *) die "usage: $0 start|stop NS DIR" ;;
esac
