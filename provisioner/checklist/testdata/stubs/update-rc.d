#!/bin/sh
# update-rc.d for the family tests: records each call in $STUB_LOG as
# stub.sh does, and makes the links in $CL_ROOT/etc/rc?.d as Ubuntu 14.04's
# update-rc.d would: "NAME defaults" S20 in 2-5 and K20 in 0, 1, 6 when
# NAME has none; "NAME enable|disable" turns its links of 2-5 into S or K
# links; "-f NAME remove" drops them.
name=$(basename "$0")
echo "$name $*" >>"$STUB_LOG"
[ "$1" = -f ] && shift
svc=$1
links() {
  for f in "$CL_ROOT"/etc/rc[0-6S].d/[SK][0-9][0-9]"$svc"; do
    [ -L "$f" ] || [ -e "$f" ] && echo "$f"
  done
}
case $2 in
  defaults)
    [ -z "$(links)" ] || { echo " System start/stop links for /etc/init.d/$svc already exist."; exit 0; }
    for l in 2 3 4 5; do mkdir -p "$CL_ROOT/etc/rc$l.d" && ln -s "../init.d/$svc" "$CL_ROOT/etc/rc$l.d/S20$svc"; done
    for l in 0 1 6; do mkdir -p "$CL_ROOT/etc/rc$l.d" && ln -s "../init.d/$svc" "$CL_ROOT/etc/rc$l.d/K20$svc"; done ;;
  enable | disable)
    to=S
    [ "$2" = disable ] && to=K
    for f in $(links); do
      case $f in */rc[2345].d/*) ;; *) continue ;; esac
      b=$(basename "$f")
      [ "${b%"${b#?}"}" = "$to" ] || mv "$f" "$(dirname "$f")/$to${b#?}"
    done ;;
  remove)
    for f in $(links); do rm -f "$f"; done ;;
esac
exit 0
