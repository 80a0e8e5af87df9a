#!/bin/sh
# A stand-in for a package or service manager in the family tests: it
# records each call in $STUB_LOG and keeps what it "installed" or
# "enabled" in $STUB_STATE, so that later queries answer accordingly.
# The tests set STUB_LOG and STUB_STATE, and may set STUB_GATE and STUB_UNITS.
: "${STUB_LOG:?}" "${STUB_STATE:?}"
name=$(basename "$0")
# A proxy in the environment is recorded too: it must come that way, never
# on the command line.
echo "$name $*${http_proxy:+ [http_proxy=$http_proxy https_proxy=$https_proxy]}" >>"$STUB_LOG"
mkdir -p "$STUB_STATE/pkg" "$STUB_STATE/svc"
# provides PACKAGE: the files a package brings that the checks look for.
provides() {
  case $1 in
    cloud-init) echo /usr/bin/cloud-init ;;
    cloud-guest-utils | cloud-utils-growpart) echo /usr/bin/growpart ;;
    qemu-guest-agent) echo /usr/sbin/qemu-ga ;;
  esac
}
case $name in
  apt-get | yum | dnf)
    # STUB_GATE: an install waits for that file, for up to 10 s (the test
    # that the step line before it is shown while it runs).
    if [ -n "$STUB_GATE" ] && case "$*" in *" install "*) true ;; *) false ;; esac; then
      i=0
      while [ ! -e "$STUB_GATE" ]; do
        i=$((i + 1))
        [ $i -le 100 ] || { echo "stub $name: $STUB_GATE never came: the step line was not shown" >&2; exit 1; }
        sleep 0.1
      done
    fi
    for a in "$@"; do
      case $a in -* | install | update | clean | Dpkg::* | Acquire::* | Dir::*) continue ;; esac
      touch "$STUB_STATE/pkg/$a"
      for f in $(provides "$a"); do mkdir -p "$CL_ROOT${f%/*}" && touch "$CL_ROOT$f" && chmod +x "$CL_ROOT$f"; done
    done ;;
  dpkg-query)
    for pkg in "$@"; do :; done # the last argument
    [ -e "$STUB_STATE/pkg/$pkg" ] || exit 1
    echo "install ok installed" ;;
  rpm)
    for pkg in "$@"; do :; done
    [ -e "$STUB_STATE/pkg/$pkg" ] ;;
  update-grub | grub2-mkconfig)
    # Regenerates the kernel lines' arguments from /etc/default/grub, as
    # grub-mkconfig would.
    val() { sed -n "s/^$1=\"\(.*\)\"$/\1/p" "$CL_ROOT/etc/default/grub" | tail -n 1; }
    args="$(val GRUB_CMDLINE_LINUX) $(val GRUB_CMDLINE_LINUX_DEFAULT)"
    for cfg in "$CL_ROOT/boot/grub/grub.cfg" "$CL_ROOT/boot/grub2/grub.cfg"; do
      [ -f "$cfg" ] || continue
      sed -i "s|^\([[:space:]]*linux[[:space:]][[:space:]]*[^[:space:]]*[[:space:]].* ro\)\( .*\)\?$|\1 $args|" "$cfg"
    done ;;
  systemctl)
    case $1 in
      enable) touch "$STUB_STATE/svc/$2" ;;
      disable) rm -f "$STUB_STATE/svc/$2" ;;
      is-enabled) if [ -e "$STUB_STATE/svc/$2" ]; then echo enabled; else echo disabled; exit 1; fi ;;
      cat) case " $STUB_UNITS " in *" ${2%.service} "*) ;; *) exit 1 ;; esac ;;
    esac ;;
esac
exit 0
