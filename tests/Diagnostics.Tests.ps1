#Requires -Version 7.4
# Test-LvsRealServer and Test-LvsArp on a real kernel: each broken real server is built on purpose in a lab
# namespace, and the right check must fail with the right remediation; where the wire can say it too (who answers
# ARP, whether the kernel accepts a packet for the VIP), the test asks the wire or the kernel as well.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:SkipReason = Test-LvsLabPrerequisite
    if ($SkipReason) { Write-Warning "LvsDirect diagnostics tests skipped: $SkipReason." }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:SkipReason = Test-LvsLabPrerequisite
    if ($SkipReason) { return }

    # The outer process formats the results, so it needs the module's views.
    Import-LvsTestModule
    $script:Lab = New-LvsLab -RealServerCount 2
    Start-LvsNamespaceSession -Namespace $Lab.Client.Namespace
    $script:Vip = $Lab.Vip
    $script:Vip2 = '203.0.113.101'
    $script:Director = $Lab.Director
    $script:Rs1 = $Lab.Hosts['rs1']
    $script:Rs2 = $Lab.Hosts['rs2']
    $script:Listeners = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()

    function Get-RsFolder {
        param($RealServer)
        $folder = Join-Path $Lab.TempPath $RealServer.Role
        $null = New-Item -ItemType Directory -Path $folder -Force
        $folder
    }

    function Reset-RealServer {
        # Every test starts from real servers with only their own address, the lab gateway, no ARP rules, the lab's
        # sysctls, no boot files and no listener.
        Stop-Listener
        foreach ($h in $Lab.RealServers) {
            $null = Invoke-LvsNetns $h.Namespace arptables '-F'
            foreach ($range in '203.0.113.0/24', '198.51.100.0/24') {
                foreach ($dev in 'eth0', 'lo') { $null = Invoke-LvsNative ip '-n', $h.Namespace, 'addr', 'flush', 'dev', $dev, 'to', $range }
            }
            $null = Invoke-LvsNative ip '-n', $h.Namespace, 'link', 'del', 'lvx0' -AllowFailure
            $null = Invoke-LvsNative ip '-n', $h.Namespace, 'route', 'replace', 'default', 'via', $Lab.Gateway, 'dev', 'eth0'
            Set-LvsNamespaceArpSysctl -Namespace $h.Namespace
            Get-ChildItem -LiteralPath (Get-RsFolder $h) | Remove-Item -Force
        }
        Clear-LvsLabNeighbour -Lab $Lab
    }

    function Test-RealServer {
        # Test-LvsRealServer inside the real server, against its own boot files under the lab's temp folder.
        param($RealServer, [hashtable] $Parameters = @{})
        $folder = Get-RsFolder $RealServer
        $p = @{ DirectorAddress = $Director.Address; RcLocalPath = "$folder/rc.local"; ArpRulesPath = "$folder/arptables" } + $Parameters
        Invoke-LvsInNamespace $RealServer.Namespace { param($p) Test-LvsRealServer @p -WarningAction SilentlyContinue } -ArgumentList $p
    }

    function Get-Check {
        param($Results, [string] $Check, [string] $Target)
        @($Results | Where-Object { $_.Check -eq $Check -and (-not $Target -or $_.Target -eq $Target) })
    }

    function Set-CorrectRealServer {
        # What a correct real server looks like: VIP with suppression, rules saved, rc.local exported.
        param($RealServer, [string[]] $Address = @($Vip))
        $folder = Get-RsFolder $RealServer
        $null = Invoke-LvsInNamespace $RealServer.Namespace {
            param($a, $f)
            $null = New-LvsVip -Address ($a -split ',')
            $null = Save-ArpSuppression -Path "$f/arptables"
            $null = Export-RcLocal -Path "$f/rc.local"
        } -ArgumentList ($Address -join ','), $folder
    }

    function Start-Listener {
        # socat listening on Address:Port inside the real server, stopped by PID in Stop-Listener.
        param($RealServer, [string] $Address, [int] $Port)
        $psi = [System.Diagnostics.ProcessStartInfo]::new((Find-LvsProgram ip))
        foreach ($a in 'netns', 'exec', $RealServer.Namespace, 'socat', "TCP4-LISTEN:$Port,bind=$Address,reuseaddr,fork", 'EXEC:/bin/true') { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardInput = $true
        $psi.UseShellExecute = $false
        $p = [System.Diagnostics.Process]::Start($psi)
        $Listeners.Add($p)
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ((Invoke-LvsNetns $RealServer.Namespace ss '-H', '-l', '-t', '-n', "sport = :$Port").StdOut -notmatch [regex]::Escape("${Address}:$Port")) {
            if ($p.HasExited -or [DateTime]::UtcNow -gt $deadline) { throw "socat is not listening on ${Address}:$Port in $($RealServer.Namespace)." }
            Start-Sleep -Milliseconds 20
        }
    }

    function Stop-Listener {
        foreach ($p in $Listeners) {
            if (-not $p.HasExited) { $p.Kill(); $null = $p.WaitForExit(5000) }
            $p.Dispose()
        }
        $Listeners.Clear()
    }

    function Test-ArpFromClient {
        param([string] $Address = $Vip, [switch] $Quiet, [hashtable] $Parameters = @{})
        Clear-LvsLabNeighbour -Lab $Lab
        # The client has talked to both real servers (a refused TCP connection is enough), so its neighbour table can
        # name a responder's address.
        foreach ($h in $Lab.RealServers) {
            $null = Invoke-LvsNetns $Lab.Client.Namespace socat '-T', '1', '-u', "TCP4:$($h.Address):9,connect-timeout=1", 'STDOUT' -AllowFailure
        }
        Invoke-LvsInNamespace $Lab.Client.Namespace { param($a, $q, $p) Test-LvsArp -VirtualIP $a -Quiet:$q @p -WarningAction SilentlyContinue } -ArgumentList $Address, $Quiet.IsPresent, $Parameters
    }
}

AfterAll {
    if (Get-Variable -Name Listeners -Scope Script -ErrorAction SilentlyContinue) { Stop-Listener }
    if (Get-Variable -Name Lab -Scope Script -ErrorAction SilentlyContinue) { Remove-LvsLab -Lab $script:Lab }
}

Describe "Test-LvsRealServer and Test-LvsArp on real servers in network namespaces$(if ($SkipReason) { " (skipped: $SkipReason)" })" -Skip:([bool]$SkipReason) {
    BeforeEach {
        Reset-RealServer
    }

    Context 'a correct real server' {
        It 'passes every check, -Quiet is $true, and Test-LvsArp from the client finds exactly the director' {
            Set-CorrectRealServer $Rs1
            Start-Listener $Rs1 $Vip 8080

            $r = Test-RealServer $Rs1 @{ Port = 8080 }
            $failed = @($r | Where-Object Status -NE 'Pass' | ForEach-Object { "$($_.Check) $($_.Target): $($_.Detail)" })
            $failed | Should -BeNullOrEmpty
            @($r.Check | Sort-Object -Unique) | Should -Be (@('ArpAnnounce', 'ArpSuppression', 'ArpSysctlScope', 'DefaultGateway', 'InterfaceUp', 'Listener',
                'RcLocal', 'ReversePathFilter', 'SuppressionPersisted', 'VipPersisted', 'VipPresent', 'VipPrefix') | Sort-Object)
            (Get-Check $r Listener)[0].Target | Should -Be "${Vip}:8080/tcp"
            @($r | Where-Object { $_.ComputerName -ne [System.Net.Dns]::GetHostName() }).Count | Should -Be 0
            Test-RealServer $Rs1 @{ Port = 8080; Quiet = $true } | Should -BeTrue

            $arp = @(Test-ArpFromClient)
            $arp.Count | Should -Be 1
            $arp[0].MacAddress | Should -Be $Director.Mac
            "$($arp[0].Status)" | Should -Be 'Pass'
            Test-ArpFromClient -Quiet | Should -BeTrue
        }
    }

    Context 'ARP suppression' {
        It 'a VIP added by hand without suppression fails ArpSuppression and ArpAnnounce, and Test-LvsArp finds that real server''s MAC' {
            Set-CorrectRealServer $Rs2
            $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'add', "$Vip/32", 'dev', 'eth0'

            $r = Test-RealServer $Rs1
            $s = Get-Check $r ArpSuppression $Vip
            "$($s.Status)" | Should -Be 'Fail'
            $s.Remediation | Should -Be "Set-ArpSuppression -VirtualIP $Vip"
            "$((Get-Check $r ArpAnnounce $Vip).Status)" | Should -Be 'Fail'
            Test-RealServer $Rs1 @{ Quiet = $true } | Should -BeFalse
            "$((Get-Check (Test-RealServer $Rs2) ArpSuppression $Vip).Status)" | Should -Be 'Pass'

            $arp = @(Test-ArpFromClient)
            @($arp.MacAddress | Sort-Object) | Should -Be @(@($Director.Mac, $Rs1.Mac) | Sort-Object)
            @($arp.Status | ForEach-Object { "$_" } | Sort-Object -Unique) | Should -Be @('Fail')
            @($arp.Remediation | Sort-Object -Unique) | Should -Be @("Test-LvsArp -VirtualIP $Vip -DirectorAddress <the director's address>, then Set-ArpSuppression -VirtualIP $Vip on every other host that answers.")
            $culprit = $arp | Where-Object MacAddress -EQ $Rs1.Mac
            @($culprit.OwnerAddress | ForEach-Object { "$_" }) | Should -Contain $Rs1.Address
            $culprit.ResponderCount | Should -Be 2
            Test-ArpFromClient -Quiet | Should -BeFalse
        }

        It 'Test-LvsArp -DirectorAddress passes the director and fails the real server that answers, naming its address, in a view that fits 80 columns' {
            Set-CorrectRealServer $Rs2
            $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'add', "$Vip/32", 'dev', 'eth0'
            Get-ArpResponders -Lab $Lab | Should -Be (@($Director.Mac, $Rs1.Mac) | Sort-Object)

            $arp = @(Test-ArpFromClient -Parameters @{ DirectorAddress = $Director.Address })
            $arp.Count | Should -Be 2
            $d = $arp | Where-Object MacAddress -EQ $Director.Mac
            "$($d.Status)" | Should -Be 'Pass'
            $d.IsDirector | Should -BeTrue
            @($d.OwnerAddress | ForEach-Object { "$_" }) | Should -Contain $Director.Address
            $c = $arp | Where-Object MacAddress -EQ $Rs1.Mac
            "$($c.Status)" | Should -Be 'Fail'
            $c.IsDirector | Should -BeFalse
            @($c.OwnerAddress | ForEach-Object { "$_" }) | Should -Contain $Rs1.Address
            $c.Detail | Should -BeLike "$($Rs1.Address) ($($Rs1.Mac)) answers ARP for $Vip but is not the director*"
            $c.Remediation | Should -BeLike "On $($Rs1.Address) ($($Rs1.Mac)): Set-ArpSuppression -VirtualIP $Vip *"
            # The client formats what came back from the namespace: the Deserialized view.
            $text = $arp | Out-String -Width 80
            @($text -split '\r?\n' | Where-Object Length -GT 80) | Should -BeNullOrEmpty
            $text | Should -Match "Fix: On $([regex]::Escape($Rs1.Address))"
            $text | Should -Match "(?m)^Pass\s+$([regex]::Escape($Director.Mac))\s+\d+ $([regex]::Escape($Director.Address)) \(director\)"
            Test-ArpFromClient -Quiet -Parameters @{ DirectorMacAddress = $Director.Mac } | Should -BeFalse

            $null = Invoke-LvsInNamespace $Rs1.Namespace { param($v) Set-ArpSuppression -VirtualIP $v } -ArgumentList $Vip
            Get-ArpResponders -Lab $Lab | Should -Be @($Director.Mac)
            $only = @(Test-ArpFromClient -Parameters @{ DirectorAddress = $Director.Address })
            "$($only.Status)" | Should -Be 'Pass'
            $only.IsDirector | Should -BeTrue
            Test-ArpFromClient -Quiet -Parameters @{ DirectorAddress = $Director.Address } | Should -BeTrue
            Test-ArpFromClient -Quiet -Parameters @{ DirectorMacAddress = $Rs1.Mac } | Should -BeFalse
        }

        It 'only the INPUT drop rule: ArpSuppression and ArpAnnounce (arp_announce 0) fail' {
            $null = Invoke-LvsNetns $Rs1.Namespace arptables '-A', 'INPUT', '-d', $Vip, '-j', 'DROP'
            $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'add', "$Vip/32", 'dev', 'eth0'

            $r = Test-RealServer $Rs1 @{ VirtualIP = $Vip }
            (Get-Check $r ArpSuppression $Vip).Detail | Should -BeLike '*Only the INPUT drop rule*'
            "$((Get-Check $r ArpAnnounce $Vip).Status)" | Should -Be 'Fail'
            (Get-Check $r ArpAnnounce $Vip).Detail | Should -BeLike '*arp_announce is 0*'
        }

        It 'ARP sysctls on lo alone fail and Test-LvsArp sees the real server; the same values on conf/all pass and only the director answers' {
            $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'add', "$Vip/32", 'dev', 'lo'
            $null = Invoke-LvsNetns $Rs1.Namespace sysctl '-q', '-w', 'net.ipv4.conf.lo.arp_ignore=1', 'net.ipv4.conf.lo.arp_announce=2'

            $r = Test-RealServer $Rs1
            $scope = Get-Check $r ArpSysctlScope lo
            "$($scope.Status)" | Should -Be 'Fail'
            $scope.Remediation | Should -BeLike '*net.ipv4.conf.all.arp_ignore=1*'
            "$((Get-Check $r ArpSuppression $Vip).Status)" | Should -Be 'Fail'
            @(Test-ArpFromClient).MacAddress | Should -Contain $Rs1.Mac

            $null = Invoke-LvsNetns $Rs1.Namespace sysctl '-q', '-w', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2'
            $r = Test-RealServer $Rs1
            "$((Get-Check $r ArpSysctlScope lo).Status)" | Should -Be 'Pass'
            $s = Get-Check $r ArpSuppression $Vip
            "$($s.Status)" | Should -Be 'Pass'
            $s.Detail | Should -BeLike 'sysctl method*'
            "$((Get-Check $r ArpAnnounce $Vip).Status)" | Should -Be 'Pass'
            @(Test-ArpFromClient).MacAddress | Should -Be @($Director.Mac)
        }

        It 'a VIP wider than /32 on lo fails VipPrefix' {
            $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'add', "$Vip/24", 'dev', 'lo'

            $p = Get-Check (Test-RealServer $Rs1) VipPrefix $Vip
            "$($p.Status)" | Should -Be 'Fail'
            $p.Detail | Should -BeLike '*whole subnet local*'
            $p.Remediation | Should -Be "ip addr del $Vip/24 dev lo; New-LvsVip -Address $Vip/32 -InterfaceName lo"
        }
    }

    Context 'routing' {
        It 'a default gateway that is the director fails DefaultGateway' {
            Set-CorrectRealServer $Rs1
            $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'route', 'replace', 'default', 'via', $Director.Address, 'dev', 'eth0'

            $g = Get-Check (Test-RealServer $Rs1) DefaultGateway
            "$($g.Status)" | Should -Be 'Fail'
            $g.Detail | Should -BeLike "*is the director $($Director.Address)*"
            $g.Remediation | Should -BeLike 'ip route replace default via*'
            Test-RealServer $Rs1 @{ Quiet = $true } | Should -BeFalse
        }

        It 'strict rp_filter with replies leaving by another interface fails, as the kernel agrees; the remediation fixes both' {
            Set-CorrectRealServer $Rs1
            # A second interface takes the default route: packets for the VIP arrive on eth0, replies leave by lvx0.
            $ns = $Rs1.Namespace
            $null = Invoke-LvsNative ip '-n', $ns, 'link', 'add', 'lvx0', 'type', 'veth', 'peer', 'name', 'lvx1'
            foreach ($l in 'lvx0', 'lvx1') { $null = Invoke-LvsNative ip '-n', $ns, 'link', 'set', $l, 'up' }
            $null = Invoke-LvsNative ip '-n', $ns, 'addr', 'add', '198.51.100.11/24', 'dev', 'lvx0'
            $null = Invoke-LvsNative ip '-n', $ns, 'route', 'replace', 'default', 'via', '198.51.100.1', 'dev', 'lvx0'
            $null = Invoke-LvsNetns $ns sysctl '-q', '-w', 'net.ipv4.conf.all.rp_filter=1'
            # What the kernel does with a packet for the VIP from a client behind the default route, arriving on eth0.
            $kernelAccepts = { (Invoke-LvsNative ip '-n', $ns, 'route', 'get', $Vip, 'from', '203.0.113.50', 'iif', 'eth0' -AllowFailure).ExitCode -eq 0 }
            & $kernelAccepts | Should -BeFalse

            $f = Get-Check (Test-RealServer $Rs1) ReversePathFilter $Vip
            "$($f.Status)" | Should -Be 'Fail'
            $f.Detail | Should -BeLike '*arrive on eth0*leaves by lvx0*'
            $f.Remediation | Should -Be 'sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.eth0.rp_filter=2'

            $null = Invoke-LvsNetns $ns sysctl (@('-q') + ($f.Remediation -split ' ' | Select-Object -Skip 1))
            & $kernelAccepts | Should -BeTrue
            "$((Get-Check (Test-RealServer $Rs1) ReversePathFilter $Vip).Status)" | Should -Be 'Pass'
        }
    }

    Context 'the VIP and its listener' {
        It 'a VIP that rc.local and the saved rules bring back but that is gone now fails VipPresent and VipPersisted' {
            Set-CorrectRealServer $Rs1
            $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'del', "$Vip/32", 'dev', 'eth0'

            $r = Test-RealServer $Rs1
            $p = Get-Check $r VipPresent $Vip
            "$($p.Status)" | Should -Be 'Fail'
            $p.Remediation | Should -Be "New-LvsVip -Address $Vip -InterfaceName eth0"
            "$((Get-Check $r VipPersisted $Vip).Status)" | Should -Be 'Fail'
            (Get-Check $r VipPersisted $Vip).Detail | Should -BeLike '*not configured now*'
        }

        It 'nothing listening on VIP:port fails Listener; socat on the VIP, or on 0.0.0.0, passes' {
            Set-CorrectRealServer $Rs1

            $l = Get-Check (Test-RealServer $Rs1 @{ Port = 8080 }) Listener
            "$($l.Status)" | Should -Be 'Fail'
            $l.Remediation | Should -BeLike "Start the service bound to ${Vip}:8080 or 0.0.0.0:8080*"

            Start-Listener $Rs1 $Vip 8080
            "$((Get-Check (Test-RealServer $Rs1 @{ Port = 8080 }) Listener).Status)" | Should -Be 'Pass'
            Start-Listener $Rs1 '0.0.0.0' 8081
            "$((Get-Check (Test-RealServer $Rs1 @{ Port = 8081 }) Listener).Status)" | Should -Be 'Pass'
            "$((Get-Check (Test-RealServer $Rs1 @{ Port = 8082 }) Listener).Status)" | Should -Be 'Fail'
        }
    }

    Context 'persistence' {
        It 'a VIP added after Export-RcLocal and Save-ArpSuppression is reported as lost at the next reboot' {
            Set-CorrectRealServer $Rs1
            $null = Invoke-LvsInNamespace $Rs1.Namespace { param($v) New-LvsVip -Address $v } -ArgumentList $Vip2

            $r = Test-RealServer $Rs1
            $v = Get-Check $r VipPersisted $Vip2
            "$($v.Status)" | Should -Be 'Fail'
            $v.Detail | Should -BeLike '*lost at the next reboot*'
            $v.Remediation | Should -Be 'Export-RcLocal'
            $s = Get-Check $r SuppressionPersisted $Vip2
            "$($s.Status)" | Should -Be 'Fail'
            $s.Remediation | Should -Be 'Save-ArpSuppression, or Export-RcLocal'
            "$((Get-Check $r VipPersisted $Vip).Status)" | Should -Be 'Pass'
        }

        It 'a VIP removed after export is reported as drift the other way, and a fresh export and save clear it' {
            Set-CorrectRealServer $Rs1 -Address $Vip, $Vip2
            $null = Invoke-LvsInNamespace $Rs1.Namespace { param($v) Remove-LvsVip -Address $v } -ArgumentList $Vip2

            $r = Test-RealServer $Rs1
            $v = Get-Check $r VipPersisted $Vip2
            "$($v.Status)" | Should -Be 'Fail'
            $v.Detail | Should -BeLike '*adds 203.0.113.101/32 dev eth0 at boot, but it is not configured now*'
            $s = Get-Check $r SuppressionPersisted $Vip2
            "$($s.Status)" | Should -Be 'Fail'
            $s.Detail | Should -BeLike '*restore ARP suppression for 203.0.113.101 at boot, but none is live now*'

            $folder = Get-RsFolder $Rs1
            $null = Invoke-LvsInNamespace $Rs1.Namespace { param($f) $null = Save-ArpSuppression -Path "$f/arptables"; $null = Export-RcLocal -Path "$f/rc.local" } -ArgumentList $folder
            $r = Test-RealServer $Rs1
            @($r | Where-Object Target -EQ $Vip2) | Should -BeNullOrEmpty
            @($r | Where-Object Status -NE 'Pass') | Should -BeNullOrEmpty
        }

        It 'saved rules that rewrite to another real IP are drift' {
            Set-CorrectRealServer $Rs1
            $file = Join-Path (Get-RsFolder $Rs1) 'arptables'
            (Get-Content -Raw -LiteralPath $file) -replace [regex]::Escape("--mangle-ip-s $($Rs1.Address)"), '--mangle-ip-s 192.0.2.99' | Set-Content -LiteralPath $file -NoNewline

            $s = Get-Check (Test-RealServer $Rs1) SuppressionPersisted $Vip
            "$($s.Status)" | Should -Be 'Fail'
            $s.Detail | Should -BeLike '*mangle to 192.0.2.99*but live it is both rules (mangle to 192.0.2.11)*'
            $s.Remediation | Should -Be 'Save-ArpSuppression'
        }

        It 'an rc.local that is not executable fails RcLocal' {
            Set-CorrectRealServer $Rs1
            $rc = Join-Path (Get-RsFolder $Rs1) 'rc.local'
            $null = Invoke-LvsNative chmod '0644', $rc

            $c = Get-Check (Test-RealServer $Rs1) RcLocal
            "$($c.Status)" | Should -Be 'Fail'
            $c.Remediation | Should -Be 'Export-RcLocal'
        }

        It 'LvsDirect''s systemd unit counts as the boot file when rc.local has no block; a VIP added after it is lost at reboot' {
            $folder = Get-RsFolder $Rs1
            $unit = Join-Path $folder 'lvsdirect.service'
            $null = Invoke-LvsInNamespace $Rs1.Namespace {
                param($vip, $f, $u)
                $null = New-LvsVip -Address $vip
                $null = Save-ArpSuppression -Path "$f/arptables"
                $null = Export-RcLocal -Target SystemdUnit -Path $u
            } -ArgumentList $Vip, $folder, $unit
            Set-Content -LiteralPath (Join-Path $folder 'rc.local') -Value "#!/bin/sh`nexit 0"

            $r = Test-RealServer $Rs1 @{ SystemdUnitPath = $unit }
            "$((Get-Check $r VipPersisted $Vip).Status)" | Should -Be 'Pass'
            "$((Get-Check $r SuppressionPersisted $Vip).Status)" | Should -Be 'Pass'
            (Get-Check $r RcLocal).Target | Should -Be $unit

            $null = Invoke-LvsInNamespace $Rs1.Namespace { $null = New-LvsVip -Address 203.0.113.77 }
            $later = Get-Check (Test-RealServer $Rs1 @{ SystemdUnitPath = $unit }) VipPersisted '203.0.113.77'
            "$($later.Status)" | Should -Be 'Fail'
        }
    }

    Context 'the nftables and REDIRECT methods' {
        BeforeEach {
            foreach ($h in $Lab.RealServers) {
                $null = Invoke-LvsNetns $h.Namespace nft 'delete', 'table', 'arp', 'lvsdirect' -AllowFailure
                $null = Invoke-LvsNetns $h.Namespace iptables '-t', 'nat', '-F', 'PREROUTING'
            }
        }

        AfterAll {
            foreach ($h in $Lab.RealServers) {
                $null = Invoke-LvsNetns $h.Namespace nft 'delete', 'table', 'arp', 'lvsdirect' -AllowFailure
                $null = Invoke-LvsNetns $h.Namespace iptables '-t', 'nat', '-F', 'PREROUTING'
            }
        }

        It 'an nftables-method real server, saved and included, passes every check; without the include SuppressionPersisted fails' {
            $folder = Get-RsFolder $Rs1
            $null = Invoke-LvsInNamespace $Rs1.Namespace {
                param($v, $f)
                $null = New-LvsVip -Address $v -Method Nftables
                $null = Save-ArpSuppression -Method Nftables -Path "$f/arp.nft" -ConfigPath "$f/nftables.conf"
                $null = Export-RcLocal -Path "$f/rc.local"
            } -ArgumentList $Vip, $folder
            @(Get-LvsLabArpRule $Rs1.Namespace).Count | Should -Be 0 -Because 'the nftables method uses no arptables rules'
            $nftPaths = @{ NftRulesPath = "$folder/arp.nft"; NftConfigPath = "$folder/nftables.conf" }

            $r = Test-RealServer $Rs1 $nftPaths
            @($r | Where-Object Status -NE 'Pass' | ForEach-Object { "$($_.Check) $($_.Target): $($_.Detail)" }) | Should -BeNullOrEmpty
            (Get-Check $r ArpSuppression $Vip).Detail | Should -BeLike 'nftables*'
            (Get-Check $r SuppressionPersisted $Vip).Detail | Should -BeLike "*included from $folder/nftables.conf*"
            @(Test-ArpFromClient).MacAddress | Should -Be @($Director.Mac)

            Set-Content -LiteralPath "$folder/nftables.conf" -Value '#!/usr/sbin/nft -f'
            $c = Get-Check (Test-RealServer $Rs1 $nftPaths) SuppressionPersisted $Vip
            "$($c.Status)" | Should -Be 'Fail'
            $c.Remediation | Should -Be 'Save-ArpSuppression -Method Nftables'
        }

        It 'half of the nftables table (no drop rule) fails ArpSuppression; the nftables method''s Set-ArpSuppression fixes it' {
            $null = Invoke-LvsInNamespace $Rs1.Namespace { param($v) New-LvsVip -Address $v -Method Nftables } -ArgumentList $Vip
            $null = Invoke-LvsNetns $Rs1.Namespace nft 'flush', 'chain', 'arp', 'lvsdirect', 'input'

            $c = Get-Check (Test-RealServer $Rs1 @{ VirtualIP = $Vip }) ArpSuppression $Vip
            "$($c.Status)" | Should -Be 'Fail'
            $c.Detail | Should -BeLike '*Only the OUTPUT mangle rule*'
            $c.Remediation | Should -Be "Set-ArpSuppression -VirtualIP $Vip -Method Nftables"

            $null = Invoke-LvsInNamespace $Rs1.Namespace { param($v) Set-ArpSuppression -VirtualIP $v -Method Nftables } -ArgumentList $Vip
            "$((Get-Check (Test-RealServer $Rs1 @{ VirtualIP = $Vip }) ArpSuppression $Vip).Status)" | Should -Be 'Pass'
            @(Test-ArpFromClient).MacAddress | Should -Be @($Director.Mac)
        }

        It 'a REDIRECT-method real server (no VIP address) passes VipPresent and ArpSuppression saying why; the VIP added by hand beside it fails' {
            $null = Invoke-LvsInNamespace $Rs1.Namespace { param($v) New-LvsRedirect -VirtualIP $v -Port 8080 -Protocol tcp } -ArgumentList $Vip

            $r = Test-RealServer $Rs1
            @($r | Where-Object Status -NE 'Pass' | ForEach-Object { "$($_.Check) $($_.Target): $($_.Detail)" }) | Should -BeNullOrEmpty
            (Get-Check $r VipPresent $Vip).Detail | Should -BeLike '*REDIRECT method*tcp/8080*'
            (Get-Check $r ArpSuppression $Vip).Detail | Should -BeLike 'REDIRECT method*never answers ARP*'
            @(Test-ArpFromClient).MacAddress | Should -Be @($Director.Mac)

            $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'add', "$Vip/32", 'dev', 'eth0'
            $c = Get-Check (Test-RealServer $Rs1) ArpSuppression $Vip
            "$($c.Status)" | Should -Be 'Fail'
            $c.Remediation | Should -Be "Set-ArpSuppression -VirtualIP $Vip"
        }
    }

    Context 'without root, arptables or arping' {
        It 'a sysctl-method real server without arptables installed passes ArpSuppression' {
            $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'add', "$Vip/32", 'dev', 'lo'
            $null = Invoke-LvsNetns $Rs1.Namespace sysctl '-q', '-w', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2'
            $folder = Get-RsFolder $Rs1

            $r = Invoke-LvsInNamespace $Rs1.Namespace -HideProgram 'arptables', 'arptables-save', 'arptables-restore' {
                param($f) Test-LvsRealServer -RcLocalPath "$f/rc.local" -ArpRulesPath "$f/arptables"
            } -ArgumentList $folder

            $s = Get-Check $r ArpSuppression $Vip
            "$($s.Status)" | Should -Be 'Pass'
            $s.Detail | Should -BeLike 'sysctl method*'
            @(Test-ArpFromClient).MacAddress | Should -Be @($Director.Mac)
        }

        It 'without root, suppression by arptables is reported as unknown (Warning), never guessed' {
            Set-CorrectRealServer $Rs1
            $folder = Get-RsFolder $Rs1

            $r = Invoke-LvsInNamespace $Rs1.Namespace -User nobody {
                param($f, $v) Test-LvsRealServer -VirtualIP $v -RcLocalPath "$f/rc.local" -ArpRulesPath "$f/arptables" -WarningAction SilentlyContinue
            } -ArgumentList $folder, $Vip

            $s = Get-Check $r ArpSuppression $Vip
            "$($s.Status)" | Should -Be 'Warning'
            $s.Detail | Should -BeLike '*needs root*'
            "$((Get-Check $r VipPresent $Vip).Status)" | Should -Be 'Pass'
            @(Get-Check $r SuppressionPersisted) | Should -BeNullOrEmpty
        }

        It 'Test-LvsArp without arping fails with ProgramNotFound naming the package' {
            $err = $null
            try {
                Invoke-LvsInNamespace $Lab.Client.Namespace -HideProgram 'arping' { param($v) Test-LvsArp -VirtualIP $v } -ArgumentList $Vip
            }
            catch { $err = $_ }

            $err | Should -Not -BeNullOrEmpty
            $err.FullyQualifiedErrorId | Should -BeLike 'ProgramNotFound*'
            $err.Exception.Message | Should -Match "'iputils-arping' package"
        }
    }

    Context 'a pool' {
        It 'Import-LvsConfig | Test-LvsRealServer checks only the services that name this host, with their ports' {
            Set-CorrectRealServer $Rs1
            $conf = Join-Path $Lab.TempPath 'keepalived.conf'
            Set-Content -LiteralPath $conf -Value @"
virtual_server $Vip 8080 {
    lb_kind DR
    protocol TCP
    real_server $($Rs1.Address) 8080 { weight 1 }
    real_server $($Rs2.Address) 8080 { weight 1 }
}
virtual_server $Vip2 80 {
    lb_kind DR
    protocol TCP
    real_server 192.0.2.99 80 { weight 1 }
}
"@
            $folder = Get-RsFolder $Rs1
            $r = Invoke-LvsInNamespace $Rs1.Namespace {
                param($c, $f)
                Import-LvsConfig $c | Test-LvsRealServer -RcLocalPath "$f/rc.local" -ArpRulesPath "$f/arptables"
            } -ArgumentList $conf, $folder

            @($r | Where-Object Target -Like "$Vip2*") | Should -BeNullOrEmpty
            $l = Get-Check $r Listener
            $l.Count | Should -Be 1
            $l[0].Target | Should -Be "${Vip}:8080/tcp"
            "$($l[0].Status)" | Should -Be 'Fail'
            "$((Get-Check $r ArpSuppression $Vip).Status)" | Should -Be 'Pass'
        }

        It 'the results of several hosts group by host in the Summary view, failures with their remediation' {
            Set-CorrectRealServer $Rs1
            $null = Invoke-LvsNative ip '-n', $Rs2.Namespace, 'addr', 'add', "$Vip/32", 'dev', 'eth0'
            $all = foreach ($h in $Rs1, $Rs2) {
                foreach ($c in Test-RealServer $h) {
                    # All lab hosts share one host name; a remote run stamps each host's own.
                    $c.ComputerName = $h.Role
                    $c
                }
            }

            $text = $all | Where-Object Status -NE 'Pass' | Format-Table -View Summary | Out-String -Width 250
            $text | Should -Not -Match 'ComputerName: rs1'
            $text | Should -Match 'ComputerName: rs2'
            # Without a terminal the table is laid out for 80 columns: the fix continues under itself, whole words.
            $text | Should -Match "Fail\s+ArpSuppression\s+$([regex]::Escape($Vip))\s+Set-ArpSuppression\s+-VirtualIP\s+$([regex]::Escape($Vip))"
            ($all | Format-Table | Out-String -Width 250) | Should -Match 'ComputerName: rs1'
        }
    }
}

Describe "Test-LvsRealServer -Transport Ssh against a local run on the same real servers$(if ($SkipReason) { " (skipped: $SkipReason)" })" -Skip:([bool]$SkipReason -or [bool](Test-LvsLabPrerequisite -Program 'sshd', 'ssh', 'ssh-keygen', 'nft')) {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'lab' 'SshLab.ps1')
        # rs1 suppresses ARP with LvsDirect's nftables table, rs2 with the sysctl method (VIP on lo), both saved for
        # the next boot; rs3 is an nftables host whose table lost its drop rule; rs4 hands the VIP to a local port
        # with iptables REDIRECT. The real servers have no pwsh: the ssh diagnosis reads them with the sh script alone.
        $script:SshLabHosts = New-LvsLab -RealServerCount 4 -NoSession
        $script:Ssh = New-LvsSshLab -Lab $SshLabHosts -NoPowerShell
        $script:Boot = @{}
        foreach ($h in $SshLabHosts.RealServers) {
            $f = Join-Path $SshLabHosts.TempPath "boot-$($h.Role)"
            $null = New-Item -ItemType Directory -Path $f -Force
            $Boot[$h.Role] = @{
                RcLocalPath = "$f/rc.local"; ArpRulesPath = "$f/arptables"; SystemdUnitPath = "$f/lvsdirect.service"
                NftRulesPath = "$f/arp.nft"; NftConfigPath = "$f/nftables.conf"; DirectorAddress = $SshLabHosts.Director.Address
            }
            $method = switch ($h.Role) { 'rs2' { 'Sysctl' } 'rs4' { 'Redirect' } default { 'Nftables' } }
            $null = Invoke-LvsInNamespace $h.Namespace {
                param($vip, $method, $p)
                if ($method -eq 'Redirect') { $null = New-LvsRedirect -VirtualIP $vip -Port 8080 -Protocol tcp; return }
                $null = New-LvsVip -Address $vip -Method $method
                if ($method -eq 'Nftables') { $null = Save-ArpSuppression -Method Nftables -Path $p.NftRulesPath -ConfigPath $p.NftConfigPath }
                $null = Export-RcLocal -Path $p.RcLocalPath
            } -ArgumentList $SshLabHosts.Vip, $method, $Boot[$h.Role]
        }
        $null = Invoke-LvsNetns $SshLabHosts.Hosts['rs3'].Namespace nft 'flush', 'chain', 'arp', 'lvsdirect', 'input'

        # Everything of a result but the host name, which a local run takes from the machine.
        $script:Line = { param($c) "$($c.Check)|$($c.Target)|$($c.Status)|$($c.Detail)|$($c.Remediation)" }
        $script:Local = @{}
        $script:OverSsh = @{}
        foreach ($h in $SshLabHosts.RealServers) {
            $p = $Boot[$h.Role]
            $Local[$h.Role] = @(Invoke-LvsInNamespace $h.Namespace { param($p) Test-LvsRealServer @p -Port 80 } -ArgumentList $p | ForEach-Object { & $Line $_ })
            $OverSsh[$h.Role] = @(Invoke-LvsInNamespace $SshLabHosts.Client.Namespace {
                    param($name, $key, $p)
                    Test-LvsRealServer -HostName $name -Transport Ssh -UserName root -KeyFilePath $key @p -Port 80
                } -ArgumentList $h.Role, $Ssh.KeyFilePath, $p | ForEach-Object { & $Line $_ })
        }
    }

    AfterAll {
        if ($script:Ssh) { Remove-LvsSshLab -SshLab $Ssh }
        if ($script:SshLabHosts) { Remove-LvsLab -Lab $SshLabHosts }
    }

    It 'the nftables host passes its ARP and boot checks over ssh exactly as locally' {
        $OverSsh['rs1'] | Should -Be $Local['rs1']
        @($Local['rs1'] | Where-Object { $_ -match '^(VipPresent|ArpSuppression|ArpAnnounce|VipPersisted|SuppressionPersisted)\|' }).Count | Should -Be 5
        @($Local['rs1'] | Where-Object { $_ -match '^\w+\|[^|]*\|(Fail|Warning)\|' -and $_ -notmatch '^Listener\|' }) | Should -BeNullOrEmpty
        $OverSsh['rs1'] | Should -Contain "ArpSuppression|$($SshLabHosts.Vip)|Pass|nftables (table arp lvsdirect) drops ARP requests for $($SshLabHosts.Vip) and rewrites it to $($SshLabHosts.Hosts['rs1'].Address) in outgoing ARP.|"
    }

    It 'the sysctl-method host passes over ssh exactly as locally' {
        $OverSsh['rs2'] | Should -Be $Local['rs2']
        @($Local['rs2'] | Where-Object { $_ -match '^ArpSuppression\|[^|]*\|Pass\|sysctl method' }).Count | Should -Be 1
        @($Local['rs2'] | Where-Object { $_ -match '^\w+\|[^|]*\|(Fail|Warning)\|' -and $_ -notmatch '^Listener\|' }) | Should -BeNullOrEmpty
    }

    It 'the host with half an nftables table fails the same check with the same fix on both' {
        $OverSsh['rs3'] | Should -Be $Local['rs3']
        $OverSsh['rs3'] | Should -Contain "ArpSuppression|$($SshLabHosts.Vip)|Fail|Only the OUTPUT mangle rule exists: this host answers ARP requests for $($SshLabHosts.Vip) and takes the director's traffic.|Set-ArpSuppression -VirtualIP $($SshLabHosts.Vip) -Method Nftables"
    }

    It 'the REDIRECT host, with its VIP on no interface, passes VipPresent and ArpSuppression over ssh exactly as locally' {
        $OverSsh['rs4'] | Should -Be $Local['rs4']
        @($OverSsh['rs4'] | Where-Object { $_ -like "VipPresent|$($SshLabHosts.Vip)|Pass|*REDIRECT method*tcp/8080*" }).Count | Should -Be 1
        @($OverSsh['rs4'] | Where-Object { $_ -like "ArpSuppression|$($SshLabHosts.Vip)|Pass|REDIRECT method*" }).Count | Should -Be 1
    }

    It 'nothing listens on port 80 on any host, which both runs report alike' {
        foreach ($role in 'rs1', 'rs2', 'rs3', 'rs4') {
            @($OverSsh[$role] | Where-Object { $_ -like "Listener|$($SshLabHosts.Vip):80/tcp|Fail|*" }).Count | Should -Be 1
        }
    }

    It 'the kernel agrees with the passes: only the director answers ARP for the VIP' {
        # rs3's reply (no drop rule) leaves mangled to its own address, so it claims no VIP on the wire either.
        $macs = @(Invoke-LvsInNamespace $SshLabHosts.Client.Namespace { param($v) Test-LvsArp -VirtualIP $v -WarningAction SilentlyContinue } -ArgumentList $SshLabHosts.Vip).MacAddress
        $macs | Should -Be @($SshLabHosts.Director.Mac)
    }
}
