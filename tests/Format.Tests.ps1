#Requires -Version 7.4
# The default views as a new user sees them at an 80-column terminal: every output type, built from the module's
# own types (and their Deserialized form, as remote runs return them), formatted with Out-String -Width 80. No line
# may be longer, no word may be broken (the text, with its line breaks turned back into spaces, still holds every
# word whole), nothing may be cut to '…', and the fix must be there without Format-List.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:ManifestPath = Get-LvsTestModulePath
    Import-Module -Name $ManifestPath -Force -ErrorAction Stop

    function Format-At80 {
        <#
        .SYNOPSIS
        Out-String -Width 80 in a runspace of its own, which has no terminal: the width the views see is then
        that of remote and redirected output, whatever terminal runs the tests.
        #>
        param([object[]] $InputObject, [string] $View, [switch] $Table, [switch] $Deserialized)

        if ($Deserialized) {
            $InputObject = foreach ($o in $InputObject) { [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($o)) }
        }
        $iss = [initialsessionstate]::CreateDefault2()
        $iss.ImportPSModule($ManifestPath)
        $rs = [runspacefactory]::CreateRunspace($iss)
        $rs.Open()
        try {
            $ps = [powershell]::Create()
            $ps.Runspace = $rs
            $null = $ps.AddScript('param($o, $v, $t) if ($v) { $o | Format-Table -View $v | Out-String -Width 80 } elseif ($t) { $o | Format-Table | Out-String -Width 80 } else { $o | Out-String -Width 80 }').
                AddArgument($InputObject).AddArgument($View).AddArgument($Table.IsPresent)
            $text = -join $ps.Invoke()
            if ($ps.Streams.Error.Count) { throw "Formatting failed: $($ps.Streams.Error[0])" }
            $text
        }
        finally {
            $rs.Dispose()
        }
    }

    function Assert-Fits {
        # The text fits 80 columns and, read as words, contains every expected text whole.
        param([string] $Text, [string[]] $Contains, [int] $FromColumn)

        $Text | Should -Not -BeNullOrEmpty
        $long = @($Text -split '\r?\n' | Where-Object Length -GT 80)
        $long | Should -BeNullOrEmpty -Because "no line may be longer than 80 columns:`n$Text"
        if ($FromColumn) {
            # A table's last column, read down: the cells beside it would interleave with its lines.
            $Text = @($Text -split '\r?\n' | ForEach-Object { if ($_.Length -gt $FromColumn) { $_.Substring($FromColumn) } }) -join "`n"
        }
        $Text | Should -Not -Match '…' -Because "nothing may be cut:`n$Text"
        # A path longer than its column is broken after a '/', which is where a reader expects it.
        $words = ($Text -replace '/[ ]*\r?\n[ ]*', '/') -replace '\s+', ' '
        foreach ($c in $Contains) {
            $words | Should -BeLike "*$(($c -replace '\s+', ' ') -replace '([\[\]\*\?])', '`$1')*" -Because "'$c' must be shown whole:`n$Text"
        }
    }

    $script:LongDetail = 'The VIP 203.0.113.100 answers ARP requests: no arptables rule drops requests for it, and arp_ignore on eth0 is 0 (net.ipv4.conf.all.arp_ignore=0).'
    $script:LongFix = 'Set-ArpSuppression -VirtualIP 203.0.113.100 (or: sysctl -w net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_announce=2)'
    function New-Check {
        param([string] $ComputerName = 'rs1.example.com', [string] $Status = 'Fail', [string] $Check = 'SuppressionPersisted', [string] $Target = '203.0.113.100:8080/tcp', [string] $Detail = $LongDetail, [string] $Remediation = $LongFix)
        [LvsDirect.Core.Model.RealServerCheck]@{ ComputerName = $ComputerName; Status = $Status; Check = $Check; Target = $Target; Detail = $Detail; Remediation = $(if ($Status -ne 'Pass') { $Remediation }) }
    }
    $script:Checks = @(
        New-Check -Status Pass -Check VipPresent -Target 203.0.113.100 -Detail '203.0.113.100/32 is on lo.'
        New-Check
        New-Check -Status Warning -Check RcLocal -Target '/etc/rc.d/rc.local.d/a/very/long/folder/name/for/the/boot/file/rc.local' -Detail 'rc.local is not run at boot: rc-local.service is not enabled.' -Remediation 'systemctl enable rc-local.service'
        New-Check -ComputerName 'rs2.example.com' -Check ArpAnnounce -Target 2001:db8:ffff:1234:5678:9abc:def0:100
    )

    function New-Responder {
        param([string] $Mac, [string[]] $Owner, [string] $Status, $IsDirector, [string] $Detail, [string] $Remediation)
        $list = [System.Collections.Generic.List[ipaddress]]::new()
        foreach ($a in $Owner) { $list.Add([ipaddress]$a) }
        [LvsDirect.Core.Model.ArpResponder]@{ VirtualIP = [ipaddress]'203.0.113.100'; MacAddress = $Mac; OwnerAddress = $list; InterfaceName = 'enp0s31f6'; Replies = 3; ResponderCount = 3; Status = $Status; IsDirector = $IsDirector; Detail = $Detail; Remediation = $Remediation }
    }
    $script:Responders = @(
        New-Responder -Mac 02:00:c0:00:02:01 -Owner 192.0.2.1 -Status Pass -IsDirector $true -Detail 'The director, 192.0.2.1 (02:00:c0:00:02:01), answers ARP for 203.0.113.100; the other replies are not its.'
        New-Responder -Mac 02:00:c0:00:02:0b -Owner 192.0.2.11, 198.51.100.11 -Status Fail -IsDirector $false -Detail '192.0.2.11, 198.51.100.11 (02:00:c0:00:02:0b) answers ARP for 203.0.113.100 but is not the director.' -Remediation 'On 192.0.2.11, 198.51.100.11 (02:00:c0:00:02:0b): Set-ArpSuppression -VirtualIP 203.0.113.100 (Test-LvsRealServer there shows what else is missing).'
        New-Responder -Mac 02:00:c0:00:02:0c -Status Fail -IsDirector $false -Detail 'the host with MAC 02:00:c0:00:02:0c (its address is not in this host''s neighbour table) answers ARP.' -Remediation 'On the host with MAC 02:00:c0:00:02:0c (its address is not in this host''s neighbour table): Set-ArpSuppression -VirtualIP 203.0.113.100'
    )
}

Describe 'The default views at 80 columns' {
    Context 'Test-LvsRealServer (<_>)' -ForEach 'live', 'Deserialized' {
        BeforeAll { $script:Remote = $_ -eq 'Deserialized' }

        It 'shows each check on one line, the detail and the fix under it, grouped by host' {
            $text = Format-At80 $Checks -Deserialized:$Remote
            Assert-Fits $text -Contains $LongDetail, "Fix: $LongFix", 'systemctl enable rc-local.service', '2001:db8:ffff:1234:5678:9abc:def0:100',
                '/etc/rc.d/rc.local.d/a/very/long/folder/name/for/the/boot/file/rc.local'
            $text | Should -Match '(?m)^Fail\s+SuppressionPersisted 203\.0\.113\.100:8080/tcp$'
            $text | Should -Match '(?m)^   ComputerName: rs1\.example\.com$'
            $text | Should -Match '(?m)^   ComputerName: rs2\.example\.com$'
            $text | Should -Not -Match 'Fix:\s*$' -Because 'a passed check has no fix line'
        }

        It 'Format-Table without a view is the table of the findings (the Detail view), whole words' {
            $text = Format-At80 $Checks -View Detail -Deserialized:$Remote
            Assert-Fits $text -Contains $LongDetail, '203.0.113.100/32 is on lo.' -FromColumn 45
            $text | Should -Match '(?m)^Status\s+Check\s+Target\s+Detail$'
            $tableText = Format-At80 $Checks -View '' -Table -Deserialized:$Remote
            $tableText | Should -Be $text
        }

        It 'keeps Format-Table -View Summary: the fixes in a table, whole words' {
            $text = Format-At80 ($Checks | Where-Object Status -NE 'Pass') -View Summary -Deserialized:$Remote
            Assert-Fits $text -Contains $LongFix, 'systemctl enable rc-local.service' -FromColumn 45
            $text | Should -Match '(?m)^Status\s+Check\s+Target\s+Remediation$'
            $text | Should -Not -Match ([regex]::Escape($LongDetail.Substring(0, 30)))
        }
    }

    It 'Test-LvsArp (<_>): the director, the culprits named, and the fix for each' -ForEach 'live', 'Deserialized' {
        $text = Format-At80 $Responders -Deserialized:($_ -eq 'Deserialized')
        Assert-Fits $text -Contains '192.0.2.1 (director)', '192.0.2.11, 198.51.100.11', 'address unknown',
            'Fix: On 192.0.2.11, 198.51.100.11 (02:00:c0:00:02:0b): Set-ArpSuppression -VirtualIP 203.0.113.100 (Test-LvsRealServer there shows what else is missing).'
        $text | Should -Match '(?m)^Pass\s+02:00:c0:00:02:01\s+3 192\.0\.2\.1 \(director\)$'
        $text | Should -Match '(?m)^Fail\s+02:00:c0:00:02:0b\s+3 192\.0\.2\.11, 198\.51\.100\.11$'
        $text | Should -Match 'VirtualIP: 203\.0\.113\.100 on enp0s31f6'
    }

    It 'Get-LvsVip and Get-LvsVip -All (<_>): the real IP whole, with room for one more short column' -ForEach 'live', 'Deserialized' {
        $vips = @(
            [LvsDirect.Core.Model.LvsVip]@{ Address = [ipaddress]'203.0.113.100'; PrefixLength = 32; InterfaceName = 'enp0s31f6'; Label = 'enp0s31f6:web'; ArpSuppression = 'OutputOnly'; Method = 'Arptables'; RealIP = [ipaddress]'192.168.100.111'; IsVip = $true }
            [LvsDirect.Core.Model.LvsVip]@{ Address = [ipaddress]'192.0.2.11'; PrefixLength = 24; InterfaceName = 'eth0'; ArpSuppression = 'None' }
            [LvsDirect.Core.Model.LvsVip]@{ Address = [ipaddress]'2001:db8::100'; PrefixLength = 128; InterfaceName = 'lo'; ArpSuppression = 'None' }
        )
        $text = Format-At80 $vips -Deserialized:($_ -eq 'Deserialized')
        Assert-Fits $text -Contains '203.0.113.100/32', 'enp0s31f6:web', 'OutputOnly', 'Arptables', '192.168.100.111', '2001:db8::100/128'
        $widest = ($text -split '\r?\n' | Where-Object { $_ -match '192\.168\.100\.111' }).TrimEnd().Length
        # Room for one more short column (Managed, 8 columns with its space), until the view has it.
        $widest | Should -BeLessOrEqual $(if ($text -match '(?m)^Cidr .*Managed') { 80 } else { 72 })
    }

    It 'Get-ArpSuppression (<_>)' -ForEach 'live', 'Deserialized' {
        $rules = @([LvsDirect.Core.Model.ArpSuppressionRule]@{ VirtualIP = [ipaddress]'203.0.113.100'; RealIP = [ipaddress]'192.168.100.111'; Method = 'Arptables'; Flavor = 'Legacy'; State = 'OutputOnly' })
        Assert-Fits (Format-At80 $rules -Deserialized:($_ -eq 'Deserialized')) -Contains '203.0.113.100 192.168.100.111 Arptables Legacy OutputOnly'
    }

    It 'Set-LvsRealServer (<_>): what changed per host, or the error id and message whole, and each change''s detail' -ForEach 'live', 'Deserialized' {
        $changes = [System.Collections.Generic.List[LvsDirect.Core.Model.VipChange]]::new()
        foreach ($i in 100..105) { $changes.Add([LvsDirect.Core.Model.VipChange]@{ VirtualIP = [ipaddress]"203.0.113.$i"; Action = $(if ($i -lt 104) { 'Added' } else { 'Unchanged' }) }) }
        $message = 'ssh: connect to host rs2.example.com port 22: Connection refused (check that sshd runs there and that the port is open)'
        $results = @(
            [LvsDirect.Core.Model.RealServerResult]@{ ComputerName = 'rs1.example.com'; Status = 'Changed'; Changes = $changes; ModuleInstalled = $true; Duration = [timespan]::FromSeconds(1.25) }
            [LvsDirect.Core.Model.RealServerResult]@{ ComputerName = 'rs2.example.com'; Status = 'Failed'; Error = $message; ErrorId = 'HostUnreachable'; Duration = [timespan]::FromSeconds(0.3) }
        )
        $text = Format-At80 $results -Deserialized:($_ -eq 'Deserialized')
        Assert-Fits $text -FromColumn 40 -Contains "HostUnreachable: $message", 'added 203.0.113.100, 203.0.113.101, 203.0.113.102, 203.0.113.103; unchanged 203.0.113.104, 203.0.113.105; module installed'
        $text | Should -Match '(?m)^rs1\.example\.com\s+Changed\s+1\.2s added 203\.0\.113\.100, '
        $detail = 'address added to lo after its ARP suppression (arptables INPUT drop and OUTPUT mangle to 192.0.2.11)'
        $change = [LvsDirect.Core.Model.VipChange]@{ VirtualIP = [ipaddress]'203.0.113.100'; Action = 'Added'; Detail = $detail }
        Assert-Fits (Format-At80 $change -Deserialized:($_ -eq 'Deserialized')) -FromColumn 36 -Contains $detail
    }

    It 'Install-LvsDirect (<_>): the path, or the error, whole' -ForEach 'live', 'Deserialized' {
        $results = @(
            [LvsDirect.Core.Model.ModuleInstallResult]@{ ComputerName = 'rs1.example.com'; Status = 'Installed'; Version = '0.1.0'; Path = '/home/deploy/.local/share/powershell/Modules/LvsDirect/0.1.0' }
            [LvsDirect.Core.Model.ModuleInstallResult]@{ ComputerName = 'rs2.example.com'; Status = 'Failed'; Version = '0.1.0'; Error = 'cannot write /home/deploy/.local: Permission denied'; ErrorId = 'RemoteFailed' }
        )
        Assert-Fits (Format-At80 $results -Deserialized:($_ -eq 'Deserialized')) -FromColumn 55 -Contains '/home/deploy/.local/share/powershell/Modules/LvsDirect/0.1.0', 'RemoteFailed: cannot write /home/deploy/.local: Permission denied'
    }

    It 'Get-LvsRedirect, Save-ArpSuppression, Export-RcLocal and Import-LvsConfig (<_>)' -ForEach 'live', 'Deserialized' {
        $remote = $_ -eq 'Deserialized'
        $rule = '-A PREROUTING -d 203.0.113.100/32 -p tcp -m tcp --dport 8080 -m comment --comment lvsdirect -j REDIRECT'
        Assert-Fits (Format-At80 ([LvsDirect.Core.Model.LvsRedirect]@{ VirtualIP = [ipaddress]'203.0.113.100'; Port = 8080; Protocol = 'Tcp'; Rule = $rule }) -Deserialized:$remote) -FromColumn 31 -Contains $rule
        $path = '/var/lib/lvsdirect/a/rather/long/folder/for/the/saved/arptables/rules.txt'
        Assert-Fits (Format-At80 ([LvsDirect.Core.Model.ArpSuppressionSaveResult]@{ Path = $path; RuleCount = 12; Service = 'arptables'; ServiceEnabled = $true; Changed = $true }) -Deserialized:$remote) -FromColumn 46 -Contains $path
        Assert-Fits (Format-At80 ([LvsDirect.Core.Model.ArpSuppressionSaveResult]@{ Path = '/etc/arptables'; RuleCount = 12; Service = 'arptables'; ServiceEnabled = $true; Changed = $true }) -Deserialized:$remote) -Contains '12 arptables True True /etc/arptables'
        Assert-Fits (Format-At80 ([LvsDirect.Core.Model.RcLocalExportResult]@{ Path = "$path/rc.local"; Created = $true; Changed = $true; VipCount = 3; RuleCount = 6 }) -Deserialized:$remote) -FromColumn 35 -Contains "$path/rc.local"
        Assert-Fits (Format-At80 ([LvsDirect.Core.Model.RcLocalExportResult]@{ Path = '/etc/rc.local'; Created = $true; Changed = $true; VipCount = 3; RuleCount = 6 }) -Deserialized:$remote) -Contains 'True True 3 6 /etc/rc.local'
        Assert-Fits (Format-At80 ([LvsDirect.Core.Config.LvsVirtualService]@{ Address = [ipaddress]'203.0.113.100'; Port = 443; Protocol = 'tcp'; Scheduler = 'wlc'; ForwardingMethod = 'Direct' }) -Deserialized:$remote) -Contains '203.0.113.100 443 tcp wlc Direct'
    }
}
