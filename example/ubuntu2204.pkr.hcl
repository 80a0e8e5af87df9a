# Ubuntu 22.04 LTS for OpenStack, from the live-server ISO (Subiquity
# autoinstall).
#
# Boots ubuntu-22.04.5-live-server-amd64.iso (releases.ubuntu.com; 22.04.5
# is the last point release), has Subiquity fetch its autoinstall
# user-data from Packer's HTTP server (NoCloud over HTTP), installs on one
# root partition (no LVM, no swap), logs in as root, makes the OpenStack
# checklist true (family ubuntu-netplan: cloud-init renders the network,
# the installer's netplan file and cloud-init seed go; cloud-guest-utils,
# qemu-guest-agent, ufw off, ...), cleans, verifies and uploads the image
# to Glance.
#
# Run it:
#   cd example
#   packer init ubuntu2204.pkr.hcl
#   OS_CLOUD=mycloud packer build ubuntu2204.pkr.hcl
#
# Variables to set: `cloud` (or OS_CLOUD); optionally `image_name`,
# `mirror` (an Ubuntu archive mirror), `libvirt_uri` and `domain_type`.
# `ssh_password` is a random one per build unless set.

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
  default     = "https://releases.ubuntu.com/22.04/ubuntu-22.04.5-live-server-amd64.iso"
  description = "The Ubuntu 22.04 live-server ISO (a URL or a local path)."
}

variable "iso_checksum" {
  type        = string
  default     = "file:https://releases.ubuntu.com/22.04/SHA256SUMS"
  description = "The ISO's checksum: \"sha256:...\", or \"file:\" and the URL of a checksum file that lists it."
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
  default     = "ubuntu-22.04-amd64"
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

# Subiquity takes crypted passwords only: bcrypt's $2a$ hashes, which
# Ubuntu's libxcrypt reads.
local "password_hash" {
  expression = bcrypt(local.ssh_password)
  sensitive  = true
}

source "cloudimage-libvirt" "ubuntu2204" {
  libvirt_uri = var.libvirt_uri
  domain_type = var.domain_type
  vm_name     = "cloudimage-ubuntu2204"
  cpus        = 2
  memory      = 2048
  disk_size   = "10G"

  iso_url      = var.iso_url
  iso_checksum = var.iso_checksum

  # NoCloud's seed: the autoinstall in user-data, an empty-ish meta-data.
  http_content = {
    "/user-data" = templatefile("${path.root}/http/ubuntu2204/user-data.pkrtpl", {
      password_hash = local.password_hash
      mirror        = var.mirror
    })
    "/meta-data" = "instance-id: cloudimage-ubuntu2204\n"
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
  sources = ["source.cloudimage-libvirt.ubuntu2204"]

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
