# shellcheck shell=dash
# L09 for the network scripts of el6 and el7: without NOZEROCONF they route
# 169.254.0.0/16 on the NIC, in the way of the metadata service's
# 169.254.169.254.

apply_L09() {
  linux_apply_L09
  if ! grep -qE '^NOZEROCONF=["'\'']?yes' "$R/etc/sysconfig/network" 2>/dev/null; then
    sed -i '/^NOZEROCONF=/d' "$R/etc/sysconfig/network" 2>/dev/null
    echo NOZEROCONF=yes >>"$R/etc/sysconfig/network"
  fi
}

check_L09() {
  local v
  v=$(sed -n 's/^NOZEROCONF=//p' "$R/etc/sysconfig/network" 2>/dev/null)
  evidence "/etc/sysconfig/network NOZEROCONF: ${v:-(unset: a 169.254.0.0/16 route on the NIC)}"
  case $v in yes | \"yes\" | \'yes\') ;; *) return 1 ;; esac
  linux_check_L09
}
