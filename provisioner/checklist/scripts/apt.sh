# shellcheck shell=dash
# Packages through apt and grub through update-grub: the debian and ubuntu
# families, sourced before the family's own file.

# pkg_names ROLE: the package names for a role.
pkg_names() {
  case $1 in
    growpart) echo cloud-guest-utils ;;
    httpd) echo apache2 ;;
    *) echo "$1" ;;
  esac
}

pkg_installed() { dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

# apt_codename: the release's code name (14.04's os-release has none; its
# lsb-release has).
apt_codename() {
  local c
  c=$(sed -n 's/^VERSION_CODENAME=//p' "$R/etc/os-release" 2>/dev/null)
  [ -n "$c" ] || c=$(sed -n 's/^DISTRIB_CODENAME=//p' "$R/etc/lsb-release" 2>/dev/null)
  echo "$c"
}

# apt_opts: the mirror settings, given on the command line so that the
# image keeps none of the build site's (the proxy comes in the environment:
# pkg_env). APT_COMPONENTS are the mirror's components to use (Ubuntu's
# families add universe, where qemu-guest-agent and cloud-guest-utils
# live) and the -updates pocket.
APT_COMPONENTS=main
apt_opts() {
  local codename
  if [ -n "$CL_MIRROR" ]; then
    codename=$(apt_codename)
    printf 'deb %s %s %s\ndeb %s %s-updates %s\n' \
      "$CL_MIRROR" "$codename" "$APT_COMPONENTS" "$CL_MIRROR" "$codename" "$APT_COMPONENTS" >"$APT_SOURCES"
    printf ' -o Dir::Etc::SourceList=%s -o Dir::Etc::SourceParts=/nonexistent' "$APT_SOURCES"
  fi
}
APT_SOURCES=$(mktemp)
APT_UPDATED=
# apt-daily and unattended-upgrades hold dpkg's lock for a while after the
# first boot: wait for it (apt 1.9.11 and later; older apt ignores it).
APT_LOCK_WAIT="-o DPkg::Lock::Timeout=600"
CLEANUP="$CLEANUP $APT_SOURCES"

# pkg_install NAME...: installs the packages not installed yet.
pkg_install() {
  local missing p
  missing=
  for p in "$@"; do pkg_installed "$p" || missing="$missing $p"; done
  [ -n "$missing" ] || return 0
  step "installing$missing"
  # shellcheck disable=SC2046,SC2086
  if [ -z "$APT_UPDATED" ]; then
    pkg_env apt-get -q $(apt_opts) $APT_LOCK_WAIT update || return 1
    APT_UPDATED=1
  fi
  # shellcheck disable=SC2046,SC2086
  DEBIAN_FRONTEND=noninteractive pkg_env apt-get -q -y $(apt_opts) $APT_LOCK_WAIT \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    install $missing
}

pkg_clean() { apt-get clean; }

grub_cfg() { echo /boot/grub/grub.cfg; }
grub_update() { update-grub; }
