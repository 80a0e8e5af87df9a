# shellcheck shell=dash
# The checklist items for Linux, shared by the families. A family file,
# sourced after this one, defines the package functions (pkg_installed,
# pkg_install, pkg_names: a role's names, unquoted, may be several), may replace the service functions (systemd here)
# and any apply_/check_ function whose way differs on that family.
#
# check_ functions return 0 (pass), 1 (fail) or 2 (not applicable) and
# leave their evidence with `evidence`/`evidence_of`.

# --- services (systemd; el6 and ubuntu1404 replace these) ---------------
svc_exists() { systemctl cat "$1.service" >/dev/null 2>&1; }
svc_enable() { systemctl enable "$1"; }
svc_disable() { systemctl disable "$1"; }
svc_start() { [ -n "$R" ] || systemctl start "$1"; }
svc_stop() { [ -n "$R" ] || systemctl stop "$1"; }
# svc_state NAME: enabled, disabled, static, indirect, ... as systemctl says.
svc_state() { systemctl is-enabled "$1" 2>/dev/null || true; }
svc_is_on() {
  case $(svc_state "$1") in enabled | static | indirect | generated | alias) return 0 ;; esac
  return 1
}

# --- files ------------------------------------------------------------------
# write_file PATH: stdin into $R/PATH, with its folder.
write_file() {
  mkdir -p "$(dirname "$R$1")"
  cat >"$R$1"
}

# cloud_cfg_files: cloud.cfg and its drop-ins, in the order cloud-init
# merges them (a later file's top-level key wins).
cloud_cfg_files() {
  local f
  [ -f "$R/etc/cloud/cloud.cfg" ] && echo "$R/etc/cloud/cloud.cfg"
  for f in "$R"/etc/cloud/cloud.cfg.d/*.cfg; do
    [ -f "$f" ] && echo "$f"
  done
  return 0
}

# cfg_file_value KEY FILE: KEY's top-level value in FILE, a block list
# ("KEY:" then "- item" lines) given as "[ item, ... ]"; nothing when FILE
# does not set KEY (Subiquity writes "datasource_list:\n- None").
cfg_file_value() {
  awk -v k="$1" '
    function flush() { if (blk) { v = (items == "" ? "" : "[ " items " ]"); blk = 0 } }
    index($0, k ":") == 1 {
      flush()
      v = substr($0, length(k) + 2); sub(/^[ \t]+/, "", v); sub(/[ \t]+#.*$/, "", v); sub(/[ \t]+$/, "", v)
      blk = (v == ""); items = ""; found = 1; next
    }
    blk && /^[ \t]*-([ \t]|$)/ {
      it = $0; sub(/^[ \t]*-[ \t]*/, "", it); sub(/[ \t]+#.*$/, "", it)
      items = items (items == "" ? "" : ", ") it; next
    }
    blk { flush() }
    END { flush(); if (found) print v }' "$2"
}

# cloud_cfg_value KEY: the merged top-level value of KEY ("" when unset).
cloud_cfg_value() {
  local v f line
  v=
  for f in $(cloud_cfg_files); do
    line=$(cfg_file_value "$1" "$f")
    [ -n "$line" ] && v=$line
  done
  printf '%s' "$v" | sed 's/[[:space:]]*#.*//; s/^["'\'']//; s/["'\'']$//'
}

# cloud_cfg_write NAME: stdin as /etc/cloud/cloud.cfg.d/NAME. The files of
# this provisioner are named 90_cloudimage_*.cfg: after the distribution's.
cloud_cfg_write() { write_file "/etc/cloud/cloud.cfg.d/$1"; }

# --- sshd -------------------------------------------------------------------
SSHD_CONFIG=/etc/ssh/sshd_config
SSHD_DROPIN=/etc/ssh/sshd_config.d/00-cloudimage.conf

# sshd_set KEY VALUE: makes KEY VALUE the effective sshd setting. sshd uses
# the first value it reads: with an Include of sshd_config.d at the top
# (Debian 12, Ubuntu 22.04, EL9) that is a drop-in that sorts first, else
# the main file's first KEY line, which this rewrites or puts first.
sshd_set() {
  if grep -qiE '^[[:space:]]*Include[[:space:]]+/etc/ssh/sshd_config\.d/\*\.conf' "$R$SSHD_CONFIG" 2>/dev/null; then
    mkdir -p "$(dirname "$R$SSHD_DROPIN")"
    touch "$R$SSHD_DROPIN"
    sed -i "/^[[:space:]]*$1[[:space:]]/Id" "$R$SSHD_DROPIN"
    echo "$1 $2" >>"$R$SSHD_DROPIN"
  elif grep -qiE "^[[:space:]]*$1[[:space:]]" "$R$SSHD_CONFIG"; then
    sed -i "0,/^[[:space:]]*$1[[:space:]].*/Is//$1 $2/" "$R$SSHD_CONFIG"
  else
    sed -i "1i $1 $2" "$R$SSHD_CONFIG"
  fi
}

# sshd_value KEY: the effective value, from `sshd -T` in a guest, else the
# first KEY line of the drop-in and the main file (KEY in lower case).
sshd_value() {
  if [ -z "$R" ] && has_cmd sshd; then
    sshd -T 2>/dev/null | awk -v k="$1" '$1 == k { print $2; exit }'
    return
  fi
  cat "$R$SSHD_DROPIN" "$R$SSHD_CONFIG" 2>/dev/null |
    awk -v k="$1" 'tolower($1) == k { print tolower($2); exit }'
}

# check_sshd KEY WANT: evidence and result of one sshd setting.
check_sshd() {
  local v
  v=$(sshd_value "$1")
  evidence "sshd $1: ${v:-(default)}"
  [ "$v" = "$2" ]
}

# --- L01 no-lvm -----------------------------------------------------------------
root_source() { awk '$2 == "/" { d = $1 } END { print d }' "$R/proc/mounts"; }

check_L01() {
  local src
  src=$(root_source)
  evidence "root filesystem: $src (from /proc/mounts)"
  case $src in
    /dev/mapper/* | /dev/dm-* | */vg*)
      evidence "the root filesystem is on device-mapper (LVM): that cannot be undone in place."
      evidence "Install with a plain root partition: kickstart 'part / --fstype=xfs --size=1 --grow' without 'logvol';"
      evidence "preseed 'd-i partman-auto/method string regular'."
      return 1 ;;
  esac
  return 0
}

# --- L02 no-swap ------------------------------------------------------------------
fstab_swaps() { awk '$1 !~ /^#/ && $3 == "swap" { print $1 }' "$R/etc/fstab" 2>/dev/null; }
active_swaps() { tail -n +2 "$R/proc/swaps" 2>/dev/null | awk '{ print $1, $2 }'; }

# A swap file is turned off, taken out of fstab and deleted; a swap
# partition cannot be removed in place, so check_L02 fails on it.
apply_L02() {
  local f type
  for f in $(fstab_swaps); do
    case $f in
      /dev/* | UUID=* | LABEL=* | PARTUUID=* | PARTLABEL=*) continue ;;
    esac
    step "removing swap file $f"
    swap_off "$f"
    sed -i "\\|^[[:space:]]*${f}[[:space:]]|d" "$R/etc/fstab"
    rm -f "$R$f"
  done
  active_swaps | while read -r f type; do
    if [ "$type" = file ]; then
      step "removing swap file $f"
      swap_off "$f"
      rm -f "$R$f"
    fi
  done
}

# swap_off FILE: swapoff in a guest; on a test tree, what the kernel would
# then show in /proc/swaps.
swap_off() {
  if [ -z "$R" ]; then
    swapoff "$1"
  else
    sed -i "\\|^$1[[:space:]]|d" "$R/proc/swaps"
  fi
}

check_L02() {
  local fst act
  fst=$(fstab_swaps)
  act=$(active_swaps)
  evidence "swap in /etc/fstab: ${fst:-none}"
  evidence "active swap (/proc/swaps): ${act:-none}"
  [ -z "$fst$act" ] && return 0
  evidence "a swap partition cannot be removed in place: install without one"
  evidence "(kickstart: no 'part swap'; preseed: a partman-auto recipe without a swap partition)."
  return 1
}

# --- L03 cloud-init ------------------------------------------------------------------
CLOUD_INIT_SERVICES="cloud-init-local cloud-init cloud-config cloud-final"

# cloud_init_services: CLOUD_INIT_SERVICES, with cloud-init 24.3's split of
# cloud-init.service into cloud-init-main and cloud-init-network where the
# installed cloud-init has it.
cloud_init_services() {
  if svc_exists cloud-init-main; then
    echo "$CLOUD_INIT_SERVICES" | sed 's/\(^\| \)cloud-init\( \|$\)/ cloud-init-main cloud-init-network /'
  else
    echo "$CLOUD_INIT_SERVICES"
  fi
}

DS_CFG=/etc/cloud/cloud.cfg.d/90_cloudimage_datasources.cfg
ds_ours() { echo "[ $CL_DATASOURCES, None ]"; }

# ds_shadowing: the files cloud-init merges after ours that set another
# datasource_list (theirs would win): Ubuntu's 90_dpkg.cfg (written from
# debconf: "90_d" sorts after "90_c") and Subiquity's 99-installer.cfg.
ds_shadowing() {
  local f after v
  after=
  for f in $(cloud_cfg_files); do
    if [ "$f" = "$R$DS_CFG" ]; then after=1; continue; fi
    [ -n "$after" ] || continue
    v=$(cfg_file_value datasource_list "$f")
    grep -q '^datasource_list:' "$f" || continue
    [ "$(echo "$v" | tr -d ' ')" = "$(ds_ours | tr -d ' ')" ] || echo "$f"
  done
}

# yaml_drop_key KEY FILE: drops a top-level key with its value's lines.
yaml_drop_key() {
  awk -v k="$1" '
    index($0, k ":") == 1 { skip = 1; next }
    skip && /^([ \t]|-([ \t]|$))/ { next }
    { skip = 0; print }' "$2" >"$2.cloudimage" && cat "$2.cloudimage" >"$2" && rm -f "$2.cloudimage"
}

ds_unshadow() {
  local f
  for f in $(ds_shadowing); do
    case ${f##*/} in
      99-installer.cfg)
        # Subiquity's seed for the installed system's first boot: the None
        # datasource with the installer's user-data (growpart off,
        # resize_rootfs false, preserve_hostname true).
        step "removing ${f#"$R"}: the installer's datasource_list would override ours"
        rm -f "$f" ;;
      90_dpkg.cfg)
        step "setting ${f#"$R"}'s datasource_list (and debconf's) to ours"
        yaml_drop_key datasource_list "$f"
        echo "datasource_list: $(ds_ours)" >>"$f"
        echo "cloud-init cloud-init/datasources multiselect $CL_DATASOURCES, None" | debconf-set-selections ;;
      *)
        step "dropping datasource_list from ${f#"$R"}: it would override ours"
        yaml_drop_key datasource_list "$f" ;;
    esac
  done
}

apply_L03() {
  local s
  # shellcheck disable=SC2046 # a list of names
  pkg_install $(pkg_names cloud-init) || return 1
  rm -f "$R/etc/cloud/cloud-init.disabled"
  cloud_cfg_write 90_cloudimage_datasources.cfg <<EOF
# Written by the cloudimage-checklist provisioner (L03): where cloud-init
# looks for OpenStack's metadata, in order.
datasource_list: $(ds_ours)
EOF
  ds_unshadow
  for s in $(cloud_init_services); do svc_enable "$s" || return 1; done
}

check_L03() {
  local ok ds want s st
  ok=0
  if guest_has cloud-init; then
    [ -n "$R" ] || evidence_of cloud-init --version
  else
    evidence "cloud-init is not installed"
    ok=1
  fi
  ds=$(cloud_cfg_value datasource_list)
  if [ -n "$ds" ]; then
    evidence "datasource_list: $ds"
  else
    # Not in ${ds:-...}: a quote inside it is read differently by each sh.
    evidence "datasource_list: (cloud-init's default: every datasource)"
  fi
  for want in $(echo "$CL_DATASOURCES" | tr ',' ' '); do
    case $ds in *"$want"*) ;; *) [ -z "$ds" ] || { evidence "datasource $want is missing"; ok=1; } ;; esac
  done
  for s in $(cloud_init_services); do
    st=$(svc_state "$s")
    evidence "service $s: ${st:-unknown}"
    svc_is_on "$s" || ok=1
  done
  if [ -e "$R/etc/cloud/cloud-init.disabled" ]; then
    evidence "/etc/cloud/cloud-init.disabled exists"
    ok=1
  fi
  return $ok
}

# --- L04 root-password, L05 ssh-password, L06 ssh-key ---------------------
apply_L04() {
  cloud_cfg_write 90_cloudimage_root.cfg <<'EOF'
# Written by the cloudimage-checklist provisioner (L04): root's password
# may come from user-data (chpasswd, password), and root may log in.
disable_root: false
chpasswd:
  expire: false
EOF
  sshd_set PermitRootLogin yes
}

check_L04() {
  local ok v
  ok=0
  v=$(cloud_cfg_value disable_root)
  evidence "cloud-init disable_root: ${v:-(default true)}"
  case $v in false | False | 0) ;; *) ok=1 ;; esac
  check_sshd permitrootlogin yes || ok=1
  return $ok
}

apply_L05() {
  cloud_cfg_write 90_cloudimage_ssh_pwauth.cfg <<'EOF'
# Written by the cloudimage-checklist provisioner (L05).
ssh_pwauth: true
EOF
  sshd_set PasswordAuthentication yes
}

check_L05() {
  local ok v
  ok=0
  v=$(cloud_cfg_value ssh_pwauth)
  evidence "cloud-init ssh_pwauth: ${v:-(unset)}"
  case $v in true | True | 1 | yes) ;; *) ok=1 ;; esac
  check_sshd passwordauthentication yes || ok=1
  return $ok
}

apply_L06() { sshd_set PubkeyAuthentication yes; }

check_L06() {
  local ok v
  ok=0
  check_sshd pubkeyauthentication yes || ok=1
  v=$(cloud_cfg_value disable_root)
  evidence "keys from metadata go to the default user$( [ "$v" = false ] && echo ' and root') (cloud-init's ssh module)"
  guest_has cloud-init || { evidence "cloud-init is not installed"; ok=1; }
  return $ok
}

# --- L07 guest-agent ------------------------------------------------------------------
apply_L07() {
  # shellcheck disable=SC2046 # a list of names
  pkg_install $(pkg_names qemu-guest-agent) || return 1
  svc_enable qemu-guest-agent
  # The agent starts when its channel appears; start it now where it can.
  [ -e /dev/virtio-ports/org.qemu.guest_agent.0 ] && svc_start qemu-guest-agent
  return 0
}

check_L07() {
  local ok
  ok=0
  if guest_has qemu-ga; then
    [ -n "$R" ] || evidence_of qemu-ga --version
  else
    evidence "qemu-ga is not installed"
    ok=1
  fi
  evidence "service qemu-guest-agent: $(svc_state qemu-guest-agent)"
  svc_is_on qemu-guest-agent || ok=1
  if [ -z "$R" ]; then
    if [ -e /dev/virtio-ports/org.qemu.guest_agent.0 ]; then
      evidence "channel /dev/virtio-ports/org.qemu.guest_agent.0 present"
    else
      evidence "no org.qemu.guest_agent.0 channel in this VM (Nova adds it with hw_qemu_guest_agent=yes)"
    fi
  fi
  return $ok
}

# --- L08 dhcp, L11 nic-hotplug -----------------------------------------------------------
# static_network prints the lines that configure an address by hand.
static_network() {
  grep -HsE '^[[:space:]]*iface[[:space:]].*inet6?[[:space:]]+static' "$R/etc/network/interfaces" "$R"/etc/network/interfaces.d/* || true
  grep -HsiE '^[[:space:]]*BOOTPROTO=["'\'']?(none|static)' "$R"/etc/sysconfig/network-scripts/ifcfg-* | grep -v 'ifcfg-lo:' || true
  grep -HsE '^[[:space:]]*Address=' "$R"/etc/systemd/network/*.network || true
  grep -HsE '^[[:space:]]*method=manual' "$R"/etc/NetworkManager/system-connections/* || true
  grep -HsE '^[[:space:]]*addresses:' "$R"/etc/netplan/*.yaml || true
}

# network_disabled_in FILE: whether FILE turns cloud-init's networking
# off ("network: {config: disabled}", or "config: disabled" under network:).
network_disabled_in() {
  awk '
    /^network:/ { in_net = 1; if ($0 ~ /config:[ \t]*disabled/) found = 1; next }
    /^[^ \t#]/ { in_net = 0 }
    in_net && /^[ \t]+config:[ \t]*disabled/ { found = 1 }
    END { exit !found }' "$1"
}

# cloud_init_network: whether cloud-init renders the network (it then
# brings up DHCP on the instance's NICs, whatever their names).
cloud_init_network() {
  local v f
  v=$(cloud_cfg_value network)
  case $v in *disabled*) return 1 ;; esac
  for f in $(cloud_cfg_files); do
    if network_disabled_in "$f"; then return 1; fi
  done
  guest_has cloud-init
}

# Drops whatever turns cloud-init's networking off (Ubuntu's installer
# writes such a file). Families extend apply_L08 and check_L08 by calling
# these.
apply_L08() { linux_apply_L08; }
check_L08() { linux_check_L08; }

linux_apply_L08() {
  local f
  for f in $(cloud_cfg_files); do
    if network_disabled_in "$f"; then
      step "removing $f: it turns cloud-init's networking off"
      rm -f "$f"
    fi
  done
}

linux_check_L08() {
  local ok st
  ok=0
  st=$(static_network)
  if [ -n "$st" ]; then
    evidence "static addresses configured:"
    evidence "$(echo "$st" | sed "s|^$R||")"
    ok=1
  fi
  if cloud_init_network; then
    evidence "cloud-init renders the network: DHCP on the instance's NICs, any names"
  else
    evidence "cloud-init does not configure the network"
    ok=1
  fi
  return $ok
}

check_L11() {
  local ok
  ok=0
  check_L08 || ok=1
  evidence "${NIC_HOTPLUG:-a NIC added later is configured by cloud-init at the next boot}"
  return $ok
}

# --- L09 metadata -----------------------------------------------------------------------
# Families extend apply_L09 and check_L09 by calling these.
apply_L09() { linux_apply_L09; }
check_L09() { linux_check_L09; }

linux_apply_L09() {
  cloud_cfg_write 90_cloudimage_hostname.cfg <<'EOF'
# Written by the cloudimage-checklist provisioner (L09): the hostname
# comes from the metadata.
preserve_hostname: false
EOF
}

linux_check_L09() {
  local v
  v=$(cloud_cfg_value preserve_hostname)
  evidence "cloud-init preserve_hostname: ${v:-(default false)}"
  case $v in true | True | 1 | yes) return 1 ;; esac
  cloud_init_network || guest_has cloud-init || { evidence "cloud-init is not installed"; return 1; }
  return 0
}

# --- L10 growroot, L17 flavor-resize -----------------------------------------------------
apply_L10() {
  # shellcheck disable=SC2046 # a list of names
  pkg_install $(pkg_names growpart) || return 1
  cloud_cfg_write 90_cloudimage_growroot.cfg <<'EOF'
# Written by the cloudimage-checklist provisioner (L10): grow the root
# partition and filesystem to the disk's size at boot.
growpart:
  mode: auto
  devices: ["/"]
resize_rootfs: true
EOF
}

# root_is_last_partition: growpart grows only the disk's last partition.
root_is_last_partition() {
  local dev n disk last
  dev=$(basename "$(root_source)")
  [ -z "$R" ] && [ -e "/sys/class/block/$dev/partition" ] || return 0
  n=$(cat "/sys/class/block/$dev/partition")
  disk=$(basename "$(readlink -f "/sys/class/block/$dev/..")")
  last=$(cat /sys/class/block/"$disk"/"$disk"*/partition 2>/dev/null | sort -n | tail -n 1)
  evidence "root is partition $n of $disk; its last partition is $last"
  [ "$n" = "$last" ]
}

# Families extend check_L10 by calling linux_check_L10.
check_L10() { linux_check_L10; }

linux_check_L10() {
  local ok g
  ok=0
  if guest_has growpart; then
    evidence "growpart: $(command -v growpart || echo /usr/bin/growpart)"
  else
    evidence "growpart is not installed"
    ok=1
  fi
  g=$(cloud_cfg_value resize_rootfs)
  evidence "cloud-init resize_rootfs: ${g:-(default true)}"
  case $g in false | False | 0 | no) ok=1 ;; esac
  if ! root_is_last_partition; then
    evidence "the root partition is not the disk's last: growpart cannot grow it; put root last in the kickstart/preseed"
    ok=1
  fi
  return $ok
}

check_L17() {
  evidence "the root partition grows to the flavor's disk at boot as for L10:"
  check_L10
}

# --- L12 console-log ------------------------------------------------------------------------
GRUB_DEFAULTS=/etc/default/grub
CONSOLE_ARGS="console=tty0 console=ttyS0,115200n8"

# grub_cmdline VAR: rewrites VAR="..." in /etc/default/grub without console=,
# quiet, rhgb and splash (they hide the boot from the serial log), then with the
# serial console added to GRUB_CMDLINE_LINUX.
grub_cmdline() {
  local f add
  f=$R$GRUB_DEFAULTS
  grep -q "^$1=" "$f" || echo "$1=\"\"" >>"$f"
  add=
  [ "$1" = GRUB_CMDLINE_LINUX ] && add=$CONSOLE_ARGS
  awk -v var="$1" -v add="$add" '
    index($0, var "=") == 1 {
      v = substr($0, length(var) + 2); gsub(/^["'\'']|["'\'']$/, "", v)
      n = split(v, w, /[ \t]+/); out = ""
      for (i = 1; i <= n; i++)
        if (w[i] != "" && w[i] !~ /^console=/ && w[i] != "quiet" && w[i] != "rhgb" && w[i] != "splash") out = out (out == "" ? "" : " ") w[i]
      if (add != "") out = out (out == "" ? "" : " ") add
      print var "=\"" out "\""; next
    }
    { print }' "$f" >"$f.cloudimage" && cat "$f.cloudimage" >"$f" && rm -f "$f.cloudimage"
}

apply_L12() {
  local before
  before=$(cat "$R$GRUB_DEFAULTS")
  grub_cmdline GRUB_CMDLINE_LINUX
  grub_cmdline GRUB_CMDLINE_LINUX_DEFAULT
  sed -i '/^GRUB_TERMINAL\(_INPUT\|_OUTPUT\)\?=/d; /^GRUB_SERIAL_COMMAND=/d' "$R$GRUB_DEFAULTS"
  echo 'GRUB_TERMINAL="serial console"' >>"$R$GRUB_DEFAULTS"
  echo 'GRUB_SERIAL_COMMAND="serial --speed=115200"' >>"$R$GRUB_DEFAULTS"
  # Regenerated only when something changed: a second run changes nothing.
  if [ "$before" != "$(cat "$R$GRUB_DEFAULTS")" ] || ! check_L12 >/dev/null; then
    : >"$EVIDENCE"
    step "sending the boot log to the serial console"
    grub_update
    return
  fi
  : >"$EVIDENCE"
}

check_L12() {
  local cfg lines missing
  cfg=$(grub_cfg)
  lines=$(grep -E '^[[:space:]]*linux(efi|16)?[[:space:]]' "$R$cfg" 2>/dev/null)
  if [ -z "$lines" ]; then
    evidence "no kernel lines in $cfg"
    return 1
  fi
  evidence "$cfg, first kernel line: $(echo "$lines" | head -n 1 | sed 's/^[[:space:]]*//')"
  missing=$(echo "$lines" | grep -vc 'console=ttyS0')
  [ "$missing" -eq 0 ] || { evidence "$missing kernel lines lack console=ttyS0"; return 1; }
  return 0
}

# --- L13 httpd -----------------------------------------------------------------------------
HTTPD=apache2

apply_L13() {
  # shellcheck disable=SC2046 # a list of names
  pkg_install $(pkg_names httpd) || return 1
  svc_enable "$HTTPD"
  svc_start "$HTTPD"
}

# http_status prints the status line of http://127.0.0.1/ (bash's
# /dev/tcp: no curl or wget needed).
http_status() {
  bash -c 'exec 3<>/dev/tcp/127.0.0.1/80 && printf "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3 && head -n 1 <&3' 2>&1 | tr -d '\r'
}

check_L13() {
  local ok st
  ok=0
  evidence "service $HTTPD: $(svc_state "$HTTPD")"
  svc_is_on "$HTTPD" || ok=1
  if [ -z "$R" ]; then
    st=$(http_status)
    evidence "GET http://127.0.0.1/: ${st:-no answer}"
    case $st in HTTP/*" 200"* | HTTP/*" 403"*) ;; *) ok=1 ;; esac
  fi
  return $ok
}

# --- L14 selinux-off --------------------------------------------------------------------------
apply_L14() {
  [ -f "$R/etc/selinux/config" ] || return 0
  step "SELinux: $CL_SELINUX"
  sed -i "s/^SELINUX=.*/SELINUX=$CL_SELINUX/" "$R/etc/selinux/config"
  [ -n "$R" ] || ! has_cmd setenforce || setenforce 0 || true
}

check_L14() {
  local v
  if [ ! -f "$R/etc/selinux/config" ]; then
    evidence "no /etc/selinux/config: SELinux is not installed"
    return 2
  fi
  v=$(sed -n 's/^SELINUX=//p' "$R/etc/selinux/config")
  evidence "/etc/selinux/config: SELINUX=$v"
  [ -n "$R" ] || ! has_cmd getenforce || evidence "getenforce (until the next boot): $(getenforce)"
  [ "$v" = "$CL_SELINUX" ]
}

# --- L15 firewall-off -------------------------------------------------------------------------
FIREWALLS="firewalld ufw nftables netfilter-persistent iptables ip6tables"

# ufw's boot job loads its rules only with ENABLED=yes in ufw.conf, which
# `ufw disable` sets to no: both are turned off.
UFW_CONF=/etc/ufw/ufw.conf

apply_L15() {
  local s
  [ -n "$R" ] || ! has_cmd ufw || ufw disable || true
  if grep -qs '^ENABLED=yes' "$R$UFW_CONF"; then
    step "turning ufw off in $UFW_CONF"
    sed -i 's/^ENABLED=.*/ENABLED=no/' "$R$UFW_CONF"
  fi
  for s in $FIREWALLS; do
    if svc_exists "$s"; then
      step "turning firewall service $s off"
      svc_stop "$s"
      svc_disable "$s"
    fi
  done
  [ -n "$R" ] || ! has_cmd iptables || { iptables -P INPUT ACCEPT && iptables -F INPUT; } || true
}

check_L15() {
  local ok s st p
  ok=0
  for s in $FIREWALLS; do
    svc_exists "$s" || continue
    st=$(svc_state "$s")
    evidence "service $s: $st"
    case $st in enabled | static | indirect | generated) ok=1 ;; esac
  done
  [ -n "$(cat "$EVIDENCE")" ] || evidence "no firewall service ($FIREWALLS) installed"
  if [ -f "$R$UFW_CONF" ]; then
    p=$(sed -n 's/^ENABLED=//p' "$R$UFW_CONF" | tail -n 1)
    evidence "$UFW_CONF: ENABLED=$p"
    [ "$p" != yes ] || ok=1
  fi
  if [ -z "$R" ] && has_cmd iptables; then
    p=$(iptables -S INPUT 2>/dev/null | head -n 1)
    evidence "iptables: ${p:-no INPUT chain}"
    case $p in "-P INPUT ACCEPT" | "") ;; *) ok=1 ;; esac
  fi
  return $ok
}

# --- L16 no-mac -------------------------------------------------------------------------------
PERSISTENT_NET=/etc/udev/rules.d/70-persistent-net.rules
GENERATOR=75-persistent-net-generator.rules

apply_L16() {
  local d f
  rm -f "$R$PERSISTENT_NET"
  for d in /lib/udev/rules.d /usr/lib/udev/rules.d; do
    if [ -f "$R$d/$GENERATOR" ]; then
      mkdir -p "$R/etc/udev/rules.d"
      ln -sf /dev/null "$R/etc/udev/rules.d/$GENERATOR"
    fi
  done
  for f in "$R"/etc/sysconfig/network-scripts/ifcfg-*; do
    [ -f "$f" ] && sed -i '/^[[:space:]]*\(HWADDR\|MACADDR\)=/d' "$f"
  done
  for f in "$R"/etc/NetworkManager/system-connections/*; do
    [ -f "$f" ] && sed -i '/^[[:space:]]*\(mac-address\|cloned-mac-address\)=/d' "$f"
  done
  for f in "$R"/etc/systemd/network/*.network "$R"/etc/systemd/network/*.link; do
    [ -f "$f" ] && sed -i '/^[[:space:]]*\(MACAddress\|PermanentMACAddress\)=/d' "$f"
  done
  for f in "$R"/etc/netplan/*.yaml; do
    [ -f "$f" ] && netplan_unpin "$f"
  done
  return 0
}

# netplan_unpin FILE: drops macaddress: and set-name: (a NIC renamed by
# its MAC), then the match: blocks left empty.
netplan_unpin() {
  awk '
    function ind(s) { match(s, /^ */); return RLENGTH }
    $1 != "macaddress:" && $1 != "set-name:" { keep[++n] = $0 }
    END {
      for (i = 1; i <= n; i++) {
        if (keep[i] ~ /^ *match: *$/ && (i == n || ind(keep[i + 1]) <= ind(keep[i]))) continue
        print keep[i]
      }
    }' "$1" >"$1.cloudimage" && cat "$1.cloudimage" >"$1" && rm -f "$1.cloudimage"
}

check_L16() {
  local ok d pins
  ok=0
  if [ -e "$R$PERSISTENT_NET" ]; then
    evidence "$PERSISTENT_NET exists"
    ok=1
  fi
  for d in /lib/udev/rules.d /usr/lib/udev/rules.d; do
    if [ -f "$R$d/$GENERATOR" ] && [ "$(readlink "$R/etc/udev/rules.d/$GENERATOR")" != /dev/null ]; then
      evidence "$d/$GENERATOR is active (it would pin the MAC at the next boot)"
      ok=1
    fi
  done
  pins=$(grep -HsiE '^[[:space:]]*(HWADDR|MACADDR|mac-address|cloned-mac-address|MACAddress|PermanentMACAddress)=|^[[:space:]]*macaddress:' \
    "$R"/etc/sysconfig/network-scripts/ifcfg-* "$R"/etc/NetworkManager/system-connections/* \
    "$R"/etc/systemd/network/*.network "$R"/etc/systemd/network/*.link "$R"/etc/netplan/*.yaml)
  if [ -n "$pins" ]; then
    evidence "MAC addresses pinned:"
    evidence "$(echo "$pins" | sed "s|^$R||")"
    ok=1
  fi
  [ $ok -eq 0 ] && evidence "no MAC address pinned in udev rules, ifcfg, NetworkManager, networkd or netplan files"
  return $ok
}

# --- L18 clean -------------------------------------------------------------------------------
check_L18() {
  evidence "cleaned offline on the exported disk by the cloudimage-sysprep post-processor (virt-sysprep);"
  evidence "cloudimage-verify proves it on the output file"
  return 2
}
