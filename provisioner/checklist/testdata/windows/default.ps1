# cloudimage-checklist: makes the OpenStack image checklist true, and checks it.
$CL_FAMILY = 'windows'
$CL_MODE = 'apply'
$CL_ITEMS = @('W01', 'W02', 'W03', 'W04', 'W05', 'W06', 'W07', 'W08')
$CL_SKIP = @()
$CL_PROXY = ''
$CL_PROXY_AUTH = $false
$CL_ACCOUNT = 'Administrator'
$CL_PASSWORD_SET = $false
$CL_VIRTIO_WIN = 'auto'
$CL_GUEST_AGENT_INSTALLER = ''
$CL_CLOUDBASE_INIT = $true
$CL_CBI_INSTALLER = 'https://cloudbase.it/downloads/CloudbaseInitSetup_Stable_x64.msi'
$CL_CBI_SET_PASSWORD = $false
$CL_CBI_METADATA_SERVICES = @()
$CL_CBI_PLUGINS = @()
$CL_CBI_SETTINGS = @{}

# ---- windows.ps1 ----
