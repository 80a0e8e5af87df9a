# shellcheck shell=dash
# shellcheck disable=SC2034 # set here, read by the other files of the one script (script_test.go)
# Family ubuntu1404: Ubuntu 14.04 (upstart with sysvinit scripts; ifupdown
# on eth0..; udev's persistent-net generator; ufw; grub2; apt).
# Sourced after apt.sh.
APT_COMPONENTS="main universe"

# --- services: upstart jobs and sysvinit scripts --------------------------------------
# A job of /etc/init (cloud-init's, ufw) is on unless a "manual" stanza in
# its .conf or .override says otherwise; a script of /etc/init.d (apache2,
# qemu-guest-agent) is on with S links in /etc/rc2.d, made by update-rc.d.
CLOUD_INIT_SERVICES="cloud-init-local cloud-init-nonet cloud-init cloud-config cloud-final"
FIREWALLS="ufw iptables-persistent netfilter-persistent firewalld"

# upstart_job NAME: whether NAME is an upstart job (initctl knows the jobs
# of packages installed by this run whose files are not read yet).
upstart_job() {
  [ -f "$R/etc/init/$1.conf" ] || initctl show-config "$1" >/dev/null 2>&1
}

upstart_manual() { grep -qs '^[[:space:]]*manual[[:space:]]*$' "$R/etc/init/$1.conf" "$R/etc/init/$1.override"; }

# rc_link NAME: NAME's link in /etc/rc2.d (S.. on, K.. off).
rc_link() {
  local f
  for f in "$R"/etc/rc2.d/[SK][0-9][0-9]"$1"; do
    [ -L "$f" ] || [ -e "$f" ] || continue
    basename "$f"
    return
  done
}

svc_exists() { upstart_job "$1" || [ -f "$R/etc/init.d/$1" ] || [ -n "$(rc_link "$1")" ]; }

svc_enable() {
  local o
  if upstart_job "$1"; then
    o=$R/etc/init/$1.override
    if upstart_manual "$1" && [ -f "$o" ]; then
      sed -i '/^[[:space:]]*manual[[:space:]]*$/d' "$o"
      [ -s "$o" ] || rm -f "$o"
    fi
  else
    update-rc.d "$1" defaults && update-rc.d "$1" enable
  fi
}

svc_disable() {
  if upstart_job "$1"; then
    upstart_manual "$1" || echo manual >>"$R/etc/init/$1.override"
  else
    update-rc.d "$1" disable
  fi
}

svc_start() { [ -n "$R" ] || service "$1" start; }
svc_stop() { [ -n "$R" ] || service "$1" stop || true; }

svc_state() {
  local l
  if upstart_job "$1"; then
    if upstart_manual "$1"; then echo "manual (upstart job)"; else echo "enabled (upstart job)"; fi
    return
  fi
  l=$(rc_link "$1")
  case $l in
    S*) echo "enabled (/etc/rc2.d/$l)" ;;
    K*) echo "disabled (/etc/rc2.d/$l)" ;;
    *) echo "disabled (no /etc/rc2.d link)" ;;
  esac
}

svc_is_on() { case $(svc_state "$1") in enabled*) return 0 ;; esac; return 1; }

# --- L08 dhcp, L11 nic-hotplug: ifupdown on the kernel's names ----------------------
# cloud-init 0.7.5 of 14.04 does not render the network. Without the
# persistent-net rules (L16) the kernel names the NICs eth0, eth1, ... in
# order: ifupdown brings eth0 up at boot and the others when they appear.
NIC_HOTPLUG="Ubuntu 14.04: ifupdown brings eth1 to eth3 up by DHCP when they appear (allow-hotplug), hot or at the next boot"
ENI=/etc/network/interfaces
ENI_OURS=/etc/network/interfaces.d/50-cloudimage.cfg

# named_stanzas: the stanzas of NICs other than lo, everywhere ifupdown reads.
named_stanzas() {
  grep -HsE '^[[:space:]]*(auto|allow-hotplug|iface)[[:space:]]+' "$R$ENI" "$R"/etc/network/interfaces.d/* |
    grep -vE '(auto|allow-hotplug|iface)[[:space:]]+lo([[:space:]]|$)' || true
}

apply_L08() {
  local f
  linux_apply_L08
  f=$R$ENI
  if grep -HsE '^[[:space:]]*(auto|allow-hotplug|iface)[[:space:]]+' "$f" | grep -qvE '(auto|allow-hotplug|iface)[[:space:]]+lo([[:space:]]|$)'; then
    step "moving the NICs of $ENI to $ENI_OURS"
    # Keeps lo's stanzas, "source" lines and comments.
    awk '
      /^[ \t]*(auto|allow-hotplug)[ \t]/ { keep = ($2 == "lo"); if (keep) print; next }
      /^[ \t]*iface[ \t]/ { keep = ($2 == "lo"); if (keep) print; next }
      /^[ \t]*(source|source-directory|mapping)[ \t]/ { keep = 1; print; next }
      /^[ \t]*(#|$)/ { print; next }
      keep { print }' "$f" >"$f.cloudimage" && cat "$f.cloudimage" >"$f" && rm -f "$f.cloudimage"
  fi
  grep -qsE '^[[:space:]]*source(-directory)?[[:space:]]+/etc/network/interfaces\.d' "$f" ||
    printf '\nsource /etc/network/interfaces.d/*.cfg\n' >>"$f"
  write_file "$ENI_OURS" <<'EOF'
# Written by the cloudimage-checklist provisioner (L08, L11): DHCP on the
# kernel's NIC names (no persistent-net rule pins them): eth0 at boot,
# eth1 to eth3 when they appear.
auto eth0
iface eth0 inet dhcp

allow-hotplug eth1
iface eth1 inet dhcp

allow-hotplug eth2
iface eth2 inet dhcp

allow-hotplug eth3
iface eth3 inet dhcp
EOF
}

check_L08() {
  local ok other st
  ok=0
  st=$(static_network)
  if [ -n "$st" ]; then
    evidence "static addresses configured:"
    evidence "$st"
    ok=1
  fi
  other=$(named_stanzas | grep -vE '(auto|allow-hotplug|iface)[[:space:]]+eth[0-9]+([[:space:]]|$)')
  if [ -n "$other" ]; then
    evidence "NICs named otherwise than the kernel's ethN:"
    evidence "$other"
    ok=1
  fi
  if named_stanzas | grep -qE ':[[:space:]]*auto[[:space:]]+eth0([[:space:]]|$)' &&
    named_stanzas | grep -qE ':[[:space:]]*iface[[:space:]]+eth0[[:space:]]+inet[[:space:]]+dhcp'; then
    evidence "ifupdown: eth0 by DHCP at boot$(named_stanzas | grep -qE 'allow-hotplug[[:space:]]+eth1' && echo ', eth1 to eth3 when they appear')"
  else
    evidence "no 'auto eth0' + 'iface eth0 inet dhcp' for ifupdown"
    ok=1
  fi
  if ! grep -qsE '^[[:space:]]*source(-directory)?[[:space:]]+/etc/network/interfaces\.d' "$R$ENI" &&
    [ -n "$(ls "$R"/etc/network/interfaces.d/ 2>/dev/null)" ]; then
    evidence "$ENI does not read /etc/network/interfaces.d"
    ok=1
  fi
  return $ok
}
