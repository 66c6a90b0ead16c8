#Requires -Version 7.4
# The ARP methods other than arptables, on a real kernel: the cmdlets run inside real-server namespaces of the
# lab in common.ps1; every assertion reads the kernel (ip -j addr, sysctl), the wire (arping, a TCP connection
# through the emulated director) or the file on disk.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:SkipReason = Test-LvsLabPrerequisite
    if ($SkipReason) { Write-Warning "LvsDirect method tests skipped: $SkipReason." }
    # ndisc6 sends the neighbour solicitations of the IPv6 test (build.ps1 installs it).
    $script:SkipReason6 = if ($SkipReason) { $SkipReason } else { Test-LvsLabPrerequisite -Program ndisc6 }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:SkipReason = Test-LvsLabPrerequisite
    if ($SkipReason) { return }

    $script:Lab = New-LvsLab -RealServerCount 2
    $script:Vip = $Lab.Vip
    $script:Rs1 = $Lab.Hosts['rs1']
    $script:Rs2 = $Lab.Hosts['rs2']
    $script:Work = Join-Path $Lab.TempPath 'work'
    $null = New-Item -ItemType Directory -Path $Work -Force
    $script:ArpKeys = foreach ($conf in 'all', 'eth0') { foreach ($k in 'arp_ignore', 'arp_announce') { "net.ipv4.conf.$conf.$k" } }

    function Reset-RealServer {
        # Every test starts from real servers with only their own address, no ARP rules and the lab's sysctls.
        foreach ($h in $Lab.RealServers) {
            $null = Invoke-LvsNetns $h.Namespace arptables '-F'
            foreach ($range in '203.0.113.0/24', '198.51.100.0/24') {
                foreach ($dev in 'eth0', 'lo') { $null = Invoke-LvsNative ip '-n', $h.Namespace, 'addr', 'flush', 'dev', $dev, 'to', $range }
            }
            Set-LvsNamespaceArpSysctl -Namespace $h.Namespace
            Remove-Item -LiteralPath (Get-StatePath $h) -Force -ErrorAction SilentlyContinue
        }
        Disable-DrForwarding -Lab $Lab
        Clear-LvsLabNeighbour -Lab $Lab
    }

    function Get-StatePath {
        param($RealServer)
        Join-Path $Work "$($RealServer.Role)-arp-sysctl.json"
    }

    function Get-ArpSysctl {
        # The values the kernel holds in a namespace, read with sysctl directly: name -> value.
        param([string] $Namespace, [string[]] $Name = $ArpKeys)
        $values = [ordered]@{}
        foreach ($line in (Invoke-LvsNetns $Namespace sysctl $Name).StdOut -split "`n") {
            if ($line -match '^(\S+) = (\d+)$') { $values[$Matches[1]] = [int]$Matches[2] }
        }
        $values
    }

    function Start-ArpWatch {
        # arping from the client for the whole of a conversion (broadcast probes, one a second: iputils arping
        # takes whole seconds); Stop-ArpWatch ends it with SIGINT, by its PID, and returns the MACs that answered.
        $psi = [System.Diagnostics.ProcessStartInfo]::new((Find-LvsProgram ip))
        foreach ($a in 'netns', 'exec', $Lab.Client.Namespace, 'arping', '-b', '-c', '600', '-w', '600', '-I', 'eth0', $Vip) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        $psi.Environment['LC_ALL'] = 'C'
        $p = [System.Diagnostics.Process]::Start($psi)
        [pscustomobject]@{ Process = $p; StdOut = $p.StandardOutput.ReadToEndAsync(); StdErr = $p.StandardError.ReadToEndAsync() }
    }

    function Stop-ArpWatch {
        param($Watch)
        try {
            if (-not $Watch.Process.HasExited) { $null = Invoke-LvsNative kill '-s', 'INT', "$($Watch.Process.Id)" -AllowFailure }
            if (-not $Watch.Process.WaitForExit(10000)) { $Watch.Process.Kill(); throw 'arping did not stop on SIGINT.' }
            $out = $Watch.StdOut.GetAwaiter().GetResult()
            $probes = if ($out -match '(?m)^Sent (\d+) probes') { [int]$Matches[1] } else { throw "arping printed no summary: $out $($Watch.StdErr.GetAwaiter().GetResult())" }
            $pattern = "(?m)^Unicast reply from $([regex]::Escape($Vip)) \[([0-9A-Fa-f:]{17})\]"
            [pscustomobject]@{
                Probes     = $probes
                Responders = @([regex]::Matches($out, $pattern) | ForEach-Object { $_.Groups[1].Value.ToLowerInvariant() } | Sort-Object -Unique)
            }
        }
        finally {
            $Watch.Process.Dispose()
        }
    }

    function Get-VipAddress {
        param([string] $Namespace, [string] $Address = $Vip)
        @(Get-LvsLabAddress -Namespace $Namespace | Where-Object Address -EQ $Address)
    }
}

AfterAll {
    if (Get-Variable -Name Lab -Scope Script -ErrorAction SilentlyContinue) { Remove-LvsLab -Lab $script:Lab }
}

Describe "The sysctl method on LVS-DR real servers$(if ($SkipReason) { " (skipped: $SkipReason)" })" -Skip:([bool]$SkipReason) {
    BeforeEach {
        Reset-RealServer
    }

    It 'New-LvsVip -Method Sysctl on both real servers leaves only the director answering ARP, and the DR data path reaches each' {
        # Without suppression, a VIP on lo is answered on eth0 too (arp_ignore=0): the sysctls are what stops it.
        $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'add', "$Vip/32", 'dev', 'lo'
        Get-ArpResponders -Lab $Lab | Should -Be @(@($Lab.Director.Mac, $Rs1.Mac) | Sort-Object)
        $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'del', "$Vip/32", 'dev', 'lo'

        $out = foreach ($h in $Rs1, $Rs2) {
            Invoke-LvsInNamespace $h.Namespace { param($v, $s) New-LvsVip -Address $v -Method Sysctl -SysctlStatePath $s } -ArgumentList $Vip, (Get-StatePath $h)
        }

        Get-ArpResponders -Lab $Lab | Should -Be @($Lab.Director.Mac)
        foreach ($h in $Rs1, $Rs2) {
            $a = Get-VipAddress $h.Namespace
            $a.Count | Should -Be 1
            $a[0].InterfaceName | Should -Be 'lo'
            $a[0].PrefixLength | Should -Be 32
            $values = Get-ArpSysctl $h.Namespace
            @($values.Values) | Should -Be @(1, 2, 1, 2)
            @(Get-LvsLabArpRule $h.Namespace).Count | Should -Be 0 -Because 'the sysctl method uses no arptables rules'
        }
        foreach ($o in $out) {
            "$($o.Method)" | Should -Be 'Sysctl'
            "$($o.ArpSuppression)" | Should -Be 'Complete'
            $o.InterfaceName | Should -Be 'lo'
        }
        foreach ($h in $Rs1, $Rs2) {
            Enable-DrForwarding -Lab $Lab -RealServer $h
            Test-DrDataPath -Lab $Lab -RealServer $h | Should -Be "served-by-$($h.Role)"
            Disable-DrForwarding -Lab $Lab
        }
    }

    It 'Get-LvsVip and Get-ArpSuppression report the VIP on lo with the sysctl method' {
        $got = Invoke-LvsInNamespace $Rs1.Namespace {
            param($v, $s)
            $null = New-LvsVip -Address $v -Method Sysctl -SysctlStatePath $s
            [pscustomobject]@{ Vip = Get-LvsVip; Rule = Get-ArpSuppression }
        } -ArgumentList $Vip, (Get-StatePath $Rs1)

        "$($got.Vip.Address)" | Should -Be $Vip
        "$($got.Vip.Method)" | Should -Be 'Sysctl'
        $got.Vip.IsVip | Should -BeTrue
        "$($got.Rule.VirtualIP)" | Should -Be $Vip
        "$($got.Rule.Method)" | Should -Be 'Sysctl'
        "$($got.Rule.State)" | Should -Be 'Complete'
        @($got.Rule.Rules) | Should -Contain 'net.ipv4.conf.all.arp_ignore = 1'
    }

    It 'New-LvsVip -Method Sysctl is idempotent: the second run changes nothing and records nothing new' {
        $state = Get-StatePath $Rs1
        Invoke-LvsInNamespace $Rs1.Namespace { param($v, $s) $null = New-LvsVip -Address $v -Method Sysctl -SysctlStatePath $s } -ArgumentList $Vip, $state
        $before = Get-LvsLabKernelState $Rs1.Namespace
        $record = Get-Content -Raw -LiteralPath $state

        $verbose = Invoke-LvsInNamespace $Rs1.Namespace { param($v, $s) New-LvsVip -Address $v -Method Sysctl -SysctlStatePath $s -Verbose 4>&1 } -ArgumentList $Vip, $state

        Get-LvsLabKernelState $Rs1.Namespace | Should -Be $before
        Get-Content -Raw -LiteralPath $state | Should -Be $record
        @($verbose | Where-Object { "$_" -match '^sysctl -r' }) | Should -Not -BeNullOrEmpty -Because 'the verbose stream lists every command run'
        @($verbose | Where-Object { "$_" -match '^(sysctl -w|ip -batch)' }) | Should -BeNullOrEmpty
    }

    It 'Remove-LvsVip of the last VIP on lo restores the values from before, keeps foreign settings and addresses, and forgets the record' {
        $state = Get-StatePath $Rs1
        # Values an admin had before: arp_announce=1 on all is lower than the method needs, so it is raised and must come back.
        $null = Invoke-LvsNetns $Rs1.Namespace sysctl '-q', '-w', 'net.ipv4.conf.all.arp_announce=1', 'net.ipv4.conf.default.arp_ignore=2', 'net.ipv4.conf.eth0.rp_filter=2'
        $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'add', '198.51.100.77/24', 'dev', 'eth0'
        $foreign = Get-ArpSysctl $Rs1.Namespace -Name 'net.ipv4.conf.default.arp_ignore', 'net.ipv4.conf.eth0.rp_filter'
        $before = Get-ArpSysctl $Rs1.Namespace

        Invoke-LvsInNamespace $Rs1.Namespace {
            param($s)
            $null = New-LvsVip -Address 203.0.113.100, 203.0.113.101 -Method Sysctl -SysctlStatePath $s
        } -ArgumentList $state
        Test-Path -LiteralPath $state | Should -BeTrue

        # One VIP goes: the other still relies on the sysctls.
        Invoke-LvsInNamespace $Rs1.Namespace { param($s) Remove-LvsVip -Address 203.0.113.101 -SysctlStatePath $s } -ArgumentList $state
        @((Get-ArpSysctl $Rs1.Namespace).Values) | Should -Be @(1, 2, 1, 2)
        Get-ArpResponders -Lab $Lab | Should -Be @($Lab.Director.Mac)

        Invoke-LvsInNamespace $Rs1.Namespace { param($s) Remove-LvsVip -Address 203.0.113.100 -SysctlStatePath $s } -ArgumentList $state

        Get-VipAddress $Rs1.Namespace | Should -BeNullOrEmpty
        $after = Get-ArpSysctl $Rs1.Namespace
        $after['net.ipv4.conf.all.arp_announce'] | Should -Be 1
        @($after.Values) | Should -Be @($before.Values)
        (Get-ArpSysctl $Rs1.Namespace -Name 'net.ipv4.conf.default.arp_ignore', 'net.ipv4.conf.eth0.rp_filter').Values | Should -Be @($foreign.Values)
        @(Get-LvsLabAddress -Namespace $Rs1.Namespace | Where-Object Address -EQ '198.51.100.77').Count | Should -Be 1
        Test-Path -LiteralPath $state | Should -BeFalse
        Get-ArpResponders -Lab $Lab | Should -Be @($Lab.Director.Mac)
    }

    It 'Remove-LvsVip leaves a value an admin changed after LvsDirect raised it' {
        $state = Get-StatePath $Rs1
        Invoke-LvsInNamespace $Rs1.Namespace { param($v, $s) $null = New-LvsVip -Address $v -Method Sysctl -SysctlStatePath $s } -ArgumentList $Vip, $state
        $null = Invoke-LvsNetns $Rs1.Namespace sysctl '-q', '-w', 'net.ipv4.conf.all.arp_ignore=2'

        Invoke-LvsInNamespace $Rs1.Namespace { param($v, $s) Remove-LvsVip -Address $v -SysctlStatePath $s -WarningAction SilentlyContinue } -ArgumentList $Vip, $state

        $after = Get-ArpSysctl $Rs1.Namespace
        $after['net.ipv4.conf.all.arp_ignore'] | Should -Be 2
        $after['net.ipv4.conf.all.arp_announce'] | Should -Be 0
        $after['net.ipv4.conf.eth0.arp_ignore'] | Should -Be 0
    }

    It 'Set-ArpSuppression -Method Sysctl -WhatIf changes nothing and writes no record' {
        $state = Get-StatePath $Rs1
        $before = Get-ArpSysctl $Rs1.Namespace

        Invoke-LvsInNamespace $Rs1.Namespace { param($v, $s) Set-ArpSuppression -VirtualIP $v -Method Sysctl -SysctlStatePath $s -WhatIf } -ArgumentList $Vip, $state

        @((Get-ArpSysctl $Rs1.Namespace).Values) | Should -Be @($before.Values)
        Test-Path -LiteralPath $state | Should -BeFalse
    }

    It 'Save-ArpSuppression -Method Sysctl and Export-RcLocal persist the sysctls before the VIP; the rc.local block recreates both on a fresh host' {
        $conf = Join-Path $Work '90-lvsdirect-arp.conf'
        $rc = Join-Path $Work 'rc.local.sysctl'
        $out = Invoke-LvsInNamespace $Rs1.Namespace {
            param($v, $s, $c, $r)
            $null = New-LvsVip -Address $v -Method Sysctl -SysctlStatePath $s
            [pscustomobject]@{ Save = Save-ArpSuppression -Method Sysctl -Path $c; Export = Export-RcLocal -Path $r }
        } -ArgumentList $Vip, (Get-StatePath $Rs1), $conf, $rc

        $out.Save.RuleCount | Should -Be 4
        @(Get-Content -LiteralPath $conf | Where-Object { $_ -notmatch '^#' }) |
            Should -Be @('net.ipv4.conf.all.arp_ignore = 1', 'net.ipv4.conf.all.arp_announce = 2', 'net.ipv4.conf.eth0.arp_ignore = 1', 'net.ipv4.conf.eth0.arp_announce = 2')
        $block = @($out.Export.Block)
        $sysctlLine = [array]::FindIndex([string[]]$block, [Predicate[string]] { $args[0] -like 'sysctl *' })
        # The address is added only if the sysctls could be set: `[ "$lvsdirect_sysctl" = no ] || ip addr replace …`.
        $addressLine = [array]::FindIndex([string[]]$block, [Predicate[string]] { $args[0] -like "* || ip addr replace $Vip/32 dev lo*" })
        $sysctlLine | Should -BeGreaterThan 0
        $addressLine | Should -BeGreaterThan $sysctlLine

        $fresh = Add-LvsLabHost -Lab $Lab -Role "boot$(Get-Random -Maximum 999)" -Address $Rs1.Address -Isolated
        $r = Invoke-LvsNetns $fresh.Namespace $rc -AllowFailure
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        (Get-VipAddress $fresh.Namespace)[0].InterfaceName | Should -Be 'lo'
        @((Get-ArpSysctl $fresh.Namespace).Values) | Should -Be @(1, 2, 1, 2)

        # No VIP on lo left: saving again removes the file LvsDirect wrote, so a reboot brings nothing back.
        Invoke-LvsInNamespace $Rs1.Namespace { param($v, $s) Remove-LvsVip -Address $v -SysctlStatePath $s } -ArgumentList $Vip, (Get-StatePath $Rs1)
        $again = Invoke-LvsInNamespace $Rs1.Namespace { param($c) Save-ArpSuppression -Method Sysctl -Path $c } -ArgumentList $conf
        $again.Changed | Should -BeTrue
        Test-Path -LiteralPath $conf | Should -BeFalse
    }

    It 'New-LvsVip -Method Sysctl refuses a prefix wider than /32 with InvalidPrefix and changes nothing' {
        $before = Get-LvsLabKernelState $Rs1.Namespace
        $sysctls = Get-ArpSysctl $Rs1.Namespace

        { Invoke-LvsInNamespace $Rs1.Namespace { param($s) New-LvsVip -Address 203.0.113.0/24 -Method Sysctl -SysctlStatePath $s } -ArgumentList (Get-StatePath $Rs1) } |
            Should -Throw -ErrorId 'InvalidPrefix,*'

        Get-LvsLabKernelState $Rs1.Namespace | Should -Be $before
        @((Get-ArpSysctl $Rs1.Namespace).Values) | Should -Be @($sysctls.Values)
    }
}

Describe "The iptables REDIRECT method on LVS-DR real servers$(if ($SkipReason) { " (skipped: $SkipReason)" })" -Skip:([bool]$SkipReason) {
    BeforeEach {
        Reset-RealServer
        foreach ($h in $Lab.RealServers) { $null = Invoke-LvsNetns $h.Namespace iptables '-t', 'nat', '-F', 'PREROUTING' }
    }

    It 'New-LvsRedirect hands VIP:port to a listener on the real server''s own address, with no VIP on the host and no ARP answer from it' {
        $out = Invoke-LvsInNamespace $Rs1.Namespace { param($v) New-LvsRedirect -VirtualIP $v -Port 8080 -Protocol tcp } -ArgumentList $Vip

        "$($out.VirtualIP)" | Should -Be $Vip
        $out.Port | Should -Be 8080
        "$($out.Protocol)" | Should -Be 'Tcp'
        Get-VipAddress $Rs1.Namespace | Should -BeNullOrEmpty
        Get-ArpResponders -Lab $Lab | Should -Be @($Lab.Director.Mac)

        Enable-DrForwarding -Lab $Lab -RealServer rs1
        Test-DrDataPath -Lab $Lab -RealServer rs1 -ListenAddress $Rs1.Address | Should -Be 'served-by-rs1'
        Get-ArpResponders -Lab $Lab | Should -Be @($Lab.Director.Mac)

        # Without the rule, the same forwarded traffic finds nobody on rs1.
        Invoke-LvsInNamespace $Rs1.Namespace { param($v) Remove-LvsRedirect -VirtualIP $v } -ArgumentList $Vip
        Test-DrDataPath -Lab $Lab -RealServer rs1 -ListenAddress $Rs1.Address | Should -BeNullOrEmpty
    }

    It 'New-, Get- and Remove-LvsRedirect are idempotent, batch many ports, and never touch a foreign rule, even a lookalike' {
        $foreign = @(
            @('-t', 'nat', '-A', 'PREROUTING', '-s', '192.0.2.99', '-j', 'ACCEPT'),
            @('-t', 'nat', '-A', 'PREROUTING', '-d', $Vip, '-p', 'tcp', '--dport', '80', '-j', 'REDIRECT'))
        foreach ($rule in $foreign) { $null = Invoke-LvsNetns $Rs1.Namespace iptables $rule }
        $foreignLines = @((Invoke-LvsNetns $Rs1.Namespace iptables '-t', 'nat', '-S', 'PREROUTING').StdOut -split "`n" | Where-Object { $_ -like '-A *' })

        $result = Invoke-LvsInNamespace $Rs1.Namespace {
            param($v)
            $ports = 9000..9011
            $first = @(New-LvsRedirect -VirtualIP $v -Port $ports -Protocol udp -Verbose 4>&1)
            $second = @(New-LvsRedirect -VirtualIP $v -Port $ports -Protocol udp -Verbose 4>&1)
            $null = New-LvsRedirect -VirtualIP $v -Port 80
            [pscustomobject]@{
                FirstRuns  = @($first | Where-Object { "$_" -match '^iptables' } | ForEach-Object { "$_" })
                SecondRuns = @($second | Where-Object { "$_" -match '^iptables(-restore)? ' -and "$_" -notmatch ' -S ' } | ForEach-Object { "$_" })
                Listed     = @(Get-LvsRedirect -VirtualIP $v)
            }
        } -ArgumentList $Vip

        @($result.FirstRuns | Where-Object { $_ -match '^iptables-restore --noflush' }).Count | Should -Be 1 -Because '12 rules go in one restore'
        $result.SecondRuns | Should -BeNullOrEmpty
        $result.Listed.Count | Should -Be 13
        $lines = @((Invoke-LvsNetns $Rs1.Namespace iptables '-t', 'nat', '-S', 'PREROUTING').StdOut -split "`n" | Where-Object { $_ -like '-A *' })
        @($lines | Where-Object { $_ -like '*--comment lvsdirect*' }).Count | Should -Be 13
        foreach ($f in $foreignLines) { $lines | Should -Contain $f }

        Invoke-LvsInNamespace $Rs1.Namespace { param($v) Get-LvsRedirect | Remove-LvsRedirect } -ArgumentList $Vip
        $left = @((Invoke-LvsNetns $Rs1.Namespace iptables '-t', 'nat', '-S', 'PREROUTING').StdOut -split "`n" | Where-Object { $_ -like '-A *' })
        $left | Should -Be $foreignLines
    }

    It 'Export-RcLocal recreates the REDIRECT rules on a fresh host, and running it twice adds no duplicate' {
        $rc = Join-Path $Work 'rc.local.redirect'
        $out = Invoke-LvsInNamespace $Rs1.Namespace {
            param($v, $r)
            $null = New-LvsRedirect -VirtualIP $v -Port 8080, 8443
            Export-RcLocal -Path $r
        } -ArgumentList $Vip, $rc
        $out.RedirectCount | Should -Be 2

        $fresh = Add-LvsLabHost -Lab $Lab -Role "boot$(Get-Random -Maximum 999)" -Address $Rs1.Address -Isolated
        foreach ($run in 1, 2) {
            $r = Invoke-LvsNetns $fresh.Namespace $rc -AllowFailure
            $r.ExitCode | Should -Be 0 -Because "run $run of rc.local: $($r.StdErr)"
        }
        $lines = @((Invoke-LvsNetns $fresh.Namespace iptables '-t', 'nat', '-S', 'PREROUTING').StdOut -split "`n" | Where-Object { $_ -like '-A *' })
        $lines.Count | Should -Be 2
        $lines[0] | Should -Be "-A PREROUTING -d $Vip/32 -p tcp -m tcp --dport 8080 -m comment --comment lvsdirect -j REDIRECT"
    }
}

Describe "IPv6 VIPs on LVS-DR real servers$(if ($SkipReason6) { " (skipped: $SkipReason6)" })" -Skip:([bool]$SkipReason6) {
    BeforeAll {
        $script:Vip6 = '2001:db8::100'
        # Flood every multicast frame to every port: a solicitation then reaches each real server whatever it has
        # joined, so what decides who answers is the kernel's neighbour discovery, not the bridge's snooping.
        $null = Invoke-LvsNative ip '-n', $Lab.Bridge, 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0'
        foreach ($h in @($Lab.Client, $Lab.Director) + $Lab.RealServers) {
            $null = Invoke-LvsNetns $h.Namespace sysctl '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=0', 'net.ipv6.conf.eth0.disable_ipv6=0', 'net.ipv6.conf.lo.disable_ipv6=0'
        }
        $null = Invoke-LvsNative ip '-n', $Lab.Director.Namespace, '-6', 'addr', 'add', "$Vip6/128", 'dev', 'eth0', 'nodad'

        function Get-NeighbourResponder {
            # The distinct MACs (lower case) that answer a neighbour solicitation for Address from the client.
            param([string] $Address = $Vip6)
            Clear-LvsLabNeighbour -Lab $Lab
            $deadline = [DateTime]::UtcNow.AddSeconds(10)
            # The client's link-local address must have left DAD before ndisc6 can use it as the source.
            while ((Invoke-LvsNative ip '-n', $Lab.Client.Namespace, '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link', 'tentative').StdOut.Trim()) {
                if ([DateTime]::UtcNow -gt $deadline) { throw 'The client has no usable link-local address.' }
                Start-Sleep -Milliseconds 200
            }
            $r = Invoke-LvsNetns $Lab.Client.Namespace ndisc6 '-m', '-n', '-r', '2', '-w', '1000', $Address, 'eth0' -AllowFailure
            if ($r.ExitCode -gt 2) { throw "ndisc6 failed ($($r.ExitCode)): $($r.StdErr.Trim())" }
            @([regex]::Matches($r.StdOut, '(?m)^Target link-layer address: ([0-9A-Fa-f:]{17})') | ForEach-Object { $_.Groups[1].Value.ToLowerInvariant() } | Sort-Object -Unique)
        }
    }

    BeforeEach {
        foreach ($h in $Lab.RealServers) {
            foreach ($dev in 'eth0', 'lo') { $null = Invoke-LvsNative ip '-n', $h.Namespace, '-6', 'addr', 'flush', 'dev', $dev, 'scope', 'global' }
        }
    }

    It 'a real server with the IPv6 VIP on eth0 answers neighbour solicitations for it; with New-LvsVip only the director does' {
        $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, '-6', 'addr', 'add', "$Vip6/128", 'dev', 'eth0', 'nodad'
        Get-NeighbourResponder | Should -Be @(@($Lab.Director.Mac, $Rs1.Mac) | Sort-Object)
        $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, '-6', 'addr', 'del', "$Vip6/128", 'dev', 'eth0'

        $out = foreach ($h in $Rs1, $Rs2) {
            Invoke-LvsInNamespace $h.Namespace { param($v) New-LvsVip -Address $v } -ArgumentList $Vip6
        }

        Get-NeighbourResponder | Should -Be @($Lab.Director.Mac)
        foreach ($h in $Rs1, $Rs2) {
            $a = @((Invoke-LvsNative ip '-n', $h.Namespace, '-j', '-6', 'addr', 'show', 'dev', 'lo').StdOut | ConvertFrom-Json |
                    ForEach-Object { $_.addr_info } | Where-Object local -EQ $Vip6)
            $a.Count | Should -Be 1
            $a[0].prefixlen | Should -Be 128
            $a[0].PSObject.Properties['tentative'] | Should -BeNullOrEmpty -Because 'nodad: usable at once'
            @(Get-LvsLabArpRule $h.Namespace).Count | Should -Be 0
        }
        foreach ($o in $out) {
            $o.Cidr | Should -Be "$Vip6/128"
            $o.InterfaceName | Should -Be 'lo'
        }
    }

    It 'Get-LvsVip lists the IPv6 VIP, New-LvsVip is idempotent, and Remove-LvsVip takes it off' {
        $got = Invoke-LvsInNamespace $Rs1.Namespace {
            param($v)
            $null = New-LvsVip -Address $v
            $again = @(New-LvsVip -Address $v -Verbose 4>&1 | Where-Object { "$_" -match '^ip -batch' })
            [pscustomobject]@{ Listed = @(Get-LvsVip -Address $v); Again = $again }
        } -ArgumentList $Vip6
        $got.Listed.Count | Should -Be 1
        $got.Listed[0].IsVip | Should -BeTrue
        $got.Again | Should -BeNullOrEmpty

        Invoke-LvsInNamespace $Rs1.Namespace { param($v) Remove-LvsVip -Address $v } -ArgumentList $Vip6

        (Invoke-LvsNative ip '-n', $Rs1.Namespace, '-6', 'addr', 'show', 'dev', 'lo', 'scope', 'global').StdOut.Trim() | Should -BeNullOrEmpty
    }
}

Describe "Boot persistence with a systemd unit$(if ($SkipReason) { " (skipped: $SkipReason)" })" -Skip:([bool]$SkipReason) {
    BeforeEach {
        Reset-RealServer
        foreach ($h in $Lab.RealServers) { $null = Invoke-LvsNetns $h.Namespace iptables '-t', 'nat', '-F', 'PREROUTING' }
    }

    It 'Export-RcLocal -Target SystemdUnit writes a unit systemd accepts, whose ExecStart lines recreate the VIP, its rules and a redirect on a fresh host, twice without duplicates' {
        $unit = Join-Path $Work 'lvsdirect.service'
        $out = Invoke-LvsInNamespace $Rs1.Namespace {
            param($v, $u)
            $null = New-LvsVip -Address $v -Label eth0:1
            $null = New-LvsRedirect -VirtualIP 203.0.113.101 -Port 8080
            Export-RcLocal -Target SystemdUnit -Path $u
        } -ArgumentList $Vip, $unit

        "$($out.Target)" | Should -Be 'SystemdUnit'
        $out.ServiceEnabled | Should -BeFalse -Because 'a unit written to -Path is not enabled'
        $out.VipCount | Should -Be 1
        $out.RedirectCount | Should -Be 1
        $verify = Invoke-LvsNative systemd-analyze 'verify', $unit -AllowFailure
        $verify.ExitCode | Should -Be 0 -Because "systemd-analyze verify: $($verify.StdErr)"
        $content = Get-Content -LiteralPath $unit
        $content | Should -Contain 'Before=network-online.target'
        $content | Should -Contain 'Type=oneshot'

        # What systemd does with the unit at boot (and on a restart): each ExecStart in order, argv as written,
        # a failure ignored only where the line starts with '-'.
        $fresh = Add-LvsLabHost -Lab $Lab -Role "unit$(Get-Random -Maximum 999)" -Address $Rs1.Address -Isolated
        foreach ($run in 1, 2) {
            foreach ($line in $content | Where-Object { $_ -like 'ExecStart=*' }) {
                $command = $line.Substring('ExecStart='.Length)
                $mayFail = $command.StartsWith('-')
                $argv = @($command.TrimStart('-') -split ' ')
                $r = Invoke-LvsNetns $fresh.Namespace $argv[0] @($argv | Select-Object -Skip 1) -AllowFailure
                if (-not $mayFail) { $r.ExitCode | Should -Be 0 -Because "run ${run}: $command failed: $($r.StdErr)" }
            }
        }
        $a = Get-VipAddress $fresh.Namespace
        $a.Count | Should -Be 1
        $a[0].Label | Should -Be 'eth0:1'
        @(Get-LvsLabArpRule $fresh.Namespace).Count | Should -Be 4 -Because 'the two jumps into LvsDirect''s chains and its two rules'
        (Get-LvsLabSuppressionRule $fresh.Namespace $Vip | Where-Object Target -EQ 'mangle').MangleIpSource | Should -Be $Rs1.Address
        @((Invoke-LvsNetns $fresh.Namespace iptables '-t', 'nat', '-S', 'PREROUTING').StdOut -split "`n" | Where-Object { $_ -like '-A *' }).Count | Should -Be 1

        # Nothing left to recreate: exporting again removes the unit LvsDirect wrote.
        $gone = Invoke-LvsInNamespace $Rs1.Namespace {
            param($v, $u)
            Remove-LvsVip -Address $v
            Remove-LvsRedirect -VirtualIP 203.0.113.101
            Export-RcLocal -Target SystemdUnit -Path $u
        } -ArgumentList $Vip, $unit
        $gone.Changed | Should -BeTrue
        Test-Path -LiteralPath $unit | Should -BeFalse
    }
}

Describe "The nftables arp method on LVS-DR real servers$(if ($SkipReason) { " (skipped: $SkipReason)" })" -Skip:([bool]$SkipReason) {
    BeforeAll {
        function Get-NftTable {
            # The table as nft prints it, or $null when it does not exist.
            param([string] $Namespace, [string] $Family = 'arp', [string] $Name = 'lvsdirect')
            $r = Invoke-LvsNetns $Namespace nft 'list', 'table', $Family, $Name -AllowFailure
            if ($r.ExitCode -eq 0) { $r.StdOut } else { $null }
        }
    }

    BeforeEach {
        Reset-RealServer
        foreach ($h in $Lab.RealServers) { $null = Invoke-LvsNetns $h.Namespace nft 'delete', 'table', 'arp', 'lvsdirect' -AllowFailure }
    }

    It 'New-LvsVip -Method Nftables on both real servers leaves only the director answering ARP, and the DR data path reaches each' {
        $out = foreach ($h in $Rs1, $Rs2) {
            Invoke-LvsInNamespace $h.Namespace { param($v) New-LvsVip -Address $v -Method Nftables } -ArgumentList $Vip
        }

        Get-ArpResponders -Lab $Lab | Should -Be @($Lab.Director.Mac)
        foreach ($h in $Rs1, $Rs2) {
            $table = Get-NftTable $h.Namespace
            $table | Should -Match "arp daddr ip $([regex]::Escape($Vip)) drop"
            $table | Should -Match "arp saddr ip $([regex]::Escape($Vip)) arp saddr ip set $([regex]::Escape($h.Address))"
            @(Get-LvsLabArpRule $h.Namespace).Count | Should -Be 0 -Because 'the nftables method uses no arptables rules'
            (Get-VipAddress $h.Namespace)[0].InterfaceName | Should -Be 'eth0'
        }
        foreach ($o in $out) { "$($o.Method)" | Should -Be 'Nftables' }
        # Neighbour caches are flushed first: without the rewrite in outgoing ARP, the real server would ask
        # "who has the client, tell VIP", drop the answer itself, and never reply.
        foreach ($h in $Rs1, $Rs2) {
            Enable-DrForwarding -Lab $Lab -RealServer $h
            Test-DrDataPath -Lab $Lab -RealServer $h | Should -Be "served-by-$($h.Role)"
            Disable-DrForwarding -Lab $Lab
        }
    }

    It 'Save-ArpSuppression -Method Nftables writes the table to its own file and includes it once from the nftables config, which recreates it on a fresh host' {
        $file = Join-Path $Work 'arp.nft'
        $config = Join-Path $Work 'nftables.conf'
        $foreignConfig = "#!/usr/sbin/nft -f`n`nflush ruleset`n`ntable inet lvtforeign {`n`tchain c {`n`t`tip saddr 192.0.2.99 accept`n`t}`n}`n"
        Set-Content -LiteralPath $config -Value $foreignConfig -NoNewline
        $out = Invoke-LvsInNamespace $Rs1.Namespace {
            param($v, $f, $c)
            $null = New-LvsVip -Address $v -Method Nftables
            Save-ArpSuppression -Method Nftables -Path $f -ConfigPath $c
            Save-ArpSuppression -Method Nftables -Path $f -ConfigPath $c
        } -ArgumentList $Vip, $file, $config

        $out[0].Changed | Should -BeTrue
        $out[1].Changed | Should -BeFalse -Because 'saving the same table again changes nothing'
        $out[0].RuleCount | Should -Be 2
        $lines = Get-Content -LiteralPath $config
        @($lines | Where-Object { $_ -eq "include `"$file`"" }).Count | Should -Be 1
        (Get-Content -Raw -LiteralPath $config).StartsWith($foreignConfig) | Should -BeTrue -Because 'the rest of the configuration is kept'

        $fresh = Add-LvsLabHost -Lab $Lab -Role "nft$(Get-Random -Maximum 999)" -Address $Rs1.Address -Isolated
        $r = Invoke-LvsNetns $fresh.Namespace nft '-f', $config -AllowFailure
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $table = Get-NftTable $fresh.Namespace
        $table | Should -Match "arp daddr ip $([regex]::Escape($Vip)) drop"
        $table | Should -Match "arp saddr ip $([regex]::Escape($Vip)) arp saddr ip set $([regex]::Escape($Rs1.Address))"
        Get-NftTable $fresh.Namespace -Family inet -Name lvtforeign | Should -Not -BeNullOrEmpty
    }

    It 'Set-ArpSuppression -Method converts a VIP between arptables and nftables, the new rules in place before the old go' {
        Invoke-LvsInNamespace $Rs1.Namespace { param($v) $null = New-LvsVip -Address $v } -ArgumentList $Vip
        @(Get-LvsLabSuppressionRule $Rs1.Namespace $Vip).Count | Should -Be 2

        $toNft = Invoke-LvsInNamespace $Rs1.Namespace {
            param($v)
            @(Set-ArpSuppression -VirtualIP $v -Method Nftables -Verbose 4>&1 | ForEach-Object { "$_" } | Where-Object { $_ -match '^(nft -f|arptables -D)' })
        } -ArgumentList $Vip
        $toNft[0] | Should -Match '^nft -f' -Because 'the nftables rules come first'
        $toNft[1..($toNft.Count - 1)] | Should -Match '^arptables -D'
        @(Get-LvsLabSuppressionRule $Rs1.Namespace $Vip).Count | Should -Be 0
        Get-NftTable $Rs1.Namespace | Should -Match "arp saddr ip $([regex]::Escape($Vip)) arp saddr ip set $([regex]::Escape($Rs1.Address))"
        Get-ArpResponders -Lab $Lab | Should -Be @($Lab.Director.Mac)
        Enable-DrForwarding -Lab $Lab -RealServer rs1
        Test-DrDataPath -Lab $Lab -RealServer rs1 | Should -Be 'served-by-rs1'
        Disable-DrForwarding -Lab $Lab

        $toArptables = Invoke-LvsInNamespace $Rs1.Namespace {
            param($v)
            @(Set-ArpSuppression -VirtualIP $v -Method Arptables -Verbose 4>&1 | ForEach-Object { "$_" } | Where-Object { $_ -match '^(nft -f|arptables -A)' })
        } -ArgumentList $Vip
        $toArptables[-1] | Should -Match '^nft -f' -Because 'the nftables table goes last'
        $toArptables[0] | Should -Match '^arptables -A'
        @(Get-LvsLabSuppressionRule $Rs1.Namespace $Vip).Count | Should -Be 2
        Get-NftTable $Rs1.Namespace | Should -BeNullOrEmpty
        Get-ArpResponders -Lab $Lab | Should -Be @($Lab.Director.Mac)
    }

    It 'Set-ArpSuppression -Method converts a VIP to and from the sysctl method, moving it between eth0 and lo, with only the director answering ARP during and after' {
        $state = Get-StatePath $Rs1
        $labValues = Get-ArpSysctl $Rs1.Namespace
        Invoke-LvsInNamespace $Rs1.Namespace { param($v) $null = New-LvsVip -Address $v } -ArgumentList $Vip
        $switch = {
            param($v, $m, $s)
            @(Set-ArpSuppression -VirtualIP $v -Method $m -SysctlStatePath $s -Verbose 4>&1 | ForEach-Object { "$_" } |
                Where-Object { $_ -match '^(sysctl -w|ip -batch|arptables -[AD]|nft -f)' })
        }
        $watch = Start-ArpWatch
        try {
            # arptables -> sysctl: the sysctls first, the VIP on lo before it leaves eth0, the rules last.
            $steps = Invoke-LvsInNamespace $Rs1.Namespace $switch -ArgumentList $Vip, 'Sysctl', $state
            $steps[0] | Should -Match '^sysctl -w'
            $steps[1..2] | Should -Match '^ip -batch'
            $steps[3..4] | Should -Match '^arptables -D'
            (Get-VipAddress $Rs1.Namespace).InterfaceName | Should -Be @('lo')
            @(Get-LvsLabSuppressionRule $Rs1.Namespace $Vip).Count | Should -Be 0
            @((Get-ArpSysctl $Rs1.Namespace).Values) | Should -Be @(1, 2, 1, 2)
            Enable-DrForwarding -Lab $Lab -RealServer rs1
            Test-DrDataPath -Lab $Lab -RealServer rs1 | Should -Be 'served-by-rs1'
            Disable-DrForwarding -Lab $Lab

            # sysctl -> nftables: the table first, the VIP on eth0 before it leaves lo, the sysctls restored last.
            $steps = Invoke-LvsInNamespace $Rs1.Namespace $switch -ArgumentList $Vip, 'Nftables', $state
            $steps[0] | Should -Match '^nft -f'
            $steps[-1] | Should -Match '^sysctl -w'
            (Get-VipAddress $Rs1.Namespace).InterfaceName | Should -Be @('eth0')
            Get-NftTable $Rs1.Namespace | Should -Match "arp saddr ip $([regex]::Escape($Vip)) arp saddr ip set $([regex]::Escape($Rs1.Address))"
            @((Get-ArpSysctl $Rs1.Namespace).Values) | Should -Be @($labValues.Values)
            Test-Path -LiteralPath $state | Should -BeFalse -Because 'the restored values are forgotten'

            # nftables -> sysctl -> arptables.
            $steps = Invoke-LvsInNamespace $Rs1.Namespace $switch -ArgumentList $Vip, 'Sysctl', $state
            $steps[0] | Should -Match '^sysctl -w'
            $steps[-1] | Should -Match '^nft -f'
            Get-NftTable $Rs1.Namespace | Should -BeNullOrEmpty
            (Get-VipAddress $Rs1.Namespace).InterfaceName | Should -Be @('lo')
            $steps = Invoke-LvsInNamespace $Rs1.Namespace $switch -ArgumentList $Vip, 'Arptables', $state
            $steps[0..1] | Should -Match '^arptables -A'
            $steps[-1] | Should -Match '^sysctl -w'
        }
        finally {
            $seen = Stop-ArpWatch $watch
        }

        $seen.Probes | Should -BeGreaterThan 0
        $seen.Responders | Should -Be @($Lab.Director.Mac) -Because 'no conversion step let the real server answer ARP for the VIP'
        (Get-VipAddress $Rs1.Namespace).InterfaceName | Should -Be @('eth0')
        @(Get-LvsLabSuppressionRule $Rs1.Namespace $Vip).Count | Should -Be 2
        @((Get-ArpSysctl $Rs1.Namespace).Values) | Should -Be @($labValues.Values)
        Get-ArpResponders -Lab $Lab | Should -Be @($Lab.Director.Mac)
        Enable-DrForwarding -Lab $Lab -RealServer rs1
        Test-DrDataPath -Lab $Lab -RealServer rs1 | Should -Be 'served-by-rs1'
        Disable-DrForwarding -Lab $Lab
    }

    It 'Set-LvsRealServer -Method Sysctl, Nftables, Arptables leaves exactly the listed VIPs with that method, converting and removing the others, with only the director answering ARP throughout' {
        $state = Get-StatePath $Rs1
        $vip2 = '203.0.113.101'
        $labValues = Get-ArpSysctl $Rs1.Namespace
        Invoke-LvsInNamespace $Rs1.Namespace {
            param($v, $v2) $null = New-LvsVip -Address $v; $null = New-LvsVip -Address $v2 -Method Nftables
        } -ArgumentList $Vip, $vip2
        $set = {
            param($v, $m, $s) Set-LvsRealServer -VirtualIP ($v -split ',') -Method $m -SysctlStatePath $s
        }
        $watch = Start-ArpWatch
        try {
            $r = Invoke-LvsInNamespace $Rs1.Namespace $set -ArgumentList $Vip, 'Sysctl', $state
            "$($r.Status)" | Should -Be 'Changed'
            "$($r.Method)" | Should -Be 'Sysctl'
            (Get-VipAddress $Rs1.Namespace).InterfaceName | Should -Be @('lo')
            @(Get-VipAddress $Rs1.Namespace $vip2).Count | Should -Be 0
            @(Get-LvsLabSuppressionRule $Rs1.Namespace $Vip).Count | Should -Be 0
            Get-NftTable $Rs1.Namespace | Should -BeNullOrEmpty -Because 'the unlisted nftables VIP was the last in the table'
            @((Get-ArpSysctl $Rs1.Namespace).Values) | Should -Be @(1, 2, 1, 2)
            Enable-DrForwarding -Lab $Lab -RealServer rs1
            Test-DrDataPath -Lab $Lab -RealServer rs1 | Should -Be 'served-by-rs1'
            Disable-DrForwarding -Lab $Lab
            "$((Invoke-LvsInNamespace $Rs1.Namespace $set -ArgumentList $Vip, 'Sysctl', $state).Status)" | Should -Be 'Unchanged'

            $r = Invoke-LvsInNamespace $Rs1.Namespace $set -ArgumentList "$Vip,$vip2", 'Nftables', $state
            "$($r.Status)" | Should -Be 'Changed'
            foreach ($a in $Vip, $vip2) {
                (Get-VipAddress $Rs1.Namespace $a).InterfaceName | Should -Be @('eth0')
                Get-NftTable $Rs1.Namespace | Should -Match "arp daddr ip $([regex]::Escape($a)) drop"
            }
            @((Get-ArpSysctl $Rs1.Namespace).Values) | Should -Be @($labValues.Values) -Because 'the sysctls are restored once no VIP is left on lo'
            Test-Path -LiteralPath $state | Should -BeFalse

            $r = Invoke-LvsInNamespace $Rs1.Namespace $set -ArgumentList $Vip, 'Arptables', $state
            "$($r.Status)" | Should -Be 'Changed'
            "$($r.Method)" | Should -Be 'Arptables'
        }
        finally {
            $seen = Stop-ArpWatch $watch
        }

        $seen.Probes | Should -BeGreaterThan 0
        $seen.Responders | Should -Be @($Lab.Director.Mac)
        (Get-VipAddress $Rs1.Namespace).InterfaceName | Should -Be @('eth0')
        @(Get-VipAddress $Rs1.Namespace $vip2).Count | Should -Be 0
        @(Get-LvsLabSuppressionRule $Rs1.Namespace $Vip).Count | Should -Be 2
        Get-NftTable $Rs1.Namespace | Should -BeNullOrEmpty
        Get-ArpResponders -Lab $Lab | Should -Be @($Lab.Director.Mac)
        Enable-DrForwarding -Lab $Lab -RealServer rs1
        Test-DrDataPath -Lab $Lab -RealServer rs1 | Should -Be 'served-by-rs1'
        Disable-DrForwarding -Lab $Lab
    }

    It 'works on a host without arptables, keeps foreign tables and rules, and Remove-LvsVip removes the table with its last VIP' {
        $null = Invoke-LvsNetns $Rs1.Namespace nft 'add', 'table', 'inet', 'lvtforeign'
        $null = Invoke-LvsNetns $Rs1.Namespace nft 'add', 'chain', 'inet', 'lvtforeign', 'c'
        $null = Invoke-LvsNetns $Rs1.Namespace nft 'add', 'rule', 'inet', 'lvtforeign', 'c', 'ip', 'saddr', '192.0.2.99', 'accept'
        $null = Invoke-LvsNetns $Rs1.Namespace arptables '-A', 'INPUT', '-s', '192.0.2.98', '-j', 'ACCEPT'
        $foreign = Get-NftTable $Rs1.Namespace -Family inet -Name lvtforeign
        try {
            $got = Invoke-LvsInNamespace $Rs1.Namespace {
                param($v)
                $added = New-LvsVip -Address $v, 203.0.113.101 -Method Nftables
                $again = @(New-LvsVip -Address $v -Method Nftables -Verbose 4>&1 | Where-Object { "$_" -match '^nft -f' })
                # Enum values are turned into names here: nested in a result object, they would cross the process boundary as numbers.
                $listed = @(Get-LvsVip)
                [pscustomobject]@{ Added = $added; Again = $again; Listed = $listed; Methods = @($listed | ForEach-Object { "$($_.Method)" }); Rules = @(Get-ArpSuppression) }
            } -ArgumentList $Vip -HideProgram arptables, arptables-save, arptables-restore
            $got.Added.Count | Should -Be 2
            $got.Again | Should -BeNullOrEmpty -Because 'a second run changes nothing'
            $got.Listed.Count | Should -Be 2
            @($got.Methods | Sort-Object -Unique) | Should -Be @('Nftables')
            "$(@($got.Rules)[0].RealIP)" | Should -Be $Rs1.Address

            Invoke-LvsInNamespace $Rs1.Namespace { param($v) Remove-LvsVip -Address $v } -ArgumentList $Vip -HideProgram arptables, arptables-save, arptables-restore
            Get-NftTable $Rs1.Namespace | Should -Not -Match ([regex]::Escape($Vip) + ' ')
            Get-NftTable $Rs1.Namespace | Should -Match '203\.0\.113\.101'
            Invoke-LvsInNamespace $Rs1.Namespace { Remove-LvsVip -Address 203.0.113.101 } -HideProgram arptables, arptables-save, arptables-restore
            Get-NftTable $Rs1.Namespace | Should -BeNullOrEmpty
            Get-VipAddress $Rs1.Namespace | Should -BeNullOrEmpty
            Get-NftTable $Rs1.Namespace -Family inet -Name lvtforeign | Should -Be $foreign
            @(Get-LvsLabArpRule $Rs1.Namespace | Where-Object Source -EQ '192.0.2.98').Count | Should -Be 1
        }
        finally {
            $null = Invoke-LvsNetns $Rs1.Namespace nft 'delete', 'table', 'inet', 'lvtforeign' -AllowFailure
        }
    }
}
