#!/usr/bin/env bash
# Prints the sizes and times of the ways to make an upload-ready qcow2 from
# the Debian fixture: `qemu-img convert -c`, `virt-sparsify --compress`,
# the by-hand pair `virt-sysprep && virt-sparsify --compress`, and the
# cloudimage-sysprep post-processor in a real Packer build (RUNS times
# each, 1, the pair and the post-processor in turn). Target (issue 18):
# cloudimage-sysprep takes at most the pair's time (the medians), with an
# output no larger. Needs the harness.
source "$(dirname "$0")/lib.sh"
require_root
# shellcheck disable=SC1090
. "$ENV_FILE"
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg CHECKPOINT_DISABLE=1
runs=${RUNS:-1}
dir=$(mktemp -d /var/tmp/bench-sysprep.XXXX)
trap 'rm -rf "$dir"' EXIT
qemu-img convert -f qcow2 -O qcow2 "$CLOUDIMAGE_FIXTURE_IMAGE" "$dir/input.qcow2"

# timeit LABEL FILE CMD...: runs CMD, prints FILE's size and the time, and
# leaves "SECONDS BYTES" in $dir/last.
timeit() {
  local label=$1 file=$2 s=$EPOCHREALTIME secs bytes
  shift 2
  "$@" >"$dir/run.log" 2>&1 || { tail "$dir/run.log"; die "$label failed"; }
  secs=$(awk -v a="$EPOCHREALTIME" -v b="$s" 'BEGIN {printf "%.1f", a - b}')
  bytes=$(stat -c %s "$file")
  printf '%-40s %6d MiB %7s s\n' "$label" $((bytes >> 20)) "$secs"
  echo "$secs $bytes" >"$dir/last"
}

printf '%-40s %6d MiB\n' "input (fixture, qcow2)" $(($(stat -c %s "$dir/input.qcow2") >> 20))
timeit "qemu-img convert -c" "$dir/convert.qcow2" qemu-img convert -c -f qcow2 -O qcow2 "$dir/input.qcow2" "$dir/convert.qcow2"
timeit "virt-sparsify --compress" "$dir/sparsify.qcow2" virt-sparsify --check-tmpdir=fail --format qcow2 --compress --convert qcow2 "$dir/input.qcow2" "$dir/sparsify.qcow2"
rm -f "$dir/convert.qcow2" "$dir/sparsify.qcow2"

cat >"$dir/b.pkr.hcl" <<HCL
source "null" "disk" { communicator = "none" }
build {
  sources = ["source.null.disk"]
  post-processors {
    post-processor "artifice" { files = ["$dir/input.qcow2"] }
    post-processor "cloudimage-sysprep" {
      keep_input  = true
      output_name = "sysprep"
      accelerator = "tcg"
    }
  }
}
HCL
# The pair by hand, as its user would run it: virt-sysprep in place on the
# disk (a copy here, made before the clock starts), then virt-sparsify.
by_hand() {
  virt-sysprep --format qcow2 -a "$dir/hand.qcow2" &&
    virt-sparsify --check-tmpdir=fail --format qcow2 --compress --convert qcow2 "$dir/hand.qcow2" "$dir/hand-sparse.qcow2"
}
: >"$dir/hand.times"
: >"$dir/ours.times"
for _ in $(seq "$runs"); do
  cp --sparse=always "$dir/input.qcow2" "$dir/hand.qcow2"
  rm -f "$dir/hand-sparse.qcow2"
  timeit "virt-sysprep && virt-sparsify --compress" "$dir/hand-sparse.qcow2" by_hand
  cat "$dir/last" >>"$dir/hand.times"
  rm -f "$dir/sysprep.qcow2"*
  timeit "cloudimage-sysprep (packer)" "$dir/sysprep.qcow2" "$PACKER_BIN" build -color=false "$dir/b.pkr.hcl"
  grep -E 'Inspecting|guest:|Cleaning|Sparsifying|Converting|done in' "$dir/run.log" | sed 's/^/    /' | cut -c1-110
  cat "$dir/last" >>"$dir/ours.times"
done

hand_s=$(cut -d' ' -f1 "$dir/hand.times" | median)
ours_s=$(cut -d' ' -f1 "$dir/ours.times" | median)
hand_bytes=$(cut -d' ' -f2 "$dir/hand.times" | median)
ours_bytes=$(cut -d' ' -f2 "$dir/ours.times" | median)
ratio=$(awk -v a="$ours_s" -v b="$hand_s" 'BEGIN {printf "%.2f", a / b}')
echo
echo "medians of $runs: by hand $hand_s s, $hand_bytes bytes; cloudimage-sysprep $ours_s s, $ours_bytes bytes; time ratio $ratio"
awk -v r="$ratio" 'BEGIN {exit !(r <= 1.0)}' || die "target missed: cloudimage-sysprep took more than the pair by hand"
awk -v a="$ours_bytes" -v b="$hand_bytes" 'BEGIN {exit !(a <= b)}' || die "target missed: cloudimage-sysprep's output is larger than the pair's"
echo "targets met: time ratio <= 1.00, output no larger"
