#!/usr/bin/env bash
# Builds the fixture installer ISO with Packer's QEMU builder (A) and with
# cloudimage-libvirt (B), A B A B, PAIRS pairs (3) a set, and prints each
# build's phases, the pairs' ratios and their median. The guest is the
# same for both: the same ISO, memory, CPUs and disk_size, the same typed
# boot command (about 110 keys), an HTTP ks file whose installer writes the
# fixture's disk image and powers the guest off, communicator "none".
#
# Sets (SETS, default "same fast"):
#   same  both with boot_wait 20s and the SDK's VNC typing at 100ms a key,
#         the QEMU builder's defaults (target: B/A <= 1.00)
#   fast  B with its defaults, boot_wait "auto" and libvirt typing; A as
#         in "same" (target: B/A <= 0.75)
#
# The QEMU builder is never built here. Give its binary in QEMU_PLUGIN, or
# install it first (`packer plugins install github.com/hashicorp/qemu`);
# without one the script stops. Needs the harness (root).
source "$(dirname "$0")/lib.sh"
require_root
# shellcheck disable=SC1090
. "$ENV_FILE"
export CHECKPOINT_DISABLE=1
pairs=${PAIRS:-3} sets=${SETS:-same fast}

find_peer() {
  if [ -n "${QEMU_PLUGIN:-}" ]; then
    [ -x "$QEMU_PLUGIN" ] || die "QEMU_PLUGIN=$QEMU_PLUGIN is not an executable"
    echo "$QEMU_PLUGIN"
    return
  fi
  local d
  for d in "$PACKER_PLUGIN_PATH" "${HOME:-/root}/.config/packer/plugins" "${HOME:-/root}/.packer.d/plugins"; do
    [ -d "$d/github.com/hashicorp/qemu" ] || continue
    find "$d/github.com/hashicorp/qemu" -name 'packer-plugin-qemu_v*_x5.0_*' -type f -perm -u+x | sort -V | tail -n1
    return
  done
}
peer=$(find_peer)
[ -n "$peer" ] || die "no QEMU builder installed: run 'packer plugins install github.com/hashicorp/qemu', or set QEMU_PLUGIN to a packer-plugin-qemu binary built by hand outside this repository"

work=$(mktemp -d /var/tmp/bench-iso.XXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
# Both plugins in a plugin directory of the run's own.
export PACKER_PLUGIN_PATH=$work/plugins
"$PACKER_BIN" plugins install --path "$peer" github.com/hashicorp/qemu >/dev/null
"$PACKER_BIN" plugins install --path "$PACKER_PLUGIN_BINARY" "$PLUGIN_ADDRESS" >/dev/null
echo "QEMU builder: $("$peer" describe | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])') ($peer)"
echo "cloudimage:   $("$PACKER_PLUGIN_BINARY" describe | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')"

mkdir "$work/http"
ln -s "$CLOUDIMAGE_FIXTURE_RAWGZ" "$work/http/debian12.raw.gz"
printf 'image debian12.raw.gz\npoweroff\n' >"$work/http/ks.cfg"
# 62 keys after m=, 30 of them shifted: about 110 keys with the ks URL.
marker='Zq9-Xw8_Vr7.Ut6,Ps5+On4=Ml3:Kj2@Ih1%Gf0^Ed~Cb!Ay#Tx/Rs;Qp*Nm&'
boot_command="install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg m=$marker<enter>"
common="
  iso_url          = \"$CLOUDIMAGE_FIXTURE_ISO\"
  iso_checksum     = \"none\"
  memory           = 1024
  cpus             = 2
  disk_size        = \"4G\"
  http_directory   = \"$work/http\"
  boot_command     = [\"$boot_command\"]
  communicator     = \"none\"
  shutdown_timeout = \"15m\"
  output_directory = \"$work/out\""
cat >"$work/a.pkr.hcl" <<HCL
source "qemu" "a" {
  $common
  accelerator      = "tcg"
  headless         = true
  format           = "qcow2"
  net_device       = "virtio-net"
  disk_interface   = "virtio"
  vm_name          = "bench-iso.qcow2"
  boot_wait        = "20s"
}
build { sources = ["source.qemu.a"] }
HCL
ours() { # ours SETTINGS: the cloudimage-libvirt template with SETTINGS
  cat <<HCL
source "cloudimage-libvirt" "b" {
  $common
  domain_type      = "qemu"
  network_mode     = "user"
  vm_name          = "cloudimage-bench-iso"
  $1
}
build { sources = ["source.cloudimage-libvirt.b"] }
HCL
}
ours 'boot_wait = "20s"
  boot_key_transport = "vnc"
  boot_key_interval = "100ms"' >"$work/b-same.pkr.hcl"
ours 'boot_wait = "auto"' >"$work/b-fast.pkr.hcl"

# The phases, from each UI line's arrival (bash's clock, no fork): start ->
# domain started -> typing starts -> typing done -> the guest powered off ->
# the disk exported (the build's end).
marks_a=("Starting VM" "Typing the boot command" "Waiting for shutdown" "Converting hard drive")
marks_b=("Starting the domain" "Typing the boot command" "Waiting for the guest to power itself off" "The guest has shut down")
build() { # build TEMPLATE MARK...: prints the phase seconds: setup boot_wait typing guest export whole
  local template=$1 t0 line
  shift
  rm -rf "$work/out"
  t0=$EPOCHREALTIME
  "$PACKER_BIN" build -color=false "$template" 2>&1 | while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >"$work/ui.log"
  local end=$EPOCHREALTIME
  grep -q "Builds finished" "$work/ui.log" || { tail -n 20 "$work/ui.log" >&2; die "the build of $template failed (log: $work/ui.log)"; }
  # The installer wrote the image: the exported disk holds it.
  local used
  used=$(qemu-img info -f qcow2 --output=json "$work/out/"*.qcow2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["actual-size"] >> 20)')
  [ "$used" -gt 500 ] || die "$template: the exported disk holds $used MiB: the installer did not write the image (log: $work/ui.log)"
  local t prev=$t0 out=""
  for m in "$@"; do
    t=$(grep -m1 -F "$m" "$work/ui.log" | cut -d' ' -f1) || die "$template: no UI line '$m' (log: $work/ui.log)"
    out+=$(awk -v a="$t" -v b="$prev" 'BEGIN {printf "%.1f ", a - b}')
    prev=$t
  done
  out+=$(awk -v a="$end" -v b="$prev" -v s="$t0" 'BEGIN {printf "%.1f %.1f", a - b, a - s}')
  echo "$out"
}

ratios_all=()
for set in $sets; do
  [ -f "$work/b-$set.pkr.hcl" ] || die "SETS: unknown set $set (same, fast)"
  echo
  echo "set $set: A = QEMU builder (boot_wait 20s, VNC 100ms), B = cloudimage-libvirt ($(case $set in same) echo 'boot_wait 20s, VNC 100ms' ;; fast) echo 'boot_wait auto, libvirt typing, defaults' ;; esac))"
  printf '%-6s %-3s %8s %9s %8s %8s %8s %8s\n' pair "" setup boot_wait typing guest export whole
  ratios=()
  for i in $(seq "$pairs"); do
    read -r a1 a2 a3 a4 a5 aw <<<"$(build "$work/a.pkr.hcl" "${marks_a[@]}")"
    printf '%-6s %-3s %8s %9s %8s %8s %8s %8s\n' "$i" A "$a1" "$a2" "$a3" "$a4" "$a5" "$aw"
    read -r b1 b2 b3 b4 b5 bw <<<"$(build "$work/b-$set.pkr.hcl" "${marks_b[@]}")"
    printf '%-6s %-3s %8s %9s %8s %8s %8s %8s\n' "$i" B "$b1" "$b2" "$b3" "$b4" "$b5" "$bw"
    r=$(awk -v b="$bw" -v a="$aw" 'BEGIN {printf "%.2f", b / a}')
    ratios+=("$r")
    printf '%-6s %-3s %62s\n' "$i" B/A "$r"
  done
  median=$(printf '%s\n' "${ratios[@]}" | median)
  echo "set $set: ratios ${ratios[*]}, median $median"
  ratios_all+=("$set=$median")
done
echo
echo "medians: ${ratios_all[*]}"
