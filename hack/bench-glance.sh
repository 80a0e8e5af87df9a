#!/usr/bin/env bash
# Uploads one file to the harness's Glance twice, through the
# cloudimage-glance post-processor in a real Packer build and with
# `curl -T`, and prints both throughputs and the plugin process's peak RSS.
# Targets (issue 6): at least 0.9 of curl's throughput, under 100 MB.
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
      on_conflict = "replace"
    }
  }
}
HCL
(
  peak=0
  while sleep 0.1; do
    for pid in $(pgrep -f 'packer-plugin-cloudimage.*start post-processor'); do
      kb=$(awk '/VmHWM/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
      [ "${kb:-0}" -gt "$peak" ] && peak=$kb && echo "$peak" >"$dir/peak"
    done
  done
) &
sampler=$!
s=$(date +%s.%N)
CHECKPOINT_DISABLE=1 "$PACKER_BIN" build "$dir/b.pkr.hcl" >"$dir/build.log" 2>&1 || { tail "$dir/build.log"; die "the build failed"; }
plugin_s=$(echo "$(date +%s.%N) - $s" | bc)
kill "$sampler"
upload_line=$(grep -o 'active: [0-9]* MiB in [^ ]* ([0-9.]* MiB/s)' "$dir/build.log" | head -n1)

# curl -T of the same file into a new record.
id=$(glance -H 'Content-Type: application/json' -d "{\"name\":\"$name\",\"disk_format\":\"raw\",\"container_format\":\"bare\"}" "$CLOUDIMAGE_GLANCE_URL/v2/images" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
s=$(date +%s.%N)
glance -T "$dir/disk.raw" -H 'Content-Type: application/octet-stream' "$CLOUDIMAGE_GLANCE_URL/v2/images/$id/file"
curl_s=$(echo "$(date +%s.%N) - $s" | bc)

printf 'file: %d MiB\n' "$size"
printf 'cloudimage-glance upload (its own figure): %s\n' "$upload_line"
printf 'whole packer build: %.1f s\n' "$plugin_s"
printf 'curl -T: %.1f s, %.1f MiB/s\n' "$curl_s" "$(echo "$size / $curl_s" | bc -l)"
peak_mib=$(($(cat "$dir/peak" 2>/dev/null || echo 0) / 1024))
printf 'plugin peak RSS: %d MiB\n' "$peak_mib"
plugin_mibs=$(grep -o '([0-9.]* MiB/s)' <<<"$upload_line" | tr -d '()' | cut -d' ' -f1)
ratio=$(echo "$plugin_mibs / ($size / $curl_s)" | bc -l)
printf 'plugin / curl throughput: %.2f\n' "$ratio"
((peak_mib > 0 && peak_mib < 100)) || die "target missed: peak RSS under 100 MiB"
[ "$(echo "$ratio >= 0.9" | bc)" = 1 ] || die "target missed: at least 0.9 of curl's throughput"
log "bench-glance: targets met"
