#Requires -Version 7.4
# Set-LvsRealServer -Persist on a real kernel: the files it writes are checked on disk, then EXECUTED on a fresh
# namespace with the real server's layout, the way rc-local.service runs them (the file itself, so its shebang
# counts: Debian's `#!/bin/sh -e` stops at the first failing command), and the kernel is read from outside.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:SkipReason = Test-LvsLabPrerequisite -Program 'ip', 'arptables', 'iptables', 'sysctl'
    if ($SkipReason) { Write-Warning "LvsDirect persistence tests skipped: $SkipReason." }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:SkipReason = Test-LvsLabPrerequisite -Program 'ip', 'arptables', 'iptables', 'sysctl'
    if ($SkipReason) { return }

    # The boot model's types, for the test that renders a block itself.
    Import-LvsTestModule
    $script:Lab = New-LvsLab -RealServerCount 1
    $script:Rs1 = $Lab.Hosts['rs1']
    $script:Work = Join-Path $Lab.TempPath 'persist'
    $null = New-Item -ItemType Directory -Path $Work -Force
    $script:Vips = '203.0.113.100', '203.0.113.101'
    $script:Redirect = '203.0.113.150'

    function script:New-DebianRcLocal {
        # Debian's template (`#!/bin/sh -e`, `exit 0` last), not executable, with an admin's line that leaves a mark.
        param([string] $Path, [string] $Mark)
        Set-Content -LiteralPath $Path -NoNewline -Value "#!/bin/sh -e`n#`n# rc.local`n#`ntouch '$Mark'`n`nexit 0`n"
        [IO.File]::SetUnixFileMode($Path, [IO.UnixFileMode]'UserRead, UserWrite, GroupRead, OtherRead')
    }

    function script:Invoke-BootFile {
        # A "rebooted" rs1 (same eth0, nothing else) runs the file twice, as admins do; returns the namespace.
        param([string] $Path)
        $fresh = Add-LvsLabHost -Lab $Lab -Role "boot$(Get-Random -Maximum 9999)" -Address $Rs1.Address -Isolated
        foreach ($run in 1, 2) {
            $r = Invoke-LvsNetns $fresh.Namespace $Path -AllowFailure
            $r.ExitCode | Should -Be 0 -Because "run $run of $Path exits 0 under its own shebang: $($r.StdErr)"
        }
        $fresh.Namespace
    }

    function script:Get-Redirects([string] $Namespace) {
        @((Invoke-LvsNetns $Namespace iptables '-t', 'nat', '-S', 'PREROUTING').StdOut -split "`n" | Where-Object { $_ -like '*--comment lvsdirect*' })
    }
}

AfterAll {
    if ($Lab) { Remove-LvsLab -Lab $Lab }
}

Describe 'Set-LvsRealServer -Persist' -Skip:([bool]$SkipReason) {
    AfterEach {
        $null = Invoke-LvsInNamespace $Rs1.Namespace { $null = Set-LvsRealServer -VirtualIP @(); Get-LvsRedirect | Remove-LvsRedirect }
    }

    It 'writes the saved rules and one rc.local block (VIPs, their rules, REDIRECT rules) into Debian''s template, once; executed on a fresh host it recreates them all and still runs the admin''s lines' {
        $rc = Join-Path $Work 'arptables.rc.local'
        $rules = Join-Path $Work 'arptables.rules'
        $mark = Join-Path $Work 'admin-line-ran'
        New-DebianRcLocal -Path $rc -Mark $mark

        $runs = Invoke-LvsInNamespace $Rs1.Namespace {
            param($vips, $redirect, $rc, $rules)
            $null = New-LvsRedirect -VirtualIP $redirect -Port 8080
            foreach ($i in 1, 2) { Set-LvsRealServer -VirtualIP $vips -Persist -RcLocalPath $rc -ArpRulesPath $rules }
        } -ArgumentList $Vips, $Redirect, $rc, $rules

        $runs[0].PersistenceChanged | Should -BeTrue
        $runs[1].PersistenceChanged | Should -BeFalse -Because 'a second run writes nothing'
        "$($runs[1].Status)" | Should -Be 'Unchanged'
        $lines = Get-Content -LiteralPath $rc
        $lines[0] | Should -Be '#!/bin/sh -e'
        $lines[1] | Should -Be '# BEGIN LvsDirect managed block: do not edit, regenerate with Export-RcLocal'
        $lines | Should -Contain "touch '$mark'"
        (Get-Item -LiteralPath $rc).UnixFileMode.HasFlag([IO.UnixFileMode]::UserExecute) | Should -BeTrue
        $saved = Get-Content -LiteralPath $rules
        foreach ($v in $Vips) {
            @($saved | Where-Object { $_ -like '-A LVSDIRECT-IN *' -and $_ -match "-d $([regex]::Escape($v))(\s|$)" }).Count | Should -Be 1 -Because "the saved rules hold $v's drop rule"
        }

        $boot = Invoke-BootFile -Path $rc

        $addresses = @(Get-LvsLabAddress -Namespace $boot | Where-Object Address -like '203.0.113.*')
        @($addresses | ForEach-Object Address | Sort-Object) | Should -Be $Vips
        $addresses | ForEach-Object { $_.InterfaceName | Should -Be 'eth0'; $_.PrefixLength | Should -Be 32 }
        foreach ($v in $Vips) {
            $r = @(Get-LvsLabSuppressionRule $boot $v)
            $r.Count | Should -Be 2 -Because "both rules of $v, once, after two runs"
            ($r | Where-Object Target -EQ 'mangle').MangleIpSource | Should -Be $Rs1.Address
        }
        $redirects = @(Get-Redirects $boot)
        $redirects.Count | Should -Be 1
        $redirects[0] | Should -Match "-d $([regex]::Escape($Redirect))/32 .*--dport 8080 "
        Test-Path -LiteralPath $mark | Should -BeTrue -Because 'the admin''s line after the block ran'
    }

    It 'with -Method Sysctl writes sysctl.d and a block that raises the sysctls before the VIP on lo; executed on a fresh host the kernel has both' {
        $rc = Join-Path $Work 'sysctl.rc.local'
        $conf = Join-Path $Work '90-lvsdirect-arp.conf'
        New-DebianRcLocal -Path $rc -Mark (Join-Path $Work 'sysctl-admin-line')

        $run = Invoke-LvsInNamespace $Rs1.Namespace {
            param($vip, $rc, $conf)
            Set-LvsRealServer -VirtualIP $vip -Method Sysctl -Persist -RcLocalPath $rc -ArpRulesPath $conf -SysctlStatePath "$conf.state"
        } -ArgumentList $Vips[0], $rc, $conf

        $run.PersistenceChanged | Should -BeTrue
        Get-Content -LiteralPath $conf | Should -Contain 'net.ipv4.conf.all.arp_ignore = 1'
        $block = Get-Content -LiteralPath $rc
        $sysctlLine = [array]::FindIndex([string[]]$block, [Predicate[string]] { $args[0] -like 'sysctl -q -w *' })
        $vipLine = [array]::FindIndex([string[]]$block, [Predicate[string]] { $args[0] -like "*ip addr replace $($Vips[0])/32 dev lo*" })
        $sysctlLine | Should -BeGreaterThan 0
        $vipLine | Should -BeGreaterThan $sysctlLine

        $boot = Invoke-BootFile -Path $rc

        foreach ($conf in 'all', 'eth0') {
            (Invoke-LvsNetns $boot sysctl '-n', "net.ipv4.conf.$conf.arp_ignore").StdOut.Trim() | Should -Be '1'
            (Invoke-LvsNetns $boot sysctl '-n', "net.ipv4.conf.$conf.arp_announce").StdOut.Trim() | Should -Be '2'
        }
        $lo = @(Get-LvsLabAddress -Namespace $boot | Where-Object Address -EQ $Vips[0])
        $lo.Count | Should -Be 1
        $lo[0].InterfaceName | Should -Be 'lo'
    }
}

Describe 'The boot commands of the nftables method' -Skip:([bool]($SkipReason -or -not (Get-Command nft -ErrorAction Ignore))) {
    It 'a block loads the table before its VIP and, when the table file is missing, keeps the VIP down and still runs the rest of the file' {
        $vip = [ipaddress]'203.0.113.103'
        $nftFile = Join-Path $Work 'arp.nft'
        $entry = [LvsDirect.Core.Parsing.NftArpEntry]::new($vip, $true, [ipaddress]$Rs1.Address)
        [IO.File]::WriteAllText($nftFile, [LvsDirect.Core.Persistence.NftConf]::Render([LvsDirect.Core.Parsing.NftArpEntry[]]@($entry)))
        $nftVips = [Collections.Generic.HashSet[ipaddress]]::new([ipaddress[]]@($vip))
        $boot = [LvsDirect.Core.Persistence.BootCommands]::Create(
            [LvsDirect.Core.Model.ArptablesDialect]::new('Nft'),
            [LvsDirect.Core.Persistence.RcVip[]]@([LvsDirect.Core.Persistence.RcVip]::new($vip, 32, 'eth0', [NullString]::Value, $null, $null)),
            $null, $null, $nftFile, $nftVips)
        $rc = Join-Path $Work 'nft.rc.local'
        $mark = Join-Path $Work 'nft-admin-line'
        New-DebianRcLocal -Path $rc -Mark $mark
        [IO.File]::WriteAllText($rc, [LvsDirect.Core.Persistence.RcLocal]::Merge((Get-Content -LiteralPath $rc -Raw), [LvsDirect.Core.Persistence.RcLocal]::RenderBlock($boot)))
        $null = Invoke-LvsNative chmod '+x', $rc

        $ns = Invoke-BootFile -Path $rc

        (Invoke-LvsNetns $ns nft 'list', 'table', 'arp', 'lvsdirect').StdOut | Should -Match "arp daddr ip $([regex]::Escape("$vip")) drop"
        @(Get-LvsLabAddress -Namespace $ns | Where-Object Address -EQ "$vip").Count | Should -Be 1

        Remove-Item -LiteralPath $nftFile, $mark
        $down = Invoke-BootFile -Path $rc
        @(Get-LvsLabAddress -Namespace $down | Where-Object Address -EQ "$vip").Count | Should -Be 0 -Because 'no VIP without its suppression'
        Test-Path -LiteralPath $mark | Should -BeTrue -Because 'a failed table load skips only its VIP'
    }
}
