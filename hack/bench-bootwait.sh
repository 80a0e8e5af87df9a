#!/usr/bin/env bash
# Proves boot_wait = "auto" on real boot screens: builds variants of the
# fixture installer ISO, boots each under software emulation with
# boot_wait = "auto", types a boot command that puts a marker on the kernel
# command line, and checks the guest's kernel got it (its "Command line:"
# in the serial console log). A boot command typed too early is lost (the
# kernel line then lacks the marker); one typed too late misses a menu's
# timeout (the entry boots without it). Prints, for each screen, when the
# screen was ready and whether the command arrived. Needs the harness
# (root), and grub-efi-amd64-bin and OVMF for the GRUB screen.
#
#   isolinux-prompt  the fixture: isolinux's boot: prompt, no timeout
#   isolinux-menu    isolinux's menu.c32 counting down 10 s
#   grub-uefi        GRUB's menu under OVMF (UEFI), counting down 10 s
#   text-prompt      a text-mode installer's prompt, after the kernel's
#                    messages scroll by (isolinux boots at once; an init
#                    asks for a line on tty1 and logs it to the serial
#                    console)
#   SCREENS="isolinux-prompt grub-uefi"   the screens to run (all)
#   SETTLE=2s                             boot_wait_settle (its default)
source "$(dirname "$0")/lib.sh"
require_root
# shellcheck disable=SC1090
. "$ENV_FILE"
export CHECKPOINT_DISABLE=1
screens=${SCREENS:-isolinux-prompt isolinux-menu grub-uefi text-prompt} settle=${SETTLE:-2s}

work=$(mktemp -d /tmp/cloudimage-bench-bootwait.XXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
mkdir "$work/http" "$work/files"
marker='Zq9-Xw8_Vr7.Ut6'
ks="ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/missing.cfg m=$marker"
# The fixture's kernel and installer initramfs, for the variants.
osirrox -indev "$CLOUDIMAGE_FIXTURE_ISO" -extract /boot "$work/files/boot" >/dev/null 2>&1 || die "cannot read $CLOUDIMAGE_FIXTURE_ISO"
chmod -R u+w "$work/files"

# iso_for SCREEN: the ISO path and the boot command (one per line).
iso_for() {
  local dir=$work/$1
  case $1 in
    isolinux-prompt)
      printf '%s\n%s\n' "$CLOUDIMAGE_FIXTURE_ISO" "install $ks<enter>"
      ;;
    isolinux-menu)
      mkdir -p "$dir/isolinux"
      cp -r "$work/files/boot" "$dir/"
      cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/{ldlinux,menu,libutil}.c32 "$dir/isolinux/"
      cat >"$dir/isolinux/isolinux.cfg" <<CFG
UI menu.c32
MENU TITLE cloudimage fixture installer
TIMEOUT 100
DEFAULT install
LABEL install
  MENU LABEL Install
  KERNEL /boot/vmlinuz
  APPEND initrd=/boot/initrd.gz console=tty0 console=ttyS0,115200n8
CFG
      xorriso -as mkisofs -o "$dir.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat \
        -no-emul-boot -boot-load-size 4 -boot-info-table "$dir" >/dev/null 2>&1 || die "xorriso failed"
      printf '%s\n%s\n' "$dir.iso" "<tab> $ks<enter>"
      ;;
    grub-uefi)
      [ -d /usr/lib/grub/x86_64-efi ] || die "grub-uefi needs grub-efi-amd64-bin"
      mkdir -p "$dir/boot/grub"
      cp -r "$work/files/boot" "$dir/"
      cat >"$dir/boot/grub/grub.cfg" <<CFG
set timeout=10
menuentry "cloudimage fixture installer" {
  linux /boot/vmlinuz console=tty0 console=ttyS0,115200n8
  initrd /boot/initrd.gz
}
CFG
      grub-mkrescue -o "$dir.iso" "$dir" >/dev/null 2>&1 || die "grub-mkrescue failed"
      # The editor shows setparams, an empty line, then the linux line.
      printf '%s\n%s\n' "$dir.iso" "e<down><down><end> $ks<f10>"
      ;;
    text-prompt)
      mkdir -p "$dir/isolinux" "$dir/init/bin"
      cp -r "$work/files/boot" "$dir/"
      cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$dir/isolinux/"
      printf 'DEFAULT install\nTIMEOUT 1\nLABEL install\n  KERNEL /boot/vmlinuz\n  APPEND initrd=/boot/initrd.gz,/boot/prompt.cpio console=tty0 console=ttyS0,115200n8\n' >"$dir/isolinux/isolinux.cfg"
      # A second initramfs archive: its /init replaces the installer's.
      cat >"$dir/init/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t devtmpfs dev /dev
printf '\ncloudimage text installer\n\nKickstart URL: ' >/dev/tty1
read -r line </dev/tty1
echo "cloudimage-prompt: typed: $line" >/dev/ttyS0
poweroff -f
INIT
      chmod 755 "$dir/init/init"
      (cd "$dir/init" && echo init | cpio -o -H newc --quiet) >"$dir/boot/prompt.cpio"
      xorriso -as mkisofs -o "$dir.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat \
        -no-emul-boot -boot-load-size 4 -boot-info-table -m init "$dir" >/dev/null 2>&1 || die "xorriso failed"
      printf '%s\n%s\n' "$dir.iso" "$ks<enter>"
      ;;
    *) die "unknown screen $1" ;;
  esac
}

printf '%-16s %8s %8s  %s\n' screen ready build result
failed=0
for screen in $screens; do
  mapfile -t spec < <(iso_for "$screen")
  firmware=
  if [ "$screen" = grub-uefi ]; then
    firmware='firmware = "uefi"
  machine_type = "q35"
  cdrom_interface = "sata"
  efi_firmware_code = "/usr/share/OVMF/OVMF_CODE_4M.fd"
  efi_firmware_vars = "/usr/share/OVMF/OVMF_VARS_4M.fd"'
  fi
  cat >"$work/$screen.pkr.hcl" <<HCL
source "cloudimage-libvirt" "s" {
  iso_url          = "${spec[0]}"
  iso_checksum     = "none"
  domain_type      = "qemu"
  network_mode     = "user"
  vm_name          = "cloudimage-bench-bootwait"
  disk_size        = "64M"
  http_directory   = "$work/http"
  boot_wait        = "auto"
  boot_wait_settle = "$settle"
  boot_command     = ["${spec[1]}"]
  communicator     = "none"
  shutdown_timeout = "90s"
  output_directory = "$work/out"
  $firmware
}
build { sources = ["source.cloudimage-libvirt.s"] }
HCL
  rm -rf "$work/out"
  s=$SECONDS
  "$PACKER_BIN" build "$work/$screen.pkr.hcl" >"$work/build.log" 2>&1 || { tail -n 20 "$work/build.log"; die "$screen: the build failed"; }
  ready=$(grep -o 'boot screen was ready after [0-9.]*s' "$work/build.log" | grep -o '[0-9.]*s$')
  got=$(grep -a -m1 -o -e 'Command line: .*' "$work/out/console.log" | tr -d '\r') || got="no kernel command line in the console log"
  [ "$screen" != text-prompt ] || got=$(grep -a -m1 -o -e 'cloudimage-prompt: typed: .*' "$work/out/console.log" | tr -d '\r') || got="nothing typed at the prompt"
  if [[ $got == *"ks=http://10.0.2.2:"*"/missing.cfg m=$marker" ]]; then
    result=ok
  else
    result="MISSED: $got"
    failed=$((failed + 1))
  fi
  printf '%-16s %8s %6d s  %s\n' "$screen" "${ready:-?}" $((SECONDS - s)) "$result"
done
[ "$failed" -eq 0 ] || die "$failed screens missed the boot command"
log "bench-bootwait: every screen got its boot command"
