# shellcheck shell=dash
# The checklist's runtime, run by /bin/sh in the guest (dash, bash or
# busybox). The provisioner sends one script: the CL_* settings, this file,
# linux.sh, the family's file and a call to run_checklist. ShellCheck checks
# each file as dash, the narrowest of the three: POSIX sh with `local`.
#
# Every file path goes through $R, the root ("" in a guest; a prepared tree
# in the family tests) and every command through PATH, so that the tests can
# run a family's script on a tree with the package and service managers
# replaced by stubs that record their calls.
#
# Output: "@@step ID TEXT" while an item is applied, and one line
# "@@result ID STATUS BASE64" per item, STATUS being pass, fail or
# not-applicable and BASE64 the evidence that proves it. Everything else is
# the log of what was done.

R=${CL_ROOT:-}
EVIDENCE=$(mktemp)
APPLY_LOG=$(mktemp)
# Families add their own temporary files to CLEANUP.
CLEANUP="$EVIDENCE $APPLY_LOG"
trap 'rm -rf $CLEANUP' EXIT

# evidence TEXT...: one line of the current item's evidence.
evidence() { printf '%s\n' "$*" >>"$EVIDENCE"; }

# evidence_of CMD...: CMD's output (and exit status, when not 0) as evidence.
evidence_of() {
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  printf '%s: %s\n' "$*" "$out" >>"$EVIDENCE"
  [ $rc -eq 0 ] || printf '(exit %s)\n' "$rc" >>"$EVIDENCE"
  return $rc
}

# Step lines go to fd 3, the script's stdout, as they happen: an item's
# apply runs with its output into APPLY_LOG (shown once it ends), and a
# package install may take minutes.
exec 3>&1
step() { printf '@@step %s %s\n' "$ITEM" "$*" >&3; }

# pkg_env CMD...: runs a package manager with the build's proxy in its
# environment, which apt, yum and dnf all read. On their command line, the
# proxy's credentials would stay in the image's package history (apt's
# history.log, yum and dnf history).
pkg_env() {
  if [ -n "$CL_PROXY" ]; then
    http_proxy=$CL_PROXY https_proxy=$CL_PROXY "$@"
  else
    "$@"
  fi
}

result() {
  printf '@@result %s %s %s\n' "$1" "$2" "$(base64 <"$EVIDENCE" | tr -d '\n')"
  : >"$EVIDENCE"
}

has_cmd() { command -v "$1" >/dev/null 2>&1; }

# guest_has CMD: whether the system at $R has CMD (on a test tree, in its
# bin folders: never the host's PATH).
guest_has() {
  local d
  [ -n "$R" ] || { has_cmd "$1"; return; }
  for d in /usr/bin /usr/sbin /bin /sbin /usr/local/bin; do
    [ -x "$R$d/$1" ] && return 0
  done
  return 1
}

# in_list WORD LIST: whether WORD is one of LIST's words.
in_list() {
  case " $2 " in *" $1 "*) return 0 ;; esac
  return 1
}

# run_checklist: for each item of CL_ITEMS, apply it (in apply mode, when the
# family has an apply part), then check it; items in CL_SKIP are reported
# not-applicable, naming the setting that turned them off.
run_checklist() {
  local rc
  for ITEM in $CL_ITEMS; do
    if in_list "$ITEM" "$CL_SKIP"; then
      evidence "turned off in the provisioner's settings"
      result "$ITEM" not-applicable
      continue
    fi
    if [ "$CL_MODE" = apply ] && has_cmd "apply_$ITEM"; then
      : >"$APPLY_LOG"
      "apply_$ITEM" >"$APPLY_LOG" 2>&1
      rc=$?
      cat "$APPLY_LOG"
      if [ $rc -ne 0 ]; then
        evidence "applying $ITEM failed (exit $rc); its last lines:"
        tail -n 15 "$APPLY_LOG" >>"$EVIDENCE"
      fi
    fi
    if has_cmd "check_$ITEM"; then
      "check_$ITEM"
      rc=$?
    else
      evidence "no check for $ITEM in family $CL_FAMILY"
      rc=1
    fi
    case $rc in
      0) result "$ITEM" pass ;;
      2) result "$ITEM" not-applicable ;;
      *) result "$ITEM" fail ;;
    esac
  done
}

# install_extra_packages: extra_packages, before the items.
install_extra_packages() {
  [ "$CL_MODE" = apply ] && [ -n "$CL_EXTRA_PACKAGES" ] || return 0
  ITEM=extra
  # shellcheck disable=SC2086
  pkg_install $CL_EXTRA_PACKAGES || {
    echo "installing extra_packages ($CL_EXTRA_PACKAGES) failed" >&2
    exit 3
  }
}
