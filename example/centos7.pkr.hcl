# CentOS 7.9 (2009) for OpenStack, from the Minimal install ISO.
#
# What it does, end to end:
#   1. downloads CentOS-7-x86_64-Minimal-2009.iso from vault.centos.org (the
#      hash comes from the sha256sum.txt beside it) and boots it in a libvirt
#      domain with a virtio disk and NIC;
#   2. types the boot command over VNC: the installer fetches a kickstart from
#      Packer's HTTP server and installs one root partition (no LVM, no swap)
#      from the mirror, then reboots into the installed system;
#   3. logs in as root over SSH with a password made for this build only;
#   4. cloudimage-checklist installs and configures what OpenStack needs
#      (cloud-init, qemu-guest-agent, growpart, serial console, no MAC
#      pinning, SELinux and firewalld off, ...; see CHECKLIST.md);
#   5. cloudimage-sysprep cleans the image (virt-sysprep), cloudimage-verify
#      boots it the way Nova would and proves the checklist, and
#      cloudimage-glance uploads it.
#
# Run it:
#   cd example
#   packer init centos7.pkr.hcl
#   OS_CLOUD=mycloud packer build centos7.pkr.hcl
#
# Variables to set: `cloud` (or OS_CLOUD: the clouds.yaml entry Glance is
# reached through); optionally `image_name`, `mirror` (a local copy of
# vault.centos.org/7.9.2009), `libvirt_uri` (a remote libvirt host) and
# `domain_type`. `ssh_password` is a random one per build unless you set it.
#
# CentOS 7 is end of life: mirror.centos.org and mirrorlist.centos.org are
# gone, so the ISO, the install and the installed system's yum repositories
# all use vault.centos.org (or `mirror`).

packer {
  required_plugins {
    cloudimage = {
      source  = "github.com/cloudimage/cloudimage"
      version = ">= 0.1.0"
    }
  }
}

variable "iso_url" {
  type        = string
  default     = "https://vault.centos.org/7.9.2009/isos/x86_64/CentOS-7-x86_64-Minimal-2009.iso"
  description = "The CentOS 7 install ISO (a URL or a local path)."
}

variable "iso_checksum" {
  type        = string
  default     = "file:https://vault.centos.org/7.9.2009/isos/x86_64/sha256sum.txt"
  description = "The ISO's checksum: \"sha256:...\", or \"file:\" and the URL of a checksum file that lists it."
}

variable "mirror" {
  type        = string
  default     = "https://vault.centos.org/7.9.2009"
  description = "The CentOS 7.9.2009 tree (holding os/, updates/ and extras/) the installer installs from and the image's yum repositories point at."
}

variable "libvirt_uri" {
  type        = string
  default     = "qemu:///system"
  description = "The libvirt host that builds (and verifies) the image: qemu:///system, or a remote one such as qemu+ssh://user@host/system."
}

variable "domain_type" {
  type        = string
  default     = "auto"
  description = "kvm, qemu (software emulation) or auto (kvm where the host can run it)."
}

variable "cloud" {
  type        = string
  default     = env("OS_CLOUD")
  description = "The cloud of clouds.yaml that cloudimage-glance uploads to."
}

variable "image_name" {
  type        = string
  default     = "centos-7.9-x86_64"
  description = "The image's name in Glance."
}

variable "ssh_password" {
  type        = string
  default     = null
  sensitive   = true
  description = "root's password during the build (the kickstart sets it, Packer logs in with it). Unset: a random one for each build."
}

# One value per build: the kickstart and the SSH communicator both use it.
local "ssh_password" {
  expression = coalesce(var.ssh_password, uuidv4())
  sensitive  = true
}

source "cloudimage-libvirt" "centos7" {
  libvirt_uri = var.libvirt_uri
  domain_type = var.domain_type
  vm_name     = "cloudimage-centos7"
  cpus        = 2
  memory      = 2048
  disk_size   = "8G" # also the image's min_disk in Glance; growroot takes it to the flavor's size

  iso_url      = var.iso_url
  iso_checksum = var.iso_checksum

  # The kickstart is a template (it carries the password and the mirror),
  # served by Packer's HTTP server as /ks.cfg.
  http_content = {
    "/ks.cfg" = templatefile("${path.root}/http/centos7/ks.cfg.pkrtpl", {
      password = local.ssh_password
      mirror   = var.mirror
    })
  }

  # The ISO boots isolinux (BIOS) with "Test this media & install CentOS 7"
  # selected: <up> selects "Install CentOS 7", <tab> opens its kernel line
  # for editing, and the text appended points anaconda at the kickstart
  # (inst.ks= is EL7's name for it). The ISO's own label stays as stage2.
  boot_wait = "10s"
  boot_command = [
    "<up><wait><tab><wait>",
    " inst.text inst.ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>",
  ]

  # The install downloads its packages from the mirror: with software
  # emulation it takes a while.
  ssh_username     = "root"
  ssh_password     = local.ssh_password
  ssh_timeout      = "45m"
  shutdown_command = "shutdown -P now"
}

build {
  sources = ["source.cloudimage-libvirt.centos7"]

  # Makes the checklist true in the guest (family el7, detected) and fails
  # the build on any item it cannot make true.
  provisioner "cloudimage-checklist" {}

  post-processors {
    post-processor "cloudimage-sysprep" {}
    post-processor "cloudimage-verify" {
      libvirt_uri = var.libvirt_uri
      domain_type = var.domain_type
    }
    post-processor "cloudimage-glance" {
      cloud      = var.cloud
      image_name = var.image_name
    }
  }
}
