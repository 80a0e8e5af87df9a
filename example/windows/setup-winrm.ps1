# First logon (Autounattend.xml's FirstLogonCommands, from the floppy A:\):
# opens WinRM on HTTP port 5985 with basic authentication, unencrypted, so
# that Packer's WinRM communicator gets in as Administrator. Its output goes
# to C:\Windows\Temp\cloudimage-setup-winrm.log.
#
# Windows PowerShell 2.0 (Windows Server 2008 R2): only WMI, COM, the WSMan:
# drive and netsh; none of the cmdlets of later versions
# (Set-NetConnectionProfile, Enable-PSRemoting -SkipNetworkProfileCheck).
#
# The sysprep answer file turns unencrypted WinRM off again for the image
# (sysprep-unattend.xml, specialize pass).

$ErrorActionPreference = 'Continue'

# 1. No "set network location" prompt, and every network private: WinRM's
#    quick configuration refuses to open its firewall exception on a public
#    network. The Network List Manager's COM interface (INetworkListManager)
#    works on 2008 R2 as on later versions. The NIC may still be getting its
#    DHCP lease: try for a minute.
New-Item -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Network\NewNetworkWindowOff' -Force | Out-Null
$nlm = [Activator]::CreateInstance([Type]::GetTypeFromCLSID([Guid]'DCB00C01-570F-4A9B-8D69-199FDBA5723B'))
for ($try = 0; $try -lt 12; $try++) {
  $found = $false
  foreach ($connection in $nlm.GetNetworkConnections()) {
    $found = $true
    $network = $connection.GetNetwork()
    # Categories: 0 public, 1 private, 2 domain (not settable).
    if ($network.GetCategory() -eq 0) {
      try { $network.SetCategory(1); "network $($network.GetName()): set private" } catch { "network $($network.GetName()): $_" }
    }
  }
  if ($found) { break }
  Start-Sleep -Seconds 5
}

# 2. The WinRM service, started now and at every boot.
Set-Service -Name WinRM -StartupType Automatic
Start-Service -Name WinRM

# 3. Its settings before its listener, so that Packer's first connection
#    already finds basic authentication on. The shell memory limit is 150 MB
#    on 2008 R2 (WinRM 2.0): too little for the installers the checklist runs.
Set-Item -Path WSMan:\localhost\Service\AllowUnencrypted -Value $true -Force
Set-Item -Path WSMan:\localhost\Service\Auth\Basic -Value $true -Force
Set-Item -Path WSMan:\localhost\Shell\MaxMemoryPerShellMB -Value 2048 -Force
Set-Item -Path WSMan:\localhost\MaxTimeoutms -Value 7200000 -Force

# 4. The HTTP listener on every address (quick configuration makes it and
#    its firewall exception; where it fails, on a network still public, the
#    listener is made here and the firewall rule below opens the port).
try { Set-WSManQuickConfig -Force } catch { "Set-WSManQuickConfig: $_" }
$http = @(Get-ChildItem -Path WSMan:\localhost\Listener | Where-Object { $_.Keys -contains 'Transport=HTTP' })
if ($http.Count -eq 0) {
  New-Item -Path WSMan:\localhost\Listener -Transport HTTP -Address * -Force | Out-Null
}

# 5. Port 5985 open on every profile (the checklist turns the firewall off
#    later, W07).
netsh advfirewall firewall add rule name="WinRM HTTP (Packer)" dir=in action=allow protocol=TCP localport=5985 profile=any

winrm enumerate winrm/config/listener
