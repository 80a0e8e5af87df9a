# Ubuntu 24.04 LTS for OpenStack, from the live-server ISO (Subiquity
# autoinstall).
#
# Boots ubuntu-<ubuntu_version>-live-server-amd64.iso (releases.ubuntu.com),
# has Subiquity fetch its autoinstall user-data from Packer's HTTP server
# (NoCloud over HTTP), installs on one root partition (no LVM, no swap),
# logs in as root, makes the OpenStack checklist true (family
# ubuntu-netplan: cloud-init renders the network, the installer's netplan
# file and cloud-init seed go; cloud-guest-utils, qemu-guest-agent, ufw
# off, ...), cleans, verifies and uploads the image to Glance.
#
# Run it:
#   cd example
#   packer init ubuntu2404.pkr.hcl
#   OS_CLOUD=mycloud packer build ubuntu2404.pkr.hcl
#
# Variables to set: `cloud` (or OS_CLOUD); optionally `ubuntu_version`,
# `image_name`, `mirror` (an Ubuntu archive mirror), `libvirt_uri` and
# `domain_type`. `ssh_password` is a random one per build unless set.
#
# releases.ubuntu.com/24.04/ holds the newest point release only: when a
# newer one than ubuntu_version is out, set ubuntu_version to it, or point
# iso_url and iso_checksum at https://old-releases.ubuntu.com/releases/24.04/.

packer {
  required_plugins {
    cloudimage = {
      source  = "github.com/cloudimage/cloudimage"
      version = ">= 0.1.0"
    }
  }
}

variable "ubuntu_version" {
  type        = string
  default     = "24.04.5"
  description = "The 24.04 point release whose live-server ISO is installed (the one releases.ubuntu.com/24.04/ holds)."
}

variable "iso_url" {
  type        = string
  default     = null
  description = "The Ubuntu 24.04 live-server ISO (a URL or a local path). Unset: ubuntu_version's on releases.ubuntu.com."
}

variable "iso_checksum" {
  type        = string
  default     = null
  description = "The ISO's checksum: \"sha256:...\", or \"file:\" and the URL of a checksum file that lists it. Unset: the SHA256SUMS beside the default ISO."
}

variable "mirror" {
  type        = string
  default     = "http://archive.ubuntu.com/ubuntu"
  description = "The Ubuntu archive the installer installs from and the image's sources name."
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
  default     = "ubuntu-24.04-amd64"
  description = "The image's name in Glance."
}

variable "ssh_password" {
  type        = string
  default     = null
  sensitive   = true
  description = "root's password during the build (the autoinstall sets it, Packer logs in with it). Unset: a random one for each build."
}

local "ssh_password" {
  expression = coalesce(var.ssh_password, uuidv4())
  sensitive  = true
}

locals {
  iso_url      = coalesce(var.iso_url, "https://releases.ubuntu.com/24.04/ubuntu-${var.ubuntu_version}-live-server-amd64.iso")
  iso_checksum = coalesce(var.iso_checksum, "file:https://releases.ubuntu.com/24.04/SHA256SUMS")
}

# Subiquity takes crypted passwords only: bcrypt's $2a$ hashes, which
# Ubuntu's libxcrypt reads.
local "password_hash" {
  expression = bcrypt(local.ssh_password)
  sensitive  = true
}

source "cloudimage-libvirt" "ubuntu2404" {
  libvirt_uri = var.libvirt_uri
  domain_type = var.domain_type
  vm_name     = "cloudimage-ubuntu2404"
  cpus        = 2
  memory      = 2048
  disk_size   = "10G"

  iso_url      = local.iso_url
  iso_checksum = local.iso_checksum

  # NoCloud's seed: the autoinstall in user-data, an empty-ish meta-data.
  http_content = {
    "/user-data" = templatefile("${path.root}/http/ubuntu2404/user-data.pkrtpl", {
      password_hash = local.password_hash
      mirror        = var.mirror
    })
    "/meta-data" = "instance-id: cloudimage-ubuntu2404\n"
  }

  # The ISO boots GRUB on BIOS too, its menu waiting 30 s: `c` opens GRUB's
  # command line, and the kernel is loaded by hand with `autoinstall` (no
  # "Continue with autoinstall?" question) and the NoCloud seed's URL; the
  # quotes keep GRUB from reading the ; as the end of the command.
  boot_wait = "10s"
  boot_command = [
    "c<wait>",
    "linux /casper/vmlinuz autoinstall 'ds=nocloud-net;s=http://{{ .HTTPIP }}:{{ .HTTPPort }}/' ---<enter><wait5>",
    "initrd /casper/initrd<enter><wait10>",
    "boot<enter>",
  ]

  ssh_username     = "root"
  ssh_password     = local.ssh_password
  ssh_timeout      = "60m"
  shutdown_command = "shutdown -P now"
}

build {
  sources = ["source.cloudimage-libvirt.ubuntu2404"]

  provisioner "cloudimage-checklist" {}

  post-processors {
    # The user Subiquity insisted on goes; root and cloud-init's default
    # user are the image's accounts.
    post-processor "cloudimage-sysprep" {
      enable               = ["user-account"]
      remove_user_accounts = ["packer"]
    }
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
