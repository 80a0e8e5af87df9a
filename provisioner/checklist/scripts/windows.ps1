# The checklist's Windows items (W01-W08), run by Windows PowerShell 2.0 and
# later (Windows Server 2008 R2 on): so WMI, the registry, netsh, diskpart,
# pnputil and schtasks, never the cmdlets of later versions (Get-NetAdapter,
# Resize-Partition, Set-LocalUser). The provisioner sends one script: the
# $CL_* settings, this file and a call to Invoke-Checklist.
#
# Output, as in the Linux scripts: "@@step ID TEXT" while an item is applied,
# one line "@@result ID STATUS BASE64" per item (pass, fail or
# not-applicable, with the evidence in base64); anything else is the log.
#
# administrator_password is not in this script (PowerShell 5 logs the text
# of scripts like this one in its event log, which stays in the image): the
# provisioner uploads it beside the script, as <script>.secret; it is read
# and removed first thing, and never printed nor passed on a command line.
# So are package_proxy's credentials, as <script>.proxy (USER:PASSWORD).

$ErrorActionPreference = 'Stop'
$script:Item = 'prepare'
$script:Evidence = New-Object System.Collections.ArrayList
$script:Work = Join-Path $env:TEMP ('cloudimage-checklist-' + [Guid]::NewGuid().ToString('N').Substring(0, 8))
$script:NativeOutput = ''
$CL_PASSWORD = ''
if ($CL_PASSWORD_SET) {
  $secret = [IO.Path]::ChangeExtension($MyInvocation.MyCommand.Path, '.secret')
  $CL_PASSWORD = [IO.File]::ReadAllText($secret)
  Remove-Item -Force -LiteralPath $secret
}
$CL_PROXY_CREDENTIAL = $null
if ($CL_PROXY_AUTH) {
  $secret = [IO.Path]::ChangeExtension($MyInvocation.MyCommand.Path, '.proxy')
  $auth = [IO.File]::ReadAllText($secret)
  Remove-Item -Force -LiteralPath $secret
  $i = $auth.IndexOf(':')
  $CL_PROXY_CREDENTIAL = New-Object Net.NetworkCredential($auth.Substring(0, $i), $auth.Substring($i + 1))
}

function Write-Line([string]$Text) { [Console]::Out.WriteLine($Text) }
function Write-Step([string]$Text) { Write-Line "@@step $script:Item $Text" }
function Add-Evidence([string]$Text) { [void]$script:Evidence.Add($Text) }

function Write-Result([string]$Id, [string]$Status) {
  $text = ($script:Evidence.ToArray() -join "`n") + "`n"
  Write-Line ("@@result $Id $Status " + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($text)))
  $script:Evidence.Clear()
}

# Invoke-Native EXE ARGS...: runs a console program, logs its output (also
# kept in $script:NativeOutput) and returns its exit code. Its stderr must
# not become a terminating error, hence Continue here.
function Invoke-Native {
  $ErrorActionPreference = 'Continue'
  $exe = $args[0]
  $rest = @($args | Select-Object -Skip 1)
  $out = & $exe @rest 2>&1 | ForEach-Object { "$_" }
  $code = $LASTEXITCODE
  $script:NativeOutput = ($out -join "`n").Trim()
  Write-Line "$exe $($rest -join ' '): exit $code"
  if ($script:NativeOutput) { Write-Line $script:NativeOutput }
  return $code
}

# Invoke-Installer MSI LOG ARGS...: msiexec /i, waiting for it (msiexec is a
# GUI program: & would not wait). 3010 and 1641 are success with a reboot.
function Invoke-Installer([string]$Msi, [string]$Log, [string[]]$Properties) {
  $argv = @('/i', "`"$Msi`"", '/qn', '/norestart', '/l*v', "`"$Log`"") + $Properties
  # 1618: another installation is running (Windows Update, at first boot):
  # ask again, for up to 10 minutes.
  for ($try = 1; $try -le 40; $try++) {
    $p = Start-Process -FilePath msiexec.exe -ArgumentList $argv -Wait -PassThru
    Write-Line "msiexec $($argv -join ' '): exit $($p.ExitCode)"
    if ($p.ExitCode -ne 1618) { break }
    Start-Sleep -Seconds 15
  }
  if (@(0, 1641, 3010) -notcontains $p.ExitCode) {
    $tail = ''
    if (Test-Path $Log) { $tail = (Get-Content $Log | Select-Object -Last 15) -join "`n" }
    throw "installing $Msi failed (msiexec exit $($p.ExitCode)); the end of its log:`n$tail"
  }
}

# Get-Source LOCATION NAME: a file the user named by path in the guest or by
# http(s) URL (downloaded, through package_proxy when set).
function Get-Source([string]$Location, [string]$Name) {
  if ($Location -notmatch '^https?://') {
    if (-not (Test-Path -LiteralPath $Location)) { throw "$Location does not exist in the guest" }
    return $Location
  }
  if (-not (Test-Path $script:Work)) { [void](New-Item -ItemType Directory -Path $script:Work) }
  $dest = Join-Path $script:Work $Name
  # TLS 1.2 (3072) is off by default in the .NET of Windows 2008 R2 and
  # 2012, and unknown to it without KB3154518.
  try { [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor 3072 } catch {
    Write-Line "TLS 1.2 is not available to .NET here (KB3154518): downloads from https sites that require it fail; give a path in the guest instead"
  }
  $wc = New-Object Net.WebClient
  if ($CL_PROXY) {
    $wc.Proxy = New-Object Net.WebProxy($CL_PROXY, $true)
    if ($CL_PROXY_CREDENTIAL) { $wc.Proxy.Credentials = $CL_PROXY_CREDENTIAL }
  }
  Write-Step "downloading $Location"
  $wc.DownloadFile($Location, $dest)
  return $dest
}

function Get-Os { Get-WmiObject Win32_OperatingSystem }

function Get-GiB([double]$Bytes) { '{0:N1} GiB' -f ($Bytes / 1073741824) }

# --- virtio-win ---------------------------------------------------------------
# Find-VirtioWin: the folder holding the virtio-win drivers: virtio_win, or
# with "auto" a drive labelled virtio-win* (the virtio-win ISO), else any
# drive with NetKVM and viostor folders. "" when there is none.
function Find-VirtioWin {
  if ($CL_VIRTIO_WIN -ne 'auto') { return $CL_VIRTIO_WIN }
  $drives = @(Get-WmiObject Win32_LogicalDisk | Where-Object { $_.DeviceID })
  foreach ($d in $drives) {
    if ("$($d.VolumeName)" -like 'virtio-win*') { return $d.DeviceID + '\' }
  }
  foreach ($d in $drives) {
    if ((Test-Path ($d.DeviceID + '\NetKVM')) -and (Test-Path ($d.DeviceID + '\viostor'))) { return $d.DeviceID + '\' }
  }
  return ''
}

# Get-VirtioOsDir: virtio-win's folder name for this Windows (2k8R2, 2k12R2,
# 2k16, 2k19, 2k22, 2k25, w7 ... w11) and its architecture folder.
function Get-VirtioOsDir {
  $os = Get-Os
  $v = [Version]$os.Version
  $server = $os.ProductType -ne 1
  $build = [int]$os.BuildNumber
  $name = ''
  if ($v.Major -eq 6) {
    $names = @{ 0 = @('2k8', 'vista'); 1 = @('2k8R2', 'w7'); 2 = @('2k12', 'w8'); 3 = @('2k12R2', 'w8.1') }[$v.Minor]
    if ($names) { $name = $names[[int](-not $server)] }
  } elseif ($v.Major -ge 10) {
    if ($server) {
      if ($build -ge 26100) { $name = '2k25' } elseif ($build -ge 20348) { $name = '2k22' } elseif ($build -ge 17763) { $name = '2k19' } else { $name = '2k16' }
    } else {
      if ($build -ge 22000) { $name = 'w11' } else { $name = 'w10' }
    }
  }
  $arch = 'x86'
  if ("$($os.OSArchitecture)" -like '*64*') { $arch = 'amd64' }
  if ("$($os.OSArchitecture)" -like '*ARM*') { $arch = 'ARM64' }
  return @($name, $arch)
}

# The drivers the checklist installs, by virtio-win folder and INF name:
# storage (both kinds), network, the serial channel the guest agent talks
# through, and the memory balloon.
$script:VirtioDrivers = @(
  @('viostor', 'viostor'), @('vioscsi', 'vioscsi'), @('NetKVM', 'netkvm'),
  @('vioserial', 'vioser'), @('Balloon', 'balloon'))

# Test-DriverStaged INF: whether the driver store holds INF (pnputil -a
# copies it there as <inf>_<arch>_<hash>).
function Test-DriverStaged([string]$Inf) {
  @(Get-ChildItem -Path (Join-Path $env:SystemRoot 'System32\DriverStore\FileRepository') -Filter "$Inf`_*" -ErrorAction SilentlyContinue).Count -gt 0
}

# Add-DriverPublisher DIR: trusts the signers of DIR's catalogs, so that
# pnputil installs without the "install this device software?" dialog that
# nobody can answer over WinRM or SSH.
function Add-DriverPublisher([string]$Dir) {
  $store = New-Object Security.Cryptography.X509Certificates.X509Store('TrustedPublisher', 'LocalMachine')
  $store.Open('ReadWrite')
  try {
    foreach ($cat in @(Get-ChildItem -Path $Dir -Filter *.cat -ErrorAction SilentlyContinue)) {
      $cert = (Get-AuthenticodeSignature -FilePath $cat.FullName).SignerCertificate
      if ($cert -and -not ($store.Certificates | Where-Object { $_.Thumbprint -eq $cert.Thumbprint })) {
        Write-Line "trusting the driver publisher $($cert.Subject)"
        $store.Add($cert)
      }
    }
  } finally { $store.Close() }
}

# Install-VirtioDrivers: each driver the driver store lacks, from
# virtio-win, with pnputil. Runs once per script (W04 needs vioserial before
# W08's turn); its failures are kept for W08 to report.
function Install-VirtioDrivers {
  if ($script:VirtioTried) { return }
  $script:VirtioTried = $true
  $script:VirtioErrors = @()
  $missing = @($script:VirtioDrivers | Where-Object { -not (Test-DriverStaged "$($_[1]).inf") })
  if ($missing.Count -eq 0) { return }
  $src = Find-VirtioWin
  if (-not $src) {
    $script:VirtioErrors += "no virtio-win drivers found for $(($missing | ForEach-Object { $_[0] }) -join ', '): attach the virtio-win ISO, or set virtio_win"
    return
  }
  $osdir = Get-VirtioOsDir
  foreach ($d in $missing) {
    $dir = Join-Path $src "$($d[0])\$($osdir[0])\$($osdir[1])"
    $inf = Join-Path $dir "$($d[1]).inf"
    if (-not (Test-Path -LiteralPath $inf)) { $script:VirtioErrors += "virtio-win has no $inf"; continue }
    Write-Step "installing the $($d[0]) driver from $inf"
    Add-DriverPublisher $dir
    $code = Invoke-Native pnputil.exe -i -a $inf
    # 259: nothing to do (already there); 3010: needs a reboot.
    if (@(0, 259, 3010) -notcontains $code) { $script:VirtioErrors += "pnputil -i -a $inf failed (exit $code): $script:NativeOutput" }
  }
}

# --- cloudbase-init -----------------------------------------------------------
$script:CbiDir = Join-Path $env:ProgramFiles 'Cloudbase Solutions\Cloudbase-Init'
$script:CbiConf = Join-Path $script:CbiDir 'conf\cloudbase-init.conf'
$script:CbiUnattendConf = Join-Path $script:CbiDir 'conf\cloudbase-init-unattend.conf'
# The plugins that put a password on the account: CreateUserPlugin sets a
# random one on an existing account, SetUserPasswordPlugin the metadata's.
$script:CbiPasswordPlugins = @(
  'cloudbaseinit.plugins.windows.createuser.CreateUserPlugin',
  'cloudbaseinit.plugins.common.setuserpassword.SetUserPasswordPlugin')
# cloudbase-init's own default plugin list, used when its conf names none.
$script:CbiDefaultPlugins = @(
  'cloudbaseinit.plugins.common.mtu.MTUPlugin',
  'cloudbaseinit.plugins.windows.ntpclient.NTPClientPlugin',
  'cloudbaseinit.plugins.common.sethostname.SetHostNamePlugin',
  'cloudbaseinit.plugins.windows.createuser.CreateUserPlugin',
  'cloudbaseinit.plugins.common.networkconfig.NetworkConfigPlugin',
  'cloudbaseinit.plugins.windows.licensing.WindowsLicensingPlugin',
  'cloudbaseinit.plugins.common.sshpublickeys.SetUserSSHPublicKeysPlugin',
  'cloudbaseinit.plugins.windows.extendvolumes.ExtendVolumesPlugin',
  'cloudbaseinit.plugins.common.userdata.UserDataPlugin',
  'cloudbaseinit.plugins.common.setuserpassword.SetUserPasswordPlugin',
  'cloudbaseinit.plugins.windows.winrmlistener.ConfigWinRMListenerPlugin',
  'cloudbaseinit.plugins.windows.winrmcertificateauth.ConfigWinRMCertificateAuthPlugin',
  'cloudbaseinit.plugins.common.localscripts.LocalScriptsPlugin')

# Get-IniValue FILE KEY: KEY's value in FILE's [DEFAULT] section, or $null.
function Get-IniValue([string]$File, [string]$Key) {
  if (-not (Test-Path -LiteralPath $File)) { return $null }
  $section = ''
  foreach ($line in (Get-Content -LiteralPath $File)) {
    if ($line -match '^\s*\[(.+)\]\s*$') { $section = $matches[1]; continue }
    if ($section -eq 'DEFAULT' -and $line -match "^\s*$([Regex]::Escape($Key))\s*=\s*(.*?)\s*$") { return $matches[1] }
  }
  return $null
}

# Set-IniValue FILE KEY VALUE: KEY=VALUE in FILE's [DEFAULT] section; the
# file is written only when that changes it.
function Set-IniValue([string]$File, [string]$Key, [string]$Value) {
  $lines = @()
  if (Test-Path -LiteralPath $File) { $lines = @(Get-Content -LiteralPath $File) }
  if (-not ($lines -match '^\s*\[DEFAULT\]\s*$')) { $lines = @('[DEFAULT]') + $lines }
  $out = New-Object System.Collections.ArrayList
  $section = ''
  $done = $false
  foreach ($line in $lines) {
    if ($line -match '^\s*\[(.+)\]\s*$') {
      if ($section -eq 'DEFAULT' -and -not $done) { [void]$out.Add("$Key=$Value"); $done = $true }
      $section = $matches[1]
    } elseif ($section -eq 'DEFAULT' -and $line -match "^\s*$([Regex]::Escape($Key))\s*=") {
      if (-not $done) { [void]$out.Add("$Key=$Value"); $done = $true }
      continue
    }
    [void]$out.Add($line)
  }
  if (-not $done) { [void]$out.Add("$Key=$Value") }
  if (($out.ToArray() -join "`n") -cne ($lines -join "`n")) {
    [IO.File]::WriteAllLines($File, [string[]]$out.ToArray(), (New-Object Text.UTF8Encoding($false)))
    Write-Line "$File`: $Key=$Value"
  }
}

# Get-CbiPlugins FILE: the plugins cloudbase-init runs with FILE.
function Get-CbiPlugins([string]$File) {
  $v = Get-IniValue $File 'plugins'
  if ($v -eq $null) { return $script:CbiDefaultPlugins }
  return @($v -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ })
}

# Set-CbiPlugins: in cloudbase-init.conf, cloudbase_init's plugins, else
# the ones it has; in both files, without the password plugins unless
# cloudbase_init.set_password (W01).
function Set-CbiPlugins {
  foreach ($file in @($script:CbiConf, $script:CbiUnattendConf)) {
    if (-not (Test-Path -LiteralPath $file)) { continue }
    $plugins = Get-CbiPlugins $file
    if ($file -eq $script:CbiConf -and $CL_CBI_PLUGINS.Count -gt 0) { $plugins = $CL_CBI_PLUGINS }
    if (-not $CL_CBI_SET_PASSWORD) { $plugins = @($plugins | Where-Object { $script:CbiPasswordPlugins -notcontains $_ }) }
    Set-IniValue $file 'plugins' ($plugins -join ',')
  }
}

# Install-CloudbaseInit: cloudbase_init, before the items: the MSI when the
# service is missing, then its settings in both configuration files.
function Install-CloudbaseInit {
  $script:Item = 'cloudbase-init'
  if (-not (Get-Service cloudbase-init -ErrorAction SilentlyContinue)) {
    $msi = Get-Source $CL_CBI_INSTALLER 'CloudbaseInitSetup.msi'
    Write-Step "installing cloudbase-init from $CL_CBI_INSTALLER"
    if (-not (Test-Path $script:Work)) { [void](New-Item -ItemType Directory -Path $script:Work) }
    Invoke-Installer $msi (Join-Path $script:Work 'cloudbase-init-install.log') @(
      "USERNAME=`"$CL_ACCOUNT`"", 'LOGGINGSERIALPORTNAME="COM1"', 'RUN_SERVICE_AS_LOCAL_SYSTEM="1"')
  }
  foreach ($file in @($script:CbiConf, $script:CbiUnattendConf)) {
    if (-not (Test-Path -LiteralPath $file)) { throw "cloudbase-init is installed but has no $file" }
    Set-IniValue $file 'username' $CL_ACCOUNT
    # The password is the template's: no change forced at the first logon.
    Set-IniValue $file 'first_logon_behaviour' 'no'
    if ($CL_CBI_METADATA_SERVICES.Count -gt 0) { Set-IniValue $file 'metadata_services' ($CL_CBI_METADATA_SERVICES -join ',') }
  }
  Set-CbiPlugins
  foreach ($key in ($CL_CBI_SETTINGS.Keys | Sort-Object)) { Set-IniValue $script:CbiConf $key $CL_CBI_SETTINGS[$key] }
}

# --- W01 account --------------------------------------------------------------
function Get-Account {
  Get-WmiObject Win32_UserAccount -Filter "LocalAccount = True AND Name = '$CL_ACCOUNT'"
}

# Test-Logon: 0 when a logon as the account with administrator_password
# succeeds, else the Win32 error (1326: wrong password).
function Test-Logon {
  if (-not ('CloudimageLogon' -as [type])) {
    Add-Type -TypeDefinition @'
using System;
using System.Runtime.InteropServices;
public static class CloudimageLogon {
  [DllImport("advapi32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
  static extern bool LogonUser(string user, string domain, string password, int type, int provider, out IntPtr token);
  [DllImport("kernel32.dll")]
  static extern bool CloseHandle(IntPtr handle);
  public static int Check(string user, string password) {
    IntPtr token;
    // 3: a network logon, which loads no profile.
    if (LogonUser(user, ".", password, 3, 0, out token)) { CloseHandle(token); return 0; }
    return Marshal.GetLastWin32Error();
  }
}
'@
  }
  return [CloudimageLogon]::Check($CL_ACCOUNT, $CL_PASSWORD)
}

function Set-W01 {
  $u = Get-Account
  if (-not $u) { throw "no local account $CL_ACCOUNT" }
  if ($u.Disabled -or $u.PasswordExpires) {
    Write-Step "enabling $CL_ACCOUNT, its password never expiring"
    $u.Disabled = $false
    $u.PasswordExpires = $false
    [void]$u.Put()
  }
  $adsi = [ADSI]"WinNT://$env:COMPUTERNAME/$CL_ACCOUNT,user"
  if ($adsi.PasswordExpired.Value -eq 1) {
    Write-Step "clearing $CL_ACCOUNT's must-change-password flag"
    $adsi.Put('PasswordExpired', 0)
    $adsi.SetInfo()
  }
  # 1326: a wrong password; other logon errors are not the password's.
  if ($CL_PASSWORD -and (Test-Logon) -eq 1326) {
    Write-Step "setting $CL_ACCOUNT's password to administrator_password"
    $adsi.SetPassword($CL_PASSWORD)
  }
  Set-CbiPlugins
}

function Test-W01 {
  $u = Get-Account
  if (-not $u) {
    Add-Evidence "no local account $CL_ACCOUNT (account_name: Administrator on Server editions, Admin on desktop editions)"
    return 'fail'
  }
  $ok = $true
  Add-Evidence "account $($u.Caption): enabled $(-not $u.Disabled), password expires $($u.PasswordExpires)"
  if ($u.Disabled) { $ok = $false }
  if ($CL_PASSWORD) {
    $code = Test-Logon
    if ($code -eq 0) { Add-Evidence "a logon as $CL_ACCOUNT with administrator_password succeeds" }
    else { Add-Evidence "a logon as $CL_ACCOUNT with administrator_password fails (Win32 error $code)"; $ok = $false }
  } else {
    Add-Evidence 'administrator_password not set: the password is the one the template set'
  }
  foreach ($file in @($script:CbiConf, $script:CbiUnattendConf)) {
    if (-not (Test-Path -LiteralPath $file)) { continue }
    $bad = @(Get-CbiPlugins $file | Where-Object { $script:CbiPasswordPlugins -contains $_ })
    if ($bad.Count -gt 0) {
      Add-Evidence "$file runs $($bad -join ', '): cloudbase-init would replace the password"
      $ok = $false
    } else {
      Add-Evidence "$file`: no plugin sets the password"
    }
  }
  if (-not (Test-Path -LiteralPath $script:CbiConf)) { Add-Evidence 'cloudbase-init: not installed' }
  if ($ok) { return 'pass' }
  return 'fail'
}

# --- W02 extend-disk, W05 flavor-resize ---------------------------------------
# A task at startup extends the system volume over the free space after it:
# a flavor's larger disk, or a volume grown later.
$script:ExtendTask = 'cloudimage-extend-system-volume'
$script:ExtendScript = Join-Path $env:ProgramData 'cloudimage\extend-system-volume.txt'

function Get-ExtendScript { "select volume $($env:SystemDrive.TrimEnd(':'))`r`nextend`r`n" }

function Get-ExtendTask {
  $s = New-Object -ComObject Schedule.Service
  $s.Connect()
  try { return $s.GetFolder('\').GetTask($script:ExtendTask) } catch { return $null }
}

# Test-ExtendTask: whether the startup task is there, enabled, at boot,
# running diskpart with the script; its description goes to the evidence
# when EVIDENCE is set.
function Test-ExtendTask([bool]$Evidence) {
  $task = Get-ExtendTask
  if (-not $task) {
    if ($Evidence) { Add-Evidence "no startup task $script:ExtendTask" }
    return $false
  }
  $boot = @($task.Definition.Triggers | Where-Object { $_.Type -eq 8 }).Count -gt 0
  $action = @($task.Definition.Actions | ForEach-Object { "$($_.Path) $($_.Arguments)" }) -join '; '
  if ($Evidence) { Add-Evidence "task $script:ExtendTask`: enabled $($task.Enabled), at startup $boot, runs $action" }
  return ($task.Enabled -and $boot -and $action -like "*diskpart*$script:ExtendScript*")
}

# Get-PartitionsAfterSystem: the partitions after the system volume's on
# its disk, which keep diskpart from extending it (a recovery partition
# placed last by Windows setup).
function Get-PartitionsAfterSystem {
  foreach ($part in @(Get-WmiObject -Query "ASSOCIATORS OF {Win32_LogicalDisk.DeviceID='$env:SystemDrive'} WHERE AssocClass = Win32_LogicalDiskToPartition")) {
    $all = @(Get-WmiObject Win32_DiskPartition -Filter "DiskIndex = $($part.DiskIndex)")
    return @($all | Where-Object { [uint64]$_.StartingOffset -gt [uint64]$part.StartingOffset })
  }
  return @()
}

function Set-W02 {
  $dir = Split-Path $script:ExtendScript
  if (-not (Test-Path $dir)) { [void](New-Item -ItemType Directory -Path $dir) }
  $text = Get-ExtendScript
  if (-not (Test-Path $script:ExtendScript) -or [IO.File]::ReadAllText($script:ExtendScript) -ne $text) {
    [IO.File]::WriteAllText($script:ExtendScript, $text)
  }
  if (-not (Test-ExtendTask $false)) {
    Write-Step "adding the startup task $script:ExtendTask (diskpart extend)"
    $code = Invoke-Native schtasks.exe /create /f /tn $script:ExtendTask /sc onstart /ru SYSTEM /rl HIGHEST /tr "diskpart.exe /s $script:ExtendScript"
    if ($code -ne 0) { throw "schtasks /create failed (exit $code): $script:NativeOutput" }
  }
}

function Test-W02 {
  $ok = Test-ExtendTask $true
  if (-not (Test-Path $script:ExtendScript) -or [IO.File]::ReadAllText($script:ExtendScript) -ne (Get-ExtendScript)) {
    Add-Evidence "$script:ExtendScript does not select and extend $env:SystemDrive"
    $ok = $false
  }
  $vol = Get-WmiObject Win32_LogicalDisk -Filter "DeviceID = '$env:SystemDrive'"
  $disk = Get-SystemDisk
  if ($vol -and $disk) { Add-Evidence "$env:SystemDrive $(Get-GiB $vol.Size) on a $(Get-GiB $disk.Size) disk" }
  foreach ($p in Get-PartitionsAfterSystem) {
    Add-Evidence "$($p.Name) ($(Get-GiB $p.Size)) lies after $env:SystemDrive and keeps it from growing: make the system partition the disk's last (Autounattend.xml)"
    $ok = $false
  }
  if (Test-Path -LiteralPath $script:CbiConf) {
    $ext = (Get-CbiPlugins $script:CbiConf) -contains 'cloudbaseinit.plugins.windows.extendvolumes.ExtendVolumesPlugin'
    Add-Evidence "cloudbase-init ExtendVolumesPlugin: $ext"
  }
  if ($ok) { return 'pass' }
  return 'fail'
}

function Test-W05 {
  Add-Evidence 'the system volume follows the flavor''s disk at boot as for W02:'
  return Test-W02
}

# --- W03 dhcp -----------------------------------------------------------------
function Get-IpAdapters { Get-WmiObject Win32_NetworkAdapterConfiguration -Filter 'IPEnabled = True' }

# Get-StaticDns ADAPTER: the DNS servers set by hand on an adapter ("" when
# they come from DHCP).
function Get-StaticDns($Adapter) {
  $key = "HKLM:\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters\Interfaces\$($Adapter.SettingID)"
  $p = Get-ItemProperty -Path $key -Name NameServer -ErrorAction SilentlyContinue
  if ($p) { return "$($p.NameServer)" }
  return ''
}

function Set-W03 {
  foreach ($a in @(Get-IpAdapters)) {
    if (-not $a.DHCPEnabled) {
      Write-Step "DHCP on $($a.Description)"
      $r = $a.EnableDHCP()
      if (@(0, 1) -notcontains $r.ReturnValue) { throw "EnableDHCP on $($a.Description): error $($r.ReturnValue)" }
    }
    if (Get-StaticDns $a) {
      Write-Step "DNS servers from DHCP on $($a.Description)"
      $r = $a.SetDNSServerSearchOrder()
      if (@(0, 1) -notcontains $r.ReturnValue) { throw "SetDNSServerSearchOrder on $($a.Description): error $($r.ReturnValue)" }
    }
  }
}

function Test-W03 {
  $adapters = @(Get-IpAdapters)
  if ($adapters.Count -eq 0) { Add-Evidence 'no network adapter with IP enabled'; return 'fail' }
  $ok = $true
  foreach ($a in $adapters) {
    $dns = Get-StaticDns $a
    Add-Evidence "$($a.Description): DHCP $($a.DHCPEnabled), address $(@($a.IPAddress) -join ', '), DNS $(if ($dns) { "set by hand: $dns" } else { 'from DHCP' })"
    if (-not $a.DHCPEnabled -or $dns) { $ok = $false }
  }
  if ($ok) { return 'pass' }
  return 'fail'
}

# --- W04 guest-agent ----------------------------------------------------------
function Get-GuestAgent { Get-WmiObject Win32_Service -Filter "Name = 'QEMU-GA'" }

function Set-W04 {
  Install-VirtioDrivers
  $svc = Get-GuestAgent
  if (-not $svc) {
    $msi = $CL_GUEST_AGENT_INSTALLER
    if (-not $msi) {
      $src = Find-VirtioWin
      if (-not $src) { throw 'no qemu-guest-agent installer: attach the virtio-win ISO, or set virtio_win or guest_agent_installer' }
      $arch = @{ 'x86' = 'i386'; 'amd64' = 'x86_64' }[(Get-VirtioOsDir)[1]]
      if (-not $arch) { throw 'virtio-win has no qemu-guest-agent for this architecture: set guest_agent_installer' }
      $msi = Join-Path $src "guest-agent\qemu-ga-$arch.msi"
    }
    $msi = Get-Source $msi 'qemu-ga.msi'
    Write-Step "installing qemu-guest-agent from $msi"
    if (-not (Test-Path $script:Work)) { [void](New-Item -ItemType Directory -Path $script:Work) }
    Invoke-Installer $msi (Join-Path $script:Work 'qemu-ga-install.log') @()
    $svc = Get-GuestAgent
    if (-not $svc) { throw "$msi installed no QEMU-GA service" }
  }
  if ($svc.StartMode -ne 'Auto') { Set-Service QEMU-GA -StartupType Automatic }
  if ($svc.State -ne 'Running') { Start-Service QEMU-GA }
}

function Test-W04 {
  $svc = Get-GuestAgent
  if (-not $svc) { Add-Evidence 'no QEMU-GA service: qemu-guest-agent is not installed'; return 'fail' }
  $exe = $svc.PathName
  if ($exe -match '^"([^"]+)"') { $exe = $matches[1] } elseif ($exe -match '^(.+?\.exe)') { $exe = $matches[1] }
  $version = ''
  if (Test-Path -LiteralPath $exe) { $version = (Get-Item -LiteralPath $exe).VersionInfo.FileVersion }
  Add-Evidence "service QEMU-GA: $($svc.State), start $($svc.StartMode), $exe $version"
  $channel = @(Get-WmiObject Win32_PnPEntity | Where-Object { $_.PNPDeviceID -like 'PCI\VEN_1AF4&DEV_1003*' -or $_.PNPDeviceID -like 'PCI\VEN_1AF4&DEV_1043*' })
  if ($channel.Count -gt 0) { Add-Evidence "virtio serial: $($channel[0].Name), error code $($channel[0].ConfigManagerErrorCode)" }
  else { Add-Evidence 'no virtio serial device: the agent has no channel to the host' }
  Add-Evidence 'resetting the password through the agent is proven by cloudimage-verify on the finished image'
  if ($svc.State -eq 'Running' -and $svc.StartMode -eq 'Auto') { return 'pass' }
  return 'fail'
}

# --- W06 rdp ------------------------------------------------------------------
$script:TsKey = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server'

# The "Remote Desktop" rule group, by its resource name (its display name
# is translated); 0x7FFFFFFF: all profiles.
$script:RdpGroup = '@FirewallAPI.dll,-28752'

function Set-W06 {
  if ((Get-ItemProperty $script:TsKey).fDenyTSConnections -ne 0) {
    Write-Step 'allowing Remote Desktop connections'
    Set-ItemProperty $script:TsKey -Name fDenyTSConnections -Value 0 -Type DWord
  }
  if ((Get-WmiObject Win32_Service -Filter "Name = 'TermService'").StartMode -eq 'Disabled') {
    Write-Step 'enabling the Remote Desktop service'
    Set-Service TermService -StartupType Automatic
  }
  $fw = New-Object -ComObject HNetCfg.FwPolicy2
  if (-not $fw.IsRuleGroupEnabled(0x7FFFFFFF, $script:RdpGroup)) {
    Write-Step 'enabling the Remote Desktop firewall rules'
    $fw.EnableRuleGroup(0x7FFFFFFF, $script:RdpGroup, $true)
  }
}

function Test-W06 {
  $deny = (Get-ItemProperty $script:TsKey).fDenyTSConnections
  $svc = Get-WmiObject Win32_Service -Filter "Name = 'TermService'"
  $port = (Get-ItemProperty "$script:TsKey\WinStations\RDP-Tcp" -ErrorAction SilentlyContinue).PortNumber
  $rules = (New-Object -ComObject HNetCfg.FwPolicy2).IsRuleGroupEnabled(0x7FFFFFFF, $script:RdpGroup)
  Add-Evidence "fDenyTSConnections: $deny; service TermService: $($svc.State), start $($svc.StartMode); port $port; firewall rules enabled: $rules"
  if ($deny -eq 0 -and $svc -and $svc.StartMode -ne 'Disabled') { return 'pass' }
  return 'fail'
}

# --- W07 firewall-off ---------------------------------------------------------
$script:FwProfiles = @(
  @('domain', 'DomainProfile', 'DomainProfile'),
  @('private', 'StandardProfile', 'PrivateProfile'),
  @('public', 'PublicProfile', 'PublicProfile'))

# Get-FirewallState PROFILE: the profile's EnableFirewall, and the group
# policy's when one is set.
function Get-FirewallState($Profile) {
  $on = (Get-ItemProperty "HKLM:\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy\$($Profile[1])" -ErrorAction SilentlyContinue).EnableFirewall
  $policy = (Get-ItemProperty "HKLM:\SOFTWARE\Policies\Microsoft\WindowsFirewall\$($Profile[2])" -ErrorAction SilentlyContinue).EnableFirewall
  return @($on, $policy)
}

function Set-W07 {
  if (@($script:FwProfiles | Where-Object { (Get-FirewallState $_)[0] -ne 0 }).Count -eq 0) { return }
  Write-Step 'turning Windows Firewall off on all profiles'
  $code = Invoke-Native netsh.exe advfirewall set allprofiles state off
  if ($code -ne 0) { throw "netsh advfirewall set allprofiles state off failed (exit $code): $script:NativeOutput" }
}

function Test-W07 {
  $ok = $true
  foreach ($p in $script:FwProfiles) {
    $state = Get-FirewallState $p
    $on = $state[0]
    $policy = $state[1]
    $line = "$($p[0]) profile: EnableFirewall $on"
    if ($policy -ne $null) { $line += ", group policy EnableFirewall $policy" }
    Add-Evidence $line
    if ($on -ne 0 -or $policy -eq 1) { $ok = $false }
  }
  if ($ok) { return 'pass' }
  return 'fail'
}

# --- W08 virtio ---------------------------------------------------------------
# Get-SystemDisk: the disk drive that holds the system volume.
function Get-SystemDisk {
  foreach ($part in @(Get-WmiObject -Query "ASSOCIATORS OF {Win32_LogicalDisk.DeviceID='$env:SystemDrive'} WHERE AssocClass = Win32_LogicalDiskToPartition")) {
    foreach ($disk in @(Get-WmiObject -Query "ASSOCIATORS OF {Win32_DiskPartition.DeviceID='$($part.DeviceID)'} WHERE AssocClass = Win32_DiskDriveToDiskPartition")) {
      return $disk
    }
  }
  return $null
}

function Set-W08 {
  Install-VirtioDrivers
  if ($script:VirtioErrors.Count -gt 0) { throw ($script:VirtioErrors -join '; ') }
}

function Test-W08 {
  $ok = $true
  # Red Hat's PCI vendor id: virtio-blk is 1001/1042, virtio-scsi 1004/1048.
  $storage = @(Get-WmiObject Win32_SCSIController | Where-Object { $_.PNPDeviceID -like 'PCI\VEN_1AF4&*' })
  foreach ($c in $storage) { Add-Evidence "storage controller: $($c.Name) (driver $($c.DriverName), error code $($c.ConfigManagerErrorCode))" }
  $disk = Get-SystemDisk
  $viaBlk = $disk -and "$($disk.PNPDeviceID)" -like '*PROD_VIRTIO*'
  $viaScsi = $disk -and "$($disk.PNPDeviceID)" -like 'SCSI\DISK&VEN_QEMU*' -and @($storage | Where-Object { $_.DriverName -eq 'vioscsi' }).Count -gt 0
  if ($disk) { Add-Evidence "system disk: $($disk.Caption) ($($disk.PNPDeviceID))" }
  if (-not ($viaBlk -or $viaScsi)) {
    Add-Evidence 'the system disk is not on a virtio controller: install on a virtio disk (the builder''s disk_interface = "virtio"), loading viostor from the virtio-win ISO during setup (Autounattend.xml DriverPaths)'
    $ok = $false
  }
  $nics = @(Get-WmiObject Win32_NetworkAdapter | Where-Object { $_.PNPDeviceID -like 'PCI\VEN_1AF4&DEV_1000*' -or $_.PNPDeviceID -like 'PCI\VEN_1AF4&DEV_1041*' })
  foreach ($n in $nics) { Add-Evidence "NIC: $($n.Name) (driver $($n.ServiceName), error code $($n.ConfigManagerErrorCode))" }
  if (@($nics | Where-Object { $_.ServiceName -eq 'netkvm' -and $_.ConfigManagerErrorCode -eq 0 }).Count -eq 0) {
    Add-Evidence 'no virtio NIC working with netkvm: attach the virtio-win ISO (or set virtio_win) and use a virtio NIC'
    $ok = $false
  }
  $missing = @($script:VirtioDrivers | Where-Object { -not (Test-DriverStaged "$($_[1]).inf") } | ForEach-Object { $_[0] })
  if ($missing.Count -gt 0) { Add-Evidence "drivers not in the driver store (used only when such a device is attached): $($missing -join ', ')" }
  if ($ok) { return 'pass' }
  return 'fail'
}

# --- the run ------------------------------------------------------------------
# Invoke-Checklist: cloudbase-init first (apply mode), then for each item
# of CL_ITEMS its Set- part (apply mode), then its Test- part; items of
# CL_SKIP are not-applicable, naming the setting that turned them off.
function Invoke-Checklist {
  $admin = ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
  if (-not $admin) {
    [Console]::Error.WriteLine('the checklist needs an elevated administrator: log in as the built-in Administrator (remote UAC filters other administrators over WinRM and SSH)')
    exit 5
  }
  try {
    if ($CL_MODE -eq 'apply' -and $CL_CLOUDBASE_INIT) {
      try { Install-CloudbaseInit } catch {
        [Console]::Error.WriteLine("cloudbase_init: $($_.Exception.Message)")
        exit 3
      }
    }
    foreach ($id in $CL_ITEMS) {
      $script:Item = $id
      if ($CL_SKIP -contains $id) {
        Add-Evidence 'turned off in the provisioner''s settings'
        Write-Result $id 'not-applicable'
        continue
      }
      if ($CL_MODE -eq 'apply') {
        try { & "Set-$id" | ForEach-Object { Write-Line "$_" } } catch {
          Write-Line "applying $id failed: $($_.Exception.Message)"
          Add-Evidence "applying $id failed: $($_.Exception.Message)"
        }
      }
      $status = 'fail'
      try {
        $out = @(& "Test-$id")
        $status = [string]$out[$out.Count - 1]
      } catch {
        Add-Evidence "checking $id failed: $($_.Exception.Message)"
      }
      Write-Result $id $status
    }
  } finally {
    if (Test-Path $script:Work) { Remove-Item -Recurse -Force $script:Work }
  }
}
