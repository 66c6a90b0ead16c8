#Requires -Version 7.4
# The built module's help, as users see it: Get-Help must explain every exported cmdlet and parameter.

BeforeDiscovery {
    $manifest = $env:LVSDIRECT_MODULE_PATH
    if (-not $manifest) { throw 'LVSDIRECT_MODULE_PATH is not set: run the tests with ./build.ps1 -Task Test.' }
    # Discovery needs the names before the module is imported; the manifest is the list the module promises.
    $script:CmdletNames = @((Import-PowerShellDataFile -LiteralPath $manifest).CmdletsToExport)
}

BeforeAll {
    $manifest = $env:LVSDIRECT_MODULE_PATH
    if (-not $manifest) { throw 'LVSDIRECT_MODULE_PATH is not set: run the tests with ./build.ps1 -Task Test.' }
    Import-Module -Name $manifest -Force -ErrorAction Stop
    $script:Module = Get-Module -Name LvsDirect
    $script:CommonParameters = [System.Management.Automation.Cmdlet]::CommonParameters
}

Describe 'LvsDirect module help' {
    It 'exports exactly the cmdlets the manifest lists' {
        @($script:Module.ExportedCmdlets.Keys | Sort-Object) | Should -Be @($CmdletNames | Sort-Object)
    }

    It 'ships the help files in en-US' {
        Join-Path $script:Module.ModuleBase 'en-US' 'LvsDirect.dll-Help.xml' | Should -Exist
        Join-Path $script:Module.ModuleBase 'en-US' 'about_LvsDirect.help.txt' | Should -Exist
    }

    It 'has the about_LvsDirect topic explaining the ARP problem, ordering, persistence, ownership and locking' {
        $about = Get-Help -Name about_LvsDirect -ErrorAction Stop | Out-String
        $about | Should -Match 'about_LvsDirect'
        $about | Should -Match 'ARP problem'
        $about | Should -Match 'IN and OUT'
        $about | Should -Match 'ordering rule'
        $about | Should -Match 'Export-RcLocal'
        $about | Should -Match '/run/lvsdirect'
        $about | Should -Match 'Ownership and adoption'
        $about | Should -Match 'NotManaged'
    }

    It 'documents every error id (LvsErrorKind) in the README and about_LvsDirect, with its category and what to do next' {
        $root = Split-Path -Parent $PSScriptRoot
        $readme = Get-Content -LiteralPath (Join-Path $root 'README.md')
        $about = Get-Content -LiteralPath (Join-Path $root 'docs' 'en-US' 'about_LvsDirect.md')
        $categoryFor = [LvsDirect.LvsCmdlet].GetMethod('CategoryFor', [System.Reflection.BindingFlags]'NonPublic, Static')
        $kinds = [LvsDirect.Core.Errors.LvsErrorKind].GetEnumNames()
        $kinds | Should -Not -BeNullOrEmpty
        foreach ($id in $kinds) {
            $category = $categoryFor.Invoke($null, @([LvsDirect.Core.Errors.LvsErrorKind]$id))
            @($readme | Where-Object { $_ -match "^\| ``$id`` \| $category \| [^|]+\S \| [^|]+\S \|$" }).Count |
                Should -Be 1 -Because "README.md's error table needs one row | ``$id`` | $category | what happened | what to do next |"
            @($about | Where-Object { $_ -match "^- $id \($category\): .+ Next: .+" }).Count |
                Should -Be 1 -Because "about_LvsDirect.md's Errors list needs one line '- $id ($category): what happened. Next: what to do.'"
        }
        # And no id is documented that the module does not raise.
        $documented = @($readme | ForEach-Object { if ($_ -match '^\| `(\w+)` \| ') { $Matches[1] } })
        $documented | Where-Object { $_ -notin $kinds } | Should -BeNullOrEmpty
        @($about | ForEach-Object { if ($_ -match '^- (\w+) \(\w+\): ') { $Matches[1] } }) | Where-Object { $_ -notin $kinds } | Should -BeNullOrEmpty
    }

    It 'wraps about_LvsDirect at 80 columns' {
        $lines = Get-Content -LiteralPath (Join-Path $script:Module.ModuleBase 'en-US' 'about_LvsDirect.help.txt')
        @($lines | Where-Object Length -GT 80) | Should -BeNullOrEmpty
    }
}

Describe 'The connection parameters' {
    It 'are the same on every cmdlet that works on other hosts: type, validation, default and help text' {
        $cmdlets = 'Set-LvsRealServer', 'Get-LvsVip', 'Test-LvsRealServer', 'Install-LvsDirect'
        $describe = {
            param($c, $name)
            $p = (Get-Command -Name $c -Module LvsDirect).Parameters[$name]
            $range = @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateRangeAttribute] } | ForEach-Object { "$($_.MinRange)-$($_.MaxRange)" })
            $notEmpty = @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateNotNullOrEmptyAttribute] }).Count
            $help = (Get-Help -Name $c -Parameter $name).description.Text -join "`n"
            "$($p.ParameterType.Name) range=$range notEmpty=$notEmpty help=$help default=$((Get-Help -Name $c -Parameter $name).defaultValue)"
        }
        foreach ($name in 'UserName', 'KeyFilePath', 'ThrottleLimit') {
            $first = & $describe $cmdlets[0] $name
            foreach ($c in $cmdlets) { & $describe $c $name | Should -Be $first -Because "-$name of $c is declared once" }
        }
        # The SSH port: -Port (alias -SshPort), and -SshPort on Test-LvsRealServer, whose -Port is the service port.
        $port = & $describe 'Set-LvsRealServer' 'Port'
        foreach ($c in 'Get-LvsVip', 'Install-LvsDirect') {
            & $describe $c 'Port' | Should -Be $port
            (Get-Command -Name $c).Parameters['Port'].Aliases | Should -Be @('SshPort')
        }
        & $describe 'Test-LvsRealServer' 'SshPort' | Should -Be $port
        foreach ($c in 'Set-LvsRealServer', 'Get-LvsVip', 'Test-LvsRealServer') {
            (Get-Command -Name $c).Parameters['Transport'].ParameterType | Should -Be ([LvsDirect.Core.Model.LvsTransport])
            (Get-Help -Name $c -Parameter Transport).defaultValue | Should -Be 'PowerShell'
        }
    }
}

Describe 'Get-Help <_>' -ForEach $CmdletNames {
    BeforeAll {
        $script:Command = Get-Command -Name $_ -Module LvsDirect -ErrorAction Stop
        $script:Help = Get-Help -Name $_ -Full -ErrorAction Stop
        $script:HelpParameters = @($script:Help.parameters.parameter | Where-Object { $_ })
        $script:PublicParameters = @($script:Command.Parameters.Values | Where-Object { $_.Name -notin $script:CommonParameters })
    }

    It 'comes from the MAML file, not from the syntax PowerShell generates' {
        # Without a help file Get-Help makes a synopsis from the syntax ("New-LvsVip [-Address] <string[]> ...").
        $synopsis = ($script:Help.Synopsis | Out-String).Trim()
        $synopsis | Should -Not -BeNullOrEmpty
        $synopsis | Should -Not -BeLike "$_ *"
        $synopsis | Should -Not -Match '\[-\w+'
        $script:Help.ModuleName | Should -Be 'LvsDirect'
    }

    It 'has a description' {
        ($script:Help.description.Text -join "`n").Trim() | Should -Not -BeNullOrEmpty
    }

    It 'has an example for a pool of real servers' {
        # The cmdlet's own name does not count: Import-LvsConfig must show where its objects go.
        $code = (@($script:Help.examples.example | ForEach-Object { $_.code | Out-String }) -join "`n") -replace [regex]::Escape($_), ''
        $code | Should -Match 'Invoke-Command -HostName|-HostName|Set-LvsRealServer|Import-LvsConfig' -Because "$_ is used on pools of real servers"
    }

    It 'has at least two examples, each with code' {
        $examples = @($script:Help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($e in $examples) {
            ($e.code | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "every example of $_ needs code"
        }
    }

    It 'documents every public parameter with a description' {
        foreach ($p in $script:PublicParameters) {
            $doc = $script:HelpParameters | Where-Object name -EQ $p.Name
            $doc | Should -Not -BeNullOrEmpty -Because "-$($p.Name) of $_ must be in its help"
            ($doc.description.Text -join "`n").Trim() | Should -Not -BeNullOrEmpty -Because "-$($p.Name) of $_ needs a description"
        }
    }

    It 'documents no parameter the cmdlet does not have' {
        foreach ($doc in $script:HelpParameters) {
            $doc.name | Should -BeIn $script:PublicParameters.Name -Because "the help of $_ documents -$($doc.name)"
        }
    }

    It 'matches the binding of each parameter (mandatory, position, pipeline input)' {
        foreach ($p in $script:PublicParameters) {
            $doc = $script:HelpParameters | Where-Object name -EQ $p.Name
            $attr = @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })[0]
            $doc.required | Should -Be $attr.Mandatory.ToString().ToLowerInvariant() -Because "-$($p.Name) of $_ is Mandatory=$($attr.Mandatory)"
            $position = if ($attr.Position -ge 0) { [string]$attr.Position } else { 'named' }
            $doc.position | Should -Be $position -Because "-$($p.Name) of $_ has Position $($attr.Position)"
            $byValue = $doc.pipelineInput -match 'ByValue'
            $byName = $doc.pipelineInput -match 'ByPropertyName'
            $byValue | Should -Be $attr.ValueFromPipeline -Because "-$($p.Name) of $_ has ValueFromPipeline=$($attr.ValueFromPipeline)"
            $byName | Should -Be $attr.ValueFromPipelineByPropertyName -Because "-$($p.Name) of $_ has ValueFromPipelineByPropertyName=$($attr.ValueFromPipelineByPropertyName)"
        }
    }

    It 'names the error ids in its notes' {
        ($script:Help.alertSet | Out-String) | Should -Match 'FullyQualifiedErrorId'
    }

    It 'has related links' {
        @($script:Help.relatedLinks.navigationLink).Count | Should -BeGreaterOrEqual 1
    }
}
