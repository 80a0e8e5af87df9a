# Windows Server 2012 R2 (Standard, with a GUI) for OpenStack: installed from
# its ISO by Autounattend.xml on a floppy, with the virtio-win drivers from a
# second CD, made to follow the checklist (W01-W08: cloudbase-init, the
# guest agent, RDP, firewall off, the system volume extended at boot),
# generalized by Sysprep and uploaded to Glance.
#
#   cd example
#   packer init windows2012r2.pkr.hcl
#   PKR_VAR_iso_url=/isos/windows-server-2012r2-eval.iso \
#   PKR_VAR_iso_checksum=sha256:... \
#   PKR_VAR_administrator_password='...' \
#   OS_CLOUD=mycloud packer build windows2012r2.pkr.hcl
#
# Variables to set: iso_url, iso_checksum, administrator_password (no
# defaults), and cloud (or OS_CLOUD) for Glance. Others: windows_image,
# virtio_win_iso_url/_checksum, cloudbase_init_installer, image_name,
# libvirt_uri, domain_type, locale, time_zone.
#
# Without KVM (domain_type "qemu") the install takes hours: the timeouts below
# allow for it.

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
  description = "The Windows Server 2012 R2 ISO (a path or URL). Microsoft's evaluation ISO has no stable download URL (the Evaluation Center hands out expiring links), so there is no default: download it and give its path."
}

variable "iso_checksum" {
  type        = string
  description = "The ISO's checksum, such as \"sha256:...\" (or \"none\" to skip the check)."
}

variable "administrator_password" {
  type        = string
  sensitive   = true
  description = "The built-in Administrator's password: the image's default password (W01), set by Autounattend.xml and kept through Sysprep. Windows' complexity rules apply (6 or more characters from three of: upper case, lower case, digits, symbols; not the account name), or Setup stops."
}

variable "windows_image" {
  type        = string
  default     = "Windows Server 2012 R2 SERVERSTANDARD"
  description = "The edition to install: its name in the ISO's install.wim (\"Windows Server 2012 R2 SERVERSTANDARD\" is Standard with a GUI, ...SERVERSTANDARDCORE is Server Core, ...SERVERDATACENTER) or its index (\"2\"); `dism /Get-WimInfo /WimFile:D:\\sources\\install.wim` lists them."
}

variable "virtio_win_iso_url" {
  type = string
  # 0.1.215 is the newest release whose 2012 R2 (2k12R2) storage and network
  # drivers are known to work in Setup: 0.1.217 to 0.1.229 broke them
  # (virtio-win/virtio-win-pkg-scripts#61, #65), and since Microsoft retired
  # cross-signing the pre-Windows 10 drivers of later releases are not
  # signed in a way 2012 R2 accepts (kvm-guest-drivers-windows#1112).
  default     = "https://fedorapeople.org/groups/virt/virtio-win/direct-downloads/archive-virtio/virtio-win-0.1.215-1/virtio-win-0.1.215.iso"
  description = "The virtio-win ISO, attached as a second CD: the drivers Setup loads (viostor, NetKVM, ...) and the checklist installs, and the guest agent."
}

variable "virtio_win_iso_checksum" {
  type = string
  # fedorapeople.org publishes no checksum file beside its ISOs, so none is
  # checked by default; pin one ("sha256:...") for builds you rely on.
  default     = "none"
  description = "The virtio-win ISO's checksum (\"sha256:...\", \"file:URL\" or \"none\")."
}

variable "cloudbase_init_installer" {
  type        = string
  default     = null
  description = "The cloudbase-init MSI, as a path in the guest or an http(s) URL. Unset, the guest downloads Cloudbase's stable release, whose Python may need updates an unpatched 2012 R2 lacks (the Universal C Runtime, KB2999226): if its install fails, give an older release's MSI here."
}

variable "locale" {
  type        = string
  default     = "en-US"
  description = "Setup's language, the system, user and input locale (the ISO must carry the language)."
}

variable "time_zone" {
  type        = string
  default     = "UTC"
  description = "The Windows time zone id (tzutil /l lists them)."
}

variable "libvirt_uri" {
  type    = string
  default = "qemu:///system"
}

variable "domain_type" {
  type        = string
  default     = "auto"
  description = "kvm, qemu (software emulation: very slow for Windows) or auto."
}

variable "cloud" {
  type        = string
  default     = env("OS_CLOUD")
  description = "The clouds.yaml cloud Glance is reached through."
}

variable "image_name" {
  type        = string
  default     = "windows-server-2012r2"
  description = "The image's name in Glance."
}

locals {
  # The password goes into XML: escape what XML gives a meaning.
  admin_password_xml = replace(replace(replace(var.administrator_password, "&", "&amp;"), "<", "&lt;"), ">", "&gt;")

  # Every driver of the checklist's W08 from virtio-win's folder for this
  # Windows, on each letter the virtio-win CD may get in Setup (D:, E:, F:).
  virtio_drivers = ["viostor", "vioscsi", "NetKVM", "vioserial", "Balloon"]
  driver_paths   = [for p in setproduct(["D", "E", "F"], local.virtio_drivers) : "${p[0]}:\\${p[1]}\\2k12R2\\amd64"]

  unattend_vars = {
    admin_password = local.admin_password_xml
    image_key      = can(regex("^[0-9]+$", var.windows_image)) ? "/IMAGE/INDEX" : "/IMAGE/NAME"
    image_value    = var.windows_image
    locale         = var.locale
    time_zone      = var.time_zone
    driver_paths   = local.driver_paths
  }
}

source "cloudimage-libvirt" "windows2012r2" {
  libvirt_uri = var.libvirt_uri
  domain_type = var.domain_type
  vm_name     = "cloudimage-windows2012r2"

  machine_type   = "pc" # i440FX: a floppy controller, IDE CD-ROMs
  firmware       = "bios"
  cpus           = 2
  memory         = 4096
  disk_size      = "40G"
  disk_interface = "virtio" # needs viostor in Setup (Autounattend.xml DriverPaths)
  net_device     = "virtio"

  iso_url      = var.iso_url
  iso_checksum = var.iso_checksum

  # The second CD: virtio-win (the checklist finds it by its label).
  additional_iso_files {
    iso_url      = var.virtio_win_iso_url
    iso_checksum = var.virtio_win_iso_checksum
  }

  # Windows Setup reads A:\Autounattend.xml; the other two are for the first
  # logon and for Sysprep.
  floppy_content = {
    "Autounattend.xml"     = templatefile("${path.root}/windows/windows2012r2/Autounattend.xml.pkrtpl", local.unattend_vars)
    "sysprep-unattend.xml" = templatefile("${path.root}/windows/windows2012r2/sysprep-unattend.xml.pkrtpl", local.unattend_vars)
    "setup-winrm.ps1"      = file("${path.root}/windows/setup-winrm.ps1")
  }

  # No boot_command: with the disk still empty the firmware boots the ISO
  # straight away (no "Press any key to boot from CD"), and Setup runs
  # unattended from there.

  communicator   = "winrm"
  winrm_username = "Administrator"
  winrm_password = var.administrator_password
  winrm_use_ssl  = false
  winrm_insecure = true
  winrm_timeout  = "2h" # the whole install, slow without KVM

  # Generalize and power off; the next boot (in the cloud) runs the
  # specialize and oobeSystem passes of sysprep-unattend.xml.
  shutdown_command = "C:\\Windows\\System32\\Sysprep\\sysprep.exe /generalize /oobe /shutdown /quiet /unattend:A:\\sysprep-unattend.xml"
  shutdown_timeout = "1h"
}

build {
  sources = ["source.cloudimage-libvirt.windows2012r2"]

  provisioner "cloudimage-checklist" {
    administrator_password = var.administrator_password # W01, proven by a logon
    virtio_win             = "auto"                     # W04, W08: the virtio-win CD
    guest_agent            = true                       # W04: qemu-guest-agent from virtio-win

    cloudbase_init {
      installer = var.cloudbase_init_installer
      metadata_services = [
        "cloudbaseinit.metadata.services.configdrive.ConfigDriveService",
        "cloudbaseinit.metadata.services.httpservice.HttpService",
      ]
    }
  }

  post-processors {
    # Windows: virt-sysprep is skipped (Sysprep ran in the guest); the disk is
    # still sparsified and converted.
    post-processor "cloudimage-sysprep" {}

    # No cloudimage-verify: it checks Linux images only and stops on Windows.

    post-processor "cloudimage-glance" {
      cloud      = var.cloud
      image_name = var.image_name
      # os_type/os_distro come from the sysprep post-processor's inspection;
      # set here too, as Nova needs os_type windows (clock, Hyper-V
      # enlightenments) even where inspection says less.
      properties = {
        os_type    = "windows"
        os_distro  = "windows"
        os_version = "2012r2"
      }
    }
  }
}
