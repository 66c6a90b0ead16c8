#Requires -Version 7.4
# LvsDirect as an administrator uses it on LVS-DR real servers, on a real kernel: the cmdlets run inside
# real-server network namespaces of the lab in common.ps1, and every assertion reads the kernel (ip -j addr,
# arptables-save), the wire (arping, a TCP connection through the emulated director) or the file on disk.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:SkipReason = Test-LvsLabPrerequisite
    if ($SkipReason) { Write-Warning "LvsDirect integration tests skipped: $SkipReason." }
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

    function Reset-RealServer {
        # Every test starts from real servers with only their own address and no ARP rules.
        foreach ($h in $Lab.RealServers) {
            $null = Invoke-LvsNetns $h.Namespace arptables '-F'
            $null = Invoke-LvsNetns $h.Namespace arptables '-X'
            foreach ($range in '203.0.113.0/24', '198.51.100.0/24') {
                foreach ($dev in 'eth0', 'lo') { $null = Invoke-LvsNative ip '-n', $h.Namespace, 'addr', 'flush', 'dev', $dev, 'to', $range }
            }
        }
        Disable-DrForwarding -Lab $Lab
        Clear-LvsLabNeighbour -Lab $Lab
    }

    function Get-VipAddress {
        # The addresses equal to $Address in a namespace, as the kernel lists them.
        param([string] $Namespace, [string] $Address = $Vip)
        @(Get-LvsLabAddress -Namespace $Namespace | Where-Object Address -EQ $Address)
    }

    function Add-ForeignState {
        # What an admin or another tool configured: it must survive everything LvsDirect does.
        param([string] $Namespace)
        foreach ($rule in @(
                @('-N', 'LVTFOREIGN'),
                @('-A', 'LVTFOREIGN', '-j', 'ACCEPT'),
                @('-A', 'INPUT', '-i', 'eth0', '-s', '192.0.2.99', '-j', 'ACCEPT'),
                @('-A', 'INPUT', '-s', '192.0.2.98', '-j', 'LVTFOREIGN'),
                @('-A', 'OUTPUT', '-d', '192.0.2.97', '-j', 'ACCEPT'))) {
            $null = Invoke-LvsNetns $Namespace arptables $rule
        }
        $null = Invoke-LvsNative ip '-n', $Namespace, 'addr', 'add', '198.51.100.77/24', 'dev', 'eth0'
    }

    function Get-ForeignState {
        param([string] $Namespace)
        # LvsDirect's chains and the jumps to them are its own, like the rules for the VIPs.
        $rules = Get-LvsLabArpRule $Namespace | Where-Object { $_.Line -notmatch '203\.0\.113\.|LVSDIRECT-' } | ForEach-Object Line
        $chains = (Get-LvsLabArptablesSave $Namespace) -split "`n" | Where-Object { $_ -like ':*' -and $_ -notlike ':LVSDIRECT-*' }
        $addresses = Get-LvsLabAddress -Namespace $Namespace | Where-Object Address -NotLike '203.0.113.*' |
            ForEach-Object { "$($_.InterfaceName) $($_.Address)/$($_.PrefixLength)" }
        (@($chains) + @($rules) + @($addresses)) -join "`n"
    }
}

AfterAll {
    if (Get-Variable -Name Lab -Scope Script -ErrorAction SilentlyContinue) { Remove-LvsLab -Lab $script:Lab }
}

Describe "LvsDirect on LVS-DR real servers in network namespaces$(if ($SkipReason) { " (skipped: $SkipReason)" })" -Skip:([bool]$SkipReason) {
    BeforeEach {
        Reset-RealServer
    }

    Context 'the ARP problem, before LvsDirect' {
        It 'the director alone answers ARP for the VIP' {
            Get-ArpResponders -Lab $Lab | Should -Be @($Lab.Director.Mac)
        }

        It 'a real server given the VIP by hand without suppression answers ARP for it too' {
            $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'add', "$Vip/32", 'dev', 'eth0'
            try {
                Get-ArpResponders -Lab $Lab | Should -Be @(@($Lab.Director.Mac, $Rs1.Mac) | Sort-Object)
            }
            finally {
                $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'del', "$Vip/32", 'dev', 'eth0'
            }
            Get-ArpResponders -Lab $Lab | Should -Be @($Lab.Director.Mac)
        }
    }

    Context 'New-LvsVip' {
        It 'New-LvsVip on both real servers leaves only the director answering ARP for the VIP' {
            $out = foreach ($h in $Rs1, $Rs2) {
                Invoke-LvsInNamespace $h.Namespace { param($v) New-LvsVip -Address $v } -ArgumentList $Vip
            }

            Get-ArpResponders -Lab $Lab | Should -Be @($Lab.Director.Mac)
            foreach ($h in $Rs1, $Rs2) {
                $a = Get-VipAddress $h.Namespace
                $a.Count | Should -Be 1
                $a[0].InterfaceName | Should -Be 'eth0'
                $a[0].PrefixLength | Should -Be 32
                $rules = @(Get-LvsLabSuppressionRule $h.Namespace $Vip)
                $rules.Count | Should -Be 2
                ($rules | Where-Object Target -EQ 'DROP').Destination | Should -Be $Vip
                ($rules | Where-Object Target -EQ 'mangle').MangleIpSource | Should -Be $h.Address
            }
            $out.Count | Should -Be 2
            foreach ($i in 0, 1) {
                "$($out[$i].Address)" | Should -Be $Vip
                $out[$i].PrefixLength | Should -Be 32
                $out[$i].InterfaceName | Should -Be 'eth0'
                "$($out[$i].ArpSuppression)" | Should -Be 'Complete'
                "$($out[$i].RealIP)" | Should -Be @($Rs1, $Rs2)[$i].Address
                $out[$i].IsVip | Should -BeTrue
            }
        }

        It 'New-LvsVip -Label eth0:1 adds the VIP with the legacy alias label' {
            $out = Invoke-LvsInNamespace $Rs1.Namespace {
                param($v)
                New-LvsVip -Address $v -Label eth0:1
                Get-LvsVip -Address $v
            } -ArgumentList $Vip

            $a = Get-VipAddress $Rs1.Namespace
            $a.Count | Should -Be 1
            $a[0].Label | Should -Be 'eth0:1'
            $a[0].InterfaceName | Should -Be 'eth0'
            @($out | ForEach-Object Label) | Should -Be @('eth0:1', 'eth0:1')
            @(Get-LvsLabSuppressionRule $Rs1.Namespace $Vip).Count | Should -Be 2
            Get-ArpResponders -Lab $Lab | Should -Be @($Lab.Director.Mac)
        }

        It 'a client connection the director forwards at layer 2 is served by that real server (DR data path)' {
            foreach ($h in $Rs1, $Rs2) {
                $null = Invoke-LvsInNamespace $h.Namespace { param($v) New-LvsVip -Address $v } -ArgumentList $Vip
            }

            Enable-DrForwarding -Lab $Lab -RealServer rs1
            Test-DrDataPath -Lab $Lab -RealServer rs1 | Should -Be 'served-by-rs1'
            Disable-DrForwarding -Lab $Lab
            Enable-DrForwarding -Lab $Lab -RealServer rs2
            Test-DrDataPath -Lab $Lab -RealServer rs2 | Should -Be 'served-by-rs2'
        }

        It 'running New-LvsVip twice creates no duplicate address or rule' {
            $out = Invoke-LvsInNamespace $Rs1.Namespace {
                param($v)
                $null = New-LvsVip -Address $v
                $first = (& arptables-save | Where-Object { $_ -like '-A *' }).Count
                $null = New-LvsVip -Address $v, "$v/32"
                $first
            } -ArgumentList $Vip

            (Get-VipAddress $Rs1.Namespace).Count | Should -Be 1
            @(Get-LvsLabSuppressionRule $Rs1.Namespace $Vip).Count | Should -Be 2
            @(Get-LvsLabArpRule $Rs1.Namespace).Count | Should -Be $out
        }

        It 'New-LvsVip -WhatIf changes nothing and shows the command lines it would run' {
            $before = Get-LvsLabKernelState $Rs1.Namespace
            $transcript = Invoke-LvsInNamespace $Rs1.Namespace {
                param($v, $dir)
                $t = Join-Path $dir "whatif-$PID.txt"
                $null = Start-Transcript -LiteralPath $t
                try { New-LvsVip -Address $v -WhatIf } finally { $null = Stop-Transcript }
                Get-Content -Raw -LiteralPath $t
                Remove-Item -LiteralPath $t
            } -ArgumentList $Vip, $Work

            Get-LvsLabKernelState $Rs1.Namespace | Should -Be $before
            $transcript | Should -Match 'What if:'
            $transcript | Should -Match "arptables\S* .*-d $([regex]::Escape($Vip)) .*-j DROP|arptables\S* .*-j DROP .*-d $([regex]::Escape($Vip))"
            $transcript | Should -Match "mangle-ip-s $([regex]::Escape($Rs1.Address))"
            $transcript | Should -Match "\bip\b"
            $transcript | Should -Match "$([regex]::Escape($Vip))/32 dev eth0"
        }

        It 'New-LvsVip sets up several VIPs in one call' {
            $vips = '203.0.113.101', '203.0.113.102', '203.0.113.103'
            $out = Invoke-LvsInNamespace $Rs1.Namespace { param($list) New-LvsVip -Address $list } -ArgumentList (, $vips)

            @($out).Count | Should -Be 3
            foreach ($v in $vips) {
                (Get-VipAddress $Rs1.Namespace $v).Count | Should -Be 1
                @(Get-LvsLabSuppressionRule $Rs1.Namespace $v).Count | Should -Be 2
            }
        }
    }

    Context 'Remove-LvsVip' {
        It 'Remove-LvsVip removes the address first, then its suppression rules' {
            $log = Invoke-LvsInNamespace $Rs1.Namespace {
                param($v)
                $null = New-LvsVip -Address $v
                Remove-LvsVip -Address $v -Verbose 4>&1 | ForEach-Object { "$_" }
            } -ArgumentList $Vip

            (Get-VipAddress $Rs1.Namespace).Count | Should -Be 0
            @(Get-LvsLabSuppressionRule $Rs1.Namespace $Vip).Count | Should -Be 0
            # -Verbose logs every command as it runs: the address goes before the rules (the ordering rule).
            # Changes only: reads (ip -j, arptables-save, arptables -L/-V) may come in any order.
            $ran = @($log | Where-Object { $_ -match ' -> exit \d+' })
            $addressStep = [array]::FindIndex([string[]]$ran, [Predicate[string]] { param($l) $l -match '^ip (?!-j\b)' })
            $ruleStep = [array]::FindIndex([string[]]$ran, [Predicate[string]] { param($l) $l -match '^arptables-restore\b|^arptables\b.*\s-[ADF]\s' })
            $addressStep | Should -BeGreaterOrEqual 0
            $ruleStep | Should -BeGreaterThan $addressStep
            Get-ArpResponders -Lab $Lab | Should -Be @($Lab.Director.Mac)
        }

        It 'Remove-LvsVip -KeepArpSuppression removes the address and keeps the rules' {
            Invoke-LvsInNamespace $Rs1.Namespace {
                param($v)
                $null = New-LvsVip -Address $v
                Remove-LvsVip -Address $v -KeepArpSuppression
            } -ArgumentList $Vip

            (Get-VipAddress $Rs1.Namespace).Count | Should -Be 0
            @(Get-LvsLabSuppressionRule $Rs1.Namespace $Vip).Count | Should -Be 2
        }

        It 'Get-LvsVip | Remove-LvsVip removes every VIP and its rules' {
            $vips = $Vip, '203.0.113.101'
            $listed = Invoke-LvsInNamespace $Rs1.Namespace {
                param($list)
                $null = New-LvsVip -Address $list
                @(Get-LvsVip).Count
                Get-LvsVip | Remove-LvsVip
                @(Get-LvsVip).Count
            } -ArgumentList (, $vips)

            $listed | Should -Be @(2, 0)
            foreach ($v in $vips) {
                (Get-VipAddress $Rs1.Namespace $v).Count | Should -Be 0
                @(Get-LvsLabSuppressionRule $Rs1.Namespace $v).Count | Should -Be 0
            }
            @(Get-LvsLabAddress $Rs1.Namespace -InterfaceName eth0 | Where-Object Address -EQ $Rs1.Address).Count | Should -Be 1
        }

        It 'Remove-LvsVip removes exactly the given VIP (203.0.113.1 is not 203.0.113.10)' {
            Invoke-LvsInNamespace $Rs1.Namespace {
                $null = New-LvsVip -Address 203.0.113.1, 203.0.113.10
                Remove-LvsVip -Address 203.0.113.1
            }

            (Get-VipAddress $Rs1.Namespace '203.0.113.1').Count | Should -Be 0
            @(Get-LvsLabSuppressionRule $Rs1.Namespace '203.0.113.1').Count | Should -Be 0
            (Get-VipAddress $Rs1.Namespace '203.0.113.10').Count | Should -Be 1
            @(Get-LvsLabSuppressionRule $Rs1.Namespace '203.0.113.10').Count | Should -Be 2
        }
    }

    Context 'nothing foreign is lost' {
        It 'foreign arptables rules, chains, addresses and rc.local lines survive New-LvsVip, Export-RcLocal and Remove-LvsVip' {
            Add-ForeignState $Rs1.Namespace
            $foreign = Get-ForeignState $Rs1.Namespace
            $rcLocal = Join-Path $Work 'foreign-rc.local'
            Set-Content -LiteralPath $rcLocal -Value "#!/bin/sh -e`n# site tuning`nsysctl -w net.core.somaxconn=1024`nexit 0" -Encoding ascii

            $exports = Invoke-LvsInNamespace $Rs1.Namespace {
                param($v, $path)
                $null = New-LvsVip -Address $v
                Export-RcLocal -Path $path
                Export-RcLocal -Path $path
                Remove-LvsVip -Address $v
            } -ArgumentList $Vip, $rcLocal

            Get-ForeignState $Rs1.Namespace | Should -Be $foreign
            $lines = Get-Content -LiteralPath $rcLocal
            $lines[0] | Should -Be '#!/bin/sh -e'
            $lines | Should -Contain '# site tuning'
            $lines | Should -Contain 'sysctl -w net.core.somaxconn=1024'
            @($lines | Where-Object { $_ -like '# BEGIN LvsDirect managed block*' }).Count | Should -Be 1
            @($lines | Where-Object { $_ -eq '# END LvsDirect managed block' }).Count | Should -Be 1
            $lines[-1] | Should -Be 'exit 0'
            $exports[0].Changed | Should -BeTrue
            $exports[1].Changed | Should -BeFalse
        }

        It 'Remove-ArpSuppression removes exactly the VIP''s two rules and keeps foreign ones' {
            Add-ForeignState $Rs1.Namespace
            $foreign = Get-ForeignState $Rs1.Namespace
            Invoke-LvsInNamespace $Rs1.Namespace {
                param($v)
                $null = Set-ArpSuppression -VirtualIP $v, 203.0.113.10
                Remove-ArpSuppression -VirtualIP $v
            } -ArgumentList $Vip

            @(Get-LvsLabSuppressionRule $Rs1.Namespace $Vip).Count | Should -Be 0
            @(Get-LvsLabSuppressionRule $Rs1.Namespace '203.0.113.10').Count | Should -Be 2
            Get-ForeignState $Rs1.Namespace | Should -Be $foreign
        }
    }

    Context 'ARP suppression cmdlets' {
        It 'Set-ArpSuppression adds both rules once, with the real IP of the interface, and Get-ArpSuppression reads them' {
            $out = Invoke-LvsInNamespace $Rs1.Namespace {
                param($v)
                Set-ArpSuppression -VirtualIP $v -PassThru
                $null = Set-ArpSuppression -VirtualIP $v
                Get-ArpSuppression -VirtualIP $v
            } -ArgumentList $Vip

            $rules = @(Get-LvsLabSuppressionRule $Rs1.Namespace $Vip)
            $rules.Count | Should -Be 2
            ($rules | Where-Object Target -EQ 'mangle').MangleIpSource | Should -Be $Rs1.Address
            @($out).Count | Should -Be 2
            foreach ($o in $out) {
                "$($o.VirtualIP)" | Should -Be $Vip
                "$($o.RealIP)" | Should -Be $Rs1.Address
                "$($o.State)" | Should -Be 'Complete'
                "$($o.Method)" | Should -Be 'Arptables'
            }
            (Get-VipAddress $Rs1.Namespace).Count | Should -Be 0
        }

        It 'Set-ArpSuppression -RealIP uses the given real IP, one of the host''s own addresses' {
            $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'add', '192.0.2.111/24', 'dev', 'eth0'
            try {
                $null = Invoke-LvsInNamespace $Rs1.Namespace { param($v) Set-ArpSuppression -VirtualIP $v -RealIP 192.0.2.111 } -ArgumentList $Vip

                (Get-LvsLabSuppressionRule $Rs1.Namespace $Vip | Where-Object Target -EQ 'mangle').MangleIpSource | Should -Be '192.0.2.111'
            }
            finally {
                $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'del', '192.0.2.111/24', 'dev', 'eth0'
            }
        }

        It 'Remove-ArpSuppression refuses while the VIP is still configured, and -Force removes the rules anyway' {
            # What root's Get-LvsVip returns (deserialized, as from Invoke-Command): a non-root Get-LvsVip cannot
            # read the rules, so it cannot tell VIPs from the host's other addresses.
            $vips = @(Invoke-LvsInNamespace $Rs1.Namespace { param($v) $null = New-LvsVip -Address $v; Get-LvsVip } -ArgumentList $Vip)
            $vips.Count | Should -Be 1

            { Invoke-LvsInNamespace $Rs1.Namespace { param($v) Remove-ArpSuppression -VirtualIP $v } -ArgumentList $Vip } |
                Should -Throw -ErrorId 'VipStillConfigured,*'
            @(Get-LvsLabSuppressionRule $Rs1.Namespace $Vip).Count | Should -Be 2

            Invoke-LvsInNamespace $Rs1.Namespace { param($v) Remove-ArpSuppression -VirtualIP $v -Force } -ArgumentList $Vip
            @(Get-LvsLabSuppressionRule $Rs1.Namespace $Vip).Count | Should -Be 0
        }

        It 'Save-ArpSuppression -Path writes the live rules in arptables-save format, which arptables-restore loads' {
            Add-ForeignState $Rs1.Namespace
            $path = Join-Path $Work 'arptables.saved'
            $out = Invoke-LvsInNamespace $Rs1.Namespace {
                param($v, $p)
                $null = New-LvsVip -Address $v
                Save-ArpSuppression -Path $p
                Save-ArpSuppression -Path $p
            } -ArgumentList $Vip, $path

            $live = @(Get-LvsLabArpRule $Rs1.Namespace)
            $out[0].Path | Should -Be $path
            $out[0].RuleCount | Should -Be $live.Count
            $out[0].Changed | Should -BeTrue
            $out[1].Changed | Should -BeFalse
            $text = Get-Content -Raw -LiteralPath $path
            $text | Should -Match '(?m)^\*filter$'
            $text | Should -Match '(?m)^:INPUT ACCEPT$'
            $text | Should -Match '(?m)^:OUTPUT ACCEPT$'

            # The proof of the format: a fresh namespace loads the file and then holds the same rules.
            $replay = Add-LvsLabHost -Lab $Lab -Role "save$(Get-Random -Maximum 999)" -Address $Rs1.Address -Isolated
            $restore = Invoke-LvsNetns $replay.Namespace arptables-restore -InputText $text -AllowFailure
            $restore.ExitCode | Should -Be 0 -Because $restore.StdErr
            @(Get-LvsLabArpRule $replay.Namespace | ForEach-Object Line) | Should -Be @($live | ForEach-Object Line)
        }
    }

    Context 'persistence with Export-RcLocal' {
        It 'Export-RcLocal -Path writes an executable rc.local whose block recreates the VIP and both rules on a fresh host' {
            $path = Join-Path $Work 'rc.local'
            $out = Invoke-LvsInNamespace $Rs1.Namespace {
                param($v, $p)
                $null = New-LvsVip -Address $v -Label eth0:1
                Export-RcLocal -Path $p
            } -ArgumentList $Vip, $path

            $out.Path | Should -Be $path
            $out.Created | Should -BeTrue
            $out.VipCount | Should -Be 1
            $out.RuleCount | Should -Be 2
            $out.Block[0] | Should -Be '# BEGIN LvsDirect managed block: do not edit, regenerate with Export-RcLocal'
            $out.Block[-1] | Should -Be '# END LvsDirect managed block'
            (Get-Content -LiteralPath $path -TotalCount 1) | Should -Match '^#!'
            (Get-Item -LiteralPath $path).UnixFileMode.ToString() | Should -Match 'UserExecute'

            # A "rebooted" rs1: the same eth0 layout and nothing else; rc.local runs twice, as admins do.
            $fresh = Add-LvsLabHost -Lab $Lab -Role "boot$(Get-Random -Maximum 999)" -Address $Rs1.Address -Isolated
            foreach ($run in 1, 2) {
                $r = Invoke-LvsNetns $fresh.Namespace $path -AllowFailure
                $r.ExitCode | Should -Be 0 -Because "run $run of rc.local: $($r.StdErr)"
            }
            $a = Get-VipAddress $fresh.Namespace
            $a.Count | Should -Be 1
            $a[0].InterfaceName | Should -Be 'eth0'
            $a[0].PrefixLength | Should -Be 32
            $a[0].Label | Should -Be 'eth0:1'
            $rules = @(Get-LvsLabSuppressionRule $fresh.Namespace $Vip)
            $rules.Count | Should -Be 2
            ($rules | Where-Object Target -EQ 'mangle').MangleIpSource | Should -Be $Rs1.Address
            @(Get-LvsLabArpRule $fresh.Namespace).Count | Should -Be 4 -Because 'the two jumps into LvsDirect''s chains and its two rules'
        }

        It 'Get-LvsVip | Export-RcLocal writes the same block as the live state' {
            $live = Join-Path $Work 'rc.local.live'
            $piped = Join-Path $Work 'rc.local.piped'
            $out = Invoke-LvsInNamespace $Rs1.Namespace {
                param($v, $a, $b)
                $null = New-LvsVip -Address $v, 203.0.113.101
                Export-RcLocal -Path $a
                Get-LvsVip | Export-RcLocal -Path $b
            } -ArgumentList $Vip, $live, $piped

            $out[1].VipCount | Should -Be 2
            $out[1].RuleCount | Should -Be 4
            Get-Content -Raw -LiteralPath $piped | Should -Be (Get-Content -Raw -LiteralPath $live)
        }
    }

    Context 'Export-RcLocal without a change to make' {
        It 'Export-RcLocal -WhatIf writes nothing and returns no result, for rc.local and for the systemd unit' {
            $rc = Join-Path $Work 'rc.local.whatif'
            $unit = Join-Path $Work 'lvsdirect.service.whatif'
            $out = Invoke-LvsInNamespace $Rs1.Namespace {
                param($v, $a, $b)
                $null = New-LvsVip -Address $v
                Export-RcLocal -Path $a -WhatIf
                Get-LvsVip | Export-RcLocal -Path $a -WhatIf
                Export-RcLocal -Path $b -Target SystemdUnit -WhatIf
            } -ArgumentList $Vip, $rc, $unit

            @($out) | Should -BeNullOrEmpty
            $rc | Should -Not -Exist
            $unit | Should -Not -Exist
        }

        It 'VIPs piped into Export-RcLocal -Path by a non-root user take no host lock: it writes the file while another run holds the lock' {
            $folder = Join-Path $Work 'nonroot'
            $null = New-Item -ItemType Directory -Path $folder -Force
            [System.IO.File]::SetUnixFileMode($folder, [System.IO.UnixFileMode]0x1FF)
            for ($d = Split-Path -Parent $folder; $d -ne [IO.Path]::GetTempPath().TrimEnd('/'); $d = Split-Path -Parent $d) {
                [System.IO.File]::SetUnixFileMode($d, [System.IO.File]::GetUnixFileMode($d) -bor [System.IO.UnixFileMode]::OtherExecute)
            }
            $path = Join-Path $folder 'rc.local'
            # What root's Get-LvsVip returns (deserialized, as from Invoke-Command): a non-root Get-LvsVip cannot
            # read the rules, so it cannot tell VIPs from the host's other addresses.
            $vips = @(Invoke-LvsInNamespace $Rs1.Namespace { param($v) $null = New-LvsVip -Address $v; Get-LvsVip } -ArgumentList $Vip)
            $vips.Count | Should -Be 1
            # The lock of this namespace, held by root the whole time (flock(1), stopped by PID below).
            $inode = (Invoke-LvsNetns $Rs1.Namespace stat '-L', '-c', '%i', '/proc/self/ns/net').StdOut.Trim()
            $lock = "/run/lock/lvsdirect-$inode.lock"
            $psi = [System.Diagnostics.ProcessStartInfo]::new((Find-LvsProgram flock))
            foreach ($a in $lock, (Find-LvsProgram sleep), '60') { $psi.ArgumentList.Add($a) }
            $psi.UseShellExecute = $false
            $holder = [System.Diagnostics.Process]::Start($psi)
            try {
                $deadline = [DateTime]::UtcNow.AddSeconds(10)
                while ((Invoke-LvsNative flock '-n', $lock, 'true' -AllowFailure).ExitCode -eq 0) {
                    if ([DateTime]::UtcNow -gt $deadline) { throw "flock did not take $lock." }
                    Start-Sleep -Milliseconds 20
                }

                $watch = [System.Diagnostics.Stopwatch]::StartNew()
                $out = Invoke-LvsInNamespace $Rs1.Namespace -User nobody { param($p, $vips) $vips | Export-RcLocal -Path $p } -ArgumentList $path, $vips
                $watch.Elapsed.TotalSeconds | Should -BeLessThan 30 -Because 'a run that waited for the lock would have taken its 60 s timeout'
            }
            finally {
                if (-not $holder.HasExited) { $holder.Kill(); $null = $holder.WaitForExit(5000) }
                $holder.Dispose()
            }

            $out.Path | Should -Be $path
            $out.VipCount | Should -Be 1
            $out.RuleCount | Should -Be 2
            $path | Should -Exist
            Get-Content -Raw -LiteralPath $path | Should -Match "ip addr (replace|add) $([regex]::Escape($Vip))/32"
        }
    }

    Context 'errors' {
        It 'New-LvsVip 300.1.1.1 fails with InvalidAddress and changes nothing' {
            $before = Get-LvsLabKernelState $Rs1.Namespace
            { Invoke-LvsInNamespace $Rs1.Namespace { New-LvsVip -Address 300.1.1.1 } } | Should -Throw -ErrorId 'InvalidAddress,*'
            Get-LvsLabKernelState $Rs1.Namespace | Should -Be $before
        }

        It 'a valid VIP listed with an invalid one is not added either (input is validated before anything runs)' {
            $before = Get-LvsLabKernelState $Rs1.Namespace
            { Invoke-LvsInNamespace $Rs1.Namespace { param($v) New-LvsVip -Address $v, 'not-an-ip' } -ArgumentList $Vip } |
                Should -Throw -ErrorId 'InvalidAddress,*'
            Get-LvsLabKernelState $Rs1.Namespace | Should -Be $before
        }

        It 'New-LvsVip with prefix /33 fails with InvalidPrefix and changes nothing' {
            $before = Get-LvsLabKernelState $Rs1.Namespace
            { Invoke-LvsInNamespace $Rs1.Namespace { param($v) New-LvsVip -Address "$v/33" } -ArgumentList $Vip } | Should -Throw -ErrorId 'InvalidPrefix,*'
            Get-LvsLabKernelState $Rs1.Namespace | Should -Be $before
        }

        It 'New-LvsVip -InterfaceName nosuch0 fails with UnknownInterface and changes nothing' {
            $before = Get-LvsLabKernelState $Rs1.Namespace
            { Invoke-LvsInNamespace $Rs1.Namespace { param($v) New-LvsVip -Address $v -InterfaceName nosuch0 } -ArgumentList $Vip } |
                Should -Throw -ErrorId 'UnknownInterface,*'
            Get-LvsLabKernelState $Rs1.Namespace | Should -Be $before
        }

        It 'New-LvsVip run by a non-root user fails with NotRoot and changes nothing' {
            $before = Get-LvsLabKernelState $Rs1.Namespace
            { Invoke-LvsInNamespace $Rs1.Namespace -User nobody { param($v) New-LvsVip -Address $v } -ArgumentList $Vip } |
                Should -Throw -ErrorId 'NotRoot,*'
            Get-LvsLabKernelState $Rs1.Namespace | Should -Be $before
        }

        It 'New-LvsVip without arptables installed fails with ProgramNotFound naming the package, and changes nothing' {
            $before = Get-LvsLabKernelState $Rs1.Namespace
            $err = $null
            try {
                Invoke-LvsInNamespace $Rs1.Namespace -HideProgram 'arptables', 'arptables-save', 'arptables-restore' {
                    param($v) New-LvsVip -Address $v
                } -ArgumentList $Vip
            }
            catch { $err = $_ }

            $err | Should -Not -BeNullOrEmpty
            $err.FullyQualifiedErrorId | Should -BeLike 'ProgramNotFound*'
            $err.Exception.Message | Should -Match "'arptables' package"
            Get-LvsLabKernelState $Rs1.Namespace | Should -Be $before
        }
    }

    Context 'concurrency' {
        It 'two New-LvsVip runs started at the same instant in one host both take effect (no lost update)' {
            $results = Invoke-LvsInNamespaceConcurrently -Namespace $Rs1.Namespace -ScriptBlock {
                param($v)
                [DateTime]::UtcNow
                $null = New-LvsVip -Address $v
            } -ArgumentLists @(, @('203.0.113.21')), @(, @('203.0.113.22'))

            # Both started New-LvsVip together, so the second had to wait for the first, not find it done.
            [math]::Abs(([datetime]$results[0].Output[0] - [datetime]$results[1].Output[0]).TotalMilliseconds) | Should -BeLessThan 250
            foreach ($r in $results) { $r.Failure | Should -BeNullOrEmpty -Because "no run may fail (it failed with $($r.Failure.FullyQualifiedErrorId))" }
            foreach ($v in '203.0.113.21', '203.0.113.22') {
                (Get-VipAddress $Rs1.Namespace $v).Count | Should -Be 1
                @(Get-LvsLabSuppressionRule $Rs1.Namespace $v).Count | Should -Be 2
            }
        }
    }

    Context 'a real IP that has a host name' {
        It 'New-LvsVip stays idempotent, and Get-LvsVip and Save-ArpSuppression keep the real IP numeric, when /etc/hosts names it' {
            # arptables-nft-save prints --mangle-ip-s as a name when the resolver knows one (real servers often
            # list their own address in /etc/hosts).
            $named = Add-LvsLabHost -Lab $Lab -Role "name$(Get-Random -Maximum 999)" -Address $Rs1.Address -Isolated
            Add-Content -LiteralPath "/etc/netns/$($named.Namespace)/hosts" -Value "$($Rs1.Address)`trs1.lab.example rs1"

            $saved = Join-Path ([System.IO.Path]::GetTempPath()) "lvsdirect-named-$(Get-Random).arptables"
            try {
                $out = Invoke-LvsInNamespace $named.Namespace -Fresh {
                    param($v, $path)
                    $null = New-LvsVip -Address $v
                    $null = New-LvsVip -Address $v
                    $null = Save-ArpSuppression -Path $path
                    Get-LvsVip -Address $v
                } -ArgumentList $Vip, $saved

                @(Get-LvsLabArpRule $named.Namespace).Count | Should -Be 4 -Because 'the two jumps into LvsDirect''s chains and its two rules'
                (Get-VipAddress $named.Namespace).Count | Should -Be 1
                "$($out.RealIP)" | Should -Be $Rs1.Address
                "$($out.ArpSuppression)" | Should -Be 'Complete'
                # The saved rules must load anywhere: addresses, never the name the resolver knows.
                Get-Content -LiteralPath $saved | Should -Contain "-A LVSDIRECT-OUT -j mangle -s $Vip --mangle-ip-s $($Rs1.Address)"
                Get-Content -LiteralPath $saved -Raw | Should -Not -Match 'rs1\.lab\.example'
            }
            finally {
                Remove-Item -LiteralPath $saved -ErrorAction SilentlyContinue
            }
        }
    }
}
