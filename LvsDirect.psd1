@{
    # No RootModule: PowerShell loads a manifest's RootModule assembly before any nested module, so the cmdlets are
    # the second nested module, imported after LvsDirect.Loader has loaded the precompiled LvsDirect.dll and
    # LvsDirect.Core that match this process, if there are any.
    NestedModules        = @('LvsDirect.Loader.dll', 'LvsDirect.dll')
    ModuleVersion        = '0.1.0'
    GUID                 = '094db251-4618-4b68-8bd8-ce795eb8434f'
    Author               = 'LvsDirect contributors'
    CompanyName          = 'LvsDirect contributors'
    Copyright            = '(c) 2026 LvsDirect contributors. MIT License (the LICENSE file).'
    Description          = 'Configures the real servers of a Linux Virtual Server cluster that uses direct routing (LVS-DR): adds virtual IPs, keeps them out of ARP with arptables, and makes both survive a reboot. Idempotent, batched and -WhatIf-able; runs on Linux.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('LvsDirect.Format.ps1xml')
    CmdletsToExport      = @(
        'New-LvsVip'
        'Get-LvsVip'
        'Remove-LvsVip'
        'Set-ArpSuppression'
        'Get-ArpSuppression'
        'Remove-ArpSuppression'
        'Save-ArpSuppression'
        'Export-RcLocal'
        'Save-LvsVip'
        'Import-LvsConfig'
        'Test-LvsRealServer'
        'Test-LvsArp'
        'Set-LvsRealServer'
        'Install-LvsDirect'
        'New-LvsRedirect'
        'Get-LvsRedirect'
        'Remove-LvsRedirect'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('LVS', 'LVS-DR', 'DirectRouting', 'arptables', 'ARP', 'keepalived', 'Linux', 'networking', 'loadbalancing', 'PSEdition_Core')
            ReleaseNotes = @'
0.1.0 - first release.
- New-, Get-, Remove-LvsVip; Set-, Get-, Remove-, Save-ArpSuppression; Export-RcLocal.
- arptables_jf, arptables-legacy and arptables-nft are detected and handled alike.
- Suppression is in place before a VIP is added and removed after it; foreign rules, addresses and rc.local
  lines are kept; a second run changes nothing.
- Any number of VIPs in one arptables transaction and one ip -batch; -WhatIf/-Confirm show the exact commands.
- Tab completion of interface names and of the VIPs configured now.
- Linux only; changes need root.
'@
        }
    }
}
