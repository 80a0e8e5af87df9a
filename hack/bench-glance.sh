#!/usr/bin/env bash
# Uploads one file to the harness's Glance twice, through the
# cloudimage-glance post-processor in a real Packer build and with
# `curl -T`, RUNS times (3), the two in turn, and prints both throughputs
# of each run, the plugin process's peak RSS and the median of the
# plugin/curl ratios. Targets (issue 18): a median of at least 1.0, a peak
# RSS under 100 MiB.
# Usage: hack/bench-glance.sh [SIZE_MIB] (default 2048).
source "$(dirname "$0")/lib.sh"
require_root
# shellcheck disable=SC1090
. "$ENV_FILE"
# shellcheck disable=SC1090
. "$CLOUDIMAGE_OPENRC"
size=${1:-2048}
dir=$(mktemp -d /var/tmp/bench-glance.XXXX)
trap 'rm -rf "$dir"' EXIT
head -c "$((size << 20))" /dev/urandom >"$dir/disk.raw"
name=cloudimage-bench-$$

token=$(curl -fsS -D - -o /dev/null -H 'Content-Type: application/json' "$OS_AUTH_URL/auth/tokens" -d @- <<JSON | tr -d '\r' | awk -F': ' 'tolower($1)=="x-subject-token"{print $2}'
{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"$OS_USERNAME","domain":{"name":"$OS_USER_DOMAIN_NAME"},"password":"$OS_PASSWORD"}}},
 "scope":{"project":{"name":"$OS_PROJECT_NAME","domain":{"name":"$OS_PROJECT_DOMAIN_NAME"}}}}}
JSON
)
glance() { curl -fsS -H "X-Auth-Token: $token" "$@"; }
delete_named() {
  glance "$CLOUDIMAGE_GLANCE_URL/v2/images?name=$name" | python3 -c 'import json,sys; [print(i["id"]) for i in json.load(sys.stdin)["images"]]' |
    while read -r id; do glance -X DELETE "$CLOUDIMAGE_GLANCE_URL/v2/images/$id"; done
}
trap 'delete_named; rm -rf "$dir"' EXIT

# The plugin, with its peak RSS (VmHWM) read while it runs.
cat >"$dir/b.pkr.hcl" <<HCL
source "null" "disk" { communicator = "none" }
build {
  sources = ["source.null.disk"]
  post-processors {
    post-processor "artifice" { files = ["$dir/disk.raw"] }
    post-processor "cloudimage-glance" {
      cloud       = "cloudimage-admin"
      image_name  = "$name"
    }
  }
}
HCL

# plugin_run: the plugin's own MiB/s for the upload; its peak RSS in
# $dir/peak (KiB). The sampler looks for the plugin's process until it
# finds it, then reads its status with bash builtins only: a pgrep and an
# awk every 100 ms took a tenth of a core from the run it measured.
plugin_run() {
  echo 0 >"$dir/peak"
  (
    pid=
    until [ -n "$pid" ]; do
      sleep 0.1
      pid=$(pgrep -f 'packer-plugin-cloudimage.*start post-processor' | head -n1)
    done
    while sleep 0.2; do
      while read -r key kb _; do
        [ "$key" = VmHWM: ] && echo "$kb" >"$dir/peak"
      done <"/proc/$pid/status" || break
    done 2>/dev/null
  ) &
  local sampler=$!
  CHECKPOINT_DISABLE=1 "$PACKER_BIN" build "$dir/b.pkr.hcl" >"$dir/build.log" 2>&1 || { kill "$sampler" 2>/dev/null; tail "$dir/build.log"; die "the build failed"; }
  kill "$sampler" 2>/dev/null || true
  # Its image goes now, as curl_run's does: each run starts with no image
  # of the benchmark's in Glance. (Left for on_conflict = "replace", the
  # previous one made the next upload, whichever it was, 10-25% slower.)
  delete_named >/dev/null
  grep -o 'active: [0-9]* MiB in [^ ]* ([0-9.]* MiB/s)' "$dir/build.log" | head -n1 | grep -o '([0-9.]* MiB/s)' | tr -d '()' | cut -d' ' -f1
}

# curl_run: curl's MiB/s for the same file into a new record. Timed like
# the plugin's figure: the record's creation and the upload.
curl_run() {
  local id s t
  id=$(cat /proc/sys/kernel/random/uuid)
  s=$(date +%s.%N)
  glance -o /dev/null -H 'Content-Type: application/json' -d "{\"id\":\"$id\",\"name\":\"$name\",\"disk_format\":\"raw\",\"container_format\":\"bare\"}" "$CLOUDIMAGE_GLANCE_URL/v2/images"
  glance -T "$dir/disk.raw" -H 'Content-Type: application/octet-stream' "$CLOUDIMAGE_GLANCE_URL/v2/images/$id/file"
  t=$(echo "$(date +%s.%N) - $s" | bc)
  glance -X DELETE "$CLOUDIMAGE_GLANCE_URL/v2/images/$id"
  echo "$size / $t" | bc -l
}

printf 'file: %d MiB, %d runs\n' "$size" "${RUNS:-3}"
printf '%-4s %14s %14s %7s %10s\n' run "plugin MiB/s" "curl MiB/s" ratio "peak RSS"
ratios=() peak_max=0
# Each pair runs in turn plugin then curl, and curl then plugin, so that
# neither always goes first. sync before each run: the 2 GiB the run
# before wrote (Glance's store is on this disk) is flushed before, not
# during, the next.
for i in $(seq "${RUNS:-3}"); do
  if ((i % 2)); then
    sync; p=$(plugin_run)
    sync; c=$(curl_run)
  else
    sync; c=$(curl_run)
    sync; p=$(plugin_run)
  fi
  peak_mib=$(($(cat "$dir/peak") / 1024))
  ((peak_mib > peak_max)) && peak_max=$peak_mib
  r=$(echo "$p / $c" | bc -l)
  ratios+=("$r")
  printf '%-4d %14.1f %14.1f %7.2f %6d MiB\n' "$i" "$p" "$c" "$r" "$peak_mib"
done
median=$(printf '%s\n' "${ratios[@]}" | median)
printf 'median plugin / curl: %.2f; peak RSS %d MiB\n' "$median" "$peak_max"
((peak_max > 0 && peak_max < 100)) || die "target missed: peak RSS under 100 MiB"
[ "$(echo "$median >= 1.0" | bc)" = 1 ] || die "target missed: a median of at least 1.0 of curl's throughput"
log "bench-glance: targets met"
