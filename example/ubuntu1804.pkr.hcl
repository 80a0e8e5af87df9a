# Ubuntu 18.04 LTS for OpenStack, from the legacy debian-installer "server"
# ISO (ubuntu-18.04.6-server-amd64.iso on cdimage.ubuntu.com; not the
# live-server ISO, whose Subiquity 18.04 cannot be automated).
#
# Boots the ISO, installs by preseed on one root partition (no LVM, no
# swap), logs in as root, makes the OpenStack checklist true (family
# ubuntu-netplan: cloud-init renders the network, the installer's netplan
# file goes; cloud-guest-utils, qemu-guest-agent, ufw off, ...), cleans,
# verifies and uploads the image to Glance.
#
# Run it:
#   cd example
#   packer init ubuntu1804.pkr.hcl
#   OS_CLOUD=mycloud packer build ubuntu1804.pkr.hcl
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
  default     = "https://cdimage.ubuntu.com/ubuntu/releases/18.04/release/ubuntu-18.04.6-server-amd64.iso"
  description = "The Ubuntu 18.04 debian-installer ISO (a URL or a local path)."
}

variable "iso_checksum" {
  type        = string
  default     = "file:https://cdimage.ubuntu.com/ubuntu/releases/18.04/release/SHA256SUMS"
  description = "The ISO's checksum: \"sha256:...\", or \"file:\" and the URL of a checksum file that lists it."
}

variable "mirror" {
  type        = string
  default     = "http://archive.ubuntu.com/ubuntu"
  description = "The Ubuntu archive the installer installs from and the image's sources.list names (http:// or https://, host, directory)."
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
  default     = "ubuntu-18.04-amd64"
  description = "The image's name in Glance."
}

variable "ssh_password" {
  type        = string
  default     = null
  sensitive   = true
  description = "root's password during the build (the preseed sets it, Packer logs in with it). Unset: a random one for each build."
}

local "ssh_password" {
  expression = coalesce(var.ssh_password, uuidv4())
  sensitive  = true
}

locals {
  # The preseed names the mirror by its parts.
  mirror = regex("^(?P<protocol>https?)://(?P<host>[^/]+)(?P<directory>/.*?)/?$", var.mirror)
}

source "cloudimage-libvirt" "ubuntu1804" {
  libvirt_uri = var.libvirt_uri
  domain_type = var.domain_type
  vm_name     = "cloudimage-ubuntu1804"
  cpus        = 2
  memory      = 2048
  disk_size   = "8G"

  iso_url      = var.iso_url
  iso_checksum = var.iso_checksum

  http_content = {
    "/preseed.cfg" = templatefile("${path.root}/http/ubuntu1804/preseed.cfg.pkrtpl", {
      password         = local.ssh_password
      mirror_protocol  = local.mirror.protocol
      mirror_host      = local.mirror.host
      mirror_directory = local.mirror.directory
    })
  }

  # isolinux with gfxboot (BIOS): the first <esc> closes the language
  # chooser, the second leaves the graphical menu, <enter> confirms that,
  # and the boot: prompt takes a whole kernel command line. auto=true
  # priority=critical fetch the preseed from url= once the network is up;
  # the locale and keyboard keys answer what would be asked before it.
  boot_wait = "10s"
  boot_command = [
    "<esc><wait><esc><wait><enter><wait>",
    "/install/vmlinuz initrd=/install/initrd.gz",
    " auto=true priority=critical",
    " url=http://{{ .HTTPIP }}:{{ .HTTPPort }}/preseed.cfg",
    " locale=en_US.UTF-8 console-setup/ask_detect=false keyboard-configuration/layoutcode=us",
    " hostname=ubuntu domain=",
    " ---<enter>",
  ]

  ssh_username     = "root"
  ssh_password     = local.ssh_password
  ssh_timeout      = "45m"
  shutdown_command = "shutdown -P now"
}

build {
  sources = ["source.cloudimage-libvirt.ubuntu1804"]

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
