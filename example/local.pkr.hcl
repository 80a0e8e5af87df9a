# The self-contained example: builds on this machine's libvirt with software
# emulation, from the harness's fixture installer ISO, and uploads to the
# harness's local Glance (cloud "cloudimage-admin" in its clouds.yaml).
# Run it with `sudo make example` from the repository's root, which builds
# the fixtures and links the disk image the installer writes into http/.
packer {
  required_plugins {
    cloudimage = {
      source  = "github.com/cloudimage/cloudimage"
      version = ">= 0.1.0"
    }
  }
}

variable "iso" {
  type        = string
  default     = env("CLOUDIMAGE_FIXTURE_ISO")
  description = "The installer ISO (the harness's fixture)."
}

variable "cloud" {
  type    = string
  default = "cloudimage-admin"
}

variable "name" {
  type        = string
  default     = "cloudimage-example-debian12"
  description = "The name of the build's domain (and, with -verify, of verify's) and of the image in Glance."
}

source "cloudimage-libvirt" "debian12" {
  libvirt_uri  = "qemu:///system"
  domain_type  = "qemu" # no usable KVM on the CI machines
  network_mode = "user"
  vm_name      = var.name
  cpus         = 2
  memory       = 1024
  disk_size    = "4G"

  iso_url      = var.iso
  iso_checksum = "none" # a local fixture, built by the harness

  http_directory = "${path.root}/http"
  boot_wait      = "2s"
  boot_command   = ["install ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/ks.cfg<enter>"]

  ssh_username     = "root"
  ssh_password     = "cloudimage-example"
  ssh_timeout      = "20m"
  shutdown_command = "systemctl poweroff"
}

build {
  sources = ["source.cloudimage-libvirt.debian12"]

  provisioner "cloudimage-checklist" {}

  post-processors {
    post-processor "cloudimage-sysprep" {}
    post-processor "cloudimage-verify" {
      domain_type = "qemu"
      vm_name     = "${var.name}-verify"
    }
    post-processor "cloudimage-glance" {
      cloud      = var.cloud
      image_name = var.name
    }
  }
}
