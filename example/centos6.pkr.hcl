# CentOS 6.10 for OpenStack, from the minimal install ISO.
#
# Boots CentOS-6.10-x86_64-minimal.iso (vault.centos.org), installs it by
# kickstart on one root partition (no LVM, no swap), logs in as root, makes
# the OpenStack checklist true (family el6: cloud-init, cloud-utils-growpart
# and dracut-modules-growroot from EPEL 6, qemu-ga, the iptables services
# off, ...), cleans, verifies and uploads the image to Glance.
#
# Run it:
#   cd example
#   packer init centos6.pkr.hcl
#   OS_CLOUD=mycloud packer build centos6.pkr.hcl
#
# Variables to set: `cloud` (or OS_CLOUD); optionally `image_name`,
# `mirror` and `epel_mirror` (local copies of the archives), `libvirt_uri`
# and `domain_type`. `ssh_password` is a random one per build unless set.
#
# CentOS 6 and EPEL 6 are end of life: the install and the installed
# system's yum repositories use vault.centos.org and the Fedora archive.
# Their defaults are plain http: the repositories are GPG-signed (yum checks
# them), and CentOS 6's TLS stack and 2018 CA bundle may not agree with
# today's servers. Point them at https, or at a local mirror, if yours do.

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
  default     = "https://vault.centos.org/6.10/isos/x86_64/CentOS-6.10-x86_64-minimal.iso"
  description = "The CentOS 6 install ISO (a URL or a local path)."
}

variable "iso_checksum" {
  type        = string
  default     = "file:https://vault.centos.org/6.10/isos/x86_64/sha256sum.txt"
  description = "The ISO's checksum: \"sha256:...\", or \"file:\" and the URL of a checksum file that lists it."
}

variable "mirror" {
  type        = string
  default     = "http://vault.centos.org/6.10"
  description = "The CentOS 6.10 tree (holding os/, updates/ and extras/) the installer installs from and the image's yum repositories point at."
}

variable "epel_mirror" {
  type        = string
  default     = "http://archives.fedoraproject.org/pub/archive/epel/6"
  description = "EPEL 6 (holding x86_64/): epel-release comes from it, and the checklist's cloud-init, growpart and dracut-modules-growroot."
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
  default     = "centos-6.10-x86_64"
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

source "cloudimage-libvirt" "centos6" {
  libvirt_uri = var.libvirt_uri
  domain_type = var.domain_type
  vm_name     = "cloudimage-centos6"
  cpus        = 2
  memory      = 2048
  disk_size   = "8G"

  iso_url      = var.iso_url
  iso_checksum = var.iso_checksum

  http_content = {
    "/ks.cfg" = templatefile("${path.root}/http/centos6/ks.cfg.pkrtpl", {
      password    = local.ssh_password
      mirror      = var.mirror
      epel_mirror = var.epel_mirror
    })
  }

  # isolinux (BIOS), "Install or upgrade an existing system" selected:
  # <tab> opens its kernel line, and EL6's anaconda takes the kickstart
  # from ks= (it brings the NIC up by DHCP to fetch it).
  boot_wait = "10s"
  boot_command = [
    "<tab><wait>",
    " text ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>",
  ]

  ssh_username     = "root"
  ssh_password     = local.ssh_password
  ssh_timeout      = "45m"
  shutdown_command = "shutdown -P now"
}

build {
  sources = ["source.cloudimage-libvirt.centos6"]

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
