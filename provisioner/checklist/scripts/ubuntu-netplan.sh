# shellcheck shell=dash
# shellcheck disable=SC2034 # set here, read by the other files of the one script (script_test.go)
# Family ubuntu-netplan: Ubuntu 18.04 and later (systemd; netplan rendered
# by cloud-init; Subiquity's cloud-init files; sshd_config.d on 22.04 and
# later; ufw; grub2; apt). Sourced after apt.sh.
APT_COMPONENTS="main universe"

# --- L08 dhcp, L11 nic-hotplug: netplan rendered by cloud-init ----------------------
NIC_HOTPLUG="Ubuntu configures a NIC added later at the next boot (cloud-init renders every NIC of the metadata into /etc/netplan/50-cloud-init.yaml)"

# netplan_bound: "FILE: ID" for each ethernets entry of /etc/netplan that
# is bound to one NIC: by its name (no match:) or by a MAC (match:
# macaddress, set-name). An entry matching by a name pattern or a driver
# serves any NIC.
netplan_bound() {
  local f
  for f in "$R"/etc/netplan/*.yaml; do
    [ -f "$f" ] || continue
    awk -v file="${f#"$R"}" '
      function ind(s) { match(s, /^ */); return RLENGTH }
      function done() { if (id != "" && (!any || mac)) print file ": " id; id = "" }
      /^[ \t]*(#|$)/ { next }
      { i = ind($0) }
      sect && i <= sind { done(); sect = 0 }
      $1 == "ethernets:" { sect = 1; sind = i; eind = -1; next }
      sect && (eind < 0 || i <= eind) { done(); eind = i; id = $1; sub(/:$/, "", id); any = 0; mac = 0; next }
      sect && $1 == "match:" && $0 ~ /(name|driver):/ { any = 1 }
      sect && ($1 == "name:" || $1 == "driver:") { any = 1 }
      sect && ($1 == "macaddress:" || $1 == "set-name:") { mac = 1 }
      END { done() }' "$f"
  done
}

# The installer's netplan file names the install's NIC (often by its MAC):
# with cloud-init rendering the network, it goes; cloud-init writes
# 50-cloud-init.yaml for the instance's NICs at the first boot.
apply_L08() {
  local f
  linux_apply_L08
  cloud_init_network || return 0
  for f in $(netplan_bound | sed 's/: .*//' | sort -u); do
    if grep -qE '^[[:space:]]*(bonds|bridges|vlans|wifis|tunnels|vrfs):' "$R$f"; then
      evidence "$f defines more than ethernets: left as it is"
      continue
    fi
    step "removing $f: it binds the network to the install's NIC; cloud-init renders the instance's"
    rm -f "$R$f"
  done
}

check_L08() {
  local ok bound
  ok=0
  bound=$(netplan_bound)
  if [ -n "$bound" ]; then
    evidence "netplan configures NICs by name or MAC:"
    evidence "$bound"
    ok=1
  fi
  linux_check_L08 || ok=1
  return $ok
}
