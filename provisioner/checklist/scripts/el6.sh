# shellcheck shell=dash
# shellcheck disable=SC2034 # set here, read by the other files of the one script (script_test.go)
# Family el6: CentOS 6, RHEL 6 (upstart with sysvinit scripts: chkconfig and
# service; yum; grub legacy's /boot/grub/grub.conf; iptables services;
# ifcfg files; udev's persistent-net rules). cloud-init, cloud-utils-growpart
# and dracut-modules-growroot come from EPEL.

# --- services (sysvinit scripts, through chkconfig and service) -------------
# svc_name NAME: the init script of a service (EL6's agent is qemu-ga).
svc_name() {
  case $1 in
    qemu-guest-agent) echo qemu-ga ;;
    *) echo "$1" ;;
  esac
}
svc_exists() { [ -f "$R/etc/rc.d/init.d/$(svc_name "$1")" ]; }
svc_enable() { chkconfig "$(svc_name "$1")" on; }
svc_disable() { chkconfig "$(svc_name "$1")" off; }
svc_start() { [ -n "$R" ] || service "$(svc_name "$1")" start; }
svc_stop() { [ -n "$R" ] || service "$(svc_name "$1")" stop; }
# svc_state NAME: enabled or disabled in runlevel 3, as chkconfig --list says.
svc_state() {
  case $(chkconfig --list "$(svc_name "$1")" 2>/dev/null) in
    *3:on*) echo enabled ;;
    *3:off*) echo disabled ;;
  esac
}

# --- packages (rpm.sh): the mirror holds CentOS 6's os, updates and extras
# and EPEL 6 under epel ($CL_MIRROR/os/x86_64/, $CL_MIRROR/epel/x86_64/).
RPM_REPOS="os updates extras epel"

# Without a mirror, EPEL's release package comes first (from extras).
pkg_before_install() {
  [ -z "$CL_MIRROR" ] && ! pkg_installed epel-release || return 0
  step "installing epel-release"
  # shellcheck disable=SC2046
  pkg_env yum -y $(rpm_opts) install epel-release
}

# --- L08 dhcp, L11 nic-hotplug: cloud-init 0.7 on EL6 does not write the
# network; ifcfg-eth0..3 bring eth0 up by DHCP at boot, and udev's
# net.hotplug runs ifup for a NIC added later when its ifcfg file has
# ONBOOT=yes.
EL6_NICS="eth0 eth1 eth2 eth3"
NIC_HOTPLUG="a NIC added while running is brought up by DHCP by net.hotplug (ifcfg-eth1..3, ONBOOT=yes)"

apply_L08() {
  local n f
  linux_apply_L08
  for n in $EL6_NICS; do
    f=$R/etc/sysconfig/network-scripts/ifcfg-$n
    if [ ! -f "$f" ]; then
      step "DHCP on $n"
      write_file "/etc/sysconfig/network-scripts/ifcfg-$n" <<EOF
# Written by the cloudimage-checklist provisioner (L08, L11): DHCP on $n
# whenever it appears.
DEVICE=$n
TYPE=Ethernet
BOOTPROTO=dhcp
ONBOOT=yes
NM_CONTROLLED=no
USERCTL=no
PEERDNS=yes
IPV6INIT=no
EOF
    elif ! grep -qE '^ONBOOT=["'\'']?yes' "$f"; then
      step "bringing $n up at boot"
      sed -i '/^ONBOOT=/d' "$f"
      echo ONBOOT=yes >>"$f"
    fi
  done
}

check_L08() {
  local ok n f st
  ok=0
  for n in $EL6_NICS; do
    f=$R/etc/sysconfig/network-scripts/ifcfg-$n
    if grep -qE '^BOOTPROTO=["'\'']?dhcp' "$f" 2>/dev/null && grep -qE '^ONBOOT=["'\'']?yes' "$f"; then
      evidence "ifcfg-$n: DHCP, ONBOOT=yes"
    else
      evidence "ifcfg-$n: missing, not DHCP or not ONBOOT=yes"
      ok=1
    fi
  done
  st=$(static_network)
  if [ -n "$st" ]; then
    evidence "static addresses configured:"
    evidence "$st"
    ok=1
  fi
  return $ok
}

check_L11() {
  local ok
  ok=0
  check_L08 || ok=1
  evidence "$NIC_HOTPLUG"
  return $ok
}

# --- L10 growroot: EL6's kernel cannot re-read the partition table of the
# mounted root, so dracut-modules-growroot grows the partition in the
# initramfs (rebuilt for each installed kernel) and cloud-init the
# filesystem.
apply_L10() {
  local new k
  new=
  pkg_installed dracut-modules-growroot || new=1
  pkg_install cloud-utils-growpart dracut-modules-growroot || return 1
  if [ -n "$new" ]; then
    for k in "$R"/boot/vmlinuz-*; do
      [ -f "$k" ] || continue
      k=${k##*/vmlinuz-}
      step "growroot in the initramfs of $k"
      dracut -f "/boot/initramfs-$k.img" "$k" || return 1
    done
  fi
  cloud_cfg_write 90_cloudimage_growroot.cfg <<'EOF'
# Written by the cloudimage-checklist provisioner (L10): grow the root
# partition and filesystem to the disk's size at boot.
growpart:
  mode: auto
  devices: ["/"]
resize_rootfs: true
EOF
}

check_L10() {
  local ok
  ok=0
  if pkg_installed dracut-modules-growroot; then
    evidence "dracut-modules-growroot installed (the initramfs grows the root partition)"
  else
    evidence "dracut-modules-growroot is not installed"
    ok=1
  fi
  # linux.sh's check: growpart, resize_rootfs, root the last partition.
  linux_check_L10 || ok=1
  return $ok
}

# --- L12 console-log: grub legacy's kernel lines, edited in place (a kernel
# installed later copies the default entry's arguments).
GRUB_CONF=/boot/grub/grub.conf
grub_cfg() { echo "$GRUB_CONF"; }

apply_L12() {
  local f
  f=$R$GRUB_CONF
  check_L12 >/dev/null && { : >"$EVIDENCE"; return 0; }
  step "sending the boot log to the serial console"
  awk -v add="$CONSOLE_ARGS" '
    /^[ \t]*kernel[ \t]/ {
      match($0, /^[ \t]*kernel[ \t]+[^ \t]+/); out = substr($0, 1, RLENGTH)
      n = split(substr($0, RLENGTH + 1), w, /[ \t]+/)
      for (i = 1; i <= n; i++)
        if (w[i] != "" && w[i] !~ /^console=/ && w[i] != "quiet" && w[i] != "rhgb") out = out " " w[i]
      print out " " add; next
    }
    { print }' "$f" >"$f.cloudimage" && cat "$f.cloudimage" >"$f" && rm -f "$f.cloudimage"
  : >"$EVIDENCE"
}

check_L12() {
  local lines missing
  lines=$(grep -E '^[[:space:]]*kernel[[:space:]]' "$R$GRUB_CONF" 2>/dev/null)
  if [ -z "$lines" ]; then
    evidence "no kernel lines in $GRUB_CONF"
    return 1
  fi
  evidence "$GRUB_CONF, first kernel line: $(echo "$lines" | head -n 1 | sed 's/^[[:space:]]*//')"
  missing=$(echo "$lines" | grep -vc 'console=tty0 console=ttyS0,115200n8$')
  [ "$missing" -eq 0 ] || { evidence "$missing kernel lines lack the serial console (or keep rhgb, quiet)"; return 1; }
  if echo "$lines" | grep -qE '[[:space:]](rhgb|quiet)([[:space:]]|$)'; then
    evidence "rhgb or quiet hide the boot from the serial log"
    return 1
  fi
  return 0
}
