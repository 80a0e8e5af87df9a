#!/usr/bin/env bash
# Prints the sizes and times of three ways to make an upload-ready qcow2
# from the Debian fixture: `qemu-img convert -c`, `virt-sparsify
# --compress`, and the cloudimage-sysprep post-processor (virt-sysprep +
# virt-sparsify + checksum) in a real Packer build. Needs the harness.
source "$(dirname "$0")/lib.sh"
require_root
# shellcheck disable=SC1090
. "$ENV_FILE"
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg CHECKPOINT_DISABLE=1
dir=$(mktemp -d /var/tmp/bench-sysprep.XXXX)
trap 'rm -rf "$dir"' EXIT
qemu-img convert -O qcow2 "$CLOUDIMAGE_FIXTURE_IMAGE" "$dir/input.qcow2"

timeit() { # timeit LABEL FILE CMD...: runs CMD, prints FILE's size and the time
  local label=$1 file=$2; shift 2
  local s=$SECONDS
  "$@" >"$dir/$label.log" 2>&1 || { tail "$dir/$label.log"; die "$label failed"; }
  printf '%-28s %6d MiB %5d s\n' "$label" $(($(stat -c %s "$file") >> 20)) $((SECONDS - s))
}
printf '%-28s %6d MiB\n' "input (fixture, qcow2)" $(($(stat -c %s "$dir/input.qcow2") >> 20))
timeit "qemu-img convert -c" "$dir/convert.qcow2" qemu-img convert -c -O qcow2 "$dir/input.qcow2" "$dir/convert.qcow2"
timeit "virt-sparsify --compress" "$dir/sparsify.qcow2" virt-sparsify --check-tmpdir=fail --compress --convert qcow2 "$dir/input.qcow2" "$dir/sparsify.qcow2"
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
timeit "cloudimage-sysprep (packer)" "$dir/sysprep.qcow2" "$PACKER_BIN" build "$dir/b.pkr.hcl"
