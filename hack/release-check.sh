#!/usr/bin/env bash
# Checks the release configuration for real: `goreleaser check`, then a
# snapshot release of every target in .goreleaser.yml (built, archived and
# checksummed; not published; the before hooks, the test suite, run elsewhere
# in CI), named as the release of this version would be, with the plugin API
# version that the plugin's `describe` reports (API_VERSION, as the release
# workflow sets it) and the release notes of CHANGELOG.md
# (hack/release-notes.sh). The checksums are signed when GPG_FINGERPRINT names
# a key gpg has, as in the release workflow; without one, signing is skipped
# (--skip=sign). Then the assets must be the ones `packer init` looks for,
# the checksums must verify (and the signature, if any), the linux/amd64
# plugin must describe itself with that version and the plugin API version
# in its asset name, and the release must not be a draft, which `packer
# init` would not see.
source "$(dirname "$0")/lib.sh"
"$HACK_DIR/build-goreleaser.sh"
cd "$REPO_DIR"
t0=$SECONDS

version=$(sed -n 's/^\s*Version = "\(.*\)"/\1/p' version/version.go)
[ -n "$version" ] || die "no Version in version/version.go"
project=packer-plugin-cloudimage

# API_VERSION as the release workflow reads it: from the plugin's describe.
described_bin=$LOG_DIR/$project-describe
go build -o "$described_bin" .
API_VERSION=$("$described_bin" describe | python3 -c 'import json, sys; print(json.load(sys.stdin)["api_version"])')
rm -f "$described_bin"
[ -n "$API_VERSION" ] || die "the plugin's describe gave no api_version"
export API_VERSION

log "release: goreleaser check"
run_logged goreleaser-check "$GORELEASER_BIN" check

notes=$LOG_DIR/release-notes.md
"$HACK_DIR/release-notes.sh" "$version" >"$notes"
skip=before,publish,announce
if [ -n "${GPG_FINGERPRINT:-}" ]; then
  signed=true
else
  signed=false skip=sign,$skip
fi
log "release: snapshot release of v$version (plugin API $API_VERSION), every target, $($signed && echo "signed by $GPG_FINGERPRINT" || echo "not signed: no GPG_FINGERPRINT")"
# Named as the release of this version would be (snapshot.version_template).
PLUGIN_VERSION=$version run_logged goreleaser-snapshot \
  "$GORELEASER_BIN" release --snapshot --clean --skip="$skip" --release-notes="$notes"
# dist/config.yaml: the configuration as GoReleaser applied it.
grep -qE '^ +draft: true' dist/config.yaml && die "the release is configured as a draft, which packer init cannot see (release.draft in .goreleaser.yml)"

# GoReleaser names the build folder after the target (plugin-check_linux_amd64_v1).
plugin=(./dist/plugin-check_linux_amd64*/"${project}_v${version}"_*_linux_amd64)
[[ ${#plugin[@]} -eq 1 && -x ${plugin[0]} ]] || die "want one linux/amd64 plugin binary in the snapshot, found: ${plugin[*]}"
api=$("${plugin[0]}" describe | sed -n 's/.*"api_version":"\([^"]*\)".*/\1/p')
[ -n "$api" ] || die "the snapshot's linux/amd64 binary did not describe its api_version"
[ "${plugin[0]##*/}" = "${project}_v${version}_${api}_linux_amd64" ] || die "the snapshot's linux/amd64 binary is ${plugin[0]}, not named for api_version $api"
described=$("${plugin[0]}" describe)
grep -q "\"version\":\"$version\"" <<<"$described" || die "the snapshot's plugin describes itself as $described, want version $version"

sums=dist/${project}_v${version}_SHA256SUMS
[ -f "$sums" ] || die "no $sums: $(ls dist)"
(cd dist && sha256sum --quiet -c "$(basename "$sums")") || die "$sums does not verify"
if $signed; then
  gpg --batch --verify "$sums.sig" "$sums" 2>/dev/null || die "$sums.sig does not verify $sums"
fi
want=0
for os_arch in linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64 windows_arm64 freebsd_amd64 freebsd_arm64; do
  zip=${project}_v${version}_${api}_${os_arch}.zip
  [ -f "dist/$zip" ] || die "no release asset $zip in dist/: $(ls dist)"
  grep -q "  $zip\$" "$sums" || die "$zip is not in $sums"
  # One file in each archive: the plugin binary, named as packer expects.
  bin=${project}_v${version}_${api}_${os_arch}
  [ "$os_arch" = "${os_arch#windows}" ] || bin=$bin.exe
  listed=$(python3 -c 'import sys, zipfile; print(" ".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "dist/$zip")
  [ "$listed" = "$bin" ] || die "$zip holds [$listed], want [$bin]"
  want=$((want + 1))
done
[ "$(grep -c '\.zip$' "$sums")" -eq "$want" ] || die "$sums lists other archives than the $want targets: $(cat "$sums")"
log "release: $want assets ${project}_v${version}_${api}_OS_ARCH.zip and ${project}_v${version}_SHA256SUMS verified in $((SECONDS - t0))s"
