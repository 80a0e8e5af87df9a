# shellcheck shell=sh
# Family el7: CentOS 7, RHEL 7 (systemd, yum, firewalld, NetworkManager with
# ifcfg files, grub2 from /etc/default/grub).

HTTPD=httpd

# pkg_names ROLE: the package names for a role.
pkg_names() {
  case $1 in
    growpart) echo cloud-utils-growpart ;;
    *) echo "$1" ;;
  esac
}

pkg_installed() { rpm -q --quiet "$1"; }

# yum_opts: the proxy and mirror settings, given on the command line so
# that the image keeps none of the build site's. The mirror holds the
# os, updates and extras repositories of CentOS 7 ($CL_MIRROR/os/x86_64/).
yum_opts() {
  local f k
  [ -z "$CL_PROXY" ] || printf ' --setopt=proxy=%s' "$CL_PROXY"
  [ -n "$CL_MIRROR" ] || return 0
  k=
  for f in "$R"/etc/pki/rpm-gpg/RPM-GPG-KEY-*; do [ -f "$f" ] && k="$k file://${f#"$R"}"; done
  for f in os updates extras; do
    printf '[cloudimage-%s]\nname=%s\nbaseurl=%s/%s/$basearch/\ngpgcheck=1\ngpgkey=%s\n\n' "$f" "$f" "$CL_MIRROR" "$f" "$k"
  done >"$YUM_REPOS/cloudimage.repo"
  printf ' --setopt=reposdir=%s' "$YUM_REPOS"
}
YUM_REPOS=$(mktemp -d)
CLEANUP="$CLEANUP $YUM_REPOS"

# pkg_install NAME...: installs the packages not installed yet; yum exits 0
# when some of them do not exist, so each is looked for afterwards.
pkg_install() {
  local missing p
  missing=
  for p in "$@"; do pkg_installed "$p" || missing="$missing $p"; done
  [ -n "$missing" ] || return 0
  step "installing$missing"
  # shellcheck disable=SC2046,SC2086
  yum -y $(yum_opts) install $missing || return 1
  for p in $missing; do
    pkg_installed "$p" || { echo "package $p was not installed"; return 1; }
  done
}

pkg_clean() { yum clean all; }

# grub_cfg: the grub.cfg grub reads: UEFI's beside the EFI binary, else
# BIOS's.
grub_cfg() {
  local f
  for f in "$R"/boot/efi/EFI/centos/grub.cfg "$R"/boot/efi/EFI/redhat/grub.cfg; do
    [ -f "$f" ] && { echo "${f#"$R"}"; return; }
  done
  echo /boot/grub2/grub.cfg
}
grub_update() { grub2-mkconfig -o "$(grub_cfg)"; }

# --- L08, L11: NetworkManager brings a new NIC up by DHCP ("Wired
# connection N") unless no-auto-default turns that off.
NIC_HOTPLUG="NetworkManager configures a NIC added while running by DHCP (its automatic default connection)"

# --- L09: without NOZEROCONF the network scripts route 169.254.0.0/16 on
# the NIC, in the way of the metadata service's 169.254.169.254.
apply_L09() {
  cloud_cfg_write 90_cloudimage_hostname.cfg <<'EOF'
# Written by the cloudimage-checklist provisioner (L09): the hostname
# comes from the metadata.
preserve_hostname: false
EOF
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
  v=$(cloud_cfg_value preserve_hostname)
  evidence "cloud-init preserve_hostname: ${v:-(default false)}"
  case $v in true | True | 1 | yes) return 1 ;; esac
  guest_has cloud-init || { evidence "cloud-init is not installed"; return 1; }
}
