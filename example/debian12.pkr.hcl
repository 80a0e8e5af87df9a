# Debian 12 (bookworm) for OpenStack, from the netinst ISO.
#
# Boots debian-<debian_version>-amd64-netinst.iso from cdimage.debian.org's
# archive, installs by preseed on one root partition (no LVM, no swap),
# logs in as root, makes the OpenStack checklist true (family debian:
# cloud-init renders the network, the installer's NIC stanza goes;
# cloud-guest-utils, qemu-guest-agent, apache2, ...), cleans, verifies and
# uploads the image to Glance.
#
# Run it:
#   cd example
#   packer init debian12.pkr.hcl
#   OS_CLOUD=mycloud packer build debian12.pkr.hcl
#
# Variables to set: `cloud` (or OS_CLOUD); optionally `debian_version` (a
# 12.x point release; the archive keeps every one), `image_name`, `mirror`
# (a Debian mirror), `libvirt_uri` and `domain_type`. `ssh_password` is a
# random one per build unless set.

packer {
  required_plugins {
    cloudimage = {
      source  = "github.com/cloudimage/cloudimage"
      version = ">= 0.1.0"
    }
  }
}

variable "debian_version" {
  type        = string
  default     = "12.15.0"
  description = "The Debian 12 point release whose netinst ISO is installed (a directory of https://cdimage.debian.org/cdimage/archive/)."
}

variable "iso_url" {
  type        = string
  default     = null
  description = "The install ISO (a URL or a local path). Unset: debian_version's netinst ISO in cdimage.debian.org's archive."
}

variable "iso_checksum" {
  type        = string
  default     = null
  description = "The ISO's checksum: \"sha256:...\", or \"file:\" and the URL of a checksum file that lists it. Unset: the archive's SHA256SUMS beside the ISO."
}

variable "mirror" {
  type        = string
  default     = "http://deb.debian.org/debian"
  description = "The Debian archive the installer installs from and the image's sources.list names (http:// or https://, host, directory)."
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
  default     = "debian-12-amd64"
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
  iso_dir      = "https://cdimage.debian.org/cdimage/archive/${var.debian_version}/amd64/iso-cd"
  iso_url      = coalesce(var.iso_url, "${local.iso_dir}/debian-${var.debian_version}-amd64-netinst.iso")
  iso_checksum = coalesce(var.iso_checksum, "file:${local.iso_dir}/SHA256SUMS")
  # The preseed names the mirror by its parts.
  mirror = regex("^(?P<protocol>https?)://(?P<host>[^/]+)(?P<directory>/.*?)/?$", var.mirror)
}

source "cloudimage-libvirt" "debian12" {
  libvirt_uri = var.libvirt_uri
  domain_type = var.domain_type
  vm_name     = "cloudimage-debian12"
  cpus        = 2
  memory      = 2048
  disk_size   = "8G"

  iso_url      = local.iso_url
  iso_checksum = local.iso_checksum

  http_content = {
    "/preseed.cfg" = templatefile("${path.root}/http/debian12/preseed.cfg.pkrtpl", {
      password         = local.ssh_password
      mirror_protocol  = local.mirror.protocol
      mirror_host      = local.mirror.host
      mirror_directory = local.mirror.directory
    })
  }

  # isolinux (BIOS), a menu that waits: <esc> leaves it for the boot:
  # prompt, which takes a whole kernel command line (the text installer's
  # kernel and initrd). auto=true priority=critical fetch the preseed from
  # url= once the network is up; the locale and keymap answer what would be
  # asked before it.
  boot_wait = "10s"
  boot_command = [
    "<esc><wait>",
    "/install.amd/vmlinuz initrd=/install.amd/initrd.gz",
    " auto=true priority=critical",
    " url=http://{{ .HTTPIP }}:{{ .HTTPPort }}/preseed.cfg",
    " locale=en_US.UTF-8 keymap=us",
    " hostname=debian domain=",
    " ---<enter>",
  ]

  ssh_username     = "root"
  ssh_password     = local.ssh_password
  ssh_timeout      = "45m"
  shutdown_command = "shutdown -P now"
}

build {
  sources = ["source.cloudimage-libvirt.debian12"]

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
