# The module on the legacy arptables (0.0.x, setsockopt): its restore flushes first, so every change must be
# made rule by rule, and foreign rules must survive. Debian ships it as arptables-legacy; a PATH entry that
# names it `arptables` makes it the flavor the module meets, for this test's child pwsh only.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:SkipReason = Test-LvsLabPrerequisite -Program 'ip', 'arptables-legacy'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'LvsDirect on legacy arptables' -Skip:([bool]$SkipReason) {
    BeforeAll {
        $script:Ns = "$(New-LvsLabPrefix)legacy"
        $script:Bin = Join-Path ([IO.Path]::GetTempPath()) "lvsdirect-legacy-$(Get-Random)"
        $null = New-Item -ItemType Directory -Path $Bin
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $Bin 'arptables') -Target (Find-LvsProgram 'arptables-legacy')
        New-LvsNamespace -Name $Ns
        $null = Invoke-LvsNative ip '-n', $Ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0'
        $null = Invoke-LvsNative ip '-n', $Ns, 'link', 'set', 'eth0', 'up'
        $null = Invoke-LvsNative ip '-n', $Ns, 'addr', 'add', '192.0.2.11/24', 'dev', 'eth0'
        # A second address of the host's own: the real IP the rules are switched to must be one.
        $null = Invoke-LvsNative ip '-n', $Ns, 'addr', 'add', '192.0.2.12/24', 'dev', 'eth0'
        $null = Invoke-LvsNative ip '-n', $Ns, 'route', 'add', 'default', 'via', '192.0.2.254'
        $null = Invoke-LvsNetns $Ns arptables-legacy '-A', 'INPUT', '-i', 'eth0', '-s', '192.0.2.99', '-j', 'ACCEPT'
        $script:Env = @{ PATH = "${Bin}:$env:PATH" }

        function script:Get-LegacyRule {
            (Invoke-LvsNetns $Ns arptables-legacy '-L', '-n').StdOut -split "`n" | ForEach-Object Trim | Where-Object { $_ -like '-j *' }
        }
    }

    AfterAll {
        Remove-LvsNamespace -Name $Ns
        Remove-Item -LiteralPath $Bin -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'detects the legacy flavor and adds 12 VIPs rule by rule, keeping the foreign rule' {
        $vips = 1..12 | ForEach-Object { "203.0.113.$_" }
        $out = Invoke-LvsInNamespace $Ns -Environment $Env {
            param($v)
            $log = @(New-LvsVip -Address $v -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object { "$_" })
            [pscustomobject]@{ Log = $log; Flavor = "$((Get-ArpSuppression | Select-Object -First 1).Flavor)" }
        } -ArgumentList (, $vips)

        $out.Flavor | Should -Be 'Legacy'
        $out.Log | Where-Object { $_ -like 'arptables-restore*' } | Should -BeNullOrEmpty
        # arptables-legacy takes no address lists: one call per rule, in LvsDirect's chains.
        @($out.Log | Where-Object { $_ -match '^arptables -A LVSDIRECT-(IN|OUT) .* -> exit 0' }).Count | Should -Be 24
        $rules = Get-LegacyRule
        $rules | Should -Contain '-j ACCEPT -i eth0 -s 192.0.2.99'
        $rules | Should -Contain '-j DROP -d 203.0.113.7'
        $rules | Should -Contain '-j mangle -s 203.0.113.7 --mangle-ip-s 192.0.2.11'
        $rules | Should -Contain '-j LVSDIRECT-IN'
        @($rules).Count | Should -Be 27 -Because '24 VIP rules, the foreign rule and the two jumps into LvsDirect''s chains'
    }

    It 'replaces a real IP rule by rule' {
        Invoke-LvsInNamespace $Ns -Environment $Env { Set-ArpSuppression -VirtualIP 203.0.113.1 -RealIP 192.0.2.12 } | Out-Null

        $rules = Get-LegacyRule
        $rules | Should -Contain '-j mangle -s 203.0.113.1 --mangle-ip-s 192.0.2.12'
        $rules | Should -Not -Contain '-j mangle -s 203.0.113.1 --mangle-ip-s 192.0.2.11'
    }

    It 'removes everything it added, and only that' {
        Invoke-LvsInNamespace $Ns -Environment $Env { Get-LvsVip | Remove-LvsVip } | Out-Null

        Get-LegacyRule | Should -Be @('-j ACCEPT -i eth0 -s 192.0.2.99')
        (Invoke-LvsNative ip '-n', $Ns, '-br', 'addr', 'show', 'dev', 'eth0').StdOut | Should -Not -Match '203\.0\.113\.'
    }
}
