# shellcheck shell=dash
# shellcheck disable=SC2034 # set here, read by the other files of the one script (script_test.go)
# Packages through yum or dnf: the el families, sourced before the family's
# own file. The family sets RPM_TOOL (yum or dnf), RPM_REPOS (the mirror's
# repositories) and RPM_REPO_PATH (where a repository's packages are below
# it), and may define pkg_before_install (EL6 fetches EPEL's release first).

HTTPD=httpd
RPM_TOOL=yum
RPM_REPOS="os updates extras"
# shellcheck disable=SC2016 # yum's $basearch
RPM_REPO_PATH='$basearch/'

# pkg_names ROLE: the package names for a role.
pkg_names() {
  case $1 in
    growpart) echo cloud-utils-growpart ;;
    *) echo "$1" ;;
  esac
}

pkg_installed() { rpm -q --quiet "$1"; }

# rpm_opts: the mirror settings, given on the command line so that the
# image keeps none of the build site's (the proxy comes in the environment:
# pkg_env).
rpm_opts() {
  local f k
  [ -n "$CL_MIRROR" ] || return 0
  k=
  for f in "$R"/etc/pki/rpm-gpg/RPM-GPG-KEY-*; do [ -f "$f" ] && k="$k file://${f#"$R"}"; done
  for f in $RPM_REPOS; do
    printf '[cloudimage-%s]\nname=%s\nbaseurl=%s/%s/%s\ngpgcheck=1\ngpgkey=%s\n\n' "$f" "$f" "$CL_MIRROR" "$f" "$RPM_REPO_PATH" "$k"
  done >"$RPM_REPOS_DIR/cloudimage.repo"
  printf ' --setopt=reposdir=%s' "$RPM_REPOS_DIR"
}
RPM_REPOS_DIR=$(mktemp -d)
CLEANUP="$CLEANUP $RPM_REPOS_DIR"

pkg_before_install() { :; }

# pkg_install NAME...: installs the packages not installed yet; yum exits 0
# when some of them do not exist, so each is looked for afterwards.
pkg_install() {
  local missing p
  missing=
  for p in "$@"; do pkg_installed "$p" || missing="$missing $p"; done
  [ -n "$missing" ] || return 0
  pkg_before_install || return 1
  step "installing$missing"
  # shellcheck disable=SC2046,SC2086
  pkg_env $RPM_TOOL -y $(rpm_opts) install $missing || return 1
  for p in $missing; do
    pkg_installed "$p" || { echo "package $p was not installed"; return 1; }
  done
}

pkg_clean() { $RPM_TOOL clean all; }
