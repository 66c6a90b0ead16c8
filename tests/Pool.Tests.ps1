#Requires -Version 7.4
# A pool of real servers configured over PowerShell remoting (SSH), on a real kernel: four real-server network
# namespaces each run their own sshd with the PowerShell subsystem (tests/lab/SshLab.ps1), and the cmdlets run in
# the client namespace as on an administrator's workstation. No real server has the module at first. Every
# assertion reads the kernel (ip -j addr, arptables-save) or the wire (arping from the client).

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:SkipReason = Test-LvsLabPrerequisite -Program 'ip', 'arptables', 'arptables-save', 'arping', 'ebtables', 'ss', 'unshare', 'sshd', 'ssh', 'ssh-keygen'
    if ($SkipReason) { Write-Warning "LvsDirect pool tests skipped: $SkipReason." }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'lab' 'SshLab.ps1')
    $script:SkipReason = Test-LvsLabPrerequisite -Program 'ip', 'arptables', 'arptables-save', 'arping', 'ebtables', 'ss', 'unshare', 'sshd', 'ssh', 'ssh-keygen'
    if ($SkipReason) { return }

    $script:Lab = New-LvsLab -RealServerCount 4 -NoSession
    $script:Ssh = New-LvsSshLab -Lab $Lab
    $script:Roles = 'rs1', 'rs2', 'rs3', 'rs4'
    # The director holds every DR VIP; the real servers must never answer ARP for one.
    foreach ($vip in '203.0.113.10', '203.0.113.11', '203.0.113.12') {
        $null = Invoke-LvsNative ip '-n', $Lab.Director.Namespace, 'addr', 'add', "$vip/32", 'dev', 'eth0'
    }
    # What an admin configured on rs1 by hand: it must survive everything.
    $script:ForeignRs1 = $Lab.Hosts['rs1'].Namespace
    $null = Invoke-LvsNetns $ForeignRs1 arptables '-A', 'INPUT', '-s', '192.0.2.99', '-j', 'ACCEPT'
    $null = Invoke-LvsNative ip '-n', $ForeignRs1, 'addr', 'add', '198.51.100.77/24', 'dev', 'eth0'

    function Write-KeepalivedConf {
        # A director's keepalived.conf: two DR services, a NAT one and a firewall-mark one, plus an included file.
        param([string] $Path, [string[]] $Extra = @())
        $rs = { param($ip, $port) "        real_server $ip $port {`n            weight 1`n            TCP_CHECK { connect_timeout 3 }`n        }" }
        $include = Join-Path (Split-Path -Parent $Path) 'services.d'
        $null = New-Item -ItemType Directory -Path $include -Force
        Set-Content -LiteralPath $Path -Encoding utf8 -Value @(
            '! Configuration File for keepalived'
            'global_defs { router_id LVS_LAB }'
            "include $include/*.conf"
            'virtual_server 203.0.113.100 80 {'
            '    delay_loop 6'
            '    lb_algo wlc'
            '    lb_kind DR   # direct routing'
            '    protocol TCP'
            (& $rs '192.0.2.11' 80); (& $rs '192.0.2.12' 80); (& $rs '192.0.2.13' 80); (& $rs '192.0.2.14' 80)
            '}'
            'virtual_server 203.0.113.10 80 {'
            '    lb_kind DR'
            '    protocol TCP'
            (& $rs '192.0.2.11' 80); (& $rs '192.0.2.12' 80)
            '}'
            'virtual_server 198.51.100.10 80 {'
            '    lb_kind NAT'
            '    protocol TCP'
            (& $rs '192.0.2.11' 8080)
            '}'
            'virtual_server fwmark 5 {'
            '    lb_kind DR'
            (& $rs '192.0.2.14' 0)
            '}'
            $Extra
        )
        Set-Content -LiteralPath (Join-Path $include 'https.conf') -Encoding utf8 -Value @(
            'virtual_server 203.0.113.11 443 {'
            '    lb_kind DR'
            '    protocol TCP'
            (& $rs '192.0.2.12' 443); (& $rs '192.0.2.13' 443); (& $rs '192.0.2.14' 443)
            '}'
        )
    }

    function Invoke-FromClient {
        # Runs in the client namespace (the admin's workstation) with the module imported. Non-terminating errors
        # come back as Errors (Id, Category, Message), not thrown.
        param([scriptblock] $ScriptBlock, [object[]] $ArgumentList = @())
        $wrapped = [scriptblock]::Create(@"
param(`$Key, `$Arguments)
`$ErrorActionPreference = 'Continue'
`$WarningPreference = 'SilentlyContinue'
& { $ScriptBlock } @Arguments 2>&1 | ForEach-Object {
    if (`$_ -is [System.Management.Automation.ErrorRecord]) {
        [pscustomobject]@{ LvsTestErrorId = `$_.FullyQualifiedErrorId; Category = "`$(`$_.CategoryInfo.Category)"; Message = "`$_" }
    }
    else { `$_ }
}
"@)
        # A fresh pwsh per call: its exit code and stderr reach the test if it ever dies, and a timeout ends it.
        $all = @(Invoke-LvsInNamespace $Lab.Client.Namespace $wrapped -ArgumentList $Ssh.KeyFilePath, $ArgumentList -Fresh -TimeoutSeconds 300)
        $isError = { $_.PSObject.Properties['LvsTestErrorId'] }
        [pscustomobject]@{
            Output = @($all | Where-Object { -not (& $isError) })
            Errors = @($all | Where-Object $isError | ForEach-Object { [pscustomobject]@{ Id = $_.LvsTestErrorId; Category = $_.Category; Message = $_.Message } })
        }
    }

    function Get-PoolVip {
        # The 203.0.113.x addresses of a real server, as the kernel lists them, sorted.
        param([string] $Role)
        @(Get-LvsLabAddress -Namespace $Lab.Hosts[$Role].Namespace | Where-Object Address -Like '203.0.113.*' | ForEach-Object Address | Sort-Object)
    }

    function Get-PoolSuppressed {
        # The VIPs that have both suppression rules in a real server's arptables.
        param([string] $Role)
        $rules = @(Get-LvsLabArpRule $Lab.Hosts[$Role].Namespace)
        @($rules | Where-Object { $_.Chain -eq 'LVSDIRECT-IN' -and $_.Target -eq 'DROP' -and $_.Destination -like '203.0.113.*' } | ForEach-Object Destination |
                Where-Object { $d = $_; $rules | Where-Object { $_.Chain -eq 'LVSDIRECT-OUT' -and $_.Source -eq $d -and $_.MangleIpSource -eq $Lab.Hosts[$Role].Address } } |
                Sort-Object)
    }

    $script:Expected = [ordered]@{
        rs1 = @('203.0.113.10', '203.0.113.100')
        rs2 = @('203.0.113.10', '203.0.113.100', '203.0.113.11')
        rs3 = @('203.0.113.100', '203.0.113.11')
        rs4 = @('203.0.113.100', '203.0.113.11')
    }
    $script:Conf = Join-Path $Lab.TempPath 'director' 'keepalived.conf'
    $null = New-Item -ItemType Directory -Path (Split-Path -Parent $Conf) -Force
    Write-KeepalivedConf -Path $Conf
}

AfterAll {
    if (Get-Variable -Name Ssh -Scope Script -ErrorAction SilentlyContinue) { Remove-LvsSshLab -SshLab $script:Ssh }
    if (Get-Variable -Name Lab -Scope Script -ErrorAction SilentlyContinue) { Remove-LvsLab -Lab $script:Lab }
}

Describe "A pool of real servers over SSH remoting$(if ($SkipReason) { " (skipped: $SkipReason)" })" -Skip:([bool]$SkipReason) {
    It 'Import-LvsConfig | Set-LvsRealServer gives every real server the VIPs of its DR services, installing the module first' {
        foreach ($r in $Roles) { Get-LvsSshLabModule -SshLab $Ssh -Role $r | Should -BeNullOrEmpty }

        $run = Invoke-FromClient { param($conf) Import-LvsConfig $conf | Set-LvsRealServer -UserName root -KeyFilePath $Key } -ArgumentList $Conf

        $run.Errors | Should -BeNullOrEmpty
        $results = @($run.Output)
        $results.Count | Should -Be 4
        ($results.ComputerName | Sort-Object) | Should -Be @('192.0.2.11', '192.0.2.12', '192.0.2.13', '192.0.2.14')
        foreach ($r in $results) {
            $r.pstypenames[0] | Should -BeLike '*LvsDirect.Core.Model.RealServerResult'
            "$($r.Status)" | Should -Be 'Changed'
            $r.ModuleInstalled | Should -BeTrue
            $r.Error | Should -BeNullOrEmpty
        }
        foreach ($role in $Roles) {
            $h = $Lab.Hosts[$role]
            Get-PoolVip $role | Should -Be $Expected[$role] -Because "$role serves exactly these DR services"
            Get-PoolSuppressed $role | Should -Be $Expected[$role] -Because "every VIP of $role is kept out of ARP"
            (@($results | Where-Object ComputerName -EQ $h.Address)[0].Added | ForEach-Object { "$_" } | Sort-Object) | Should -Be $Expected[$role]
            Get-LvsSshLabModule -SshLab $Ssh -Role $role | Should -Be '0.1.0'
        }
        # The module arrives as one zip: what the host has must be every file of the built module, byte for byte.
        $source = Split-Path -Parent (Get-LvsTestModulePath)
        $hashes = { param($dir) Get-ChildItem -LiteralPath $dir -Recurse -File | Where-Object Name -NE '.lvsdirect-build' |
                ForEach-Object { '{0} {1}' -f [IO.Path]::GetRelativePath($dir, $_.FullName), (Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256).Hash } | Sort-Object }
        $built = @(& $hashes $source)
        $built.Count | Should -BeGreaterThan 5
        foreach ($role in $Roles) {
            @(& $hashes (Join-Path $Ssh.Hosts[$role].ModulePath 'LvsDirect' '0.1.0')) | Should -Be $built -Because "$role received the module whole"
        }
        Get-LvsLabAddress -Namespace $ForeignRs1 | Where-Object Address -EQ '198.51.100.10' | Should -BeNullOrEmpty -Because 'the NAT service needs no VIP'
    }

    It 'only the director answers ARP for each VIP afterwards' {
        foreach ($vip in '203.0.113.100', '203.0.113.10', '203.0.113.11') {
            Get-ArpResponders -Lab $Lab -Vip $vip | Should -Be @($Lab.Director.Mac) -Because "no real server may answer for $vip"
        }
    }

    It 'a second run reports every host unchanged and changes nothing' {
        $before = foreach ($r in $Roles) { Get-LvsLabKernelState -Namespace $Lab.Hosts[$r].Namespace }

        $run = Invoke-FromClient { param($conf) Import-LvsConfig $conf | Set-LvsRealServer -UserName root -KeyFilePath $Key -ThrottleLimit 2 } -ArgumentList $Conf

        $run.Errors | Should -BeNullOrEmpty
        @($run.Output).Count | Should -Be 4
        foreach ($r in $run.Output) {
            "$($r.Status)" | Should -Be 'Unchanged'
            $r.ModuleInstalled | Should -BeFalse
            @($r.Added).Count + @($r.Removed).Count | Should -Be 0
        }
        $after = foreach ($r in $Roles) { Get-LvsLabKernelState -Namespace $Lab.Hosts[$r].Namespace }
        $after | Should -Be $before
    }

    It '-WhatIf reports per host what would change and changes nothing' {
        $before = foreach ($r in $Roles) { Get-LvsLabKernelState -Namespace $Lab.Hosts[$r].Namespace }

        $run = Invoke-FromClient { param($hosts) Set-LvsRealServer -HostName $hosts -VirtualIP 203.0.113.100, 203.0.113.12 -UserName root -KeyFilePath $Key -WhatIf } -ArgumentList (, [string[]]$Roles)

        $run.Errors | Should -BeNullOrEmpty
        $byHost = @{}
        foreach ($r in $run.Output) { $byHost[$r.ComputerName] = $r }
        $byHost.Keys | Sort-Object | Should -Be $Roles
        foreach ($role in $Roles) {
            "$($byHost[$role].Status)" | Should -Be 'WhatIf'
            @($byHost[$role].Added | ForEach-Object { "$_" }) | Should -Be @('203.0.113.12')
            @($byHost[$role].Removed | ForEach-Object { "$_" } | Sort-Object) | Should -Be @($Expected[$role] | Where-Object { $_ -ne '203.0.113.100' })
            @($byHost[$role].Commands) -join "`n" | Should -Match 'address add 203\.0\.113\.12/32 dev eth0'
        }
        $after = foreach ($r in $Roles) { Get-LvsLabKernelState -Namespace $Lab.Hosts[$r].Namespace }
        $after | Should -Be $before
    }

    It 'a host whose sshd is stopped fails alone, as a result and a non-terminating error, while the others are configured' {
        Stop-LvsSshServer -SshLab $Ssh -Role rs3
        try {
            $run = Invoke-FromClient { param($hosts) Set-LvsRealServer -HostName $hosts -VirtualIP 203.0.113.100, 203.0.113.12 -UserName root -KeyFilePath $Key } -ArgumentList (, [string[]]$Roles)
        }
        finally {
            Start-LvsSshServer -SshLab $Ssh -Role rs3
        }

        @($run.Output).Count | Should -Be 4
        $failed = @($run.Output | Where-Object { "$($_.Status)" -eq 'Failed' })
        $failed.ComputerName | Should -Be 'rs3'
        $failed[0].ErrorId | Should -Be 'HostUnreachable'
        $failed[0].Error | Should -Not -BeNullOrEmpty
        @($run.Errors).Count | Should -Be 1
        $run.Errors[0].Id | Should -BeLike 'HostUnreachable,*'
        $run.Errors[0].Category | Should -Be 'ConnectionError'
        $run.Errors[0].Message | Should -Match 'rs3'
        foreach ($role in 'rs1', 'rs2', 'rs4') {
            "$(@($run.Output | Where-Object ComputerName -EQ $role)[0].Status)" | Should -Be 'Changed'
            Get-PoolVip $role | Should -Be @('203.0.113.100', '203.0.113.12')
            Get-PoolSuppressed $role | Should -Be @('203.0.113.100', '203.0.113.12')
        }
        Get-PoolVip rs3 | Should -Be $Expected['rs3'] -Because 'the unreachable host was not changed'
        Get-ArpResponders -Lab $Lab -Vip 203.0.113.12 | Should -Be @($Lab.Director.Mac)
    }

    It 'Install-LvsDirect makes a host without the module usable, and Invoke-Command brings typed, formatted objects back with PSComputerName' {
        Clear-LvsSshLabModule -SshLab $Ssh -Role rs4
        Get-LvsSshLabModule -SshLab $Ssh -Role rs4 | Should -BeNullOrEmpty

        $install = Invoke-FromClient { Install-LvsDirect -HostName rs4 -UserName root -KeyFilePath $Key; Install-LvsDirect -HostName rs4 -UserName root -KeyFilePath $Key }
        $install.Errors | Should -BeNullOrEmpty
        @($install.Output | ForEach-Object { "$($_.Status)" }) | Should -Be @('Installed', 'AlreadyPresent')
        Get-LvsSshLabModule -SshLab $Ssh -Role rs4 | Should -Be '0.1.0'

        $remote = Invoke-FromClient {
            $vips = Invoke-Command -HostName rs4, rs1 -UserName root -KeyFilePath $Key -ScriptBlock { New-LvsVip -Address 203.0.113.50 }
            $vips
            $vips | Sort-Object PSComputerName | Out-String -Width 200
        }
        $remote.Errors | Should -BeNullOrEmpty
        $vips = @($remote.Output | Where-Object { $_ -isnot [string] })
        $table = @($remote.Output | Where-Object { $_ -is [string] })[0]
        ($vips.PSComputerName | Sort-Object) | Should -Be @('rs1', 'rs4')
        foreach ($v in $vips) {
            @($v.pstypenames -like 'Deserialized.*LvsDirect.Core.Model.LvsVip') | Should -Not -BeNullOrEmpty
            "$($v.ArpSuppression)" | Should -Be 'Complete'
        }
        # The module's table view applied to the deserialized objects: its columns, not a property list.
        $table | Should -Match '(?m)^Cidr\s+Interface\s+Suppression\s+Method\s+RealIP\s+Managed\s+PSComputerName'
        $table | Should -Match '203\.0\.113\.50/32\s+eth0\s+Complete\s+Arptables\s+192\.0\.2\.1[14]\s+True'
        foreach ($role in 'rs1', 'rs4') { Get-PoolSuppressed $role | Should -Contain '203.0.113.50' }
    }

    It '-Persist writes rc.local and the saved rules on the host' {
        $dir = Join-Path $Ssh.Hosts['rs1'].Directory 'persist'
        $rc = Join-Path $dir 'rc.local'
        $rules = Join-Path $dir 'arptables'

        $run = Invoke-FromClient { param($rc, $rules) Set-LvsRealServer -HostName rs1 -VirtualIP 203.0.113.100 -Persist -RcLocalPath $rc -ArpRulesPath $rules -UserName root -KeyFilePath $Key } -ArgumentList $rc, $rules

        $run.Errors | Should -BeNullOrEmpty
        $run.Output[0].PersistenceChanged | Should -BeTrue
        $text = Get-Content -LiteralPath $rc -Raw
        $text | Should -Match 'ip addr replace 203\.0\.113\.100/32 dev eth0'
        $text | Should -Not -Match '203\.0\.113\.(12|50)'
        Get-Content -LiteralPath $rules -Raw | Should -Match '-d 203\.0\.113\.100'
    }

    It 'Get-LvsVip -HostName lists each host''s VIPs over remoting and ssh alike, with progress' {
        $run = Invoke-FromClient {
            param($hosts)
            foreach ($transport in 'PowerShell', 'Ssh') {
                # A runspace of its own keeps the progress records, which no redirection captures.
                $ps = [powershell]::Create()
                $null = $ps.AddCommand('Import-Module').AddArgument((Join-Path (Get-Module -Name LvsDirect).ModuleBase 'LvsDirect.psd1')).AddStatement()
                $null = $ps.AddCommand('Get-LvsVip').AddParameters(@{ HostName = $hosts; UserName = 'root'; KeyFilePath = $Key; Transport = $transport })
                $vips = $ps.Invoke()
                [pscustomobject]@{
                    Transport = $transport
                    Vips      = @($vips | ForEach-Object { "$($_.PSComputerName) $($_.Address)" } | Sort-Object)
                    Progress  = @($ps.Streams.Progress | ForEach-Object StatusDescription)
                    Errors    = @($ps.Streams.Error | ForEach-Object FullyQualifiedErrorId)
                }
                $ps.Dispose()
            }
        } -ArgumentList (, [string[]]$Roles)

        $run.Errors | Should -BeNullOrEmpty
        $expected = @(foreach ($role in $Roles) { Get-PoolVip $role | ForEach-Object { "$role $_" } }) | Sort-Object
        $expected | Should -Not -BeNullOrEmpty
        foreach ($r in $run.Output) {
            $r.Errors | Should -BeNullOrEmpty -Because "-Transport $($r.Transport) reaches every host"
            $r.Vips | Should -Be $expected -Because "-Transport $($r.Transport) lists what the kernels have"
            @($r.Progress -match '^4 of 4 hosts done \(last: rs\d\)$').Count | Should -BeGreaterThan 0
        }
    }

    It 'a failed host has the same error id and category over remoting and ssh: an unreachable host, a refused VIP' {
        $cases = {
            param($hosts, $transport)
            Set-LvsRealServer -HostName $hosts -VirtualIP 203.0.113.100 -UserName root -KeyFilePath $Key -Transport $transport |
                ForEach-Object { [pscustomobject]@{ Cmdlet = 'Set'; ComputerName = "$($_.ComputerName)"; Status = "$($_.Status)"; ErrorId = $_.ErrorId } }
            Test-LvsRealServer -HostName $hosts -UserName root -KeyFilePath $Key -Transport $transport |
                ForEach-Object { [pscustomobject]@{ Cmdlet = 'Test'; ComputerName = "$($_.ComputerName)"; Status = "$($_.Status)"; ErrorId = $_.Check } } |
                Where-Object ErrorId -EQ 'Connection'
            Get-LvsVip -HostName $hosts -UserName root -KeyFilePath $Key -Transport $transport | Out-Null
        }
        $refused = {
            param($transport)
            # 192.0.2.11 is rs1's own address: the planner refuses it there (HostAddress) before any change.
            Set-LvsRealServer -HostName rs1 -VirtualIP 203.0.113.100, 192.0.2.11 -UserName root -KeyFilePath $Key -Transport $transport |
                ForEach-Object { [pscustomobject]@{ Cmdlet = 'Set'; ComputerName = "$($_.ComputerName)"; Status = "$($_.Status)"; ErrorId = $_.ErrorId } }
        }
        $before = foreach ($r in $Roles) { Get-LvsLabKernelState -Namespace $Lab.Hosts[$r].Namespace }
        Stop-LvsSshServer -SshLab $Ssh -Role rs3
        try {
            $unreachable = foreach ($transport in 'PowerShell', 'Ssh') { , (Invoke-FromClient $cases -ArgumentList @('rs3'), $transport) }
        }
        finally {
            Start-LvsSshServer -SshLab $Ssh -Role rs3
        }
        $refusals = foreach ($transport in 'PowerShell', 'Ssh') { , (Invoke-FromClient $refused -ArgumentList $transport) }

        foreach ($run in $unreachable) {
            # Set-LvsRealServer, Test-LvsRealServer and Get-LvsVip: one error each, all HostUnreachable.
            @($run.Errors.Id | ForEach-Object { ($_ -split ',')[0] }) | Should -Be @('HostUnreachable', 'HostUnreachable', 'HostUnreachable')
            @($run.Errors.Category | Sort-Object -Unique) | Should -Be 'ConnectionError'
            foreach ($e in $run.Errors) { $e.Message | Should -Match '^\[rs3\] ' }
            ($run.Output | Where-Object Cmdlet -EQ 'Set').ErrorId | Should -Be 'HostUnreachable'
            ($run.Output | Where-Object Cmdlet -EQ 'Set').Status | Should -Be 'Failed'
            ($run.Output | Where-Object Cmdlet -EQ 'Test').Status | Should -Be 'Fail'
        }
        foreach ($run in $refusals) {
            @($run.Errors.Id | ForEach-Object { ($_ -split ',')[0] }) | Should -Be @('HostAddress')
            @($run.Errors.Category) | Should -Be @('InvalidArgument')
            $run.Output.ErrorId | Should -Be 'HostAddress'
            $run.Output.Status | Should -Be 'Failed'
        }
        $after = foreach ($r in $Roles) { Get-LvsLabKernelState -Namespace $Lab.Hosts[$r].Namespace }
        $after | Should -Be $before -Because 'neither the unreachable host nor the refused VIP changed anything'
    }

    It 'removal across the pool removes exactly what the module owns' {
        $run = Invoke-FromClient { param($hosts) Set-LvsRealServer -HostName $hosts -VirtualIP @() -UserName root -KeyFilePath $Key } -ArgumentList (, [string[]]$Roles)

        $run.Errors | Should -BeNullOrEmpty
        foreach ($r in $run.Output) { "$($r.Status)" | Should -Be 'Changed'; @($r.Removed).Count | Should -BeGreaterThan 0 }
        foreach ($role in $Roles) {
            Get-PoolVip $role | Should -BeNullOrEmpty
            Get-PoolSuppressed $role | Should -BeNullOrEmpty
            @(Get-LvsLabArpRule $Lab.Hosts[$role].Namespace | Where-Object Line -Match '203\.0\.113\.') | Should -BeNullOrEmpty
        }
        Get-LvsLabAddress -Namespace $ForeignRs1 | Where-Object Address -EQ '198.51.100.77' | Should -Not -BeNullOrEmpty
        Get-LvsLabArpRule $ForeignRs1 | Where-Object { $_.Chain -eq 'INPUT' -and $_.Source -eq '192.0.2.99' -and $_.Target -eq 'ACCEPT' } | Should -Not -BeNullOrEmpty
        Get-ArpResponders -Lab $Lab | Should -Be @($Lab.Director.Mac)
    }

    It 'Install-LvsDirect installs where pwsh looks for CurrentUser modules, creating XDG_DATA_HOME''s folder when it is missing' {
        # rs2's sessions get XDG_DATA_HOME=<lab>/rs2/data (SshLab.ps1); here that folder does not exist yet.
        $data = $Ssh.Hosts['rs2'].DataPath
        Remove-Item -LiteralPath $data -Recurse -Force
        Test-Path -LiteralPath $data | Should -BeFalse

        $run = Invoke-FromClient {
            Install-LvsDirect -HostName rs2 -UserName root -KeyFilePath $Key
            # A new session, as a user's: pwsh finds the module by name and it works there.
            Invoke-Command -HostName rs2 -UserName root -KeyFilePath $Key -ScriptBlock {
                [pscustomobject]@{
                    Personal = [System.Management.Automation.ModuleIntrinsics].GetMethod('GetPersonalModulePath', [Reflection.BindingFlags]'NonPublic,Static').Invoke($null, @())
                    Base     = (Get-Module -ListAvailable -Name LvsDirect).ModuleBase
                    Vips     = @(Get-LvsVip).Count
                }
            }
        }

        $run.Errors | Should -BeNullOrEmpty
        $install = $run.Output[0]
        "$($install.Status)" | Should -Be 'Installed'
        $expected = Join-Path $data 'powershell' 'Modules' 'LvsDirect' '0.1.0'
        $install.Path | Should -Be $expected
        Join-Path $expected 'LvsDirect.psd1' | Should -Exist
        $session = $run.Output[1]
        $session.Personal | Should -Be (Join-Path $data 'powershell' 'Modules') -Because 'pwsh itself uses that folder for CurrentUser modules'
        $session.Base | Should -Be $expected
        $session.Vips | Should -Be 0
        Get-LvsSshLabModule -SshLab $Ssh -Role rs2 | Should -Be '0.1.0'
    }
}

Describe 'The connection parameters, before any host is contacted' {
    BeforeAll {
        Import-LvsTestModule
        $script:Here = Join-Path ([IO.Path]::GetTempPath()) "lvt$([guid]::NewGuid().ToString('n').Substring(0, 8))"
        $null = New-Item -ItemType Directory -Path $Here
        Push-Location -LiteralPath $Here
    }

    AfterAll {
        Pop-Location
        Remove-Item -LiteralPath $Here -Recurse -Force
    }

    It '<Name> resolves a relative -KeyFilePath against the current location, the same for ssh and remoting' -ForEach @(
        @{ Name = 'Set-LvsRealServer over remoting'; Run = { Set-LvsRealServer -HostName rs1 -VirtualIP 203.0.113.5 -KeyFilePath ./no-key -Transport PowerShell } }
        @{ Name = 'Set-LvsRealServer over ssh'; Run = { Set-LvsRealServer -HostName rs1 -VirtualIP 203.0.113.5 -KeyFilePath ./no-key -Transport Ssh } }
        @{ Name = 'Get-LvsVip over remoting'; Run = { Get-LvsVip -HostName rs1 -KeyFilePath ./no-key } }
        @{ Name = 'Get-LvsVip over ssh'; Run = { Get-LvsVip -HostName rs1 -KeyFilePath ./no-key -Transport Ssh } }
        @{ Name = 'Test-LvsRealServer over remoting'; Run = { Test-LvsRealServer -HostName rs1 -KeyFilePath ./no-key } }
        @{ Name = 'Test-LvsRealServer over ssh'; Run = { Test-LvsRealServer -HostName rs1 -KeyFilePath ./no-key -Transport Ssh } }
        @{ Name = 'Install-LvsDirect'; Run = { Install-LvsDirect -HostName rs1 -KeyFilePath ./no-key } }
    ) {
        # The process's own current directory is elsewhere: only the PowerShell location explains the path.
        [Environment]::CurrentDirectory | Should -Not -Be $Here
        $failure = { & $Run } | Should -Throw -ErrorId 'FileError,*' -PassThru
        $failure.Exception.Message | Should -BeLike "*'$(Join-Path $Here 'no-key')'*"

        $null = New-Item -ItemType File -Path (Join-Path $Here 'no-key') -Force
        try {
            # Found there now: -WhatIf gets past the check without contacting anyone (Install-LvsDirect asks no host).
            if ($Name -eq 'Install-LvsDirect') { Install-LvsDirect -HostName rs1 -KeyFilePath ./no-key -WhatIf | Should -BeNullOrEmpty }
        }
        finally { Remove-Item -LiteralPath (Join-Path $Here 'no-key') }
    }

    It '-SshPort is -Port''s alias, and the ports and the throttle limit are checked alike' {
        { Set-LvsRealServer -HostName rs1 -VirtualIP 203.0.113.5 -SshPort 70000 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { Get-LvsVip -HostName rs1 -Port 70000 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { Test-LvsRealServer -HostName rs1 -SshPort 70000 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { Install-LvsDirect -HostName rs1 -SshPort 70000 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { Install-LvsDirect -HostName rs1 -ThrottleLimit 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { Get-LvsVip -HostName rs1 -ThrottleLimit 1025 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
    }
}
