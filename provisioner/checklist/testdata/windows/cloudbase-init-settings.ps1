# cloudimage-checklist: makes the OpenStack image checklist true, and checks it.
$CL_FAMILY = 'windows'
$CL_MODE = 'apply'
$CL_ITEMS = @('W01', 'W02', 'W03', 'W04', 'W05', 'W06', 'W07', 'W08')
$CL_SKIP = @('W01', 'W02', 'W05')
$CL_PROXY = ''
$CL_PROXY_AUTH = $false
$CL_ACCOUNT = 'Administrator'
$CL_PASSWORD_SET = $false
$CL_VIRTIO_WIN = 'auto'
$CL_GUEST_AGENT_INSTALLER = ''
$CL_CLOUDBASE_INIT = $true
$CL_CBI_INSTALLER = 'http://10.0.2.2:8080/CloudbaseInitSetup.msi'
$CL_CBI_SET_PASSWORD = $true
$CL_CBI_METADATA_SERVICES = @('cloudbaseinit.metadata.services.configdrive.ConfigDriveService')
$CL_CBI_PLUGINS = @('cloudbaseinit.plugins.common.mtu.MTUPlugin', 'cloudbaseinit.plugins.windows.extendvolumes.ExtendVolumesPlugin')
$CL_CBI_SETTINGS = @{'bsdtar_path' = 'C:\Program Files\bsdtar.exe'; 'mtu_use_dhcp_config' = 'true'}

# ---- windows.ps1 ----
