# shellcheck shell=dash
# shellcheck disable=SC2034 # set here, read by the other files of the one script (script_test.go)
# Family el8: RHEL-likes 8, 9 and 10 (Rocky, Alma, RHEL, CentOS Stream):
# systemd, dnf, firewalld, NetworkManager (keyfiles; ifcfg files on 8),
# BLS boot entries whose kernel arguments grubby sets.


# Packages: rpm.sh, with dnf; the mirror holds BaseOS and AppStream
# ($CL_MIRROR/BaseOS/x86_64/os/).
RPM_TOOL=dnf
RPM_REPOS="BaseOS AppStream"
# shellcheck disable=SC2016 # yum's $basearch
RPM_REPO_PATH='$basearch/os/'

# el_major: the release's major version (8, 9, 10).
el_major() { sed -n 's/^VERSION_ID=["'\'']\{0,1\}\([0-9]*\).*/\1/p' "$R/etc/os-release"; }

# --- boot entries -----------------------------------------------------------
# grub_cfg: the grub.cfg that grub2-mkconfig writes: on EL8 UEFI the one
# beside the EFI binary, else (BIOS, and EL9's UEFI stub) /boot/grub2's.
grub_cfg() {
  local f
  for f in "$R"/boot/efi/EFI/*/grub.cfg; do
    [ -f "$f" ] && ! grep -q '^[[:space:]]*configfile' "$f" && { echo "${f#"$R"}"; return; }
  done
  echo /boot/grub2/grub.cfg
}
grub_update() { grub2-mkconfig -o "$(grub_cfg)"; }

# bls_options: each BLS entry's kernel arguments, "FILE: ARGS", $kernelopts
# (EL8) expanded from grubenv.
bls_options() {
  local f ko
  ko=$(sed -n 's/^kernelopts=//p' "$R/boot/grub2/grubenv" 2>/dev/null)
  for f in "$R"/boot/loader/entries/*.conf; do
    [ -f "$f" ] || continue
    printf '%s: %s\n' "${f#"$R"}" "$(sed -n 's/^options[[:space:]]*//p' "$f" | sed "s|\\\$kernelopts|$ko|")"
  done
}

# bls_lacking WORD...: the entries whose arguments lack one of the words
# (NAME=VALUE or NAME) or have one of the words given as -NAME.
bls_lacking() {
  bls_options | awk -v want="$*" '
    { n = split(want, w, " "); bad = 0
      for (i = 1; i <= n; i++) {
        neg = (substr(w[i], 1, 1) == "-"); a = neg ? substr(w[i], 2) : w[i]
        found = (index(" " $0 " ", " " a " ") > 0 || index(" " $0 " ", " " a "=") > 0)
        if (found == neg) bad = 1
      }
      if (bad) print }'
}

# grub_defaults_word VAR WORD: WORD in VAR="..." of /etc/default/grub (at
# the front, so that L12's console arguments stay last); -WORD drops it.
grub_defaults_word() {
  local f
  f=$R$GRUB_DEFAULTS
  awk -v var="$1" -v word="$2" '
    index($0, var "=") == 1 {
      v = substr($0, length(var) + 2); gsub(/^["'\'']|["'\'']$/, "", v)
      n = split(v, w, /[ \t]+/); out = ""; drop = (substr(word, 1, 1) == "-"); wd = drop ? substr(word, 2) : word
      for (i = 1; i <= n; i++) if (w[i] != "" && w[i] != wd) out = out (out == "" ? "" : " ") w[i]
      if (!drop) out = wd (out == "" ? "" : " ") out
      print var "=\"" out "\""; next
    }
    { print }' "$f" >"$f.cloudimage" && cat "$f.cloudimage" >"$f" && rm -f "$f.cloudimage"
}

# --- L12 console-log: /etc/default/grub for kernels installed later and for
# grub2-mkconfig, grubby for the entries there are.
apply_L12() {
  local before
  before=$(cat "$R$GRUB_DEFAULTS")
  grub_cmdline GRUB_CMDLINE_LINUX
  grub_cmdline GRUB_CMDLINE_LINUX_DEFAULT
  sed -i '/^GRUB_TERMINAL=/d; /^GRUB_SERIAL_COMMAND=/d; /^GRUB_TERMINAL_OUTPUT=/d' "$R$GRUB_DEFAULTS"
  echo 'GRUB_TERMINAL="serial console"' >>"$R$GRUB_DEFAULTS"
  echo 'GRUB_SERIAL_COMMAND="serial --speed=115200"' >>"$R$GRUB_DEFAULTS"
  if [ "$before" != "$(cat "$R$GRUB_DEFAULTS")" ]; then
    step "serial console in grub's menu"
    grub_update
  fi
  if [ -n "$(bls_lacking console=ttyS0,115200n8 console=tty0 -rhgb -quiet)" ]; then
    step "sending the boot log to the serial console"
    grubby --update-kernel=ALL --args="$CONSOLE_ARGS" --remove-args="rhgb quiet"
  fi
}

check_L12() {
  local ok e lack
  ok=0
  e=$(bls_options)
  if [ -z "$e" ]; then
    evidence "no boot entries in /boot/loader/entries"
    return 1
  fi
  evidence "$e"
  lack=$(bls_lacking console=ttyS0,115200n8)
  [ -z "$lack" ] || { evidence "entries without console=ttyS0: $(echo "$lack" | cut -d: -f1 | tr '\n' ' ')"; ok=1; }
  evidence "$GRUB_DEFAULTS: $(grep '^GRUB_CMDLINE_LINUX=' "$R$GRUB_DEFAULTS")"
  grep -q '^GRUB_CMDLINE_LINUX=.*console=ttyS0' "$R$GRUB_DEFAULTS" || ok=1
  return $ok
}

# --- L14 selinux-off: from EL9 on, SELINUX=disabled leaves SELinux in the
# kernel; selinux=0 on the command line turns it off for good.
apply_L14() {
  [ -f "$R/etc/selinux/config" ] || return 0
  step "SELinux: $CL_SELINUX"
  sed -i "s/^SELINUX=.*/SELINUX=$CL_SELINUX/" "$R/etc/selinux/config"
  [ -n "$R" ] || ! has_cmd setenforce || setenforce 0 || true
  [ "$(el_major)" -ge 9 ] 2>/dev/null || return 0
  if [ "$CL_SELINUX" = disabled ]; then
    grub_defaults_word GRUB_CMDLINE_LINUX selinux=0
    [ -z "$(bls_lacking selinux=0)" ] || grubby --update-kernel=ALL --args=selinux=0
  else
    grub_defaults_word GRUB_CMDLINE_LINUX -selinux=0
    [ -z "$(bls_lacking -selinux)" ] || grubby --update-kernel=ALL --remove-args=selinux
  fi
}

check_L14() {
  local v ok lack
  if [ ! -f "$R/etc/selinux/config" ]; then
    evidence "no /etc/selinux/config: SELinux is not installed"
    return 2
  fi
  ok=0
  v=$(sed -n 's/^SELINUX=//p' "$R/etc/selinux/config")
  evidence "/etc/selinux/config: SELINUX=$v"
  [ "$v" = "$CL_SELINUX" ] || ok=1
  [ -n "$R" ] || ! has_cmd getenforce || evidence "getenforce (until the next boot): $(getenforce)"
  if [ "$CL_SELINUX" = disabled ] && [ "$(el_major)" -ge 9 ] 2>/dev/null; then
    lack=$(bls_lacking selinux=0)
    if [ -n "$lack" ]; then
      evidence "EL$(el_major) keeps SELinux on without selinux=0; entries lacking it: $(echo "$lack" | cut -d: -f1 | tr '\n' ' ')"
      ok=1
    else
      evidence "selinux=0 on every boot entry's command line"
    fi
  fi
  return $ok
}

# --- L11 nic-hotplug ------------------------------------------------------------
NIC_HOTPLUG="NetworkManager configures a NIC added while running by DHCP (its automatic default connection)"

