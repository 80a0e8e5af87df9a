#!/usr/bin/env bash
# compile-web-docs.sh RENDERED_DOCS WEB_DOCS: lays the docs rendered by
# `packer-sdc renderdocs` out the way the Packer integrations registry reads
# them, as the Packer plugin scaffolding's compile-to-webdocs.sh does:
#
# - WEB_DOCS/README.md, the integration's page, from docs/README.md;
#   components/<type>/<slug>/README.md from docs/<types>/<slug>.mdx, <type>
#   being the registry's singular name (builder, provisioner, post-processor,
#   data-source).
# - Front matter removed, and each page's leading "# Title": the registry
#   prints the title of each page itself (from metadata.hcl), so a page's own
#   H1 would show twice. The scaffolding drops a fixed number of lines after
#   the front matter; this looks for the H1 instead, and fails if any H1 is
#   left on a page (outside code blocks).
# - Links rewritten for the registry: /packer/plugins/<types>/<plugin>[/<name>]
#   (the old packer.io form) and links to the .mdx files themselves
#   (../builders/libvirt.mdx, builders/libvirt) become
#   /packer/integrations/cloudimage/cloudimage/latest/components/builder/libvirt;
#   other relative links (to files of the repository) become GitHub links.
# - The registry has no page type for guides (metadata.hcl knows components
#   only), so, as the official plugins do with their general sections, the
#   guides of docs/guides/ and the troubleshooting section of the project's
#   README.md (its one copy) are published as sections of the integration's
#   README.md, their headings moved under its "### " level.
set -euo pipefail
src=$1 dst=$2
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

org=cloudimage plugin=cloudimage
integration=/packer/integrations/$org/$plugin
github=https://github.com/cloudimage/packer-plugin-cloudimage/blob/main

# strip_front_matter FILE: FILE without its leading "---" block.
strip_front_matter() { awk 'NR == 1 && /^---$/ {fm = 1; next} fm && /^---$/ {fm = 0; next} !fm' "$1"; }

# strip_title: stdin without its leading blank lines and leading "# Title"
# (and the blank lines after it).
strip_title() {
  awk '
    !started && /^[[:space:]]*$/ { next }
    !started && /^# / { started = 1; title = 1; next }
    title && /^[[:space:]]*$/ { next }
    { started = 1; title = 0; print }'
}

# demote N: stdin with every heading (outside code blocks) N levels deeper.
demote() {
  awk -v n="$1" '
    /^(```|~~~)/ { fence = !fence }
    !fence && /^#+ / { p = ""; for (i = 0; i < n; i++) p = p "#"; $0 = p $0 }
    { print }'
}

# section FILE HEADING: the lines of FILE under "## HEADING", up to the next
# "## " heading (outside code blocks), without the heading itself.
section() {
  awk -v h="## $2" '
    /^(```|~~~)/ { fence = !fence }
    !fence && /^## / { if (on) exit; if ($0 == h) { on = 1; next } }
    on { print }' "$1"
}

# rewrite_links SOURCE_DIR: stdin with its links rewritten for the registry.
# SOURCE_DIR is the folder of the source file under the repository (docs,
# docs/builders, .), against which relative links resolve.
rewrite_links() {
  INTEGRATION=$integration GITHUB=$github SRCDIR=$1 perl -pe '
    BEGIN {
      %kind = (builders => "builder", provisioners => "provisioner",
               "post-processors" => "post-processor", datasources => "data-source");
      $kinds = join "|", map { quotemeta } keys %kind;
      ($integ, $gh, $dir) = @ENV{qw(INTEGRATION GITHUB SRCDIR)};
    }
    sub component { my ($k, $name, $anchor) = @_; "$integ/latest/components/$kind{$k}/$name" . ($anchor // "") }
    # resolve(PATH): PATH, relative to the source folder, from the repository root.
    sub resolve {
      my @parts = $dir eq "." ? () : split m{/}, $dir;
      for (split m{/}, shift) { next if $_ eq "." || $_ eq ""; if ($_ eq "..") { pop @parts } else { push @parts, $_ } }
      join "/", @parts;
    }
    sub fix_link {
      my $t = shift;
      # The packer.io form, as the scaffolding rewrites it: other plugins are
      # official ones (hashicorp/...).
      if ($t =~ m{^/packer/plugins/($kinds)/([^/#)]+)/([^/#)]+)(#[^)]*)?$}) {
        my ($k, $p, $n, $a) = ($1, $2, $3, $4);
        return component($k, $n, $a) if $p eq "cloudimage";
        return "/packer/integrations/hashicorp/$p/latest/components/$kind{$k}/$n" . ($a // "");
      }
      if ($t =~ m{^/packer/plugins/($kinds)/([^/#)]+)(#[^)]*)?$}) {
        return $2 eq "cloudimage" ? $integ . ($3 // "") : "/packer/integrations/hashicorp/$2" . ($3 // "");
      }
      return $t if $t =~ m{^([a-z][a-z0-9+.-]*:|/|#)}i;
      my ($path, $a) = $t =~ m{^([^#]*)(#.*)?$};
      my $r = resolve($path);
      return component($1, $2, $a) if $r =~ m{^docs/($kinds)/([^/]+?)(\.mdx?)?$};
      return $integ . ($a // "") if $r =~ m{^docs(/README(\.mdx?)?)?$};
      return "$gh/$r" . ($a // "");
    }
    s{\]\(([^)\s]+)\)}{"](" . fix_link($1) . ")"}ge;
  '
}

# guide_anchor FILE: the anchor of FILE's title once it is a section of the
# integration page (GitHub-style slug of the "# Title" text).
guide_anchor() {
  # (awk reads on to the end: an early exit would break the pipe.)
  strip_front_matter "$1" | awk '!done && /^# / { sub(/^# /, ""); print; done = 1 }' |
    tr '[:upper:]' '[:lower:]' | sed -E 's/[^a-z0-9 -]//g; s/ /-/g'
}

# no_h1 FILE: fails if FILE has an H1 outside code blocks.
no_h1() {
  if awk '/^(```|~~~)/ { fence = !fence } !fence && /^# / { print FILENAME ":" FNR ": " $0; bad = 1 } END { exit !bad }' "$1" >&2; then
    echo "compile-web-docs: $1 has an H1 of its own; the registry adds the page title" >&2
    return 1
  fi
}

# Links to a guide's page go to its section of the integration page.
guide_links=()
for g in "$src"/guides/*.mdx; do
  [ -e "$g" ] || continue
  guide_links+=(-e "s|\\]\\((\\.\\./)*guides/$(basename "$g" .mdx)(\\.mdx)?\\)|]($integration#$(guide_anchor "$g"))|g")
done
rewrite() {
  if [ ${#guide_links[@]} -gt 0 ]; then sed -E "${guide_links[@]}" | rewrite_links "$1"; else rewrite_links "$1"; fi
}

rm -rf "$dst/components"
mkdir -p "$dst"
{
  strip_front_matter "$src/README.md" | strip_title | rewrite docs
  for g in "$src"/guides/*.mdx; do
    [ -e "$g" ] || continue
    echo
    # "# Title" becomes "### Title", its "## " sections "#### ".
    strip_front_matter "$g" | sed '/./,$!d' | demote 2 | rewrite docs/guides
  done
  troubleshooting=$(section "$repo/README.md" Troubleshooting)
  [ -n "$troubleshooting" ] || { echo "compile-web-docs: no '## Troubleshooting' in README.md" >&2; exit 1; }
  printf '\n### Troubleshooting\n'
  printf '%s\n' "$troubleshooting" | demote 1 | rewrite .
} >"$dst/README.md"
no_h1 "$dst/README.md"

for kind in builders provisioners post-processors datasources; do
  [ -d "$src/$kind" ] || continue
  case $kind in datasources) type=data-source ;; *) type=${kind%s} ;; esac
  for f in "$src/$kind"/*.mdx; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .mdx)
    [ "$name" != index ] || continue # index pages are not components (the scaffolding skips them too)
    out=$dst/components/$type/$name
    mkdir -p "$out"
    strip_front_matter "$f" | strip_title | rewrite "docs/$kind" >"$out/README.md"
    no_h1 "$out/README.md"
  done
done
