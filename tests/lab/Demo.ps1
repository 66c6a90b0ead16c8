#Requires -Version 7.4
<#
.SYNOPSIS
The LVS-DR ARP problem and its fix, on a real kernel, in a few seconds: run by ./build.ps1 -Task Demo.

.DESCRIPTION
Builds the namespace lab of tests/common.ps1 (client, director holding the VIP, two real servers, one bridge),
then tells the story: who answers ARP for the VIP before and after New-LvsVip on the real servers, a client
connection forwarded by the (emulated) director and answered by a real server, and Export-RcLocal recreating a
real server's configuration on a fresh host. Everything happens in namespaces that are removed at the end,
even on failure. Exits 0 when every step showed what it should, 1 otherwise.
#>
[CmdletBinding()]
param()

$ErrorActionPreference = 'Stop'
. (Join-Path (Split-Path -Parent $PSScriptRoot) 'common.ps1')

$script:Problems = [System.Collections.Generic.List[string]]::new()

function Write-Step([string] $Text) { Write-Host "`n== $Text" -ForegroundColor Cyan }

function Write-Check {
    # One line of the story, green when it is what LVS-DR needs, red (and counted) when not.
    param([string] $Text, [bool] $Ok)
    if ($Ok) { Write-Host "   OK    $Text" -ForegroundColor Green }
    else { Write-Host "   WRONG $Text" -ForegroundColor Red; $script:Problems.Add($Text) }
}

function Format-Responder {
    param($Lab, [string[]] $Mac)
    if (-not $Mac) { return 'nobody' }
    ($Mac | ForEach-Object {
            $h = Get-LvsLabHostByMac -Lab $Lab -Mac $_
            if ($h) { "$($h.Role) ($_)" } else { $_ }
        }) -join ', '
}

$reason = Test-LvsLabPrerequisite
if ($reason) {
    Write-Host "The demo cannot run here: $reason." -ForegroundColor Yellow
    exit 1
}

$lab = $null
try {
    Write-Step 'Building the lab'
    $lab = New-LvsLab -RealServerCount 2
    $vip = $lab.Vip
    foreach ($h in $lab.Hosts.Values) {
        $what = switch -Wildcard ($h.Role) { 'cl' { 'client' } 'dir' { "director, holds the VIP $vip" } 'rs*' { "real server, gateway $($lab.Gateway)" } }
        Write-Host ("   {0,-4} {1,-12} {2}  {3,-13} {4}" -f $h.Role, $h.Address, $h.Mac, $h.Namespace, $what)
    }

    Write-Step "Before: a real server that owns the VIP without ARP suppression (the ARP problem)"
    $null = Invoke-LvsNative ip '-n', $lab.Hosts.rs1.Namespace, 'addr', 'add', "$vip/32", 'dev', 'eth0'
    $who = @(Get-ArpResponders -Lab $lab)
    Write-Host "   ip addr add $vip/32 dev eth0 on rs1, then the client asks who-has ${vip}:"
    Write-Host "   answered by: $(Format-Responder $lab $who)"
    Write-Check 'rs1 answers too, so clients can bypass the director' ($who -contains $lab.Hosts.rs1.Mac -and $who -contains $lab.Director.Mac)
    $null = Invoke-LvsNative ip '-n', $lab.Hosts.rs1.Namespace, 'addr', 'del', "$vip/32", 'dev', 'eth0'

    Write-Step "New-LvsVip -Address $vip on rs1 and rs2"
    foreach ($rs in $lab.RealServers) {
        $v = Invoke-LvsInNamespace $rs.Namespace { param($a) New-LvsVip -Address $a } -ArgumentList $vip
        Write-Host "   $($rs.Role): $($v.Address)/$($v.PrefixLength) on $($v.InterfaceName), ARP suppression $($v.ArpSuppression), real IP $($v.RealIP)"
    }
    Write-Host '   rs1 kernel state:'
    Get-LvsLabAddress -Namespace $lab.Hosts.rs1.Namespace -InterfaceName eth0 | ForEach-Object { Write-Host "     inet $($_.Address)/$($_.PrefixLength) dev eth0" }
    Get-LvsLabArpRule -Namespace $lab.Hosts.rs1.Namespace | ForEach-Object { Write-Host "     arptables $($_.Line)" }
    $who = @(Get-ArpResponders -Lab $lab)
    Write-Host "   who-has $vip answered by: $(Format-Responder $lab $who)"
    Write-Check 'only the director answers ARP for the VIP' ($who.Count -eq 1 -and $who[0] -eq $lab.Director.Mac)

    Write-Step 'The DR data path: the director forwards at layer 2, the real server answers the client directly'
    foreach ($role in 'rs1', 'rs2') {
        Disable-DrForwarding -Lab $lab
        Enable-DrForwarding -Lab $lab -RealServer $role
        $reply = Test-DrDataPath -Lab $lab -RealServer $role
        Write-Host "   director forwards $vip to $role; client connects to ${vip}:8080 and reads: $reply"
        Write-Check "the connection is served by $role" ($reply -eq "served-by-$role")
    }
    Disable-DrForwarding -Lab $lab

    Write-Step 'Persistence: Export-RcLocal on rs1, replayed on a fresh host with the same eth0'
    $rcLocal = Join-Path $lab.TempPath 'rc.local'
    $export = Invoke-LvsInNamespace $lab.Hosts.rs1.Namespace { param($p) Export-RcLocal -Path $p } -ArgumentList $rcLocal
    Write-Host "   $($export.Path): $($export.VipCount) VIP(s), $($export.RuleCount) rule(s); the block:"
    $export.Block | ForEach-Object { Write-Host "     $_" }
    $fresh = Add-LvsLabHost -Lab $lab -Role boot -Address $lab.Hosts.rs1.Address -Isolated
    # Executed as boot does it, so the kernel reads its shebang (`sh FILE` would ignore `#!/bin/sh -e`).
    $run = Invoke-LvsNetns $fresh.Namespace $rcLocal -AllowFailure
    Write-Check "rc.local, executed on the fresh host, exits 0$(if ($run.ExitCode) { " (exit $($run.ExitCode): $($run.StdErr.Trim()))" })" ($run.ExitCode -eq 0)
    $addresses = @(Get-LvsLabAddress -Namespace $fresh.Namespace | Where-Object Address -EQ $vip)
    $rules = @(Get-LvsLabSuppressionRule -Namespace $fresh.Namespace -Vip $vip)
    $rules | ForEach-Object { Write-Host "     arptables $($_.Line)" }
    Write-Check "the fresh host has $vip/32 on eth0" ($addresses.Count -eq 1 -and $addresses[0].PrefixLength -eq 32 -and $addresses[0].InterfaceName -eq 'eth0')
    Write-Check 'the fresh host has both suppression rules' ($rules.Count -eq 2)
}
catch {
    $Problems.Add("$_")
    Write-Host "The demo failed: $_" -ForegroundColor Red
    Write-Host $_.ScriptStackTrace -ForegroundColor DarkGray
}
finally {
    if ($lab) {
        Write-Step 'Removing the lab'
        Remove-LvsLab -Lab $lab
        $left = @((Invoke-LvsNative ip 'netns', 'list').StdOut -split "`n" | Where-Object { $_ -like "$($lab.Prefix)*" })
        Write-Host "   namespaces left: $($left.Count)"
    }
}

if ($Problems.Count) {
    Write-Host "`nDemo finished with $($Problems.Count) problem(s)." -ForegroundColor Red
    exit 1
}
Write-Host "`nDemo finished: LVS-DR real servers set up, verified on the wire, and reproducible from rc.local." -ForegroundColor Green
exit 0
