# The agentless SSH channel against real sshd processes in lab namespaces: the OpenSSH client of the client
# namespace (its ssh_config and known_hosts), the fixed script through the server's login shell, the state
# read under the server's lock, the batch applied as argument vectors, and each connection failure's error.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:SkipReason = Test-LvsLabPrerequisite -Program 'ip', 'arptables', 'sshd', 'ssh', 'ssh-keygen'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'lab' 'SshLab.ps1')

    # Runs the channel from the client namespace against one lab host; the plan is a list of operations
    # built inside the client from the snapshot by $PlanScript (a string: it crosses into the client's pwsh).
    function script:Invoke-Agentless {
        param([string] $HostName, [string] $KeyFilePath, [string] $PlanScript = '@()', [string[]] $File = @())
        Invoke-LvsInNamespace $Lab.Client.Namespace {
            param($hostName, $key, $planScript, $files)
            $target = [LvsDirect.Core.Agentless.SshTarget]::new($hostName, 'root', $null, $key)
            $planBlock = [scriptblock]::Create($planScript)
            $plan = [Func[LvsDirect.Core.Agentless.RemoteSnapshot, LvsDirect.Core.Agentless.RemoteBatch]] {
                param($snapshot)
                [LvsDirect.Core.Agentless.RemoteBatch] @{ Operations = [LvsDirect.Core.Agentless.RemoteOperation[]] @(& $planBlock $snapshot) }
            }.GetNewClosure()
            try {
                $run = [LvsDirect.Core.Agentless.AgentlessChannel]::new($null).Run($target, [string[]] $files, $plan, [Threading.CancellationToken]::None)
                [pscustomobject]@{
                    Uid       = $run.Snapshot.Uid
                    Addresses = @($run.Snapshot.ToHostState().Interfaces.Addresses | ForEach-Object { "$($_.Address)" })
                    Files     = $run.Snapshot.Files
                    Results   = @($run.Results | ForEach-Object { [pscustomobject]@{ ExitCode = $_.Output.ExitCode; StdErr = $_.Output.StandardError } })
                    Completed = $run.Completed
                    ErrorKind = $null
                }
            }
            catch {
                $e = $_.Exception
                while ($e -and $e -isnot [LvsDirect.Core.Errors.LvsException]) { $e = $e.InnerException }
                if (-not $e) { throw }
                [pscustomobject]@{ ErrorKind = "$($e.Kind)"; Message = $e.Message }
            }
        } -ArgumentList $HostName, $KeyFilePath, $PlanScript, $File
    }

    function script:Invoke-Pool {
        param([string] $Script, [object[]] $Arguments = @())
        Invoke-LvsInNamespace $Lab.Client.Namespace {
            param($script, $arguments)
            # Per-host failures are non-terminating errors, and warnings go to their own stream: collect both beside the results.
            $ErrorActionPreference = 'Continue'
            $all = @(& ([scriptblock]::Create($script)) @arguments 2>&1 3>&1)
            $failures = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            $warnings = @($all | Where-Object { $_ -is [System.Management.Automation.WarningRecord] })
            $results = @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] -and $_ -isnot [System.Management.Automation.WarningRecord] })
            [pscustomobject]@{
                Results = @($results | ForEach-Object {
                        [pscustomobject]@{
                            Host = $_.ComputerName; Status = "$($_.Status)"; Added = @($_.Added | ForEach-Object { "$_" }); Removed = @($_.Removed | ForEach-Object { "$_" })
                            Unchanged = @($_.Unchanged | ForEach-Object { "$_" }); Persisted = $_.PersistenceChanged; ErrorId = $_.ErrorId; Commands = @($_.Commands)
                        }
                    })
                Errors   = @($failures | ForEach-Object { "$($_.FullyQualifiedErrorId)|$($_.TargetObject)|$($_.Exception.Message)" })
                Warnings = @($warnings | ForEach-Object Message)
            }
        } -ArgumentList $Script, $Arguments
    }

    # The ARP sysctls of all and eth0 in a namespace, read from outside the module.
    function script:Get-NamespaceArpSysctl([string] $Namespace) {
        $keys = foreach ($conf in 'all', 'eth0') { foreach ($k in 'arp_ignore', 'arp_announce') { "net.ipv4.conf.$conf.$k" } }
        (Invoke-LvsNetns $Namespace sysctl $keys).StdOut.Trim() -split "`n" | ForEach-Object { $_ -replace '\s', '' }
    }

    function script:Get-Vips([string] $Role) {
        @(Get-LvsLabAddress -Namespace $Lab.Hosts[$Role].Namespace | Where-Object Address -like '203.0.113.*' | ForEach-Object Address | Sort-Object)
    }
}

Describe 'The agentless SSH channel on a real sshd' -Skip:([bool]$SkipReason) {
    BeforeAll {
        $script:Lab = New-LvsLab -RealServerCount 2 -NoSession
        $script:Ssh = New-LvsSshLab -Lab $Lab
        $script:Rs1 = $Lab.Hosts['rs1']
        $script:Work = Join-Path $Lab.TempPath 'agentless'
        $null = New-Item -ItemType Directory -Path $Work -Force
    }

    AfterAll {
        Remove-LvsSshLab -SshLab $Ssh
        Remove-LvsLab -Lab $Lab
    }

    It 'reads the state and the asked-for files of the server in one session' {
        $file = Join-Path $Work 'rc.local'
        Set-Content -LiteralPath $file -Value "#!/bin/sh`necho foreign" -NoNewline

        $r = Invoke-Agentless -HostName rs1 -KeyFilePath $Ssh.KeyFilePath -File $file, (Join-Path $Work 'missing')

        $r.ErrorKind | Should -BeNullOrEmpty
        $r.Uid | Should -Be 0
        $r.Addresses | Should -Contain $Rs1.Address
        $r.Addresses | Should -Not -Contain $Lab.Hosts['rs2'].Address
        $r.Files[$file] | Should -Be "#!/bin/sh`necho foreign"
        $r.Files[(Join-Path $Work 'missing')] | Should -BeNullOrEmpty
    }

    It 'applies a batch on the server: the rules, then the address, then a file' {
        $vip = '203.0.113.100'
        $out = Join-Path $Work 'written'
        $plan = @"
param(`$s)
[LvsDirect.Core.Agentless.RemoteCommandOperation]::new([LvsDirect.Core.Tools.ToolCommand]::new('arptables', [string[]]@('-A', 'INPUT', '-d', '$vip', '-j', 'DROP'), `$null))
[LvsDirect.Core.Agentless.RemoteCommandOperation]::new([LvsDirect.Core.Tools.ToolCommand]::new('ip', [string[]]@('-batch', '-'), "address add $vip/32 dev eth0``n"))
[LvsDirect.Core.Agentless.RemoteFileWrite]::new('$out', "seen `$(`$s.Uid)``n", '0640')
"@

        $r = Invoke-Agentless -HostName rs1 -KeyFilePath $Ssh.KeyFilePath -PlanScript $plan

        $r.ErrorKind | Should -BeNullOrEmpty
        $r.Completed | Should -BeTrue
        @($r.Results).Count | Should -Be 3
        Get-LvsLabAddress -Namespace $Rs1.Namespace | ForEach-Object Address | Should -Contain $vip
        (Get-LvsLabArptablesSave $Rs1.Namespace) | Should -Match "-d $([regex]::Escape($vip))"
        Get-Content -LiteralPath $out -Raw | Should -Be "seen 0`n"
        [Convert]::ToString([int](Get-Item -LiteralPath $out).UnixFileMode, 8) | Should -Be '640'
    }

    It 'reports a failing step with its stderr and runs nothing after it' {
        $after = Join-Path $Work 'after-failure'
        $plan = @"
[LvsDirect.Core.Agentless.RemoteCommandOperation]::new([LvsDirect.Core.Tools.ToolCommand]::new('ip', [string[]]@('address', 'add', '203.0.113.101/32', 'dev', 'nosuch0'), `$null))
[LvsDirect.Core.Agentless.RemoteFileWrite]::new('$after', "x``n", '0644')
"@

        $r = Invoke-Agentless -HostName rs1 -KeyFilePath $Ssh.KeyFilePath -PlanScript $plan

        $r.Completed | Should -BeFalse
        @($r.Results).Count | Should -Be 1
        $r.Results[0].ExitCode | Should -Not -Be 0
        $r.Results[0].StdErr | Should -Match 'nosuch0'
        Test-Path -LiteralPath $after | Should -BeFalse
    }

    It 'fails with AuthenticationFailed for a key the server does not accept' {
        $other = Join-Path $Work 'other_ed25519'
        $null = Invoke-LvsNative ssh-keygen '-q', '-t', 'ed25519', '-N', '', '-f', $other

        $r = Invoke-Agentless -HostName rs1 -KeyFilePath $other

        $r.ErrorKind | Should -Be 'AuthenticationFailed'
        $r.Message | Should -Match 'rs1'
    }

    It 'fails with HostKeyUnknown for a server whose key is not in known_hosts, and never prompts' {
        $known = Get-Content -LiteralPath $Ssh.KnownHosts
        try {
            Set-Content -LiteralPath $Ssh.KnownHosts -Value ($known | Where-Object { $_ -notmatch 'rs2' })
            $r = Invoke-Agentless -HostName rs2 -KeyFilePath $Ssh.KeyFilePath
        }
        finally { Set-Content -LiteralPath $Ssh.KnownHosts -Value $known }

        $r.ErrorKind | Should -Be 'HostKeyUnknown'
    }

    It 'fails with HostUnreachable when the server''s sshd is down' {
        Stop-LvsSshServer -SshLab $Ssh -Role rs2
        try { $r = Invoke-Agentless -HostName rs2 -KeyFilePath $Ssh.KeyFilePath }
        finally { Start-LvsSshServer -SshLab $Ssh -Role rs2 }

        $r.ErrorKind | Should -Be 'HostUnreachable'
        $r.Message | Should -Match 'Connection refused'
    }
}

Describe 'Test-LvsRealServer -Transport Ssh on a pool' -Skip:([bool]$SkipReason) {
    BeforeAll {
        $script:Lab = New-LvsLab -RealServerCount 3 -NoSession
        $script:Ssh = New-LvsSshLab -Lab $Lab
        $script:Vip = '203.0.113.100'
        $script:RcLocal = Join-Path $Lab.TempPath 'rs1-rc.local'
        # rs1 is a correct real server with its boot block; rs2 has nothing; rs3's sshd is stopped.
        Invoke-LvsInNamespace $Lab.Hosts['rs1'].Namespace {
            param($vip, $rc)
            $null = New-LvsVip -Address $vip
            $null = Export-RcLocal -Path $rc
        } -ArgumentList $Vip, $RcLocal
        Stop-LvsSshServer -SshLab $Ssh -Role rs3

        $script:Run = Invoke-LvsInNamespace $Lab.Client.Namespace {
            param($vip, $key, $rc)
            $checks = Test-LvsRealServer -HostName rs1, rs2, rs3 -Transport Ssh -UserName root -KeyFilePath $key -VirtualIP $vip -RcLocalPath $rc -ErrorVariable failures -ErrorAction SilentlyContinue
            [pscustomobject]@{
                Checks   = @($checks | ForEach-Object { [pscustomobject]@{ Host = $_.ComputerName; Check = $_.Check; Status = "$($_.Status)"; Remediation = $_.Remediation } })
                Errors   = @($failures | ForEach-Object { "$($_.FullyQualifiedErrorId)|$($_.TargetObject)|$($_.Exception.Message)" })
                QuietRs1 = Test-LvsRealServer -HostName rs1 -Transport Ssh -UserName root -KeyFilePath $key -VirtualIP $vip -RcLocalPath $rc -Quiet
                QuietAll = Test-LvsRealServer -HostName rs1, rs2 -Transport Ssh -UserName root -KeyFilePath $key -VirtualIP $vip -RcLocalPath $rc -Quiet
                # The same diagnosis over PowerShell remoting (the module is copied to each host and runs there).
                Remoting = @(Test-LvsRealServer -HostName rs1, rs2 -UserName root -KeyFilePath $key -VirtualIP $vip -RcLocalPath $rc |
                        ForEach-Object { [pscustomobject]@{ Host = $_.ComputerName; Check = $_.Check; Status = "$($_.Status)" } })
            }
        } -ArgumentList $Vip, $Ssh.KeyFilePath, $RcLocal
    }

    AfterAll {
        Remove-LvsSshLab -SshLab $Ssh
        Remove-LvsLab -Lab $Lab
    }

    It 'passes every check of the correct real server, read over ssh' {
        $rs1 = @($Run.Checks | Where-Object Host -eq 'rs1')
        $rs1.Check | Should -Contain 'VipPresent'
        $rs1.Check | Should -Contain 'ArpSuppression'
        $rs1.Check | Should -Contain 'VipPersisted'
        @($rs1 | Where-Object Status -eq 'Fail') | Should -BeNullOrEmpty
        $Run.QuietRs1 | Should -BeTrue
    }

    It 'fails the VIP and its suppression on the host that has neither, naming the fix' {
        $rs2 = @($Run.Checks | Where-Object Host -eq 'rs2')
        ($rs2 | Where-Object Check -eq 'VipPresent').Status | Should -Be 'Fail'
        ($rs2 | Where-Object Check -eq 'VipPresent').Remediation | Should -Match 'New-LvsVip'
        # An absent VIP without suppression is a warning: nothing answers ARP for it yet.
        ($rs2 | Where-Object Check -eq 'ArpSuppression').Status | Should -Be 'Warning'
        $Run.QuietAll | Should -BeFalse
    }

    It 'gives the same checks and verdicts over PowerShell remoting as over agentless ssh' {
        $key = { param($c) "$($c.Host) $($c.Check) $($c.Status)" }
        $ssh = @($Run.Checks | Where-Object Host -in 'rs1', 'rs2' | ForEach-Object { & $key $_ } | Sort-Object)
        $remoting = @($Run.Remoting | ForEach-Object { & $key $_ } | Sort-Object)
        $remoting.Count | Should -BeGreaterThan 4
        $remoting | Should -Be $ssh
    }

    It 'reports the unreachable host as a failed Connection check and an error, and still checks the others' {
        $rs3 = @($Run.Checks | Where-Object Host -eq 'rs3')
        $rs3.Count | Should -Be 1
        $rs3[0].Check | Should -Be 'Connection'
        $rs3[0].Status | Should -Be 'Fail'
        $Run.Errors | Should -Match '^HostUnreachable,.*\|rs3\|'
    }
}

Describe 'Set-LvsRealServer -Transport Ssh on real servers without PowerShell' -Skip:([bool]$SkipReason) {
    BeforeAll {
        $script:Lab = New-LvsLab -RealServerCount 4 -NoSession
        $script:Ssh = New-LvsSshLab -Lab $Lab -NoPowerShell
        $script:Key = $Ssh.KeyFilePath
        $script:VipA = '203.0.113.10'
        $script:VipB = '203.0.113.11'
        foreach ($vip in $VipA, $VipB) { $null = Invoke-LvsNative ip '-n', $Lab.Director.Namespace, 'addr', 'add', "$vip/32", 'dev', 'eth0' }
        # Foreign state the module must keep: an address on rs1, an arptables rule on rs2.
        $null = Invoke-LvsNative ip '-n', $Lab.Hosts['rs1'].Namespace, 'addr', 'add', '198.51.100.7/32', 'dev', 'eth0'
        $null = Invoke-LvsNetns $Lab.Hosts['rs2'].Namespace arptables '-A', 'INPUT', '-s', '192.0.2.99', '-j', 'ACCEPT'
        $script:Config = Join-Path $Lab.TempPath 'keepalived.conf'
        Set-Content -LiteralPath $Config -Value @"
virtual_server $VipA 80 {
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server $($Lab.Hosts['rs1'].Address) 80 { weight 1 }
    real_server $($Lab.Hosts['rs2'].Address) 80 { weight 1 }
}
virtual_server $VipB 80 {
    lb_kind DR
    protocol TCP
    real_server $($Lab.Hosts['rs2'].Address) 80 { }
    real_server $($Lab.Hosts['rs3'].Address) 80 { }
    real_server $($Lab.Hosts['rs4'].Address) 80 { }
}
"@

        $script:Before = @{}
        foreach ($r in 'rs1', 'rs2', 'rs3', 'rs4') { $Before[$r] = Get-LvsLabKernelState -Namespace $Lab.Hosts[$r].Namespace }
        $script:WhatIf = Invoke-Pool 'param($c, $k) Import-LvsConfig $c | Set-LvsRealServer -Transport Ssh -UserName root -KeyFilePath $k -WhatIf' $Config, $Key
        $script:After = @{}
        foreach ($r in 'rs1', 'rs2', 'rs3', 'rs4') { $After[$r] = Get-LvsLabKernelState -Namespace $Lab.Hosts[$r].Namespace }
        $script:First = Invoke-Pool 'param($c, $k) Import-LvsConfig $c | Set-LvsRealServer -Transport Ssh -UserName root -KeyFilePath $k' $Config, $Key
    }

    AfterAll {
        Remove-LvsSshLab -SshLab $Ssh
        Remove-LvsLab -Lab $Lab
    }

    It 'has real servers that PowerShell remoting cannot reach' {
        $r = Invoke-LvsNetns $Lab.Client.Namespace ssh '-i', $Key, '-l', 'root', 'rs1', 'command -v pwsh || echo no-pwsh' -AllowFailure
        $r.StdOut | Should -Match 'no-pwsh'
        { Invoke-LvsInNamespace $Lab.Client.Namespace { param($k) Invoke-Command -HostName rs1 -UserName root -KeyFilePath $k { 1 } -ErrorAction Stop } -ArgumentList $Key } |
            Should -Throw
    }

    It '-WhatIf lists each host''s changes and changes nothing' {
        @($WhatIf.Results).Count | Should -Be 4
        $WhatIf.Results.Status | Sort-Object -Unique | Should -Be 'WhatIf'
        ($WhatIf.Results | Where-Object Host -eq $Lab.Hosts['rs2'].Address).Commands -join "`n" | Should -Match 'arptables'
        foreach ($r in 'rs1', 'rs2', 'rs3', 'rs4') { $After[$r] | Should -Be $Before[$r] }
    }

    It 'gives every real server exactly the VIPs of the DR services it serves, in one result per host' {
        @($First.Results).Count | Should -Be 4
        $First.Errors | Should -BeNullOrEmpty
        $First.Results.Status | Sort-Object -Unique | Should -Be 'Changed'
        Get-Vips rs1 | Should -Be @($VipA)
        Get-Vips rs2 | Should -Be @($VipA, $VipB)
        Get-Vips rs3 | Should -Be @($VipB)
        Get-Vips rs4 | Should -Be @($VipB)
        @(Get-LvsLabSuppressionRule -Namespace $Lab.Hosts['rs2'].Namespace -Vip $VipB).Count | Should -Be 2
    }

    It 'leaves only the director answering ARP for each VIP' {
        foreach ($vip in $VipA, $VipB) { Get-ArpResponders -Lab $Lab -Vip $vip | Should -Be @($Lab.Director.Mac) }
    }

    It 'lists the VIPs of the pool with Get-LvsVip over the same transport, each with its host' {
        $listed = Invoke-LvsInNamespace $Lab.Client.Namespace {
            param($k)
            Get-LvsVip -HostName rs1, rs2 -Transport Ssh -UserName root -KeyFilePath $k |
                ForEach-Object { "$($_.PSComputerName) $($_.Address) $($_.ArpSuppression)" }
        } -ArgumentList $Key

        @($listed | Sort-Object) | Should -Be @("rs1 $VipA Complete", "rs2 $VipA Complete", "rs2 $VipB Complete")
    }

    It 'reports everything unchanged on a second run, and one host with its sshd stopped fails alone' {
        Stop-LvsSshServer -SshLab $Ssh -Role rs4
        try { $second = Invoke-Pool 'param($c, $k) Import-LvsConfig $c | Set-LvsRealServer -Transport Ssh -UserName root -KeyFilePath $k' $Config, $Key }
        finally { Start-LvsSshServer -SshLab $Ssh -Role rs4 }

        $rs4 = $Lab.Hosts['rs4'].Address
        ($second.Results | Where-Object Host -ne $rs4).Status | Sort-Object -Unique | Should -Be 'Unchanged'
        ($second.Results | Where-Object Host -eq $rs4).Status | Should -Be 'Failed'
        ($second.Results | Where-Object Host -eq $rs4).ErrorId | Should -Be 'HostUnreachable'
        $second.Errors | Should -Match "^HostUnreachable,.*\|$([regex]::Escape($rs4))\|"
    }

    It 'persists the rc.local block and the saved rules as Export-RcLocal and Save-ArpSuppression would, once' {
        $rs1 = $Lab.Hosts['rs1']
        $rc = Join-Path $Lab.TempPath 'rs1.rc.local'
        $rules = Join-Path $Lab.TempPath 'rs1.arptables'
        Set-Content -LiteralPath $rc -Value "#!/bin/sh`necho foreign line" -NoNewline
        $persist = 'param($k, $rc, $rules, $vip) Set-LvsRealServer -HostName rs1 -VirtualIP $vip -Transport Ssh -UserName root -KeyFilePath $k -Persist -RcLocalPath $rc -ArpRulesPath $rules'

        $once = Invoke-Pool $persist $Key, $rc, $rules, $VipA
        $twice = Invoke-Pool $persist $Key, $rc, $rules, $VipA

        $once.Results[0].Persisted | Should -BeTrue
        $twice.Results[0].Persisted | Should -BeFalse
        $twice.Results[0].Status | Should -Be 'Unchanged'
        (Get-Content -LiteralPath $rc -Raw) | Should -Match 'echo foreign line'
        [Convert]::ToString([int](Get-Item -LiteralPath $rc).UnixFileMode, 8) | Should -Be '755'
        $local = Invoke-LvsInNamespace $rs1.Namespace {
            param($dir)
            $null = Export-RcLocal -Path (Join-Path $dir 'rs1.local-export')
            $null = Save-ArpSuppression -Path (Join-Path $dir 'rs1.local-rules')
        } -ArgumentList $Lab.TempPath
        $block = { param($t) [regex]::Match($t, '(?s)# BEGIN LvsDirect.*# END LvsDirect managed block').Value }
        & $block (Get-Content -LiteralPath $rc -Raw) | Should -Match $VipA
        & $block (Get-Content -LiteralPath $rc -Raw) | Should -Be (& $block (Get-Content -LiteralPath (Join-Path $Lab.TempPath 'rs1.local-export') -Raw))
        Get-Content -LiteralPath $rules -Raw | Should -Be (Get-Content -LiteralPath (Join-Path $Lab.TempPath 'rs1.local-rules') -Raw)
    }

    It 'persists over ssh into Debian''s #!/bin/sh -e rc.local a block that, executed on a fresh host, recreates the VIP with its rules' {
        $rs1 = $Lab.Hosts['rs1']
        $rc = Join-Path $Lab.TempPath 'rs1.debian.rc.local'
        $rules = Join-Path $Lab.TempPath 'rs1.debian.arptables'
        Set-Content -LiteralPath $rc -Value "#!/bin/sh -e`n# rc.local`nexit 0`n" -NoNewline

        $r = Invoke-Pool 'param($k, $rc, $rules, $vip) Set-LvsRealServer -HostName rs1 -VirtualIP $vip -Transport Ssh -UserName root -KeyFilePath $k -Persist -RcLocalPath $rc -ArpRulesPath $rules' $Key, $rc, $rules, $VipA

        $r.Errors | Should -BeNullOrEmpty
        $r.Results[0].Persisted | Should -BeTrue
        $lines = Get-Content -LiteralPath $rc
        $lines[0] | Should -Be '#!/bin/sh -e'
        $lines[1] | Should -Be '# BEGIN LvsDirect managed block: do not edit, regenerate with Export-RcLocal'
        $lines[-1] | Should -Be 'exit 0'
        $fresh = Add-LvsLabHost -Lab $Lab -Role "sshb$(Get-Random -Maximum 999)" -Address $rs1.Address -Isolated
        foreach ($run in 1, 2) {
            # Executed, so its shebang (sh -e) counts, exactly as rc-local.service runs it.
            $boot = Invoke-LvsNetns $fresh.Namespace $rc -AllowFailure
            $boot.ExitCode | Should -Be 0 -Because "run ${run}: $($boot.StdErr)"
        }
        $a = @(Get-LvsLabAddress -Namespace $fresh.Namespace | Where-Object Address -EQ $VipA)
        $a.Count | Should -Be 1
        ($a[0].InterfaceName, $a[0].PrefixLength) | Should -Be 'eth0', 32
        $suppression = @(Get-LvsLabSuppressionRule $fresh.Namespace $VipA)
        $suppression.Count | Should -Be 2
        ($suppression | Where-Object Target -EQ 'mangle').MangleIpSource | Should -Be $rs1.Address
    }

    It 'fails a host whose key is refused with AuthenticationFailed, as a result and an error' {
        $other = Join-Path $Lab.TempPath 'refused_ed25519'
        $null = Invoke-LvsNative ssh-keygen '-q', '-t', 'ed25519', '-N', '', '-f', $other

        $r = Invoke-Pool 'param($k, $vip) Set-LvsRealServer -HostName rs3 -VirtualIP $vip -Transport Ssh -UserName root -KeyFilePath $k' $other, $VipB

        $r.Results[0].Status | Should -Be 'Failed'
        $r.Results[0].ErrorId | Should -Be 'AuthenticationFailed'
        $r.Errors | Should -Match '^AuthenticationFailed,'
    }

    It 'removes across the pool exactly what the module owns' {
        $r = Invoke-Pool 'param($k, $hosts) Set-LvsRealServer -HostName $hosts -VirtualIP @() -Transport Ssh -UserName root -KeyFilePath $k' $Key, @('rs1', 'rs2', 'rs3', 'rs4')

        $r.Errors | Should -BeNullOrEmpty
        foreach ($role in 'rs1', 'rs2', 'rs3', 'rs4') {
            Get-Vips $role | Should -BeNullOrEmpty
            @(Get-LvsLabArpRule -Namespace $Lab.Hosts[$role].Namespace | Where-Object { $_.Destination -like '203.0.113.*' -or $_.Source -like '203.0.113.*' }) | Should -BeNullOrEmpty
        }
        Get-LvsLabAddress -Namespace $Lab.Hosts['rs1'].Namespace | ForEach-Object Address | Should -Contain '198.51.100.7'
        (Get-LvsLabArpRule -Namespace $Lab.Hosts['rs2'].Namespace | Where-Object Source -eq '192.0.2.99').Target | Should -Be 'ACCEPT'
    }

    It 'refuses a VIP set up by hand with NotManaged, and -Adopt takes it over in the record on the host' {
        $rs3 = $Lab.Hosts['rs3']
        $hand = '203.0.113.40'
        $null = Invoke-LvsNative ip '-n', $rs3.Namespace, 'addr', 'add', "$hand/32", 'dev', 'eth0'
        $null = Invoke-LvsNetns $rs3.Namespace arptables '-A', 'INPUT', '-d', $hand, '-j', 'DROP'
        $null = Invoke-LvsNetns $rs3.Namespace arptables '-A', 'OUTPUT', '-s', $hand, '-j', 'mangle', '--mangle-ip-s', $rs3.Address
        $before = Get-LvsLabKernelState -Namespace $rs3.Namespace
        $set = 'param($k, $vip, $adopt) Set-LvsRealServer -HostName rs3 -VirtualIP $vip -Transport Ssh -UserName root -KeyFilePath $k -Adopt:$adopt'

        $refused = Invoke-Pool $set $Key, $hand, $false

        $refused.Results[0].Status | Should -Be 'Failed'
        $refused.Results[0].ErrorId | Should -Be 'NotManaged'
        Get-LvsLabKernelState -Namespace $rs3.Namespace | Should -Be $before

        $adopted = Invoke-Pool $set $Key, $hand, $true

        $adopted.Errors | Should -BeNullOrEmpty
        $record = (Get-LvsNamespaceStatePath -Namespace $rs3.Namespace).Record
        @((Get-Content -LiteralPath $record -Raw | ConvertFrom-Json).vips | ForEach-Object { $_.address }) | Should -Be @($hand)
        $gone = Invoke-Pool 'param($k) Set-LvsRealServer -HostName rs3 -VirtualIP @() -Transport Ssh -UserName root -KeyFilePath $k' $Key
        $gone.Results[0].Removed | Should -Be @($hand)
        Get-Vips 'rs3' | Should -BeNullOrEmpty
        @((Get-Content -LiteralPath $record -Raw | ConvertFrom-Json).vips) | Should -HaveCount 0 -Because 'the removed VIP is forgotten'
    }

    It 'fails a host without arptables with ProgramNotFound naming the package, and changes nothing there' {
        Hide-LvsSshLabProgram -SshLab $Ssh -Role rs4 -Program arptables
        $before = Get-LvsLabKernelState -Namespace $Lab.Hosts['rs4'].Namespace

        $r = Invoke-Pool 'param($k, $vip) Set-LvsRealServer -HostName rs4 -VirtualIP $vip -Transport Ssh -UserName root -KeyFilePath $k' $Key, '203.0.113.12'

        $r.Results[0].Status | Should -Be 'Failed'
        $r.Results[0].ErrorId | Should -Be 'ProgramNotFound'
        $r.Errors | Should -Match '^ProgramNotFound,.*arptables'
        Get-LvsLabKernelState -Namespace $Lab.Hosts['rs4'].Namespace | Should -Be $before
    }
}

Describe 'Every ARP method and IPv6 VIPs over -Transport Ssh on real servers without PowerShell' -Skip:([bool]$SkipReason) {
    BeforeAll {
        $script:Lab = New-LvsLab -RealServerCount 3 -NoSession
        $script:Ssh = New-LvsSshLab -Lab $Lab -NoPowerShell
        $script:Key = $Ssh.KeyFilePath
        $script:VipS = '203.0.113.20'
        $script:VipN = '203.0.113.21'
        $script:Vip6 = '2001:db8::20'
        foreach ($vip in $VipS, $VipN) { $null = Invoke-LvsNative ip '-n', $Lab.Director.Namespace, 'addr', 'add', "$vip/32", 'dev', 'eth0' }
        $script:Set = 'param($k, $h, $vip, $m) Set-LvsRealServer -HostName $h -VirtualIP $vip -Method $m -Transport Ssh -UserName root -KeyFilePath $k'

        # The kernel as seen from outside the module: `ip -j addr`, the sysctls in the namespace, nft's ruleset.
        function script:Get-AddressOn([string] $Role, [string] $InterfaceName) {
            $links = (Invoke-LvsNative ip '-n', $Lab.Hosts[$Role].Namespace, '-j', 'addr', 'show', 'dev', $InterfaceName).StdOut | ConvertFrom-Json
            @($links.addr_info | Where-Object { $_.local -like '203.0.113.*' -or $_.local -like '2001:db8:*' } | ForEach-Object { "$($_.local)/$($_.prefixlen)" } | Sort-Object)
        }
        function script:Get-ArpSysctl([string] $Role) { Get-NamespaceArpSysctl $Lab.Hosts[$Role].Namespace }
        function script:Get-NftRuleset([string] $Role) { (Invoke-LvsNetns $Lab.Hosts[$Role].Namespace nft 'list', 'ruleset').StdOut }
        function script:Get-SysctlRecordPath([string] $Role) { Join-Path (Get-LvsNamespaceStatePath -Namespace $Lab.Hosts[$Role].Namespace).Durable 'arp-sysctl.json' }
    }

    AfterAll {
        Remove-LvsSshLab -SshLab $Ssh
        Remove-LvsLab -Lab $Lab
    }

    It 'sees a real server that answers ARP for a VIP on lo without the sysctls (the check below can fail)' {
        $rs3 = $Lab.Hosts['rs3']
        $null = Invoke-LvsNative ip '-n', $rs3.Namespace, 'addr', 'add', "$VipS/32", 'dev', 'lo'
        try { $responders = Get-ArpResponders -Lab $Lab -Vip $VipS }
        finally { $null = Invoke-LvsNative ip '-n', $rs3.Namespace, 'addr', 'del', "$VipS/32", 'dev', 'lo' }

        $responders | Should -Contain (Get-LvsInterfaceMac -Namespace $rs3.Namespace)
    }

    It '-Method Sysctl puts the VIP on lo as /32 and raises arp_ignore/arp_announce, recording what they were' {
        $r = Invoke-Pool $Set $Key, 'rs1', $VipS, 'Sysctl'

        $r.Errors | Should -BeNullOrEmpty
        $r.Results[0].Status | Should -Be 'Changed'
        Get-AddressOn rs1 lo | Should -Be @("$VipS/32")
        Get-AddressOn rs1 eth0 | Should -BeNullOrEmpty
        Get-ArpSysctl rs1 | Should -Be @('net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2', 'net.ipv4.conf.eth0.arp_ignore=1', 'net.ipv4.conf.eth0.arp_announce=2')
        $record = Get-Content -LiteralPath (Get-SysctlRecordPath rs1) -Raw | ConvertFrom-Json
        @($record.sysctls | Where-Object previous -eq 0).Count | Should -Be 4
        $record.bootId | Should -Be (Get-Content -LiteralPath /proc/sys/kernel/random/boot_id -Raw).Trim()
        (Get-LvsLabArptablesSave $Lab.Hosts['rs1'].Namespace) | Should -Not -Match ([regex]::Escape($VipS))
        Get-ArpResponders -Lab $Lab -Vip $VipS | Should -Be @($Lab.Director.Mac)
    }

    It '-Method Nftables puts the VIP on eth0 with LvsDirect''s nftables table and no arptables rule' {
        $r = Invoke-Pool $Set $Key, 'rs2', $VipN, 'Nftables'

        $r.Errors | Should -BeNullOrEmpty
        $r.Results[0].Status | Should -Be 'Changed'
        Get-AddressOn rs2 eth0 | Should -Be @("$VipN/32")
        $ruleset = Get-NftRuleset rs2
        $ruleset | Should -Match 'table arp lvsdirect'
        $ruleset | Should -Match "daddr ip $([regex]::Escape($VipN)) drop"
        $ruleset | Should -Match "saddr ip $([regex]::Escape($VipN)) .*$([regex]::Escape($Lab.Hosts['rs2'].Address))"
        (Get-LvsLabArptablesSave $Lab.Hosts['rs2'].Namespace) | Should -Not -Match ([regex]::Escape($VipN))
        Get-ArpResponders -Lab $Lab -Vip $VipN | Should -Be @($Lab.Director.Mac)
    }

    It 'is idempotent for every method: a second run is Unchanged' {
        $again = foreach ($case in @(('rs1', $VipS, 'Sysctl'), ('rs2', $VipN, 'Nftables'))) { Invoke-Pool $Set (@($Key) + $case) }

        $again.Results.Status | Should -Be @('Unchanged', 'Unchanged')
        $again.Results.Commands | Should -BeNullOrEmpty
    }

    It 'switches Sysctl to Arptables over ssh: the VIP moves to eth0 with its rules, and the recorded sysctls come back' {
        $r = Invoke-Pool $Set $Key, 'rs1', $VipS, 'Arptables'

        $r.Errors | Should -BeNullOrEmpty
        Get-AddressOn rs1 eth0 | Should -Be @("$VipS/32")
        Get-AddressOn rs1 lo | Should -BeNullOrEmpty
        @(Get-LvsLabSuppressionRule -Namespace $Lab.Hosts['rs1'].Namespace -Vip $VipS).Count | Should -Be 2
        Get-ArpSysctl rs1 | Should -Be @('net.ipv4.conf.all.arp_ignore=0', 'net.ipv4.conf.all.arp_announce=0', 'net.ipv4.conf.eth0.arp_ignore=0', 'net.ipv4.conf.eth0.arp_announce=0')
        Test-Path -LiteralPath (Get-SysctlRecordPath rs1) | Should -BeFalse
        Get-ArpResponders -Lab $Lab -Vip $VipS | Should -Be @($Lab.Director.Mac)
    }

    It 'switches Nftables to Sysctl over ssh, and a local run then restores the sysctls from the record ssh wrote' {
        $r = Invoke-Pool $Set $Key, 'rs2', $VipN, 'Sysctl'

        $r.Errors | Should -BeNullOrEmpty
        Get-AddressOn rs2 lo | Should -Be @("$VipN/32")
        Get-AddressOn rs2 eth0 | Should -BeNullOrEmpty
        Get-NftRuleset rs2 | Should -Not -Match ([regex]::Escape($VipN))
        Get-ArpSysctl rs2 | Should -Be @('net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2', 'net.ipv4.conf.eth0.arp_ignore=1', 'net.ipv4.conf.eth0.arp_announce=2')
        Get-ArpResponders -Lab $Lab -Vip $VipN | Should -Be @($Lab.Director.Mac)

        # The record carries the stamp a local run computes, so the local run trusts it and puts the values back.
        $null = Invoke-LvsInNamespace $Lab.Hosts['rs2'].Namespace { Set-LvsRealServer -VirtualIP @() }

        Get-AddressOn rs2 lo | Should -BeNullOrEmpty
        Get-ArpSysctl rs2 | Should -Be @('net.ipv4.conf.all.arp_ignore=0', 'net.ipv4.conf.all.arp_announce=0', 'net.ipv4.conf.eth0.arp_ignore=0', 'net.ipv4.conf.eth0.arp_announce=0')
    }

    It 'gives a pool''s IPv6 VIP to its real servers on lo as /128, beside an IPv4 one' {
        $config = Join-Path $Lab.TempPath 'keepalived-v6.conf'
        Set-Content -LiteralPath $config -Value @"
virtual_server $Vip6 80 {
    lb_kind DR
    protocol TCP
    real_server $($Lab.Hosts['rs3'].Address) 80 { }
}
virtual_server $VipN 80 {
    lb_kind DR
    protocol TCP
    real_server $($Lab.Hosts['rs3'].Address) 80 { }
}
"@
        $r = Invoke-Pool 'param($c, $k) Import-LvsConfig $c | Set-LvsRealServer -Transport Ssh -UserName root -KeyFilePath $k' $config, $Key

        $r.Errors | Should -BeNullOrEmpty
        $r.Results[0].Status | Should -Be 'Changed'
        $r.Results[0].Added | Sort-Object | Should -Be @($Vip6, $VipN)
        Get-AddressOn rs3 lo | Should -Be @("$Vip6/128")
        Get-AddressOn rs3 eth0 | Should -Be @("$VipN/32")
        $again = Invoke-Pool 'param($c, $k) Import-LvsConfig $c | Set-LvsRealServer -Transport Ssh -UserName root -KeyFilePath $k' $config, $Key
        $again.Results[0].Status | Should -Be 'Unchanged'
    }

    It 'fails a host without the method''s program with ProgramNotFound naming the package, and changes nothing there' {
        $rs3 = $Lab.Hosts['rs3']
        Hide-LvsSshLabProgram -SshLab $Ssh -Role rs3 -Program nft, sysctl
        $before = @(Get-LvsLabKernelState -Namespace $rs3.Namespace; Get-ArpSysctl rs3; Get-NftRuleset rs3) -join "`n"

        $nft = Invoke-Pool $Set $Key, 'rs3', '203.0.113.22', 'Nftables'
        $sysctl = Invoke-Pool $Set $Key, 'rs3', '203.0.113.23', 'Sysctl'

        $nft.Results[0].ErrorId | Should -Be 'ProgramNotFound'
        $nft.Errors | Should -Match "^ProgramNotFound,.*'nftables'"
        $sysctl.Results[0].ErrorId | Should -Be 'ProgramNotFound'
        $sysctl.Errors | Should -Match "^ProgramNotFound,.*'procps'"
        @(Get-LvsLabKernelState -Namespace $rs3.Namespace; Get-ArpSysctl rs3; Get-NftRuleset rs3) -join "`n" | Should -Be $before
    }
}

Describe '-Persist over -Transport Ssh with the sysctl and nftables methods, executed on a fresh host' -Skip:([bool]$SkipReason) {
    BeforeAll {
        $script:Lab = New-LvsLab -RealServerCount 2 -NoSession
        $script:Ssh = New-LvsSshLab -Lab $Lab -NoPowerShell
        $script:Key = $Ssh.KeyFilePath
        $script:VipS = '203.0.113.30'
        $script:VipN = '203.0.113.31'
        # The sysctl method's file goes to its default path on rs1, whose sshd sees a private /etc/sysctl.d (the
        # host's own is never touched); the nftables configuration is a file of the test's own.
        $script:SysctlD = (Set-LvsSshLabPrivatePath -SshLab $Ssh -Role rs1 -Path '/etc/sysctl.d')['/etc/sysctl.d']
        $script:SysctlConf = Join-Path $SysctlD '90-lvsdirect-arp.conf'
        $script:NftConfig = Join-Path $Lab.TempPath 'rs2.nftables.conf'
        Set-Content -LiteralPath $NftConfig -Value "#!/usr/sbin/nft -f`n`nflush ruleset`n" -NoNewline
        $script:Persist = 'param($k, $h, $vip, $m, $rc, $rules, $nftConfig) Set-LvsRealServer -HostName $h -VirtualIP $vip -Method $m -Transport Ssh -UserName root -KeyFilePath $k -Persist -RcLocalPath $rc -ArpRulesPath $rules -NftConfigPath $nftConfig'
        $script:PersistDefault = 'param($k, $h, $vip, $m, $rc) Set-LvsRealServer -HostName $h -VirtualIP $vip -Method $m -Transport Ssh -UserName root -KeyFilePath $k -Persist -RcLocalPath $rc'

        function script:New-DebianRcLocal([string] $Path) { Set-Content -LiteralPath $Path -Value "#!/bin/sh -e`n# rc.local`nexit 0`n" -NoNewline }
        # A "rebooted" real server (same eth0, nothing else) executes the file twice under its own shebang.
        function script:Invoke-BootFile([string] $Role, [string] $Path) {
            [Convert]::ToString([int](Get-Item -LiteralPath $Path).UnixFileMode, 8) | Should -Be '755' -Because 'rc-local.service runs it only when executable'
            $fresh = Add-LvsLabHost -Lab $Lab -Role "boot$(Get-Random -Maximum 9999)" -Address $Lab.Hosts[$Role].Address -Isolated
            foreach ($run in 1, 2) {
                $boot = Invoke-LvsNetns $fresh.Namespace $Path -AllowFailure
                $boot.ExitCode | Should -Be 0 -Because "run ${run} of ${Path}: $($boot.StdErr)"
            }
            $fresh.Namespace
        }
        function script:Get-VipAddress([string] $Namespace) {
            $links = (Invoke-LvsNative ip '-n', $Namespace, '-j', 'addr').StdOut | ConvertFrom-Json
            @($links | ForEach-Object { $dev = $_.ifname; $_.addr_info | Where-Object local -like '203.0.113.*' | ForEach-Object { "$dev $($_.local)/$($_.prefixlen)" } })
        }
        function script:Get-WriteTimes([string[]] $Path) { @($Path | ForEach-Object { (Get-Item -LiteralPath $_).LastWriteTimeUtc.Ticks }) }
        $script:Block = { param($t) [regex]::Match($t, '(?s)# BEGIN LvsDirect.*# END LvsDirect managed block').Value }
    }

    AfterAll {
        Remove-LvsSshLab -SshLab $Ssh
        Remove-LvsLab -Lab $Lab
    }

    It '-Method Sysctl writes the sysctl.d file and the rc.local block, once; executed on a fresh host, the VIP is on lo with the sysctls' {
        $rc = Join-Path $Lab.TempPath 'rs1.sysctl.rc.local'
        New-DebianRcLocal $rc
        Set-Content -LiteralPath (Join-Path $SysctlD '99-admin.conf') -Value 'net.ipv4.ip_forward = 0'

        $once = Invoke-Pool $PersistDefault $Key, 'rs1', $VipS, 'Sysctl', $rc
        $times = Get-WriteTimes $rc, $SysctlConf
        $twice = Invoke-Pool $PersistDefault $Key, 'rs1', $VipS, 'Sysctl', $rc

        $once.Errors | Should -BeNullOrEmpty
        $once.Results[0].Status | Should -Be 'Changed'
        $once.Results[0].Persisted | Should -BeTrue
        $twice.Errors | Should -BeNullOrEmpty
        $twice.Results[0].Status | Should -Be 'Unchanged'
        $twice.Results[0].Persisted | Should -BeFalse
        $twice.Results[0].Commands | Should -BeNullOrEmpty
        Get-WriteTimes $rc, $SysctlConf | Should -Be $times -Because 'a second run writes nothing'
        # The same files a local run of Save-ArpSuppression and Export-RcLocal writes from that host's state.
        $local = Invoke-LvsInNamespace $Lab.Hosts['rs1'].Namespace {
            param($dir)
            $null = Save-ArpSuppression -Method Sysctl -Path (Join-Path $dir 'rs1.local-sysctl.conf')
            $null = Export-RcLocal -Path (Join-Path $dir 'rs1.local-sysctl.rc')
        } -ArgumentList $Lab.TempPath
        $conf = Get-Content -LiteralPath $SysctlConf
        $conf | Should -Contain 'net.ipv4.conf.all.arp_ignore = 1'
        $conf | Should -Contain 'net.ipv4.conf.all.arp_announce = 2'
        Get-Content -LiteralPath $SysctlConf -Raw | Should -Be (Get-Content -LiteralPath (Join-Path $Lab.TempPath 'rs1.local-sysctl.conf') -Raw)
        & $Block (Get-Content -LiteralPath $rc -Raw) | Should -Match ([regex]::Escape("$VipS/32 dev lo"))
        & $Block (Get-Content -LiteralPath $rc -Raw) | Should -Be (& $Block (Get-Content -LiteralPath (Join-Path $Lab.TempPath 'rs1.local-sysctl.rc') -Raw))

        $ns = Invoke-BootFile rs1 $rc

        Get-VipAddress $ns | Should -Be @("lo $VipS/32")
        Get-NamespaceArpSysctl $ns | Should -Be @('net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2', 'net.ipv4.conf.eth0.arp_ignore=1', 'net.ipv4.conf.eth0.arp_announce=2')
    }

    It '-Method Nftables writes the table file, includes it once from nftables.conf and loads it from rc.local, once; executed on a fresh host, the table is there before the VIP' {
        $rc = Join-Path $Lab.TempPath 'rs2.nft.rc.local'
        $nftFile = Join-Path $Lab.TempPath 'rs2.arp.nft'
        New-DebianRcLocal $rc

        $once = Invoke-Pool $Persist $Key, 'rs2', $VipN, 'Nftables', $rc, $nftFile, $NftConfig
        $times = Get-WriteTimes $rc, $nftFile, $NftConfig
        $twice = Invoke-Pool $Persist $Key, 'rs2', $VipN, 'Nftables', $rc, $nftFile, $NftConfig

        $once.Errors | Should -BeNullOrEmpty
        $once.Results[0].Persisted | Should -BeTrue
        $twice.Errors | Should -BeNullOrEmpty
        $twice.Results[0].Status | Should -Be 'Unchanged'
        $twice.Results[0].Persisted | Should -BeFalse
        Get-WriteTimes $rc, $nftFile, $NftConfig | Should -Be $times -Because 'a second run writes nothing'
        $config = Get-Content -LiteralPath $NftConfig
        $config[0..2] | Should -Be @('#!/usr/sbin/nft -f', '', 'flush ruleset') -Because 'the host''s configuration is kept'
        @($config | Where-Object { $_ -eq "include `"$nftFile`"" }).Count | Should -Be 1
        $localNft = Join-Path $Lab.TempPath 'rs2.local-arp.nft'
        $null = Invoke-LvsInNamespace $Lab.Hosts['rs2'].Namespace {
            param($path, $config) $null = Save-ArpSuppression -Method Nftables -Path $path -ConfigPath $config
        } -ArgumentList $localNft, (Join-Path $Lab.TempPath 'rs2.local-nftables.conf')
        Get-Content -LiteralPath $nftFile -Raw | Should -Be (Get-Content -LiteralPath $localNft -Raw)
        $lines = @((& $Block (Get-Content -LiteralPath $rc -Raw)) -split "`n")
        $load = [array]::FindIndex([string[]]$lines, [Predicate[string]] { $args[0] -like "*$nftFile*" })
        $vip = [array]::FindIndex([string[]]$lines, [Predicate[string]] { $args[0] -like "*$VipN/32*" })
        $load | Should -BeGreaterThan 0 -Because 'the block loads the table file'
        $vip | Should -BeGreaterThan $load

        $ns = Invoke-BootFile rs2 $rc

        Get-VipAddress $ns | Should -Be @("eth0 $VipN/32")
        $ruleset = (Invoke-LvsNetns $ns nft 'list', 'ruleset').StdOut
        $ruleset | Should -Match 'table arp lvsdirect'
        $ruleset | Should -Match "daddr ip $([regex]::Escape($VipN)) drop"
        $ruleset | Should -Match "saddr ip $([regex]::Escape($VipN)) .*$([regex]::Escape($Lab.Hosts['rs2'].Address))"
    }

    It 'switches Sysctl to Arptables with -Persist: the sysctl.d file LvsDirect wrote goes, a foreign one stays, and the new block brings the VIP back on eth0 with its rules' {
        $rc = Join-Path $Lab.TempPath 'rs1.sysctl.rc.local'
        $rules = Join-Path $Lab.TempPath 'rs1.arptables'
        Test-Path -LiteralPath $SysctlConf | Should -BeTrue -Because 'the sysctl method''s run above wrote it'

        $r = Invoke-Pool $Persist $Key, 'rs1', $VipS, 'Arptables', $rc, $rules, $NftConfig

        $r.Errors | Should -BeNullOrEmpty
        $r.Results[0].Persisted | Should -BeTrue
        Test-Path -LiteralPath $SysctlConf | Should -BeFalse
        Test-Path -LiteralPath (Join-Path $SysctlD '99-admin.conf') | Should -BeTrue
        (Get-Content -LiteralPath $rules) -match [regex]::Escape($VipS) | Should -Not -BeNullOrEmpty

        $ns = Invoke-BootFile rs1 $rc

        Get-VipAddress $ns | Should -Be @("eth0 $VipS/32")
        @(Get-LvsLabSuppressionRule $ns $VipS).Count | Should -Be 2
        Get-NamespaceArpSysctl $ns | Should -Be @('net.ipv4.conf.all.arp_ignore=0', 'net.ipv4.conf.all.arp_announce=0', 'net.ipv4.conf.eth0.arp_ignore=0', 'net.ipv4.conf.eth0.arp_announce=0')
    }

    It '-PersistTarget Systemd writes LvsDirect''s unit on the host, once; its ExecStart lines, run in order on a fresh host, bring back the VIP with its rules' {
        $unit = Join-Path $Lab.TempPath 'rs2.lvsdirect.service'
        $rules = Join-Path $Lab.TempPath 'rs2.unit.arptables'
        $vip = '203.0.113.32'
        $persistUnit = 'param($k, $h, $vip, $unit, $rules) Set-LvsRealServer -HostName $h -VirtualIP $vip -Method Arptables -Transport Ssh -UserName root -KeyFilePath $k -Persist -PersistTarget Systemd -RcLocalPath $unit -ArpRulesPath $rules'

        $once = Invoke-Pool $persistUnit $Key, 'rs2', $vip, $unit, $rules
        $times = Get-WriteTimes $unit
        $twice = Invoke-Pool $persistUnit $Key, 'rs2', $vip, $unit, $rules

        $once.Errors | Should -BeNullOrEmpty
        $once.Results[0].Persisted | Should -BeTrue
        $twice.Errors | Should -BeNullOrEmpty
        $twice.Results[0].Status | Should -Be 'Unchanged'
        $twice.Results[0].Persisted | Should -BeFalse
        Get-WriteTimes $unit | Should -Be $times -Because 'a second run writes nothing'
        $content = Get-Content -LiteralPath $unit
        $content | Should -Contain 'Type=oneshot'
        $verify = Invoke-LvsNative systemd-analyze 'verify', $unit -AllowFailure
        $verify.ExitCode | Should -Be 0 -Because "systemd-analyze verify: $($verify.StdErr)"

        # What systemd does with the unit at boot: each ExecStart in order, argv as written, a failure ignored only
        # where the line starts with '-'; twice, as a restart would.
        $fresh = Add-LvsLabHost -Lab $Lab -Role "unit$(Get-Random -Maximum 9999)" -Address $Lab.Hosts['rs2'].Address -Isolated
        foreach ($run in 1, 2) {
            foreach ($line in $content | Where-Object { $_ -like 'ExecStart=*' }) {
                $command = $line.Substring('ExecStart='.Length)
                $argv = @($command.TrimStart('-') -split ' ')
                $r = Invoke-LvsNetns $fresh.Namespace $argv[0] @($argv | Select-Object -Skip 1) -AllowFailure
                if (-not $command.StartsWith('-')) { $r.ExitCode | Should -Be 0 -Because "run ${run}: $command failed: $($r.StdErr)" }
            }
        }
        Get-VipAddress $fresh.Namespace | Should -Be @("eth0 $vip/32")
        $save = (Invoke-LvsNative ip 'netns', 'exec', $fresh.Namespace, 'arptables-save').StdOut
        @($save -split "`n" | Where-Object { $_ -like "-A LVSDIRECT-*$vip*" }).Count | Should -Be 2 -Because "its drop and mangle rules: $save"
    }

    It 'writes the persistence plan''s warnings on the pipeline, naming the host' {
        $rc = Join-Path $Lab.TempPath 'rs1.crlf.rc.local'
        Set-Content -LiteralPath $rc -Value "#!/bin/sh`r`nexit 0`r`n" -NoNewline

        $r = Invoke-Pool $Persist $Key, 'rs1', $VipS, 'Arptables', $rc, (Join-Path $Lab.TempPath 'rs1.arptables'), $NftConfig

        $r.Errors | Should -BeNullOrEmpty
        @($r.Warnings | Where-Object { $_ -like "rs1: $rc*will not run at boot*CRLF*" }).Count | Should -Be 1
    }
}
