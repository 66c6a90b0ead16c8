#Requires -Version 7.4
# Real servers as they are found: foreign arptables rules before and after LvsDirect, another tool writing rules
# while a batch runs, a foreign nft rule arptables cannot print, and hand-made rc.local files. Each case prepares
# the host by hand, runs the user's command, then reads the kernel (arptables-save, nft, ip -j addr) and the wire
# (arping from the client) from outside the module.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:SkipReason = Test-LvsLabPrerequisite
    if ($SkipReason) { Write-Warning "LvsDirect arptables chain tests skipped: $SkipReason." }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:SkipReason = Test-LvsLabPrerequisite
    if ($SkipReason) { return }

    $script:Lab = New-LvsLab -RealServerCount 1
    $script:Vip = $Lab.Vip
    $script:Rs1 = $Lab.Hosts['rs1']
    $script:Work = Join-Path $Lab.TempPath 'work'
    $null = New-Item -ItemType Directory -Path $Work -Force

    function Reset-RealServer {
        $null = Invoke-LvsNetns $Rs1.Namespace nft 'flush', 'ruleset'
        foreach ($range in '203.0.113.0/24', '198.51.100.0/24') {
            $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'flush', 'dev', 'eth0', 'to', $range
        }
        Clear-LvsLabNeighbour -Lab $Lab
    }

    function Get-Chain {
        # The rules of one chain as arptables-save lists them, in kernel order.
        param([string] $Namespace, [string] $Chain)
        @(Get-LvsLabArpRule $Namespace | Where-Object Chain -EQ $Chain)
    }

    function Start-RuleWriter {
        # Another tool: plain `arptables -A CHAIN -s 198.51.100.N -j TARGET`, one process per rule, N = 1..Count.
        param([string] $Chain, [string] $Target, [int] $Count)
        $loop = "i=1; while [ `$i -le $Count ]; do arptables -A $Chain -s 198.51.100.`$i -j $Target || exit 1; sleep 0.01; i=`$((i+1)); done"
        $psi = [System.Diagnostics.ProcessStartInfo]::new((Find-LvsProgram ip))
        foreach ($a in 'netns', 'exec', $Rs1.Namespace, 'sh', '-c', $loop) { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false
        [System.Diagnostics.Process]::Start($psi)
    }

    function Wait-RuleWriter {
        param([System.Diagnostics.Process] $Process)
        try {
            if (-not $Process.WaitForExit(120000)) { $Process.Kill(); throw 'the rule writer did not finish' }
            $Process.ExitCode
        }
        finally { $Process.Dispose() }
    }
}

AfterAll {
    if (Get-Variable -Name Lab -Scope Script -ErrorAction SilentlyContinue) { Remove-LvsLab -Lab $script:Lab }
}

Describe "Suppression that holds on the host as it is$(if ($SkipReason) { " (skipped: $SkipReason)" })" -Skip:([bool]$SkipReason) {
    BeforeEach { Reset-RealServer }

    It 'New-LvsVip beside foreign INPUT and OUTPUT ACCEPT rules: only the director answers ARP, the foreign rules stay' {
        $null = Invoke-LvsNetns $Rs1.Namespace arptables '-A', 'INPUT', '-j', 'ACCEPT'
        $null = Invoke-LvsNetns $Rs1.Namespace arptables '-A', 'OUTPUT', '-j', 'ACCEPT'

        $null = Invoke-LvsInNamespace $Rs1.Namespace { param($v) New-LvsVip -Address $v } -ArgumentList $Vip

        Get-ArpResponders -Lab $Lab | Should -Be @($Lab.Director.Mac)
        @(Get-Chain $Rs1.Namespace INPUT | ForEach-Object Line) | Should -Be @('-A INPUT -j LVSDIRECT-IN', '-A INPUT -j ACCEPT')
        @(Get-Chain $Rs1.Namespace OUTPUT | ForEach-Object Line) | Should -Be @('-A OUTPUT -j LVSDIRECT-OUT', '-A OUTPUT -j ACCEPT')
        (Get-Chain $Rs1.Namespace LVSDIRECT-IN).Destination | Should -Be $Vip
        (Get-Chain $Rs1.Namespace LVSDIRECT-OUT).MangleIpSource | Should -Be $Rs1.Address
    }

    It 'a foreign ACCEPT put ahead of the jump afterwards is reported, and Set-ArpSuppression, then New-LvsVip, put the jump first again' {
        $null = Invoke-LvsInNamespace $Rs1.Namespace { param($v) New-LvsVip -Address $v } -ArgumentList $Vip
        $null = Invoke-LvsNetns $Rs1.Namespace arptables '-I', 'INPUT', '1', '-j', 'ACCEPT'
        $null = Invoke-LvsNetns $Rs1.Namespace arptables '-I', 'OUTPUT', '1', '-j', 'ACCEPT'
        # The wire proves the rules do shadow ours: rs1 answers now.
        Get-ArpResponders -Lab $Lab | Should -Be @(@($Lab.Director.Mac, $Rs1.Mac) | Sort-Object)

        $seen = Invoke-LvsInNamespace $Rs1.Namespace {
            param($v)
            [pscustomobject]@{
                Suppression = Get-ArpSuppression -VirtualIP $v
                Check       = Test-LvsRealServer -VirtualIP $v | Where-Object Check -EQ 'ArpSuppression'
            }
        } -ArgumentList $Vip
        "$($seen.Suppression.State)" | Should -Be 'Shadowed'
        $seen.Suppression.ShadowedBy | Should -Match '-A INPUT -j ACCEPT'
        "$($seen.Check.Status)" | Should -Be 'Fail'
        $seen.Check.Remediation | Should -Be "Set-ArpSuppression -VirtualIP $Vip"

        $null = Invoke-LvsInNamespace $Rs1.Namespace { param($v) Set-ArpSuppression -VirtualIP $v } -ArgumentList $Vip
        Get-ArpResponders -Lab $Lab | Should -Be @($Lab.Director.Mac)
        @(Get-Chain $Rs1.Namespace INPUT | ForEach-Object Line) | Should -Be @('-A INPUT -j LVSDIRECT-IN', '-A INPUT -j ACCEPT')
        @(Get-Chain $Rs1.Namespace OUTPUT | ForEach-Object Line) | Should -Be @('-A OUTPUT -j LVSDIRECT-OUT', '-A OUTPUT -j ACCEPT')
        Invoke-LvsInNamespace $Rs1.Namespace { param($v) "$((Get-ArpSuppression -VirtualIP $v).State)" } -ArgumentList $Vip | Should -Be 'Complete'

        $client = $Lab.Client.Address
        $null = Invoke-LvsNetns $Rs1.Namespace arptables '-I', 'OUTPUT', '1', '-j', 'ACCEPT'
        $null = Invoke-LvsNetns $Rs1.Namespace arptables '-I', 'INPUT', '1', '-s', $client, '-j', 'ACCEPT'
        Get-ArpResponders -Lab $Lab | Should -Be @(@($Lab.Director.Mac, $Rs1.Mac) | Sort-Object)
        $null = Invoke-LvsInNamespace $Rs1.Namespace { param($v) New-LvsVip -Address $v } -ArgumentList $Vip
        Get-ArpResponders -Lab $Lab | Should -Be @($Lab.Director.Mac)
        @(Get-Chain $Rs1.Namespace INPUT | ForEach-Object Line) | Should -Be @('-A INPUT -j LVSDIRECT-IN', "-A INPUT -j ACCEPT -s $client", '-A INPUT -j ACCEPT')
        @(Get-Chain $Rs1.Namespace OUTPUT | ForEach-Object Line) | Should -Be @('-A OUTPUT -j LVSDIRECT-OUT', '-A OUTPUT -j ACCEPT', '-A OUTPUT -j ACCEPT')
    }

    It 'removing the last VIP takes the jumps and chains away and leaves the foreign rules as they were' {
        $null = Invoke-LvsNetns $Rs1.Namespace arptables '-A', 'INPUT', '-s', '192.0.2.99', '-j', 'ACCEPT'
        $before = Get-LvsLabArptablesSave $Rs1.Namespace

        $null = Invoke-LvsInNamespace $Rs1.Namespace { param($v) New-LvsVip -Address $v; Remove-LvsVip -Address $v } -ArgumentList $Vip

        Get-LvsLabArptablesSave $Rs1.Namespace | Should -Be $before
    }

    It 'another writer appending rules while 400 VIPs are added and removed loses none of them' {
        $vips = @(1..254 | ForEach-Object { "203.0.113.$_" }) + @(1..146 | ForEach-Object { "198.51.100.$_" })
        $writer = Start-RuleWriter -Chain INPUT -Target ACCEPT -Count 250
        $out = Invoke-LvsInNamespace $Rs1.Namespace { param($v) @(New-LvsVip -Address $v).Count } -ArgumentList (, $vips)
        $stillWriting = -not $writer.HasExited
        Wait-RuleWriter $writer | Should -Be 0

        $out | Should -Be 400
        $stillWriting | Should -BeTrue -Because 'the batch must run while the other tool writes'
        @(Get-Chain $Rs1.Namespace INPUT | Where-Object Target -EQ 'ACCEPT').Count | Should -Be 250
        @(Get-Chain $Rs1.Namespace LVSDIRECT-IN).Count | Should -Be 400
        (Get-Chain $Rs1.Namespace INPUT)[0].Line | Should -Be '-A INPUT -j LVSDIRECT-IN'

        $writer = Start-RuleWriter -Chain OUTPUT -Target ACCEPT -Count 250
        Invoke-LvsInNamespace $Rs1.Namespace { param($v) Remove-LvsVip -Address $v } -ArgumentList (, $vips)
        $stillWriting = -not $writer.HasExited
        Wait-RuleWriter $writer | Should -Be 0

        $stillWriting | Should -BeTrue -Because 'the removal must run while the other tool writes'
        @(Get-Chain $Rs1.Namespace INPUT | Where-Object Target -EQ 'ACCEPT').Count | Should -Be 250
        @(Get-Chain $Rs1.Namespace OUTPUT | Where-Object Target -EQ 'ACCEPT').Count | Should -Be 250
        @(Get-LvsLabArpRule $Rs1.Namespace | Where-Object { $_.Chain -like 'LVSDIRECT-*' -or $_.Target -like 'LVSDIRECT-*' }) | Should -BeNullOrEmpty
    }

    It 'a foreign nft rule arptables cannot print back breaks neither one VIP nor a batch of <_>' -ForEach 1, 10 {
        $count = $_
        $null = Invoke-LvsNetns $Rs1.Namespace arptables '-A', 'INPUT', '-s', '192.0.2.99', '-j', 'ACCEPT'
        $null = Invoke-LvsNetns $Rs1.Namespace nft 'add', 'rule', 'arp', 'filter', 'INPUT', 'arp', 'operation', 'reply', 'counter'
        $vips = @(1..$count | ForEach-Object { "203.0.113.$($_ + 100)" })

        $out = Invoke-LvsInNamespace $Rs1.Namespace { param($v) New-LvsVip -Address $v } -ArgumentList (, $vips)

        @($out).Count | Should -Be $count
        @(Get-Chain $Rs1.Namespace LVSDIRECT-IN | ForEach-Object Destination) | Should -Be $vips
        (Invoke-LvsNetns $Rs1.Namespace nft 'list', 'chain', 'arp', 'filter', 'INPUT').StdOut | Should -Match 'arp operation reply counter'
        Get-ArpResponders -Lab $Lab -Vip $vips[0] | Should -BeNullOrEmpty -Because 'the director has no such VIP and rs1 must not answer for it'
    }
}

Describe "rc.local files that run as their shebang says$(if ($SkipReason) { " (skipped: $SkipReason)" })" -Skip:([bool]$SkipReason) {
    BeforeAll {
        Reset-RealServer
        $null = Invoke-LvsInNamespace $Rs1.Namespace { param($v) New-LvsVip -Address $v } -ArgumentList $Vip
    }

    It 'the block runs in <Name>, the lines after it run too, and a second run exits 0' -ForEach @(
        @{ Name = 'Debian''s template'; Text = "#!/bin/sh -e`n#`n# rc.local`n#`n# This script is executed at the end of each multiuser runlevel.`n# Make sure that the script will `"exit 0`" on success.`n#`n# By default this script does nothing.`n`ntouch MARKER`nexit 0`n" }
        @{ Name = 'bash with set -euo pipefail'; Text = "#!/bin/bash`nset -euo pipefail`ntouch MARKER`nexit 0`n" }
        @{ Name = 'a file with a here-document and exit 0 # comment'; Text = "#!/bin/sh -e`ncat <<EOF >MARKER.motd`nexit 1`nEOF`ntouch MARKER`nexit 0 # all done`n" }
    ) {
        $path = Join-Path $Work "rc.local.$([guid]::NewGuid().ToString('n').Substring(0, 6))"
        $marker = "$path.ran"
        Set-Content -LiteralPath $path -Value $Text.Replace('MARKER', $marker) -NoNewline -Encoding ascii
        $before = Get-Content -LiteralPath $path

        $null = Invoke-LvsInNamespace $Rs1.Namespace { param($p) Export-RcLocal -Path $p } -ArgumentList $path

        $lines = Get-Content -LiteralPath $path
        $lines[0] | Should -Be $before[0]
        $lines[1] | Should -Be '# BEGIN LvsDirect managed block: do not edit, regenerate with Export-RcLocal'
        @($lines | Select-Object -Skip ([array]::IndexOf($lines, '# END LvsDirect managed block') + 2)) | Should -Be @($before | Select-Object -Skip 1)

        # A rebooted rs1: the same eth0 and nothing else. The file is executed, so the kernel reads its shebang.
        $fresh = Add-LvsLabHost -Lab $Lab -Role "boot$(Get-Random -Maximum 9999)" -Address $Rs1.Address -Isolated
        foreach ($run in 1, 2) {
            $r = Invoke-LvsNetns $fresh.Namespace $path -AllowFailure
            $r.ExitCode | Should -Be 0 -Because "run $run of $path`: $($r.StdErr)"
        }
        Test-Path -LiteralPath $marker | Should -BeTrue -Because 'the lines after the block ran'
        $a = @(Get-LvsLabAddress -Namespace $fresh.Namespace | Where-Object Address -EQ $Vip)
        $a.Count | Should -Be 1
        $a[0].InterfaceName | Should -Be 'eth0'
        @(Get-Chain $fresh.Namespace INPUT | ForEach-Object Line) | Should -Be @('-A INPUT -j LVSDIRECT-IN')
        @(Get-Chain $fresh.Namespace OUTPUT | ForEach-Object Line) | Should -Be @('-A OUTPUT -j LVSDIRECT-OUT')
        (Get-Chain $fresh.Namespace LVSDIRECT-IN).Destination | Should -Be $Vip
        (Get-Chain $fresh.Namespace LVSDIRECT-OUT).MangleIpSource | Should -Be $Rs1.Address
    }

    It 'when arptables fails at boot the VIP is not added, and the rest of the file still runs' {
        $path = Join-Path $Work 'rc.local.noarp'
        Set-Content -LiteralPath $path -Value "#!/bin/sh -e`ntouch $path.ran`nexit 0`n" -Encoding ascii
        $null = Invoke-LvsInNamespace $Rs1.Namespace { param($p) Export-RcLocal -Path $p } -ArgumentList $path
        $fresh = Add-LvsLabHost -Lab $Lab -Role "boot$(Get-Random -Maximum 9999)" -Address $Rs1.Address -Isolated
        $arptables = (Get-Item -LiteralPath (Find-LvsProgram arptables)).ResolveLinkTarget($true).FullName

        # A host whose arptables cannot work: the binary is /bin/false for this run only (a private mount namespace).
        $r = Invoke-LvsNative unshare '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind /bin/false "$1" && shift && exec "$@"', 'sh', $arptables, 'ip', 'netns', 'exec', $fresh.Namespace, $path -AllowFailure

        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $r.StdErr | Should -Match "LvsDirect: $([regex]::Escape($Vip)) is not added"
        Test-Path -LiteralPath "$path.ran" | Should -BeTrue
        @(Get-LvsLabAddress -Namespace $fresh.Namespace | Where-Object Address -EQ $Vip) | Should -BeNullOrEmpty
    }

    It 'Export-RcLocal warns about a CRLF rc.local, keeps its line endings, and Test-LvsRealServer fails its persistence' {
        $path = Join-Path $Work 'rc.local.crlf'
        [IO.File]::WriteAllText($path, "#!/bin/sh -e`r`necho hi`r`nexit 0`r`n")

        $out = Invoke-LvsInNamespace $Rs1.Namespace {
            param($p, $v)
            $export = Export-RcLocal -Path $p -WarningVariable w -WarningAction SilentlyContinue
            [pscustomobject]@{ Warning = "$w"; Checks = @(Test-LvsRealServer -VirtualIP $v -RcLocalPath $p | Where-Object Check -In 'VipPersisted', 'RcLocal') }
        } -ArgumentList $path, $Vip

        $out.Warning | Should -Match '\\r'
        $bytes = [IO.File]::ReadAllText($path)
        ($bytes -split "`n" | Select-Object -SkipLast 1 | Where-Object { -not $_.EndsWith("`r") }) | Should -BeNullOrEmpty
        $fresh = Add-LvsLabHost -Lab $Lab -Role "boot$(Get-Random -Maximum 9999)" -Address $Rs1.Address -Isolated
        (Invoke-LvsNetns $fresh.Namespace $path -AllowFailure).ExitCode | Should -Not -Be 0 -Because 'the kernel cannot run a CRLF shebang'
        foreach ($c in $out.Checks) { "$($c.Status)" | Should -Be 'Fail' -Because "$($c.Check): $($c.Detail)" }
        @($out.Checks).Count | Should -Be 2
    }
}
