#Requires -Version 7.4
# Save-LvsVip on real daemons. A real server in a namespace gets its VIPs from the module; Save-LvsVip writes them
# into a configuration folder below a temp root (never the host's /etc); then a FRESH namespace, with nothing
# configured, runs the real /lib/systemd/systemd-networkd on those files (and on what `netplan generate
# --root-dir` renders from them), and its addresses are read with ip -j addr from outside the module.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:SkipReason = Test-LvsLabPrerequisite -Program 'ip', 'arptables', 'arptables-save', 'unshare', 'netplan'
    if (-not $SkipReason -and -not (Test-Path -LiteralPath '/lib/systemd/systemd-networkd')) { $script:SkipReason = 'systemd-networkd is not installed' }
    if ($SkipReason) { Write-Warning "LvsDirect native persistence tests skipped: $SkipReason." }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:SkipReason = Test-LvsLabPrerequisite -Program 'ip', 'arptables', 'arptables-save', 'unshare', 'netplan'
    if ($SkipReason) { return }

    $script:Prefix = New-LvsLabPrefix
    $script:Namespaces = [System.Collections.Generic.List[string]]::new()
    $script:Temp = Join-Path ([IO.Path]::GetTempPath()) ("lvsnative-" + [guid]::NewGuid().ToString('n').Substring(0, 8))
    $null = New-Item -ItemType Directory -Path $Temp
    $script:Rs = "${Prefix}rs"
    $script:RealIP = '192.0.2.11'
    $script:OnEth0 = '203.0.113.10'
    $script:OnLo = '203.0.113.20'
    $script:HostNetwork = "[Match]`nName=eth0`n`n[Network]`nAddress=$RealIP/24`n"

    function New-LinkedNamespace {
        # A namespace whose eth0 has carrier: its veth peer sits, up, in a second lab namespace (never the host's).
        param([string] $Name)
        New-LvsNamespace -Name $Name
        New-LvsNamespace -Name "${Name}p"
        $Namespaces.Add($Name); $Namespaces.Add("${Name}p")
        $null = Invoke-LvsNative ip '-n', "${Name}p", 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', $Name
        $null = Invoke-LvsNative ip '-n', "${Name}p", 'link', 'set', 'p0', 'up'
        $null = Invoke-LvsNative ip '-n', "${Name}p", 'addr', 'add', '192.0.2.1/24', 'dev', 'p0'
        Set-LvsNamespaceArpSysctl -Namespace $Name
    }

    function Start-LabNetworkd {
        <#
        The real systemd-networkd in a namespace, as SPEC section 4 says: its own mount namespace with a private
        /run (netif folders owned by systemd-network), the given folder over /etc/systemd/network, /sys read-only.
        #>
        param([string] $Namespace, [string] $NetworkFolder, [string] $RunNetworkFolder)
        $run = Join-Path $Temp "run-$Namespace"
        foreach ($d in 'links', 'leases', 'lldp') { $null = New-Item -ItemType Directory -Path "$run/systemd/netif/$d" -Force }
        $null = Invoke-LvsNative chown '-R', 'systemd-network:systemd-network', "$run/systemd/netif"
        if ($RunNetworkFolder) {
            $null = New-Item -ItemType Directory -Path "$run/systemd/network" -Force
            Copy-Item -Path "$RunNetworkFolder/*" -Destination "$run/systemd/network" -Recurse
        }
        $null = New-Item -ItemType Directory -Path $NetworkFolder -Force
        $mounts = "mount --bind '$run' /run && mount --bind '$NetworkFolder' /etc/systemd/network && mount -o remount,ro /sys && exec /lib/systemd/systemd-networkd"
        $psi = [System.Diagnostics.ProcessStartInfo]::new((Find-LvsProgram ip))
        foreach ($a in 'netns', 'exec', $Namespace, 'unshare', '--mount', 'sh', '-c', $mounts) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        [System.Diagnostics.Process]::Start($psi)
    }

    function Wait-LabAddress {
        # The namespace's addresses once every expected one is there (networkd needs about a second), or after 15 s.
        param([string] $Namespace, [string[]] $Expected)
        $deadline = [DateTime]::UtcNow.AddSeconds(15)
        do {
            $now = @(Get-LvsLabAddress -Namespace $Namespace | ForEach-Object { "$($_.InterfaceName) $($_.Address)/$($_.PrefixLength)" })
            if (@($Expected | Where-Object { $_ -notin $now }).Count -eq 0) { return $now }
            Start-Sleep -Milliseconds 200
        } while ([DateTime]::UtcNow -lt $deadline)
        $now
    }

    function Stop-LabNetworkd {
        param([System.Diagnostics.Process] $Process)
        if ($Process -and -not $Process.HasExited) { $Process.Kill(); $null = $Process.WaitForExit(5000) }
        if ($Process) { $Process.Dispose() }
    }

    function Save-InRealServer {
        # Save-LvsVip (and the suppression's own saves) run as a user would, inside the real server's namespace.
        param([string] $Root, [string] $Target = 'Networkd', [switch] $NoSuppression, [switch] $Force)
        Invoke-LvsInNamespace $Rs -Fresh {
            param($Root, $Target, $NoSuppression, $Force)
            if (-not $NoSuppression) {
                $null = Save-ArpSuppression -Path "$Root/etc/sysconfig/arptables"
                $null = Save-ArpSuppression -Method Sysctl -Path "$Root/etc/sysctl.d/90-lvsdirect-arp.conf"
            }
            Save-LvsVip -Target $Target -Path $Root -Force:$Force
        } -ArgumentList $Root, $Target, $NoSuppression.IsPresent, $Force.IsPresent
    }

    New-LinkedNamespace -Name $Rs
    $null = Invoke-LvsNative ip '-n', $Rs, 'addr', 'add', "$RealIP/24", 'dev', 'eth0'
    $null = Invoke-LvsNative ip '-n', $Rs, 'link', 'set', 'eth0', 'up'
    $null = Invoke-LvsNative ip '-n', $Rs, 'route', 'add', 'default', 'via', '192.0.2.1'
    $null = Invoke-LvsInNamespace $Rs -Fresh {
        param($OnEth0, $OnLo)
        New-LvsVip -Address $OnEth0 -InterfaceName eth0
        New-LvsVip -Address $OnLo -Method Sysctl
    } -ArgumentList $OnEth0, $OnLo
}

AfterAll {
    if ($SkipReason) { return }
    Remove-LvsNamespace -Name $Namespaces
    if (Test-Path -LiteralPath $Temp) { Remove-Item -LiteralPath $Temp -Recurse -Force }
}

Describe 'Save-LvsVip -Target Auto on a netplan host' -Skip:([bool]$SkipReason) {
    BeforeAll {
        $script:PlanRoot = Join-Path $Temp 'netplan'
        $null = New-Item -ItemType Directory -Path "$PlanRoot/etc/netplan" -Force
        $script:CloudInit = "network:`n  version: 2`n  ethernets:`n    eth0:`n      addresses: [$RealIP/24]`n"
        Set-Content -LiteralPath "$PlanRoot/etc/netplan/50-cloud-init.yaml" -Value $CloudInit -NoNewline
        $null = Invoke-LvsNative chmod '600', "$PlanRoot/etc/netplan/50-cloud-init.yaml"
    }

    It 'picks netplan, writes a file of its own and leaves 50-cloud-init.yaml as it was' {
        $results = Save-InRealServer -Root $PlanRoot -Target Auto
        $results.Target | Sort-Object -Unique | Should -Be 'Netplan'
        ($results.Reason -join "`n") | Should -Match 'Auto chose Netplan'
        Get-Content -Raw -LiteralPath "$PlanRoot/etc/netplan/50-cloud-init.yaml" | Should -BeExactly $CloudInit
        (Get-Item -LiteralPath "$PlanRoot/etc/netplan/90-lvsdirect.yaml").UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite')
    }

    It 'renders, through netplan generate --root-dir, networkd files that keep the host''s address and add the VIPs' {
        $generate = Invoke-LvsNative netplan 'generate', '--root-dir', $PlanRoot
        $generate.StdErr | Should -Not -Match 'Error'
        $eth0 = Get-Content -Raw -LiteralPath "$PlanRoot/run/systemd/network/10-netplan-eth0.network"
        $eth0 | Should -Match "(?m)^Address=$([regex]::Escape($RealIP))/24$"
        $eth0 | Should -Match "(?m)^Address=$([regex]::Escape($OnEth0))/32$"
        Get-Content -Raw -LiteralPath "$PlanRoot/run/systemd/network/10-netplan-lo.network" | Should -Match "(?m)^Address=$([regex]::Escape($OnLo))/32$"
    }

    It 'brings a fresh host up with the VIPs from what netplan rendered, under the real systemd-networkd' {
        $fresh = "${Prefix}plan"
        New-LinkedNamespace -Name $fresh
        $networkd = Start-LabNetworkd -Namespace $fresh -NetworkFolder (Join-Path $Temp 'empty-etc-network') -RunNetworkFolder "$PlanRoot/run/systemd/network"
        try {
            $addresses = Wait-LabAddress -Namespace $fresh -Expected "eth0 $RealIP/24", "eth0 $OnEth0/32", "lo $OnLo/32"
            $addresses | Should -Contain "eth0 $RealIP/24"
            $addresses | Should -Contain "eth0 $OnEth0/32"
            $addresses | Should -Contain "lo $OnLo/32"
        }
        finally {
            Stop-LabNetworkd $networkd
        }
    }
}

Describe 'Save-LvsVip -Target Networkd' -Skip:([bool]$SkipReason) {
    BeforeAll {
        $script:Root = Join-Path $Temp 'networkd'
        $script:NetworkDir = "$Root/etc/systemd/network"
        $null = New-Item -ItemType Directory -Path $NetworkDir -Force
        Set-Content -LiteralPath "$NetworkDir/10-eth0.network" -Value $HostNetwork -NoNewline
        $script:HostHash = (Get-FileHash "$NetworkDir/10-eth0.network").Hash
    }

    It 'refuses, writing nothing, while the VIPs'' ARP suppression would not load before the network' {
        { Save-InRealServer -Root $Root -NoSuppression } | Should -Throw -ErrorId 'SuppressionNotPersisted,*'
        @(Get-ChildItem -LiteralPath $NetworkDir -Recurse -File).Name | Should -Be '10-eth0.network'
    }

    It 'writes a drop-in for the host''s eth0 .network and a file of its own for lo' {
        $results = Save-InRealServer -Root $Root
        @($results | Where-Object Action -eq 'Written').Count | Should -Be 2
        $dropIn = Get-Content -Raw -LiteralPath "$NetworkDir/10-eth0.network.d/90-lvsdirect.conf"
        $dropIn | Should -Match "(?m)^Address=$([regex]::Escape($OnEth0))/32$"
        $dropIn | Should -Not -Match ([regex]::Escape($OnLo))
        Get-Content -Raw -LiteralPath "$NetworkDir/10-lvsdirect-lo.network" | Should -Match "(?m)^Name=lo$[\s\S]*^Address=$([regex]::Escape($OnLo))/32$"
        (Get-FileHash "$NetworkDir/10-eth0.network").Hash | Should -Be $HostHash
    }

    It 'changes nothing on a second save' {
        $before = Get-ChildItem -LiteralPath $NetworkDir -Recurse -File | ForEach-Object { "$($_.FullName) $($_.LastWriteTimeUtc.Ticks)" }
        $results = Save-InRealServer -Root $Root
        @($results.Action | Sort-Object -Unique) | Should -Be 'Unchanged'
        Get-ChildItem -LiteralPath $NetworkDir -Recurse -File | ForEach-Object { "$($_.FullName) $($_.LastWriteTimeUtc.Ticks)" } | Should -Be $before
    }

    It 'brings a fresh host up with its primary address and both VIPs under the real systemd-networkd' {
        $fresh = "${Prefix}fresh"
        New-LinkedNamespace -Name $fresh
        $networkd = Start-LabNetworkd -Namespace $fresh -NetworkFolder $NetworkDir
        try {
            $addresses = Wait-LabAddress -Namespace $fresh -Expected "eth0 $RealIP/24", "eth0 $OnEth0/32", "lo $OnLo/32"
            $addresses | Should -Contain "eth0 $RealIP/24"
            $addresses | Should -Contain "eth0 $OnEth0/32"
            $addresses | Should -Contain "lo $OnLo/32"
            $addresses | Should -Contain 'lo 127.0.0.1/8'
        }
        finally {
            Stop-LabNetworkd $networkd
        }
        (Get-FileHash "$NetworkDir/10-eth0.network").Hash | Should -Be $HostHash
    }

    It 'loads the saved suppression before networkd on a fresh host, which then never answers ARP for either VIP' {
        $fresh = "${Prefix}boot"
        New-LinkedNamespace -Name $fresh
        # What a boot runs before the network: the arptables service's restore and systemd-sysctl.
        $null = Invoke-LvsNetns $fresh arptables-restore -InputText (Get-Content -Raw -LiteralPath "$Root/etc/sysconfig/arptables")
        $null = Invoke-LvsNetns $fresh sysctl '-q', '-p', "$Root/etc/sysctl.d/90-lvsdirect-arp.conf"
        $networkd = Start-LabNetworkd -Namespace $fresh -NetworkFolder $NetworkDir
        try {
            $addresses = Wait-LabAddress -Namespace $fresh -Expected "eth0 $RealIP/24", "eth0 $OnEth0/32", "lo $OnLo/32"
            $addresses | Should -Contain "eth0 $OnEth0/32"
            $addresses | Should -Contain "lo $OnLo/32"
            $ask = { param($ip) (Invoke-LvsNetns "${fresh}p" arping '-b', '-c', '2', '-w', '3', '-I', 'p0', $ip -AllowFailure).StdOut }
            & $ask $RealIP | Should -Match 'reply from'
            & $ask $OnEth0 | Should -Not -Match 'reply from'
            & $ask $OnLo | Should -Not -Match 'reply from'
        }
        finally {
            Stop-LabNetworkd $networkd
        }
    }

    It 'removes its own files when the last VIP is gone, and nothing else' {
        Set-Content -LiteralPath "$NetworkDir/10-eth0.network.d/50-admin.conf" -Value "[Network]`nDNS=192.0.2.53`n"
        $results = Invoke-LvsInNamespace $Rs -Fresh { param($Root) Get-LvsVip | Remove-LvsVip; Save-LvsVip -Target Networkd -Path $Root } -ArgumentList $Root
        @(Get-LvsLabAddress -Namespace $Rs | Where-Object Address -In $OnEth0, $OnLo).Count | Should -Be 0
        @($results | Where-Object Action -eq 'Removed').Count | Should -Be 2
        Test-Path -LiteralPath "$NetworkDir/10-eth0.network.d/90-lvsdirect.conf" | Should -BeFalse
        Test-Path -LiteralPath "$NetworkDir/10-lvsdirect-lo.network" | Should -BeFalse
        Test-Path -LiteralPath "$NetworkDir/10-eth0.network.d/50-admin.conf" | Should -BeTrue
        (Get-FileHash "$NetworkDir/10-eth0.network").Hash | Should -Be $HostHash
    }
}

Describe 'Set-LvsRealServer -PersistTarget and Test-LvsRealServer with native persistence' -Skip:([bool]$SkipReason) {
    BeforeAll {
        $script:PoolRoot = Join-Path $Temp 'pool'
        $null = New-Item -ItemType Directory -Path "$PoolRoot/etc/systemd/network" -Force
        Set-Content -LiteralPath "$PoolRoot/etc/systemd/network/10-eth0.network" -Value $HostNetwork -NoNewline
        $script:Rules = "$PoolRoot/etc/sysconfig/arptables"
        $script:RcLocal = "$PoolRoot/rc.local"
        function Test-Persisted {
            Invoke-LvsInNamespace $Rs -Fresh {
                param($Root, $Rules, $RcLocal)
                Test-LvsRealServer -NetworkConfigPath $Root -ArpRulesPath $Rules -RcLocalPath $RcLocal | Where-Object Check -eq 'VipPersisted'
            } -ArgumentList $PoolRoot, $Rules, $RcLocal
        }
    }

    It 'keeps the VIP with networkd (a drop-in) after saving its rules, and writes no rc.local' {
        $result = Invoke-LvsInNamespace $Rs -Fresh {
            param($Vip, $Root, $Rules, $RcLocal)
            Set-LvsRealServer -VirtualIP $Vip -InterfaceName eth0 -Persist -PersistTarget Networkd -NetworkConfigPath $Root -ArpRulesPath $Rules -RcLocalPath $RcLocal
        } -ArgumentList $OnEth0, $PoolRoot, $Rules, $RcLocal
        $result.Status | Should -Not -Be 'Failed' -Because "$($result.Error)"
        Get-Content -Raw -LiteralPath "$PoolRoot/etc/systemd/network/10-eth0.network.d/90-lvsdirect.conf" | Should -Match "(?m)^Address=$([regex]::Escape($OnEth0))/32$"
        Get-Content -Raw -LiteralPath $Rules | Should -Match ([regex]::Escape($OnEth0))
        Test-Path -LiteralPath $RcLocal | Should -BeFalse
    }

    It 'Test-LvsRealServer passes VipPersisted for the VIP the drop-in brings up' {
        $check = Test-Persisted | Where-Object Target -eq $OnEth0
        $check.Status | Should -Be 'Pass'
        $check.Detail | Should -Match '90-lvsdirect.conf \(Networkd\)'
    }

    It 'Test-LvsRealServer reports drift both ways: a VIP in the file but not live, a managed VIP live but in no file' {
        $extra = '203.0.113.30'
        $null = Invoke-LvsNative ip '-n', $Rs, 'addr', 'del', "$OnEth0/32", 'dev', 'eth0'
        $null = Invoke-LvsInNamespace $Rs -Fresh { param($Extra) New-LvsVip -Address $Extra -InterfaceName eth0 } -ArgumentList $extra
        $checks = Test-Persisted
        ($checks | Where-Object Target -eq $OnEth0).Status | Should -Be 'Fail'
        ($checks | Where-Object Target -eq $OnEth0).Detail | Should -Match 'not configured now'
        ($checks | Where-Object Target -eq $extra).Status | Should -Be 'Fail'
        ($checks | Where-Object Target -eq $extra).Remediation | Should -Match 'Save-LvsVip -Target Networkd'
    }
}
