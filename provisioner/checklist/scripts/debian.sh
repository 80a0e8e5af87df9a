# shellcheck shell=sh
# Family debian: Debian 10 to 13 (systemd; ifupdown, networkd or netplan).

# pkg_names ROLE: the package names for a role.
pkg_names() {
  case $1 in
    growpart) echo cloud-guest-utils ;;
    httpd) echo apache2 ;;
    *) echo "$1" ;;
  esac
}

pkg_installed() { dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

# apt_opts: the proxy and mirror settings, given on the command line so
# that the image keeps none of the build site's.
apt_opts() {
  local codename
  [ -z "$CL_PROXY" ] || printf ' -o Acquire::http::Proxy=%s -o Acquire::https::Proxy=%s' "$CL_PROXY" "$CL_PROXY"
  if [ -n "$CL_MIRROR" ]; then
    codename=$(sed -n 's/^VERSION_CODENAME=//p' "$R/etc/os-release")
    echo "deb $CL_MIRROR $codename main" >"$APT_SOURCES"
    printf ' -o Dir::Etc::SourceList=%s -o Dir::Etc::SourceParts=/nonexistent' "$APT_SOURCES"
  fi
}
APT_SOURCES=$(mktemp)
APT_UPDATED=

# pkg_install NAME...: installs the packages not installed yet.
pkg_install() {
  local missing p
  missing=
  for p in "$@"; do pkg_installed "$p" || missing="$missing $p"; done
  [ -n "$missing" ] || return 0
  step "installing$missing"
  # shellcheck disable=SC2046
  if [ -z "$APT_UPDATED" ]; then
    apt-get -q $(apt_opts) update || return 1
    APT_UPDATED=1
  fi
  # shellcheck disable=SC2046,SC2086
  DEBIAN_FRONTEND=noninteractive apt-get -q -y $(apt_opts) \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    install $missing
}

pkg_clean() { apt-get clean; }

grub_cfg() { echo /boot/grub/grub.cfg; }
grub_update() { update-grub; }

NIC_HOTPLUG="Debian configures a NIC added later at the next boot (cloud-init renders every NIC)"

# ifupdown stanzas bound to a NIC name (not lo): a NIC with another name
# would get nothing, and cloud-init's own stanza for the same name clashes.
named_stanzas() {
  grep -HsE '^[[:space:]]*(auto|allow-hotplug|iface)[[:space:]]+' "$R/etc/network/interfaces" |
    grep -vE '(auto|allow-hotplug|iface)[[:space:]]+lo([[:space:]]|$)' || true
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
      /^[ \t]*(auto|allow-hotplug)[ \t]/ { keep = ($2 == "lo"); if (keep) print; next }
      /^[ \t]*iface[ \t]/ { keep = ($2 == "lo"); if (keep) print; next }
      /^[ \t]*(source|source-directory|mapping)[ \t]/ { keep = 1; print; next }
      /^[ \t]*(#|$)/ { print; next }
      keep { print }' "$f" >"$f.cloudimage" && cat "$f.cloudimage" >"$f" && rm -f "$f.cloudimage"
  fi
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
  linux_check_L08 || ok=1
  return $ok
}
