# cloudimage-checklist: makes the OpenStack image checklist true, and checks it.
$CL_FAMILY = 'windows'
$CL_MODE = 'verify'
$CL_ITEMS = @('W01', 'W02', 'W03', 'W04', 'W05', 'W06', 'W07', 'W08')
$CL_SKIP = @('W06', 'W07')
$CL_PROXY = 'http://10.0.2.2:3128'
$CL_PROXY_AUTH = $true
$CL_ACCOUNT = 'Admin'
$CL_PASSWORD_SET = $true
$CL_VIRTIO_WIN = 'E:\'
$CL_GUEST_AGENT_INSTALLER = 'E:\guest-agent\qemu-ga-x86_64.msi'
$CL_CLOUDBASE_INIT = $false
$CL_CBI_INSTALLER = 'https://cloudbase.it/downloads/CloudbaseInitSetup_Stable_x64.msi'
$CL_CBI_SET_PASSWORD = $false
$CL_CBI_METADATA_SERVICES = @()
$CL_CBI_PLUGINS = @()
$CL_CBI_SETTINGS = @{}

# ---- windows.ps1 ----
