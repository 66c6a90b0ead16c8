#Requires -Version 7.4
# The package as a user receives it: the built module published by PSResourceGet (what build.ps1 -Task Package
# does), then installed and used by a pwsh that has never seen the source tree. Every pwsh that registers a
# repository or installs runs with its own HOME, XDG folders and PSModulePath under a temp folder, so the real
# user's repository list and module folders are never touched.

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:ManifestPath = Get-LvsTestModulePath
    $script:ModuleFolder = Split-Path -Parent $ManifestPath
    $script:Manifest = Import-PowerShellDataFile -LiteralPath $ManifestPath
    $script:Version = [string]$Manifest.ModuleVersion
    $suffix = [guid]::NewGuid().ToString('n').Substring(0, 8)
    $script:Root = Join-Path ([IO.Path]::GetTempPath()) "lvs-package-$suffix"
    $script:Feed = Join-Path $Root 'feed'
    $script:RepositoryName = "LvsDirectLocal-$suffix"
    $null = New-Item -ItemType Directory -Path $Feed -Force

    function Invoke-IsolatedPwsh {
        <#
        .SYNOPSIS
        Runs a script in a new pwsh whose HOME, XDG folders and PSModulePath are folders under $Root/<Name>:
        a user account of its own. Returns its data folder; throws with stderr when pwsh fails.
        #>
        param(
            [Parameter(Mandatory)][string] $Name,
            [Parameter(Mandatory)][string] $Script,
            [string[]] $ArgumentList = @(),
            [int] $TimeoutSeconds = 60
        )

        $profileRoot = Join-Path $Root $Name
        # The XDG folders where they default to under HOME: PSResourceGet 1.2.0 installs CurrentUser modules
        # to HOME/.local/share/powershell/Modules whatever XDG_DATA_HOME says, pwsh looks for them under
        # XDG_DATA_HOME, and a real user's two agree only because XDG_DATA_HOME is normally unset.
        $folders = [ordered]@{ HOME = 'home'; XDG_DATA_HOME = 'home/.local/share'; XDG_CONFIG_HOME = 'home/.config'; XDG_CACHE_HOME = 'home/.cache' }
        # PSResourceGet writes its repository list into the current folder when the data folder is missing.
        foreach ($f in $folders.Values) { $null = New-Item -ItemType Directory -Path (Join-Path $profileRoot $f) -Force }
        $scriptPath = Join-Path $profileRoot 'script.ps1'
        Set-Content -LiteralPath $scriptPath -Value $Script -Encoding utf8

        $pwsh = Get-LvsPwshCommand
        $psi = [System.Diagnostics.ProcessStartInfo]::new($pwsh[0])
        foreach ($a in @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $scriptPath) + $ArgumentList) {
            $psi.ArgumentList.Add($a)
        }
        foreach ($key in $folders.Keys) { $psi.Environment[$key] = Join-Path $profileRoot $folders[$key] }
        $dataHome = Join-Path $profileRoot $folders.XDG_DATA_HOME
        $psi.Environment['PSModulePath'] = Join-Path $dataHome 'powershell' 'Modules'
        $psi.Environment['POWERSHELL_TELEMETRY_OPTOUT'] = '1'
        $psi.Environment['POWERSHELL_UPDATECHECK'] = 'Off'
        $psi.WorkingDirectory = $profileRoot
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        $p = [System.Diagnostics.Process]::Start($psi)
        try {
            $stdout = $p.StandardOutput.ReadToEndAsync()
            $stderr = $p.StandardError.ReadToEndAsync()
            if (-not $p.WaitForExit($TimeoutSeconds * 1000)) {
                $p.Kill($true)
                throw "The '$Name' pwsh did not finish within $TimeoutSeconds s."
            }
            $p.WaitForExit()
            if ($p.ExitCode -ne 0) {
                throw "The '$Name' pwsh exited $($p.ExitCode): $($stderr.GetAwaiter().GetResult().Trim()) $($stdout.GetAwaiter().GetResult().Trim())"
            }
        }
        finally {
            $p.Dispose()
        }
        $dataHome
    }

    # The publish step of build.ps1 -Task Package, against the module the build already laid out.
    $null = Invoke-IsolatedPwsh -Name 'publisher' -ArgumentList $ModuleFolder, $Feed, $RepositoryName -Script @'
param([string] $ModuleFolder, [string] $Feed, [string] $RepositoryName)
$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name $RepositoryName -Uri $Feed -Trusted
Publish-PSResource -Path $ModuleFolder -Repository $RepositoryName
'@
    $script:Nupkg = Join-Path $Feed "LvsDirect.$Version.nupkg"

    $script:ResultPath = Join-Path $Root 'installed.json'
    $script:UserData = Invoke-IsolatedPwsh -Name 'user' -ArgumentList $Feed, $RepositoryName, $ResultPath -Script @'
param([string] $Feed, [string] $RepositoryName, [string] $ResultPath)
$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name $RepositoryName -Uri $Feed -Trusted
Install-PSResource -Name LvsDirect -Repository $RepositoryName -Scope CurrentUser -TrustRepository
Import-Module -Name LvsDirect
$module = Get-Module -Name LvsDirect
[ordered]@{
    ModuleBase   = $module.ModuleBase
    Version      = [string]$module.Version
    CommandCount = @(Get-Command -Module LvsDirect).Count
    Synopsis     = (Get-Help -Name New-LvsVip).Synopsis
    HelpModule   = (Get-Help -Name New-LvsVip).ModuleName
    Repositories = @((Get-PSResourceRepository).Name)
    CoreLocation = ([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'LvsDirect.Core' }).Location
    CmdletLocation = (Get-Command -Name New-LvsVip).ImplementingType.Assembly.Location
    CoreJitted   = @(& {
            # The methods of LvsDirect.Core the JIT compiles while it parses a listing: none when its
            # ReadyToRun code is used.
            Add-Type -TypeDefinition @"
using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
public sealed class LvsJitListener : EventListener {
    public readonly ConcurrentQueue<string> Methods = new ConcurrentQueue<string>();
    protected override void OnEventSourceCreated(EventSource s) {
        if (s.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(s, EventLevel.Verbose, (EventKeywords)0x10);
    }
    protected override void OnEventWritten(EventWrittenEventArgs e) {
        if (e.EventName != null && e.EventName.StartsWith("MethodJittingStarted")) Methods.Enqueue(e.Payload[4] + "::" + e.Payload[5]);
    }
}
"@
            $listener = [LvsJitListener]::new()
            try {
                $null = [LvsDirect.Core.Parsing.ArptablesRuleSet]::Parse("*filter`n:INPUT ACCEPT`n:OUTPUT ACCEPT`n-A INPUT -d 192.0.2.1 -j DROP`n")
                $listener.Methods.ToArray() | Where-Object { $_ -like 'LvsDirect.Core.*' }
            }
            finally { $listener.Dispose() }
        })
} | ConvertTo-Json | Set-Content -LiteralPath $ResultPath -Encoding utf8
'@
    $script:Installed = Get-Content -LiteralPath $ResultPath -Raw | ConvertFrom-Json
}

AfterAll {
    if ($script:Root -and (Test-Path -LiteralPath $script:Root)) {
        Remove-Item -LiteralPath $script:Root -Recurse -Force -ErrorAction SilentlyContinue
    }
}

Describe 'The LvsDirect package' {
    It 'is LvsDirect.<version>.nupkg with the manifest version, the assemblies, format views, help and the MIT licence' {
        $Nupkg | Should -Exist
        $zip = [System.IO.Compression.ZipFile]::OpenRead($Nupkg)
        try {
            $entries = @($zip.Entries.FullName)
            $nuspec = [xml]([System.IO.StreamReader]::new($zip.GetEntry('LvsDirect.nuspec').Open()).ReadToEnd())
            $licence = $zip.GetEntry('LICENSE') | ForEach-Object { [System.IO.StreamReader]::new($_.Open()).ReadToEnd() }
        }
        finally {
            $zip.Dispose()
        }
        foreach ($file in 'LvsDirect.psd1', 'LvsDirect.dll', 'LvsDirect.Core.dll', 'LvsDirect.Loader.dll', 'LvsDirect.Format.ps1xml', 'en-US/LvsDirect.dll-Help.xml', 'en-US/about_LvsDirect.help.txt', 'LICENSE') {
            $entries | Should -Contain $file
        }
        $licence | Should -Match '^MIT License'
        $licence | Should -Match 'Copyright \(c\) 2026 LvsDirect contributors'
        $licence | Should -BeExactly (Get-Content -LiteralPath (Join-Path (Split-Path -Parent $PSScriptRoot) 'LICENSE') -Raw)
        $nuspec.package.metadata.version | Should -Be $Version
        $nuspec.package.metadata.tags -split ' ' | Should -Contain 'LVS-DR'
    }

    It 'does not carry System.Management.Automation, which PowerShell itself supplies' {
        $zip = [System.IO.Compression.ZipFile]::OpenRead($Nupkg)
        try { @($zip.Entries.Name) | Should -Not -Contain 'System.Management.Automation.dll' }
        finally { $zip.Dispose() }
    }
}

Describe 'The module without a ReadyToRun image for this process' {
    It 'loads the IL LvsDirect.Core and cmdlets beside the manifest, exports every cmdlet and has their help' {
        $copy = Join-Path $Root 'no-r2r' 'LvsDirect'
        $null = New-Item -ItemType Directory -Path (Split-Path -Parent $copy) -Force
        Copy-Item -LiteralPath $ModuleFolder -Destination $copy -Recurse
        Remove-Item -LiteralPath (Join-Path $copy 'r2r') -Recurse -Force -ErrorAction SilentlyContinue
        $result = Join-Path $Root 'no-r2r.json'
        $null = Invoke-IsolatedPwsh -Name 'no-r2r' -ArgumentList (Join-Path $copy 'LvsDirect.psd1'), $result -Script @'
param([string] $Manifest, [string] $ResultPath)
$ErrorActionPreference = 'Stop'
Import-Module -Name $Manifest
[ordered]@{
    CoreLocation = ([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'LvsDirect.Core' }).Location
    CmdletLocation = (Get-Command -Name New-LvsVip).ImplementingType.Assembly.Location
    CommandCount = @(Get-Command -Module LvsDirect).Count
    Synopsis     = (Get-Help -Name New-LvsVip).Synopsis
    Parsed       = [LvsDirect.Core.Parsing.ArptablesRuleSet]::Parse("*filter`n:INPUT ACCEPT`n-A INPUT -d 192.0.2.1 -j DROP`n").Rules.Count
} | ConvertTo-Json | Set-Content -LiteralPath $ResultPath -Encoding utf8
'@
        $r = Get-Content -LiteralPath $result -Raw | ConvertFrom-Json
        $r.CoreLocation | Should -Be (Join-Path $copy 'LvsDirect.Core.dll')
        $r.CmdletLocation | Should -Be (Join-Path $copy 'LvsDirect.dll')
        $r.Synopsis | Should -Not -Match '\[-\w+'
        $r.CommandCount | Should -Be @($Manifest.CmdletsToExport).Count
        $r.Parsed | Should -Be 1
    }
}

Describe 'LvsDirect installed with Install-PSResource from a file repository' {
    It 'lands in the current user''s module folder under its version' {
        $expected = Join-Path $UserData 'powershell' 'Modules' 'LvsDirect' $Version
        $Installed.ModuleBase | Should -Be $expected
        $Installed.Version | Should -Be $Version
    }

    It 'exports every cmdlet the manifest lists once imported by name' {
        $Installed.CommandCount | Should -Be @($Manifest.CmdletsToExport).Count
    }

    It 'runs LvsDirect.Core and the cmdlets precompiled where the build made images for this processor and .NET, and as IL elsewhere' {
        $platform = "linux-$("$([System.Runtime.InteropServices.RuntimeInformation]::ProcessArchitecture)".ToLowerInvariant()).net$([Environment]::Version.Major)"
        # The build makes the .NET 10 images on x64 build hosts (crossgen2 is an x64 program); this one built the package.
        $precompiled = $platform -eq 'linux-x64.net10' -and [System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture -eq 'X64'
        $folder = if ($precompiled) { Join-Path $Installed.ModuleBase 'r2r' $platform } else { $Installed.ModuleBase }
        $Installed.CoreLocation | Should -Be (Join-Path $folder 'LvsDirect.Core.dll')
        $Installed.CmdletLocation | Should -Be (Join-Path $folder 'LvsDirect.dll')
        if ($precompiled) { @($Installed.CoreJitted) | Should -BeNullOrEmpty }
    }

    It 'has the help of New-LvsVip, with a synopsis written for it' {
        $Installed.HelpModule | Should -Be 'LvsDirect'
        $Installed.Synopsis | Should -Not -BeNullOrEmpty
        # Without the MAML file Get-Help makes the synopsis from the syntax instead.
        $Installed.Synopsis | Should -Not -Match '\[-\w+'
    }

    It 'registers the repository only for the isolated user, never in the real user''s list' {
        $Installed.Repositories | Should -Contain $RepositoryName
        $dataHome = if ($env:XDG_DATA_HOME) { $env:XDG_DATA_HOME } else { Join-Path $HOME '.local' 'share' }
        $realList = Join-Path $dataHome 'PSResourceGet' 'PSResourceRepository.xml'
        if (Test-Path -LiteralPath $realList) {
            Get-Content -LiteralPath $realList -Raw | Should -Not -Match ([regex]::Escape($RepositoryName))
        }
    }
}
