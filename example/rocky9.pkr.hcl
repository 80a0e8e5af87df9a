# Rocky Linux 9 for OpenStack, from the minimal install ISO.
#
# Boots the current Rocky 9 minimal ISO (download.rockylinux.org), installs
# it by kickstart on one root partition (no LVM, no swap), logs in as root,
# makes the OpenStack checklist true (family el8: cloud-init, growpart,
# qemu-guest-agent, selinux=0, firewalld off, NetworkManager keyfiles
# without MACs, ...), cleans, verifies and uploads the image to Glance.
#
# Run it:
#   cd example
#   packer init rocky9.pkr.hcl
#   OS_CLOUD=mycloud packer build rocky9.pkr.hcl
#
# Variables to set: `cloud` (or OS_CLOUD); optionally `image_name`,
# `mirror` (a local Rocky 9 mirror), `libvirt_uri` and `domain_type`.
# `ssh_password` is a random one per build unless set.
#
# The defaults follow Rocky's "9" tree and its "latest" ISO: each build
# installs the current 9.x. For a fixed point release set iso_url,
# iso_checksum and mirror to that release's tree (the vault holds old ones,
# https://dl.rockylinux.org/vault/rocky/9.N/).

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
  default     = "https://download.rockylinux.org/pub/rocky/9/isos/x86_64/Rocky-9-latest-x86_64-minimal.iso"
  description = "The Rocky Linux 9 install ISO (a URL or a local path)."
}

variable "iso_checksum" {
  type        = string
  default     = "file:https://download.rockylinux.org/pub/rocky/9/isos/x86_64/CHECKSUM"
  description = "The ISO's checksum: \"sha256:...\", or \"file:\" and the URL of a checksum file that lists it (Rocky's CHECKSUM is BSD style, SHA256 (name) = hash)."
}

variable "mirror" {
  type        = string
  default     = "https://download.rockylinux.org/pub/rocky/9"
  description = "The Rocky 9 tree (holding BaseOS/ and AppStream/) the installer installs from."
}

variable "libvirt_uri" {
  type        = string
  default     = "qemu:///system"
  description = "The libvirt host that builds (and verifies) the image."
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
  default     = "rocky-9-x86_64"
  description = "The image's name in Glance."
}

variable "ssh_password" {
  type        = string
  default     = null
  sensitive   = true
  description = "root's password during the build (the kickstart sets it, Packer logs in with it). Unset: a random one for each build."
}

local "ssh_password" {
  expression = coalesce(var.ssh_password, uuidv4())
  sensitive  = true
}

source "cloudimage-libvirt" "rocky9" {
  libvirt_uri = var.libvirt_uri
  domain_type = var.domain_type
  vm_name     = "cloudimage-rocky9"
  cpus        = 2
  memory      = 2048
  disk_size   = "10G"

  iso_url      = var.iso_url
  iso_checksum = var.iso_checksum

  http_content = {
    "/ks.cfg" = templatefile("${path.root}/http/rocky9/ks.cfg.pkrtpl", {
      password = local.ssh_password
      mirror   = var.mirror
    })
  }

  # EL9 still boots isolinux on BIOS, with "Test this media & install"
  # selected: <up> selects "Install Rocky Linux 9", <tab> opens its kernel
  # line, and inst.ks= points anaconda at the kickstart.
  boot_wait = "10s"
  boot_command = [
    "<up><wait><tab><wait>",
    " inst.text inst.ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>",
  ]

  ssh_username     = "root"
  ssh_password     = local.ssh_password
  ssh_timeout      = "45m"
  shutdown_command = "shutdown -P now"
}

build {
  sources = ["source.cloudimage-libvirt.rocky9"]

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
