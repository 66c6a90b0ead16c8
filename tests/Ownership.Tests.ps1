#Requires -Version 7.4
# Ownership, the host lock and per-namespace state on a real kernel. Each real server is first set up the way a
# user meets one (by hand the seed's way, by another tool, an old LvsDirect boot block); then the user's command
# runs; then the kernel (ip -j addr, arptables-save, sysctl), the files on disk and the lock are read from
# outside the module.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:SkipReason = Test-LvsLabPrerequisite
    if ($SkipReason) { Write-Warning "LvsDirect ownership tests skipped: $SkipReason." }
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
    # The seed's VIP (eth0 + both rules), another tool's VIP (lo, a label, the sysctls) and an extra address on lo.
    $script:Seed = '203.0.113.10'
    $script:OnLo = '203.0.113.20'
    $script:Extra = '198.51.100.9'
    $script:ArpKeys = foreach ($conf in 'all', 'eth0') { foreach ($k in 'arp_ignore', 'arp_announce') { "net.ipv4.conf.$conf.$k" } }

    function Reset-RealServer {
        $ns = $Rs1.Namespace
        $null = Invoke-LvsNetns $ns arptables '-F'
        foreach ($range in '203.0.113.0/24', '198.51.100.0/24') {
            foreach ($dev in 'eth0', 'lo') { $null = Invoke-LvsNative ip '-n', $ns, 'addr', 'flush', 'dev', $dev, 'to', $range }
        }
        Set-LvsNamespaceArpSysctl -Namespace $ns
        Clear-LvsNamespaceState -Namespace $ns
    }

    function Set-HandMadeRealServer {
        $ns = $Rs1.Namespace
        $null = Invoke-LvsNative ip '-n', $ns, 'addr', 'add', "$Seed/32", 'dev', 'eth0'
        $null = Invoke-LvsNetns $ns arptables '-A', 'INPUT', '-d', $Seed, '-j', 'DROP'
        $null = Invoke-LvsNetns $ns arptables '-A', 'OUTPUT', '-s', $Seed, '-j', 'mangle', '--mangle-ip-s', $Rs1.Address
        $null = Invoke-LvsNative ip '-n', $ns, 'addr', 'add', "$OnLo/32", 'dev', 'lo', 'label', 'lo:lvs'
        $null = Invoke-LvsNetns $ns sysctl '-q', '-w', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2', 'net.ipv4.conf.eth0.arp_ignore=1', 'net.ipv4.conf.eth0.arp_announce=2'
        $null = Invoke-LvsNative ip '-n', $ns, 'addr', 'add', "$Extra/32", 'dev', 'lo'
    }

    function Get-HandMadeState {
        # Everything the hand-made setup consists of, read from outside the module, as comparable text.
        $ns = $Rs1.Namespace
        $addresses = Get-LvsLabAddress -Namespace $ns | Where-Object Address -In $Seed, $OnLo, $Extra |
            ForEach-Object { "$($_.Address)/$($_.PrefixLength) $($_.InterfaceName) $($_.Label)" } | Sort-Object
        $rules = Get-LvsLabArpRule $ns | Where-Object { $Seed -in $_.Source, $_.Destination } |
            ForEach-Object { "$($_.Chain) $($_.Target) s=$($_.Source) d=$($_.Destination) m=$($_.MangleIpSource)" } | Sort-Object
        $sysctls = (Invoke-LvsNetns $ns sysctl $ArpKeys).StdOut.Trim() -split "`n"
        @($addresses) + @($rules) + @($sysctls)
    }

    function Get-RecordedAddress {
        $record = (Get-LvsNamespaceStatePath -Namespace $Rs1.Namespace).Record
        if (-not (Test-Path -LiteralPath $record)) { return @() }
        # ForEach-Object, not .address: on an array that names the array's own Address method.
        @((Get-Content -LiteralPath $record -Raw | ConvertFrom-Json).vips | ForEach-Object { $_.address })
    }

    function Get-WhatIfText {
        # -WhatIf writes to the host, not to a stream: run the command in its own pwsh in the namespace and read its stdout.
        param([string] $Command)
        $pwsh = Get-LvsPwshCommand
        $script = "`$ErrorActionPreference = 'Stop'; Import-Module '$(Get-LvsTestModulePath)'; $Command; 'LVT-END'"
        $r = Invoke-LvsNative ip (@('netns', 'exec', $Rs1.Namespace) + $pwsh + @('-NoProfile', '-NonInteractive', '-Command', $script)) -AllowFailure
        $r.StdOut | Should -Match 'LVT-END' -Because "the command ran to its end ($($r.StdErr))"
        $r.StdOut
    }
}

AfterAll {
    if ($Lab) { Remove-LvsLab -Lab $Lab }
}

Describe 'A real server set up by hand and by other tools' -Skip:([bool]$SkipReason) {
    BeforeEach {
        Reset-RealServer
        Set-HandMadeRealServer
        $script:Before = Get-HandMadeState
    }

    It 'Set-LvsRealServer, Export-RcLocal and Get-LvsVip | Remove-LvsVip leave the hand-made VIPs, rules and sysctls exactly as they were' {
        $rc = Join-Path $Work 'rc.local'
        $rcPiped = Join-Path $Work 'rc.local.piped'
        Remove-Item -LiteralPath $rc, $rcPiped -Force -ErrorAction SilentlyContinue

        $result = Invoke-LvsInNamespace $Rs1.Namespace { param($v) Set-LvsRealServer -VirtualIP $v } -ArgumentList $Vip
        "$($result.Status)" | Should -Be 'Changed'
        @($result.Removed) | Should -HaveCount 0
        Get-HandMadeState | Should -Be $Before
        @(Get-LvsLabAddress -Namespace $Rs1.Namespace | Where-Object Address -EQ $Vip) | Should -HaveCount 1

        $listed = @(Invoke-LvsInNamespace $Rs1.Namespace { Get-LvsVip })
        @($listed | ForEach-Object { "$($_.Address)" }) | Should -Be @($Vip)
        $all = @(Invoke-LvsInNamespace $Rs1.Namespace { Get-LvsVip -All })
        ($all | Where-Object { "$($_.Address)" -eq $Seed }).Managed | Should -BeFalse
        ($all | Where-Object { "$($_.Address)" -eq $OnLo }).Managed | Should -BeFalse
        ($all | Where-Object { "$($_.Address)" -eq $Vip }).Managed | Should -BeTrue

        $null = Invoke-LvsInNamespace $Rs1.Namespace { param($p, $q) Export-RcLocal -Path $p; Get-LvsVip | Export-RcLocal -Path $q } -ArgumentList $rc, $rcPiped
        foreach ($file in $rc, $rcPiped) {
            $text = Get-Content -LiteralPath $file -Raw
            $text | Should -Match ([regex]::Escape("$Vip/32"))
            # Whole addresses only: 203.0.113.10 is a prefix of the managed 203.0.113.100.
            foreach ($foreign in $Seed, $OnLo, $Extra) { $text | Should -Not -Match "(?<![\d.])$([regex]::Escape($foreign))(?!\d)" -Because "$foreign is not LvsDirect's" }
        }
        Get-HandMadeState | Should -Be $Before

        $null = Invoke-LvsInNamespace $Rs1.Namespace { Get-LvsVip | Remove-LvsVip }
        @(Get-LvsLabAddress -Namespace $Rs1.Namespace | Where-Object Address -EQ $Vip) | Should -HaveCount 0
        @(Get-LvsLabArpRule $Rs1.Namespace | Where-Object { $Vip -in $_.Source, $_.Destination }) | Should -HaveCount 0
        Get-HandMadeState | Should -Be $Before
        Get-RecordedAddress | Should -HaveCount 0
    }

    It 'Set-LvsRealServer -VirtualIP @() removes only what LvsDirect manages' {
        $null = Invoke-LvsInNamespace $Rs1.Namespace { param($v) New-LvsVip -Address $v } -ArgumentList $Vip

        $result = Invoke-LvsInNamespace $Rs1.Namespace { Set-LvsRealServer -VirtualIP @() }

        @($result.Removed | ForEach-Object { "$_" }) | Should -Be @($Vip)
        @(Get-LvsLabAddress -Namespace $Rs1.Namespace | Where-Object Address -EQ $Vip) | Should -HaveCount 0
        Get-HandMadeState | Should -Be $Before
    }

    It 'naming a hand-made VIP is refused with NotManaged and changes nothing' {
        $kernel = Get-LvsLabArptablesSave $Rs1.Namespace

        { Invoke-LvsInNamespace $Rs1.Namespace { param($v) Set-LvsRealServer -VirtualIP $v } -ArgumentList $Seed } | Should -Throw -ErrorId 'NotManaged*'
        { Invoke-LvsInNamespace $Rs1.Namespace { param($v) Remove-LvsVip -Address $v } -ArgumentList $OnLo } | Should -Throw -ErrorId 'NotManaged*'
        { Invoke-LvsInNamespace $Rs1.Namespace { param($v) New-LvsVip -Address $v } -ArgumentList $Seed } | Should -Throw -ErrorId 'NotManaged*'

        Get-HandMadeState | Should -Be $Before
        Get-LvsLabArptablesSave $Rs1.Namespace | Should -Be $kernel
        Get-RecordedAddress | Should -HaveCount 0
    }

    It '-Adopt takes the seed''s VIP over: -WhatIf shows it first, afterwards it is managed and Get-LvsVip lists it' {
        $text = Get-WhatIfText "New-LvsVip -Address $Seed -Adopt -WhatIf"
        $text | Should -Match "What if: .*Adopt $([regex]::Escape($Seed))"
        $preview = Invoke-LvsInNamespace $Rs1.Namespace { param($v) Set-LvsRealServer -VirtualIP $v -Adopt -WhatIf } -ArgumentList $Seed
        "$($preview.Status)" | Should -Be 'WhatIf'
        @($preview.Adopted | ForEach-Object { "$_" }) | Should -Be @($Seed)
        Get-RecordedAddress | Should -HaveCount 0 -Because '-WhatIf adopts nothing'
        Get-HandMadeState | Should -Be $Before

        $result = Invoke-LvsInNamespace $Rs1.Namespace { param($v) Set-LvsRealServer -VirtualIP $v -Adopt } -ArgumentList $Seed

        @($result.Adopted | ForEach-Object { "$_" }) | Should -Be @($Seed)
        Get-RecordedAddress | Should -Be @($Seed)
        $listed = @(Invoke-LvsInNamespace $Rs1.Namespace { Get-LvsVip })
        @($listed | ForEach-Object { "$($_.Address)" }) | Should -Be @($Seed)
        $listed[0].Managed | Should -BeTrue
        "$($listed[0].ArpSuppression)" | Should -Be 'Complete'
        @(Get-LvsLabAddress -Namespace $Rs1.Namespace | Where-Object Address -EQ $Seed) | Should -HaveCount 1
        # Adopted, it is LvsDirect's to remove: the address and its suppression go, the other tool's VIP stays.
        $null = Invoke-LvsInNamespace $Rs1.Namespace { Set-LvsRealServer -VirtualIP @() }
        @(Get-LvsLabAddress -Namespace $Rs1.Namespace | Where-Object Address -EQ $Seed) | Should -HaveCount 0
        @(Get-LvsLabArpRule $Rs1.Namespace | Where-Object { $Seed -in $_.Source, $_.Destination }) | Should -HaveCount 0
        @(Get-LvsLabAddress -Namespace $Rs1.Namespace | Where-Object Address -In $OnLo, $Extra) | Should -HaveCount 2
    }
}

Describe 'Upgrading from a version that kept no record' -Skip:([bool]$SkipReason) {
    BeforeEach { Reset-RealServer }

    It 'VIPs an existing LvsDirect rc.local block brings up count as managed, and their rules in the built-in chains are LvsDirect''s' {
        $old = '203.0.113.30'
        $ns = $Rs1.Namespace
        $rc = Join-Path $Work 'rc.local.old'
        # The block as the previous release wrote it, and the live state it made.
        $block = @(
            '#!/bin/sh -e', '# BEGIN LvsDirect managed block: do not edit, regenerate with Export-RcLocal',
            "arptables -D INPUT -j DROP -d $old 2>/dev/null", "arptables -A INPUT -j DROP -d $old",
            "arptables -D OUTPUT -j mangle -s $old --mangle-ip-s $($Rs1.Address) 2>/dev/null", "arptables -A OUTPUT -j mangle -s $old --mangle-ip-s $($Rs1.Address)",
            "ip addr replace $old/32 dev eth0", '# END LvsDirect managed block', 'exit 0', '')
        Set-Content -LiteralPath $rc -Value ($block -join "`n") -NoNewline
        $null = Invoke-LvsNetns $ns arptables '-A', 'INPUT', '-j', 'DROP', '-d', $old
        $null = Invoke-LvsNetns $ns arptables '-A', 'OUTPUT', '-j', 'mangle', '-s', $old, '--mangle-ip-s', $Rs1.Address
        $null = Invoke-LvsNative ip '-n', $ns, 'addr', 'add', "$old/32", 'dev', 'eth0'

        $kept = Invoke-LvsInNamespace $ns { param($v, $o, $p) Set-LvsRealServer -VirtualIP $v, $o -RcLocalPath $p } -ArgumentList $Vip, $old, $rc
        "$($kept.Status)" | Should -Not -Be 'Failed'
        Get-RecordedAddress | Sort-Object | Should -Be @($old, $Vip | Sort-Object) -Because 'the record takes over the VIPs of the old block'

        $null = Invoke-LvsInNamespace $ns { param($v, $p) Set-LvsRealServer -VirtualIP $v -RcLocalPath $p } -ArgumentList $Vip, $rc

        @(Get-LvsLabAddress -Namespace $ns | Where-Object Address -EQ $old) | Should -HaveCount 0
        @(Get-LvsLabArpRule $ns | Where-Object { $old -in $_.Source, $_.Destination }) | Should -HaveCount 0 -Because 'the old release''s rules were LvsDirect''s'
        Get-RecordedAddress | Should -Be @($Vip)
    }
}

Describe 'The host lock and per-namespace state' -Skip:([bool]$SkipReason) {
    BeforeEach { Reset-RealServer }

    It 'lives in a root-only folder: an unprivileged user cannot open, let alone hold, the lock' {
        $null = Invoke-LvsInNamespace $Rs1.Namespace { param($v) New-LvsVip -Address $v } -ArgumentList $Vip
        $paths = Get-LvsNamespaceStatePath -Namespace $Rs1.Namespace
        $lock = Join-Path $paths.Runtime 'lock'

        (Invoke-LvsNative stat '-c', '%U %a', $paths.Runtime).StdOut.Trim() | Should -Be 'root 700'
        (Invoke-LvsNative stat '-c', '%U %a', '/run/lvsdirect').StdOut.Trim() | Should -Be 'root 700'
        (Invoke-LvsNative stat '-c', '%U %a %F', $lock).StdOut.Trim() | Should -Be 'root 600 regular empty file'
        (Invoke-LvsNative stat '-c', '%U %a', $paths.Durable).StdOut.Trim() | Should -Be 'root 700'
        (Invoke-LvsNative stat '-c', '%U %a', $paths.Record).StdOut.Trim() | Should -Be 'root 600'
        @(Get-ChildItem -LiteralPath $paths.Runtime -Force).Name | Should -Be @('lock') -Because 'one lock per namespace, nothing else left behind'

        $try = Invoke-LvsNative runuser '-u', 'nobody', '--', 'flock', '--nonblock', $lock, 'true' -AllowFailure
        $try.ExitCode | Should -Not -Be 0
        $try.StdErr | Should -Match 'Permission denied'
        $plant = Invoke-LvsNative runuser '-u', 'nobody', '--', 'sh', '-c', "ln -s /tmp/x $($paths.Runtime)/evil" -AllowFailure
        $plant.ExitCode | Should -Not -Be 0
        @(Get-ChildItem -LiteralPath $paths.Runtime -Force).Name | Should -Be @('lock')
    }

    It 'the lock folders of named namespaces that are gone do not pile up' {
        $gone = Add-LvsLabHost -Lab $Lab -Role 'gone' -Address '192.0.2.31'
        $null = Invoke-LvsInNamespace $gone.Namespace -Fresh { param($v) New-LvsVip -Address $v -WhatIf } -ArgumentList $Vip
        $runtime = (Get-LvsNamespaceStatePath -Namespace $gone.Namespace).Runtime
        Test-Path -LiteralPath (Join-Path $runtime 'lock') | Should -BeTrue

        # Deleted without any cleanup, as an admin or a container runtime would.
        $null = Invoke-LvsNative ip 'netns', 'delete', $gone.Namespace
        $null = Invoke-LvsInNamespace $Rs1.Namespace { param($v) New-LvsVip -Address $v -WhatIf } -ArgumentList $Vip

        Test-Path -LiteralPath $runtime | Should -BeFalse
        Test-Path -LiteralPath (Get-LvsNamespaceStatePath -Namespace $Rs1.Namespace).Runtime | Should -BeTrue
        Clear-LvsNamespaceState -Namespace $gone.Namespace
        $Lab.Hosts.Remove('gone')
        $null = $Lab.Namespaces.Remove($gone.Namespace)
    }

    It 'a sysctl record left by a deleted namespace is not applied to a new one of the same name: it is removed' {
        $role = 'again'
        $first = Add-LvsLabHost -Lab $Lab -Role $role -Address '192.0.2.32'
        $ns = $first.Namespace
        $record = Join-Path (Get-LvsNamespaceStatePath -Namespace $ns).Durable 'arp-sysctl.json'
        try {
            $null = Invoke-LvsInNamespace $ns -Fresh { param($v) New-LvsVip -Address $v -Method Sysctl } -ArgumentList $Vip
            Test-Path -LiteralPath $record | Should -BeTrue
            # Deleted without cleanup; a new namespace of the same name, where eth0's arp_announce is 1.
            $null = Invoke-LvsNative ip 'netns', 'delete', $ns
            $Lab.Hosts.Remove($role)
            $null = $Lab.Namespaces.Remove($ns)
            $null = Add-LvsLabHost -Lab $Lab -Role $role -Address '192.0.2.32'
            $null = Invoke-LvsNetns $ns sysctl '-q', '-w', 'net.ipv4.conf.eth0.arp_announce=1'
            Test-Path -LiteralPath $record | Should -BeTrue -Because 'the stale record is still there before the next run'

            $null = Invoke-LvsInNamespace $ns -Fresh { param($v) New-LvsVip -Address $v -Method Sysctl } -ArgumentList $Vip
            $previous = (Get-Content -LiteralPath $record -Raw | ConvertFrom-Json).sysctls |
                Where-Object name -EQ 'net.ipv4.conf.eth0.arp_announce'
            $previous.previous | Should -Be 1
            $null = Invoke-LvsInNamespace $ns -Fresh { param($v) Remove-LvsVip -Address $v } -ArgumentList $Vip

            (Invoke-LvsNetns $ns sysctl '-n', 'net.ipv4.conf.eth0.arp_announce').StdOut.Trim() | Should -Be '1'
            (Invoke-LvsNetns $ns sysctl '-n', 'net.ipv4.conf.all.arp_announce').StdOut.Trim() | Should -Be '0'
            Test-Path -LiteralPath $record | Should -BeFalse
        }
        finally {
            Remove-LvsNamespace -Name $ns
            $Lab.Hosts.Remove($role)
            $null = $Lab.Namespaces.Remove($ns)
        }
        Test-Path -LiteralPath (Get-LvsNamespaceStatePath -Namespace $ns).Durable | Should -BeFalse
    }
}
