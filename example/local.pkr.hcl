# The self-contained example: builds on this machine's libvirt with software
# emulation, from the harness's fixture installer ISO, and uploads to the
# harness's local Glance (cloud "cloudimage-admin" in its clouds.yaml).
# Run it with `sudo make example` from the repository's root.
packer {
  required_plugins {
    cloudimage = {
      source  = "github.com/cloudimage/cloudimage"
      version = ">= 0.1.0"
    }
  }
}

variable "cloud" {
  type    = string
  default = "cloudimage-admin"
}

source "cloudimage-libvirt" "debian12" {
  libvirt_uri = "qemu:///system"
  domain_type = "qemu"
  vm_name     = "cloudimage-example-debian12"
}

build {
  sources = ["source.cloudimage-libvirt.debian12"]

  provisioner "cloudimage-checklist" {}

  post-processors {
    post-processor "cloudimage-sysprep" {}
    post-processor "cloudimage-verify" {
      domain_type = "qemu"
    }
    post-processor "cloudimage-glance" {
      cloud      = var.cloud
      image_name = "cloudimage-example-debian12"
    }
  }
}
