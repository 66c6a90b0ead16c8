#Requires -Version 7.4
# Refusals on a real kernel: an address that cannot be a VIP, a real IP the host does not have, one VIP asked for
# twice in two ways, a removal of the host's own address. Each is refused with its error id, and the kernel's
# state (addresses, routes, arptables rules, ARP sysctls), read with ip, arptables-save and sysctl from outside
# the module, is byte-for-byte what it was before.

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:SkipReason = Test-LvsLabPrerequisite
    if ($SkipReason) { Write-Warning "LvsDirect validation tests skipped: $SkipReason." }
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
    $script:StatePath = Join-Path $Work 'arp-sysctl.json'

    function Get-RawKernelState {
        # Everything a refusal must leave alone, as the tools print it: any difference is a change.
        param([Parameter(Mandatory)][string] $Namespace)
        @(
            (Invoke-LvsNative ip '-n', $Namespace, '-j', 'addr', 'show').StdOut
            (Invoke-LvsNative ip '-n', $Namespace, '-j', 'route', 'show', 'table', 'all').StdOut
            Get-LvsLabArptablesSave $Namespace
            (Invoke-LvsNetns $Namespace sysctl '-a', '-r', '\.arp_(ignore|announce)$').StdOut
        ) -join "`n--`n"
    }

    function Assert-RefusedAndUnchanged {
        # Runs $ScriptBlock in the real server the way a user at the prompt does, with $ErrorActionPreference
        # Continue (a non-terminating refusal does not stop the cmdlet there); it must report $ErrorId and change
        # nothing in the kernel.
        param([string] $ErrorId, [scriptblock] $ScriptBlock, [object[]] $ArgumentList = @())
        $asUser = {
            param($Script, $Arguments)
            $ErrorActionPreference = 'Continue'
            $splat = @($Arguments | Where-Object { $null -ne $_ })
            $errors = @(& ([scriptblock]::Create($Script)) @splat 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            if ($errors) { throw $errors[0] }
        }
        $before = Get-RawKernelState $Rs1.Namespace
        $err = $null
        try { $null = Invoke-LvsInNamespace $Rs1.Namespace $asUser -ArgumentList $ScriptBlock.ToString(), $ArgumentList } catch { $err = $_ }
        Get-RawKernelState $Rs1.Namespace | Should -BeExactly $before -Because 'a refusal changes nothing'
        Test-Path -LiteralPath $StatePath | Should -BeFalse -Because 'a refusal records no sysctl'
        { if ($err) { throw $err } } | Should -Throw -ErrorId "$ErrorId,*"
        $err
    }
}

AfterAll {
    if (Get-Variable -Name Lab -Scope Script -ErrorAction SilentlyContinue) { Remove-LvsLab -Lab $script:Lab }
}

Describe "LvsDirect refuses what cannot be a VIP, before any change$(if ($SkipReason) { " (skipped: $SkipReason)" })" -Skip:([bool]$SkipReason) {
    BeforeEach {
        $null = Invoke-LvsNetns $Rs1.Namespace arptables '-F'
        foreach ($range in '203.0.113.0/24', '198.51.100.0/24') {
            foreach ($dev in 'eth0', 'lo') { $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'flush', 'dev', $dev, 'to', $range }
        }
        # A run that did not refuse (an older module) may have moved or deleted the primary address and with it the
        # default route: each test starts from the real server as the lab built it.
        $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'del', "$($Rs1.Address)/32", 'dev', 'lo' -AllowFailure
        $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'flush', 'dev', 'eth0', 'scope', 'global'
        $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'add', "$($Rs1.Address)/$($Lab.PrefixLength)", 'dev', 'eth0'
        $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'route', 'replace', 'default', 'via', $Lab.Gateway
        Set-LvsNamespaceArpSysctl -Namespace $Rs1.Namespace
        Remove-Item -LiteralPath $StatePath -Force -ErrorAction SilentlyContinue
        # Duplicate address detection ends on its own (an IPv6 address stops being tentative): wait for it, so the
        # kernel's own change is not taken for one of the module's.
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ((Invoke-LvsNative ip '-n', $Rs1.Namespace, '-6', 'addr', 'show', 'tentative').StdOut.Trim() -and [DateTime]::UtcNow -lt $deadline) {
            Start-Sleep -Milliseconds 200
        }
    }

    It 'New-LvsVip of the host''s primary address is HostAddress' {
        $null = Assert-RefusedAndUnchanged HostAddress { param($a) New-LvsVip -Address $a } $Rs1.Address
    }

    It 'Set-ArpSuppression -Method Sysctl of the host''s primary address is HostAddress (the address stays on eth0)' {
        $null = Assert-RefusedAndUnchanged HostAddress { param($a, $s) Set-ArpSuppression -VirtualIP $a -Method Sysctl -SysctlStatePath $s } $Rs1.Address, $StatePath
    }

    It 'New-LvsVip of the default gateway is GatewayAddress' {
        $null = Assert-RefusedAndUnchanged GatewayAddress { param($a) New-LvsVip -Address $a } $Lab.Gateway
    }

    It 'New-LvsVip of the subnet''s broadcast address is InvalidVip' {
        $null = Assert-RefusedAndUnchanged InvalidVip { New-LvsVip -Address 192.0.2.255 }
    }

    It 'New-LvsVip <_> is InvalidVip' -ForEach '0.0.0.0', '255.255.255.255', '224.0.0.18', '127.0.0.2', '169.254.1.1', '240.0.0.1' {
        $null = Assert-RefusedAndUnchanged InvalidVip { param($a) New-LvsVip -Address $a } $_
    }

    It 'New-LvsVip with a leading zero (203.0.113.011, octal to ip) is InvalidAddress' {
        $null = Assert-RefusedAndUnchanged InvalidAddress { New-LvsVip -Address 203.0.113.011 }
    }

    It 'New-LvsVip -RealIP <_> (not an address of this host''s eth0) is InvalidRealIP' -ForEach '192.0.2.99', '0.0.0.0', '203.0.113.100' {
        $null = Assert-RefusedAndUnchanged InvalidRealIP { param($v, $r) New-LvsVip -Address $v -RealIP $r } $Vip, $_
    }

    It 'the same VIP piped twice with two real IPs is ConflictingRequest, and neither is added' {
        $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'add', '192.0.2.111/24', 'dev', 'eth0'
        try {
            $null = Assert-RefusedAndUnchanged ConflictingRequest {
                param($v, $r)
                [pscustomobject]@{ Address = $v; RealIP = $r }, [pscustomobject]@{ Address = $v; RealIP = '192.0.2.111' } | New-LvsVip
            } $Vip, $Rs1.Address
        }
        finally {
            $null = Invoke-LvsNative ip '-n', $Rs1.Namespace, 'addr', 'del', '192.0.2.111/24', 'dev', 'eth0'
        }
    }

    It 'the same VIP with two prefixes in one call is ConflictingRequest; exact duplicates give one VIP' {
        $null = Assert-RefusedAndUnchanged ConflictingRequest { param($v) New-LvsVip -Address "$v/32", "$v/28" } $Vip

        $out = Invoke-LvsInNamespace $Rs1.Namespace { param($v) New-LvsVip -Address $v, "$v/32" } -ArgumentList $Vip
        @($out).Count | Should -Be 1
        @(Get-LvsLabAddress $Rs1.Namespace | Where-Object Address -EQ $Vip).Count | Should -Be 1
        @(Get-LvsLabSuppressionRule $Rs1.Namespace $Vip).Count | Should -Be 2
    }

    It 'Remove-LvsVip <_> -Force of the host''s primary address is HostAddress, and the primary and default route stay' -ForEach '192.0.2.11', '192.0.2.11/24' {
        $null = Assert-RefusedAndUnchanged HostAddress { param($a) Remove-LvsVip -Address $a -Force } $_
        (Invoke-LvsNative ip '-n', $Rs1.Namespace, '-j', 'route', 'show', 'default').StdOut | ConvertFrom-Json |
            ForEach-Object gateway | Should -Be $Lab.Gateway
    }

    It 'New-LvsVip -Method Sysctl on a VIP already on eth0 is VipOnOtherInterface and raises no sysctl' {
        $null = Invoke-LvsInNamespace $Rs1.Namespace { param($v) New-LvsVip -Address $v } -ArgumentList $Vip
        $err = Assert-RefusedAndUnchanged VipOnOtherInterface { param($v, $s) New-LvsVip -Address $v -Method Sysctl -SysctlStatePath $s } $Vip, $StatePath
        "$err" | Should -BeLike "*Set-ArpSuppression -VirtualIP $Vip -Method Sysctl*"
        (Invoke-LvsNetns $Rs1.Namespace sysctl '-n', 'net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.all.arp_announce').StdOut.Trim() -split '\s+' |
            Should -Be @('0', '0')
    }
}
