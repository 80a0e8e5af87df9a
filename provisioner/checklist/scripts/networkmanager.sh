# shellcheck shell=dash
# L11 for NetworkManager systems (el7, el8): NetworkManager brings a new NIC
# up by DHCP ("Wired connection N") unless no-auto-default turns that off.

nm_no_auto_default() {
  grep -HsE '^[[:space:]]*no-auto-default[[:space:]]*=' \
    "$R/etc/NetworkManager/NetworkManager.conf" "$R"/etc/NetworkManager/conf.d/*.conf || true
}

apply_L11() {
  local f
  svc_enable NetworkManager
  for f in $(nm_no_auto_default | cut -d: -f1 | sort -u); do
    step "letting NetworkManager configure new NICs ($f)"
    sed -i 's/^[[:space:]]*no-auto-default[[:space:]]*=/#&/' "$f"
  done
}

check_L11() {
  local ok n
  ok=0
  check_L08 || ok=1
  evidence "service NetworkManager: $(svc_state NetworkManager)"
  svc_is_on NetworkManager || ok=1
  n=$(nm_no_auto_default)
  if [ -n "$n" ]; then
    evidence "NetworkManager leaves new NICs unconfigured: $n"
    ok=1
  fi
  evidence "$NIC_HOTPLUG"
  return $ok
}
