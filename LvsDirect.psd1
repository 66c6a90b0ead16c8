@{
    RootModule           = 'LvsDirect.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '094db251-4618-4b68-8bd8-ce795eb8434f'
    Author               = 'LvsDirect contributors'
    CompanyName          = 'LvsDirect contributors'
    Copyright            = '(c) LvsDirect contributors.'
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
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('LVS', 'LVS-DR', 'DirectRouting', 'LoadBalancing', 'arptables', 'ARP', 'Linux', 'Networking')
            ReleaseNotes = 'First release: New-, Get-, Remove-LvsVip; Set-, Get-, Remove-, Save-ArpSuppression; Export-RcLocal. arptables_jf, arptables-legacy and arptables-nft are detected and handled alike.'
        }
    }
}
