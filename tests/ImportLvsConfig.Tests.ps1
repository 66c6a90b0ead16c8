#Requires -Version 7.4
# Import-LvsConfig | Set-LvsRealServer on a director's keepalived.conf written the way keepalived.conf(5) allows:
# $NAME definitions, the lvs_method/lvs_sched names beside the lb_kind/lb_algo aliases, a virtual_server_group
# range, a sorry server, per-real-server lvs_method and a lower-case "dr" keepalived rejects. Four real servers
# without PowerShell run an sshd each (tests/lab/SshLab.ps1, -Transport Ssh); every assertion reads their kernels
# from outside (ip -j addr, arptables) or the wire (arping from the client).
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:SkipReason = Test-LvsLabPrerequisite -Program 'ip', 'arptables', 'arping', 'sshd', 'ssh', 'ssh-keygen'
    if ($SkipReason) { Write-Warning "Import-LvsConfig lab tests skipped: $SkipReason." }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'lab' 'SshLab.ps1')
}

Describe 'Import-LvsConfig | Set-LvsRealServer gives each host exactly the VIPs keepalived forwards to it by DR' -Skip:([bool]$SkipReason) {
    BeforeAll {
        $script:Lab = New-LvsLab -RealServerCount 4 -NoSession
        $script:Ssh = New-LvsSshLab -Lab $Lab -NoPowerShell
        $script:Key = $Ssh.KeyFilePath
        $rs = @{}
        foreach ($r in 'rs1', 'rs2', 'rs3', 'rs4') { $rs[$r] = $Lab.Hosts[$r].Address }
        # The director holds the VIPs, as keepalived's vrrp_instance would give them to it.
        foreach ($vip in '203.0.113.20', '203.0.113.21', '203.0.113.30', '203.0.113.40', '203.0.113.50') {
            $null = Invoke-LvsNative ip '-n', $Lab.Director.Namespace, 'addr', 'add', "$vip/32", 'dev', 'eth0'
        }
        $script:Config = Join-Path $Lab.TempPath 'keepalived.conf'
        Set-Content -LiteralPath $Config -Encoding utf8 -Value @"
! Director of the lab
`$RS1=$($rs.rs1)
`$RS2=$($rs.rs2)
`$RS3=$($rs.rs3)
`$RS4=$($rs.rs4)
global_defs {
    router_id LVS_LAB
}
virtual_server_group WEB {
    203.0.113.20-21 80
}
virtual_server group WEB {
    lvs_sched rr
    lvs_method DR
    protocol TCP
    sorry_server `${RS4} 80
    real_server `$RS1 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 3
        }
    }
    real_server `$RS2 80 {
        weight 1
    }
}
virtual_server 203.0.113.30 80 {
    lb_algo wlc
    lb_kind NAT
    protocol TCP
    real_server `$RS2 8080 {
        weight 1
    }
    real_server `$RS3 80 {
        weight 1
        lvs_method DR
    }
}
virtual_server 203.0.113.40 80 {
    lb_algo wlc
    lb_kind DR
    protocol TCP
    real_server `$RS1 80 {
        lvs_method TUN
    }
    real_server `$RS3 80 {
        weight 1
    }
}
virtual_server 203.0.113.50 80 {
    lb_kind dr
    protocol TCP
    real_server `$RS2 80 {
        weight 1
    }
}
"@

        $script:Run = Invoke-LvsInNamespace $Lab.Client.Namespace {
            param($config, $key)
            $ErrorActionPreference = 'Continue'
            $results = @(Import-LvsConfig $config -WarningVariable warned -WarningAction SilentlyContinue |
                    Set-LvsRealServer -Transport Ssh -UserName root -KeyFilePath $key -WarningAction SilentlyContinue 2>&1)
            [pscustomobject]@{
                Statuses = @($results | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] } | ForEach-Object { "$($_.ComputerName) $($_.Status)" })
                Errors   = @($results | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | ForEach-Object { "$($_.FullyQualifiedErrorId) $($_.Exception.Message)" })
                Warnings = @($warned | ForEach-Object { "$_" })
            }
        } -ArgumentList $Config, $Key

        function script:Get-Vips([string] $Role) {
            @(Get-LvsLabAddress -Namespace $Lab.Hosts[$Role].Namespace | Where-Object Address -like '203.0.113.*' | ForEach-Object Address | Sort-Object)
        }
    }

    AfterAll {
        Remove-LvsSshLab -SshLab $Ssh
        Remove-LvsLab -Lab $Lab
    }

    It 'configures the four hosts without an error' {
        $Run.Errors | Should -BeNullOrEmpty
        @($Run.Statuses).Count | Should -Be 4
        $Run.Statuses | ForEach-Object { ($_ -split ' ')[1] } | Sort-Object -Unique | Should -Be 'Changed'
    }

    It 'gives the real servers of the lvs_method DR group every address of its range' {
        Get-Vips rs1 | Should -Be @('203.0.113.20', '203.0.113.21')
        Get-Vips rs2 | Should -Be @('203.0.113.20', '203.0.113.21')
    }

    It 'gives the sorry server of a DR service the service''s VIPs, with their ARP suppression' {
        Get-Vips rs4 | Should -Be @('203.0.113.20', '203.0.113.21')
        @(Get-LvsLabSuppressionRule -Namespace $Lab.Hosts['rs4'].Namespace -Vip '203.0.113.20').Count | Should -Be 2
    }

    It 'gives a real server its own lvs_method: DR inside a NAT service gets the VIP, TUN inside a DR service does not' {
        Get-Vips rs3 | Should -Be @('203.0.113.30', '203.0.113.40')
        Get-Vips rs1 | Should -Not -Contain '203.0.113.40'
        Get-Vips rs2 | Should -Not -Contain '203.0.113.30'
    }

    It 'gives no host the VIP of the "lb_kind dr" service keepalived runs as NAT, and says why with the file and line' {
        foreach ($r in 'rs1', 'rs2', 'rs3', 'rs4') { Get-Vips $r | Should -Not -Contain '203.0.113.50' }
        $skip = @($Run.Warnings | Where-Object { $_ -like 'Skipped: NAT service 203.0.113.50:80 *' })
        $skip.Count | Should -Be 1
        $skip[0] | Should -Match ([regex]::Escape("$Config line ") + '\d+')
        $skip[0] | Should -Match "lb_kind 'dr'.*case-sensitively"
    }

    It 'leaves only the director answering ARP for the group''s VIPs' {
        foreach ($vip in '203.0.113.20', '203.0.113.21') { Get-ArpResponders -Lab $Lab -Vip $vip | Should -Be @($Lab.Director.Mac) }
    }
}
