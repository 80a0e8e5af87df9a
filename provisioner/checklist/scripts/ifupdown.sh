# shellcheck shell=dash
# L08 for ifupdown systems (debian, ubuntu1604): the installer's stanzas
# name the NIC; cloud-init renders every NIC into interfaces.d instead.

# ifupdown stanzas bound to a NIC name (not lo): a NIC with another name
# would get nothing, and cloud-init's own stanza for the same name clashes.
# ("auto lo eth0" names eth0 too.)
named_stanzas() {
  [ -f "$R/etc/network/interfaces" ] || return 0
  awk '/^[ \t]*(auto|allow-hotplug|iface)[ \t]/ {
      last = ($1 == "iface") ? 2 : NF
      for (i = 2; i <= last; i++) if ($i != "lo") { print "/etc/network/interfaces: " $0; next }
    }' "$R/etc/network/interfaces"
}

apply_L08() {
  local f
  linux_apply_L08
  f=$R/etc/network/interfaces
  [ -f "$f" ] && cloud_init_network || return 0
  if [ -n "$(named_stanzas)" ]; then
    step "leaving the NICs of /etc/network/interfaces to cloud-init"
    # Keeps lo's stanzas, "source" lines and comments; drops the others'
    # stanzas with their option lines.
    awk '
      /^[ \t]*(auto|allow-hotplug)[ \t]/ {
        out = $1; for (i = 2; i <= NF; i++) if ($i == "lo") out = out " lo"
        if (out != $1) print out
        keep = 0; next
      }
      /^[ \t]*iface[ \t]/ { keep = ($2 == "lo"); if (keep) print; next }
      /^[ \t]*(source|source-directory|mapping)[ \t]/ { keep = 1; print; next }
      /^[ \t]*(#|$)/ { print; next }
      keep { print }' "$f" >"$f.cloudimage" && cat "$f.cloudimage" >"$f" && rm -f "$f.cloudimage"
  fi
  # cloud-init writes /etc/network/interfaces.d/50-cloud-init.cfg.
  grep -qE '^[[:space:]]*source(-directory)?[[:space:]]+/etc/network/interfaces\.d' "$f" ||
    echo 'source /etc/network/interfaces.d/*' >>"$f"
}

check_L08() {
  local ok named
  ok=0
  named=$(named_stanzas)
  if [ -n "$named" ]; then
    evidence "NIC names in /etc/network/interfaces:"
    evidence "$named"
    ok=1
  fi
  # Only where ifupdown is configured (Debian's fixture has networkd alone).
  if [ -f "$R/etc/network/interfaces" ] &&
    ! grep -qsE '^[[:space:]]*source(-directory)?[[:space:]]+/etc/network/interfaces\.d' "$R/etc/network/interfaces"; then
    evidence "/etc/network/interfaces does not read interfaces.d, where cloud-init writes its stanzas"
    ok=1
  fi
  linux_check_L08 || ok=1
  return $ok
}
