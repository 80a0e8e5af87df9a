# shellcheck shell=sh
# cloudimage-verify's look inside the instance: key=value lines, read by
# probe.go. POSIX sh and the tools of every supported release (CentOS 6 on).
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH LC_ALL=C
kv() { printf '%s=%s\n' "$1" "$2"; }

kv hostname "$(hostname)"
if [ -r /etc/os-release ]; then
  . /etc/os-release
  kv os_id "$ID"
  kv os_like "$ID_LIKE"
  kv os_name "$PRETTY_NAME"
elif [ -r /etc/redhat-release ]; then
  kv os_id rhel
  kv os_name "$(cat /etc/redhat-release)"
fi
kv boot_id "$(cat /proc/sys/kernel/random/boot_id)"

# L01, L10, L17: the root filesystem's block device, from its device number.
majmin=$(awk '$5 == "/" { print $3 }' /proc/self/mountinfo | tail -n 1)
kv root_source "$(awk '$2 == "/" { print $1 }' /proc/mounts | tail -n 1)"
kv root_fstype "$(awk '$2 == "/" { print $3 }' /proc/mounts | tail -n 1)"
dev=/sys/dev/block/$majmin
if [ -e "$dev" ]; then
  real=$(cd "$dev" && pwd -P)
  kv root_dev "${real##*/}"
  [ -e "$dev/dm/name" ] && kv root_dm "$(cat "$dev/dm/name")"
  if [ -e "$dev/partition" ]; then
    kv root_partition "$(cat "$dev/partition")"
    kv root_start "$(cat "$dev/start")"
    kv root_sectors "$(cat "$dev/size")"
    kv disk_dev "$(cd "$real/.." && basename "$(pwd -P)")"
    kv disk_sectors "$(cat "$real/../size")"
  fi
fi
dm=
for b in /sys/block/dm-*; do [ -e "$b" ] && dm="$dm${b##*/} "; done
kv dm_devices "$dm"
kv df_root_kib "$(df -P -k / | awk 'NR == 2 { print $2 }')"

# L02
kv swaps "$(awk 'NR > 1 { printf "%s ", $1 }' /proc/swaps)"
kv fstab_swap "$(awk '$1 !~ /^#/ && $3 == "swap" { printf "%s ", $1 }' /etc/fstab 2>/dev/null)"

# L03
if command -v cloud-init >/dev/null 2>&1; then
  kv cloud_init "$( (cloud-init --version || cloud-init -v) 2>&1 | head -n 1)"
fi
kv instance_id "$(cat /var/lib/cloud/data/instance-id 2>/dev/null)"
kv datasource "$(cat /var/lib/cloud/instance/datasource 2>/dev/null)"
[ -e /var/lib/cloud/instance/boot-finished ] && kv boot_finished yes

# L08, L11, L16: each NIC's MAC and IPv4 addresses.
for n in /sys/class/net/*; do
  name=${n##*/}
  [ "$name" = lo ] && continue
  [ -r "$n/address" ] || continue
  addrs=$(ip -o -4 addr show dev "$name" 2>/dev/null | awk '{ printf "%s ", $4 }')
  kv nic "$name $(cat "$n/address") $addrs"
done
# MAC addresses written into the network configuration.
for f in /etc/udev/rules.d/*.rules /etc/sysconfig/network-scripts/ifcfg-* \
  /etc/NetworkManager/system-connections/* /etc/systemd/network/*.network \
  /etc/systemd/network/*.link /etc/netplan/*.yaml /etc/network/interfaces \
  /etc/network/interfaces.d/*; do
  [ -f "$f" ] || continue
  grep -Ei 'address|hwaddr|macaddr|mac-address' "$f" 2>/dev/null | grep -v '^[[:space:]]*#' |
    grep -Eio '([0-9a-f]{2}:){5}[0-9a-f]{2}' | while read -r m; do kv mac_pin "$f $m"; done
done

# L14
if command -v getenforce >/dev/null 2>&1; then
  kv selinux "$(getenforce)"
elif [ -r /sys/fs/selinux/enforce ]; then
  kv selinux "enforce=$(cat /sys/fs/selinux/enforce)"
else
  kv selinux none
fi

# L15: firewall services that run, and the INPUT policy.
for s in firewalld ufw nftables iptables ip6tables netfilter-persistent; do
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl is-active --quiet "$s" 2>/dev/null && kv firewall_active "$s"
  elif [ -x "/etc/init.d/$s" ]; then
    "/etc/init.d/$s" status >/dev/null 2>&1 && kv firewall_active "$s"
  fi
done
if command -v ufw >/dev/null 2>&1; then
  ufw status 2>/dev/null | grep -q 'Status: active' && kv firewall_active ufw-rules
fi
if command -v iptables >/dev/null 2>&1; then
  kv iptables_policy "$(iptables -S INPUT 2>/dev/null | awk '$1 == "-P" { print $3 }')"
  kv iptables_blocking "$(iptables -S INPUT 2>/dev/null | grep -cE -- '-j (REJECT|DROP)')"
fi
if command -v nft >/dev/null 2>&1; then
  # Rules and policies that drop or reject, in the chains hooked on input.
  kv nft_blocking "$(nft list ruleset 2>/dev/null | awk '
    /^[[:space:]]*chain / { input = 0 }
    /hook input/ { input = 1; if ($0 ~ /policy drop/) n++; next }
    input && /(^|[[:space:]])(drop|reject)([[:space:]]|;|$)/ { n++ }
    END { print n + 0 }')"
fi
exit 0
