#Requires -Version 7.4
<#
.SYNOPSIS
The one entry point for building, testing, demonstrating and benchmarking LvsDirect.

.DESCRIPTION
Build   installs the lab's apt packages when missing (root on Debian/Ubuntu only), builds the solution with the
        version from LvsDirect.psd1 and lays out output/LvsDirect/<version>/ with the MAML and about_ help.
Test    Build, then xUnit (dotnet test) and Pester 5.7.1 (in a fresh pwsh); prints one summary line and exits 1
        when anything failed or a runner did not run. With CI=true a real-kernel lab test skipped because its
        lab cannot run here (not root, a program missing) is a failure; without it, a skip with a warning.
Demo    Build, then tests/lab/Demo.ps1 in a fresh pwsh.
Bench   Build, then tests/lab/Bench.ps1 in a fresh pwsh, with a ReadyToRun copy of the project's pwsh beside it
        (made once with crossgen2 under output/bench-pwsh/, as pwsh's own Linux packages ship it; the targets are
        judged there, the dotnet tool's IL-only pwsh is measured for reference). -SkipPool leaves out the pools.
Package Build, then output/LvsDirect.<version>.nupkg, published by PSResourceGet so Install-PSResource accepts it.
Clean   Removes output/ and every project's bin/ and obj/.

.EXAMPLE
dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Package', 'Clean')]
    [string[]] $Task = 'Build',

    [string] $Configuration = 'Release',

    # Bench: only the single-host part, without the pools.
    [switch] $SkipPool
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$env:POWERSHELL_TELEMETRY_OPTOUT = '1'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

$RepoRoot = $PSScriptRoot
$ModuleName = 'LvsDirect'
$ManifestPath = Join-Path $RepoRoot "$ModuleName.psd1"
$OutputRoot = Join-Path $RepoRoot 'output'
$PesterVersion = '5.7.1'

# Programs the module, the tests and the namespace lab call, and the Debian packages that provide them.
$LabPrograms = 'ip', 'arptables', 'arptables-legacy', 'iptables', 'arping', 'ebtables', 'socat', 'sshd', 'tcpdump', 'nft', 'ndisc6', 'netplan'
$LabPackages = 'iproute2', 'arptables', 'iptables', 'iputils-arping', 'ebtables', 'socat', 'openssh-server',
    'openssh-client', 'tcpdump', 'nftables', 'procps', 'util-linux', 'ndisc6', 'netplan.io'

function Get-PwshCommand {
    <#
    .SYNOPSIS
    The argument vector that starts a new pwsh of the same installation as this one: the program first, then
    the arguments that must precede pwsh's own (for a dotnet-tool install, the path of pwsh.dll).
    #>
    [OutputType([string[]])]
    param()

    $processPath = [Environment]::ProcessPath
    $dll = Join-Path $PSHOME 'pwsh.dll'
    $apphost = Join-Path $PSHOME 'pwsh'
    # Under `dotnet pwsh` (the local tool) this process is the dotnet host running pwsh.dll. Reusing that host
    # keeps the same runtime, and does not depend on the tool package's apphost finding one by itself.
    if ((Split-Path -Leaf $processPath) -in 'dotnet', 'dotnet.exe' -and (Test-Path -LiteralPath $dll -PathType Leaf)) {
        return , @($processPath, $dll)
    }
    if ((Split-Path -Leaf $processPath) -in 'pwsh', 'pwsh.exe') {
        return , @($processPath)
    }
    if ((Test-Path -LiteralPath $apphost -PathType Leaf) -and -not $IsWindows) {
        return , @($apphost)
    }
    if (Test-Path -LiteralPath $dll -PathType Leaf) {
        $dotnet = Get-Command -Name dotnet -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($dotnet) { return , @($dotnet.Source, $dll) }
    }
    throw "Cannot find how to start pwsh: neither '$apphost' nor 'dotnet $dll' is usable."
}

function Invoke-Native {
    # Runs a program with an argument list (no shell) and throws on a non-zero exit code. Its output goes to
    # the console, or with -Capture is returned; with -AllowFailure the exit code is returned instead of thrown.
    param(
        [Parameter(Mandatory)][string] $FilePath,
        [string[]] $ArgumentList = @(),
        [switch] $Capture,
        [switch] $AllowFailure
    )

    Write-Host "> $FilePath $($ArgumentList -join ' ')" -ForegroundColor DarkGray
    if ($Capture) {
        $output = & $FilePath @ArgumentList
    }
    else {
        & $FilePath @ArgumentList | Out-Host
    }
    $code = $LASTEXITCODE
    if ($code -ne 0 -and -not $AllowFailure) {
        throw "'$FilePath $($ArgumentList -join ' ')' failed with exit code $code."
    }
    if ($Capture) { return $output }
    if ($AllowFailure) { return $code }
}

function Invoke-ChildPwsh {
    # Runs a script file in a fresh pwsh so the module DLL is loaded anew (an assembly cannot be unloaded).
    param(
        [Parameter(Mandatory)][string] $ScriptPath,
        [string[]] $ArgumentList = @(),
        [switch] $AllowFailure
    )

    $pwsh = Get-PwshCommand
    $exe = $pwsh[0]
    $argv = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $ScriptPath) + $ArgumentList
    Invoke-Native -FilePath $exe -ArgumentList $argv -AllowFailure:$AllowFailure
}

function Get-ModuleVersion {
    $data = Import-PowerShellDataFile -LiteralPath $ManifestPath
    $version = [string]$data.ModuleVersion
    if ($version -notmatch '^\d+\.\d+\.\d+$') { throw "ModuleVersion '$version' in $ManifestPath is not Major.Minor.Patch." }
    $version
}

function Get-ModuleOutputPath {
    Join-Path $OutputRoot $ModuleName (Get-ModuleVersion)
}

function Test-Program {
    param([string] $Name)

    if (Get-Command -Name $Name -CommandType Application -ErrorAction SilentlyContinue) { return $true }
    # root's PATH usually has the sbin folders, sudo's secure_path and a plain login's may not.
    foreach ($folder in '/usr/local/sbin', '/usr/sbin', '/sbin') {
        if (Test-Path -LiteralPath (Join-Path $folder $Name) -PathType Leaf) { return $true }
    }
    $false
}

function Install-LabPackage {
    $missing = @($LabPrograms.Where({ -not (Test-Program $_) }))
    if ($missing.Count -eq 0) { return }

    $isDebian = (Test-Path -LiteralPath /etc/debian_version) -and (Test-Program 'apt-get')
    $uid = Invoke-Native -Capture -FilePath id -ArgumentList '-u' | Select-Object -First 1
    if (-not $isDebian -or "$uid".Trim() -ne '0') {
        Write-Warning "Missing programs: $($missing -join ', '). Install them ($($LabPackages -join ' ')); the lab tests and the demo need them."
        return
    }

    Write-Host "Installing lab packages (missing: $($missing -join ', '))" -ForegroundColor Cyan
    $env:DEBIAN_FRONTEND = 'noninteractive'
    Invoke-Native -FilePath apt-get -ArgumentList '-q', 'update'
    Invoke-Native -FilePath apt-get -ArgumentList (@('-q', 'install', '-y', '--no-install-recommends') + $LabPackages)
    $still = @($LabPrograms.Where({ -not (Test-Program $_) }))
    if ($still.Count -gt 0) { throw "Still missing after apt-get install: $($still -join ', ')." }
}

function Get-GlobalPackagesFolder {
    $line = Invoke-Native -Capture -FilePath dotnet -ArgumentList 'nuget', 'locals', 'global-packages', '--list' |
        Where-Object { $_ -match 'global-packages:\s*(.+?)\s*$' } | Select-Object -First 1
    if (-not $line -or $line -notmatch 'global-packages:\s*(.+?)\s*$') { throw 'dotnet did not report the NuGet global-packages folder.' }
    $Matches[1]
}

$script:Done = @{}

function Invoke-Build {
    if ($script:Done['Build']) { return }
    $version = Get-ModuleVersion
    Write-Host "Building $ModuleName $version ($Configuration)" -ForegroundColor Cyan

    Install-LabPackage
    Invoke-Native -FilePath dotnet -ArgumentList 'build', (Join-Path $RepoRoot 'LvsDirect.sln'), '-c', $Configuration, "-p:Version=$version", '-nologo', '-v:minimal'

    $bin = Join-Path $RepoRoot 'src' $ModuleName 'bin' $Configuration
    $binFolder = Get-ChildItem -LiteralPath $bin -Directory | Where-Object { Test-Path -LiteralPath (Join-Path $_.FullName "$ModuleName.dll") } |
        Sort-Object Name | Select-Object -First 1
    if (-not $binFolder) { throw "No $ModuleName.dll under $bin after the build." }

    $dest = Get-ModuleOutputPath
    if (Test-Path -LiteralPath $dest) { Remove-Item -LiteralPath $dest -Recurse -Force }
    $null = New-Item -ItemType Directory -Force -Path $dest

    # Only our own assemblies: PowerShell supplies System.Management.Automation, and a second copy would clash.
    $files = @(Get-ChildItem -LiteralPath $binFolder.FullName -File | Where-Object {
            $_.Name -like "$ModuleName.*" -and $_.Extension -in '.dll', '.pdb', '.json' -and $_.Name -notlike '*.runtimeconfig.json'
        })
    foreach ($name in "$ModuleName.dll", "$ModuleName.Core.dll", "$ModuleName.Loader.dll") {
        if ($name -notin $files.Name) { throw "$name is missing from $($binFolder.FullName)." }
    }
    $files | Copy-Item -Destination $dest
    # The ReadyToRun images of LvsDirect.Core (see src/LvsDirect/LvsDirect.csproj), when this host could make them.
    $r2r = Join-Path $binFolder.FullName 'r2r'
    if (Test-Path -LiteralPath $r2r -PathType Container) { Copy-Item -LiteralPath $r2r -Destination $dest -Recurse }
    Copy-Item -LiteralPath $ManifestPath -Destination $dest
    Copy-Item -LiteralPath (Join-Path $RepoRoot 'src' $ModuleName "$ModuleName.Format.ps1xml") -Destination $dest
    Copy-Item -LiteralPath (Join-Path $RepoRoot 'LICENSE') -Destination $dest

    Import-Module (Join-Path $RepoRoot 'src' 'HelpBuilder' 'HelpBuilder.psm1') -Force
    $docs = Join-Path $RepoRoot 'docs' 'en-US'
    $cmdlets = @((Import-PowerShellDataFile -LiteralPath $ManifestPath).CmdletsToExport)
    $null = ConvertTo-LvsMamlHelp -DocsPath $docs -OutputPath (Join-Path $dest 'en-US' "$ModuleName.dll-Help.xml") -CommandName $cmdlets
    $null = ConvertTo-LvsAboutHelp -Path (Join-Path $docs "about_$ModuleName.md") -OutputPath (Join-Path $dest 'en-US' "about_$ModuleName.help.txt")

    # Catch a broken manifest or format file here, not in the first user's session.
    $null = Test-ModuleManifest -Path (Join-Path $dest "$ModuleName.psd1")
    Update-FormatData -PrependPath (Join-Path $dest "$ModuleName.Format.ps1xml")

    Write-Host "Module laid out in $dest" -ForegroundColor Green
    $script:Done['Build'] = $true
}

function Read-TrxCounter {
    param([string] $Path)

    [xml] $trx = Get-Content -LiteralPath $Path -Raw
    $c = $trx.TestRun.ResultSummary.Counters
    if (-not $c) { throw "$Path has no <Counters> element." }
    $n = { param($name) if ($c.HasAttribute($name)) { [int]$c.GetAttribute($name) } else { 0 } }
    [pscustomobject]@{
        Passed  = & $n 'passed'
        Failed  = (& $n 'failed') + (& $n 'error') + (& $n 'timeout') + (& $n 'aborted')
        Skipped = (& $n 'notExecuted') + (& $n 'inconclusive') + (& $n 'notRunnable')
    }
}

function Invoke-XunitTest {
    param([string] $ResultsPath)

    $project = Join-Path $RepoRoot 'tests' 'LvsDirect.Tests'
    $code = Invoke-Native -AllowFailure -FilePath dotnet -ArgumentList 'test', $project, '-c', $Configuration, '--no-build',
        '--logger', 'trx;LogFileName=xunit.trx', '--results-directory', $ResultsPath
    $trx = Join-Path $ResultsPath 'xunit.trx'
    if (-not (Test-Path -LiteralPath $trx)) {
        Write-Warning "xUnit did not run: dotnet test exited $code and wrote no $trx."
        return $null
    }
    $counts = Read-TrxCounter -Path $trx
    if ($code -ne 0 -and $counts.Failed -eq 0) {
        # dotnet test failed without a failing test (a crashed test host, no tests found): still a failure.
        $counts.Failed = 1
        Write-Warning "dotnet test exited $code with no failed test in $trx; counting it as one failure."
    }
    $counts
}

function Invoke-PesterTest {
    param([string] $ResultsPath)

    $pester = Join-Path (Get-GlobalPackagesFolder) 'pester' $PesterVersion 'tools' 'Pester.psd1'
    if (-not (Test-Path -LiteralPath $pester)) { throw "Pester $PesterVersion is not at $pester; the NuGet restore of tests/LvsDirect.Tests should have downloaded it." }
    $summary = Join-Path $ResultsPath 'pester-summary.json'
    $runner = Join-Path $ResultsPath 'run-pester.ps1'
    # The child writes its counts to a file: its console output is for people, the file is for this script.
    Set-Content -LiteralPath $runner -Encoding utf8 -Value @'
param([string] $PesterPath, [string] $TestsPath, [string] $SummaryPath, [string] $LabSkipLog)
$ErrorActionPreference = 'Stop'
Import-Module -Name $PesterPath -Force
$config = New-PesterConfiguration
$config.Run.Path = $TestsPath
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $false
$result = Invoke-Pester -Configuration $config
# A lab test skipped is one in a file whose lab prerequisite failed (tests/common.ps1 logs it) and whose
# Describe was skipped for it; a single It skipped on purpose is not one.
$labReasons = @{}
if (Test-Path -LiteralPath $LabSkipLog) {
    foreach ($line in Get-Content -LiteralPath $LabSkipLog) {
        $file, $reason = $line -split "`t", 2
        $labReasons[$file] = $reason
    }
}
$labSkipped = @($result.Skipped | Where-Object {
        $block = $_.Block
        while ($block -and -not $block.Skip) { $block = $block.Parent }
        $block -and $labReasons.ContainsKey($_.ScriptBlock.File)
    } | ForEach-Object { "$(Split-Path -Leaf $_.ScriptBlock.File) (skipped: $($labReasons[$_.ScriptBlock.File]))" })
[ordered]@{
    LabSkipped       = $labSkipped
    Passed           = $result.PassedCount
    Failed           = $result.FailedCount
    Skipped          = $result.SkippedCount
    NotRun           = $result.NotRunCount
    FailedBlocks     = $result.FailedBlocksCount
    FailedContainers = $result.FailedContainersCount
    Result           = $result.Result
} | ConvertTo-Json | Set-Content -LiteralPath $SummaryPath -Encoding utf8
'@

    $env:LVSDIRECT_MODULE_PATH = Join-Path (Get-ModuleOutputPath) "$ModuleName.psd1"
    $env:LVSDIRECT_LAB_SKIP_LOG = Join-Path $ResultsPath 'lab-skips.tsv'
    $code = Invoke-ChildPwsh -AllowFailure -ScriptPath $runner -ArgumentList $pester, (Join-Path $RepoRoot 'tests'), $summary, $env:LVSDIRECT_LAB_SKIP_LOG
    if (-not (Test-Path -LiteralPath $summary)) {
        Write-Warning "Pester did not run: pwsh exited $code and wrote no $summary."
        return $null
    }
    $s = Get-Content -LiteralPath $summary -Raw | ConvertFrom-Json
    # A failing BeforeAll or a test file that does not parse fails no single test; count it so it is not lost.
    $failed = [int]$s.Failed + [int]$s.FailedBlocks + [int]$s.FailedContainers
    if ($s.FailedBlocks -or $s.FailedContainers) {
        Write-Warning "Pester: $($s.FailedBlocks) failed block(s) and $($s.FailedContainers) failed container(s), counted as failures."
    }
    $skipped = [int]$s.Skipped + [int]$s.NotRun
    $labSkipped = @($s.LabSkipped)
    if ($labSkipped.Count -gt 0) {
        # In CI a skipped real-kernel suite proves nothing, so it must not pass as a green run; locally it is a skip.
        $ci = $env:CI -eq 'true'
        $message = "$($labSkipped.Count) real-kernel lab test(s) were skipped" +
            $(if ($ci) { ', and CI=true makes each a failure: run the Test task as root on Linux with the lab programs (the Build task installs them).' } else { ' (with CI=true each would be a failure):' })
        Write-Host $message -ForegroundColor $(if ($ci) { 'Red' } else { 'Yellow' })
        $labSkipped | Group-Object | ForEach-Object { Write-Host "  $($_.Count) in $($_.Name)" -ForegroundColor $(if ($ci) { 'Red' } else { 'Yellow' }) }
        if ($ci) {
            $failed += $labSkipped.Count
            $skipped -= $labSkipped.Count
        }
    }
    [pscustomobject]@{ Passed = [int]$s.Passed; Failed = $failed; Skipped = $skipped }
}

function Invoke-Test {
    Invoke-Build
    $results = Join-Path $OutputRoot 'TestResults'
    if (Test-Path -LiteralPath $results) { Remove-Item -LiteralPath $results -Recurse -Force }
    $null = New-Item -ItemType Directory -Force -Path $results

    Write-Host 'Running xUnit tests' -ForegroundColor Cyan
    $xunit = Invoke-XunitTest -ResultsPath $results
    Write-Host 'Running Pester tests' -ForegroundColor Cyan
    $pester = Invoke-PesterTest -ResultsPath $results

    $all = @($xunit, $pester).Where({ $_ })
    $passed = ($all | Measure-Object Passed -Sum).Sum
    $failed = ($all | Measure-Object Failed -Sum).Sum
    $skipped = ($all | Measure-Object Skipped -Sum).Sum
    if ($xunit) { Write-Host "xUnit:  $($xunit.Passed) passed, $($xunit.Failed) failed, $($xunit.Skipped) skipped" }
    if ($pester) { Write-Host "Pester: $($pester.Passed) passed, $($pester.Failed) failed, $($pester.Skipped) skipped" }
    Write-Output "$([int]$passed) passed, $([int]$failed) failed, $([int]$skipped) skipped"
    if ($failed -gt 0 -or -not $xunit -or -not $pester) {
        if (-not $xunit) { Write-Host 'xUnit did not run.' -ForegroundColor Red }
        if (-not $pester) { Write-Host 'Pester did not run.' -ForegroundColor Red }
        exit 1
    }
}

function Invoke-LabScript {
    # With -AllowFailure the script's exit code is returned instead of thrown.
    param([string] $Name, [string[]] $ArgumentList = @(), [switch] $AllowFailure)

    $path = Join-Path $RepoRoot 'tests' 'lab' "$Name.ps1"
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) { throw "$path does not exist yet: the $Name task has nothing to run." }
    Invoke-Build
    $env:LVSDIRECT_MODULE_PATH = Join-Path (Get-ModuleOutputPath) "$ModuleName.psd1"
    Invoke-ChildPwsh -ScriptPath $path -ArgumentList $ArgumentList -AllowFailure:$AllowFailure
}

# The assemblies of pwsh that a benchmark process loads (pwsh -File, Import-Module, a cmdlet, ConvertTo-Json), as
# paths in the tool's unix/ folder. pwsh's Linux packages ship every assembly ReadyToRun; the others are never
# loaded by the benchmark, so they are left as IL.
$BenchReadyToRunAssemblies = 'System.Management.Automation.dll', 'Microsoft.PowerShell.ConsoleHost.dll', 'pwsh.dll',
    'Microsoft.PowerShell.Commands.Utility.dll', 'Microsoft.PowerShell.Commands.Management.dll', 'Microsoft.PowerShell.Security.dll',
    'Microsoft.PowerShell.MarkdownRender.dll', 'Microsoft.ApplicationInsights.dll', 'Newtonsoft.Json.dll',
    'runtimes/unix/lib/netstandard1.6/Microsoft.Management.Infrastructure.dll'

function Get-ToolPwsh {
    <#
    .SYNOPSIS
    The project's pwsh: the PowerShell dotnet tool of .config/dotnet-tools.json in the NuGet cache, or $null when
    `dotnet tool restore` has not put it there.
    #>
    $manifest = Get-Content -Raw -LiteralPath (Join-Path $RepoRoot '.config' 'dotnet-tools.json') | ConvertFrom-Json
    $version = [string]$manifest.tools.powershell.version
    $packages = Get-GlobalPackagesFolder
    $dll = Get-ChildItem -Path (Join-Path $packages 'powershell' $version 'tools' '*' 'any' 'unix' 'pwsh.dll') -File -ErrorAction SilentlyContinue |
        Select-Object -First 1
    if (-not $dll) { return $null }
    [pscustomobject]@{
        Version   = $version
        Folder    = $dll.DirectoryName
        Framework = $dll.Directory.Parent.Parent.Name
        Dll       = $dll.FullName
        Packages  = $packages
    }
}

function Initialize-BenchPwsh {
    <#
    .SYNOPSIS
    A ReadyToRun copy of the project's pwsh, as pwsh's own Linux packages ship it, made once from the tool package
    with the crossgen2 and runtime pack the module's own ReadyToRun images use (src/LvsDirect/LvsDirect.csproj
    downloads them) and kept under output/bench-pwsh/ until either version changes. Returns its pwsh.dll, or $null
    with the reason printed when it cannot be made here.
    #>
    param($Tool)

    if (-not $Tool) {
        Write-Host 'No ReadyToRun copy of pwsh: the PowerShell dotnet tool is not restored (dotnet tool restore); the benchmark measures this pwsh only.' -ForegroundColor Yellow
        return $null
    }
    if (-not $IsLinux -or [System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture -ne 'X64') {
        Write-Host "No ReadyToRun copy of pwsh $($Tool.Version): crossgen2 is used here only on linux-x64; the benchmark measures the dotnet tool (IL only) alone." -ForegroundColor Yellow
        return $null
    }
    $csproj = Join-Path $RepoRoot 'src' $ModuleName "$ModuleName.csproj"
    $runtime = ([xml](Get-Content -Raw -LiteralPath $csproj)).SelectSingleNode('/Project/PropertyGroup/LvsReadyToRunRuntime')?.InnerText
    if (-not $runtime) {
        Write-Host "No ReadyToRun copy of pwsh $($Tool.Version): $csproj names no LvsReadyToRunRuntime (the crossgen2 version); the benchmark measures the dotnet tool (IL only) alone." -ForegroundColor Yellow
        return $null
    }
    $packages = $Tool.Packages
    $crossgen = Join-Path $packages 'microsoft.netcore.app.crossgen2.linux-x64' $runtime 'tools' 'crossgen2'
    $framework = Join-Path $packages 'microsoft.netcore.app.runtime.linux-x64' $runtime 'runtimes' 'linux-x64' 'lib' $Tool.Framework
    if (-not (Test-Path -LiteralPath $crossgen -PathType Leaf) -or -not (Test-Path -LiteralPath $framework -PathType Container)) {
        Write-Host "No ReadyToRun copy of pwsh $($Tool.Version): crossgen2 $runtime or its runtime pack is not in $packages (a Release build on linux-x64 downloads them); the benchmark measures the dotnet tool (IL only) alone." -ForegroundColor Yellow
        return $null
    }

    $root = Join-Path $OutputRoot 'bench-pwsh'
    $copy = Join-Path $root "pwsh-$($Tool.Version)-crossgen2-$runtime"
    $unix = Join-Path $copy 'unix'
    $dll = Join-Path $unix 'pwsh.dll'
    # Written last, naming what the copy was made from: a copy without it (interrupted) or with other contents
    # (another list of assemblies) is made again.
    $stamp = Join-Path $copy 'ready.txt'
    $made = @("pwsh $($Tool.Version) from $($Tool.Folder)", "crossgen2 $runtime ($crossgen)") + $BenchReadyToRunAssemblies
    if ((Test-Path -LiteralPath $stamp -PathType Leaf) -and @(Compare-Object (Get-Content -LiteralPath $stamp) $made -SyncWindow 0).Count -eq 0) {
        Write-Host "ReadyToRun copy of pwsh $($Tool.Version) (crossgen2 $runtime) in $unix (made earlier)" -ForegroundColor Green
        return $dll
    }

    Write-Host "Making a ReadyToRun copy of pwsh $($Tool.Version) with crossgen2 $runtime in $unix" -ForegroundColor Cyan
    if (Test-Path -LiteralPath $root) { Remove-Item -LiteralPath $root -Recurse -Force }
    $null = New-Item -ItemType Directory -Force -Path $copy
    Copy-Item -LiteralPath $Tool.Folder -Destination $unix -Recurse
    $sw = [System.Diagnostics.Stopwatch]::StartNew()
    # One crossgen2 per assembly, all at once: each is mostly single-threaded, and System.Management.Automation
    # alone takes most of the time.
    $references = @($framework) + @($BenchReadyToRunAssemblies | ForEach-Object { Join-Path $Tool.Folder $_ | Split-Path -Parent } | Sort-Object -Unique) |
        ForEach-Object { '-r', (Join-Path $_ '*.dll') }
    $runs = foreach ($name in $BenchReadyToRunAssemblies) {
        $psi = [System.Diagnostics.ProcessStartInfo]::new($crossgen)
        foreach ($a in @((Join-Path $Tool.Folder $name), '-o', (Join-Path $unix $name)) + $references + @('--targetos:linux', '--targetarch:x64', '-O')) {
            $psi.ArgumentList.Add($a)
        }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $p = [System.Diagnostics.Process]::Start($psi)
        [pscustomobject]@{ Name = $name; Process = $p; Out = $p.StandardOutput.ReadToEndAsync(); Err = $p.StandardError.ReadToEndAsync() }
    }
    $failures = foreach ($r in $runs) {
        $r.Process.WaitForExit()
        if ($r.Process.ExitCode -ne 0) { "crossgen2 $($r.Name) exited $($r.Process.ExitCode): $($r.Err.Result.Trim()) $($r.Out.Result.Trim())" }
        $r.Process.Dispose()
    }
    if ($failures) { throw ($failures -join "`n") }

    $version = Invoke-Native -Capture -FilePath (Get-Command -Name dotnet -CommandType Application | Select-Object -First 1).Source `
        -ArgumentList $dll, '-NoProfile', '-NonInteractive', '-Command', '$PSVersionTable.PSVersion.ToString()'
    if ("$version".Trim() -ne $Tool.Version) { throw "The ReadyToRun copy in $unix reports version '$version', not $($Tool.Version)." }
    Set-Content -LiteralPath $stamp -Encoding utf8 -Value $made
    Write-Host ("ReadyToRun copy of pwsh $($Tool.Version) (crossgen2 $runtime) in $unix, made in {0:N0} s" -f $sw.Elapsed.TotalSeconds) -ForegroundColor Green
    $dll
}

function Invoke-Bench {
    Invoke-Build
    $argv = @()
    $tool = Get-ToolPwsh
    $readyToRun = Initialize-BenchPwsh -Tool $tool
    if ($readyToRun) { $argv += '-ReadyToRunPwsh', $readyToRun }
    if ($tool) { $argv += '-ReferencePwsh', $tool.Dll }
    if ($SkipPool) { $argv += '-SkipPool' }
    # Bench.ps1 has named every miss already; its exit code is the task's.
    $code = Invoke-LabScript -Name Bench -ArgumentList $argv -AllowFailure
    if ($code -ne 0) { exit $code }
}

function Invoke-Package {
    Invoke-Build
    $version = Get-ModuleVersion
    $nupkg = Join-Path $OutputRoot "$ModuleName.$version.nupkg"
    Write-Host "Packaging $ModuleName $version" -ForegroundColor Cyan

    # PSResourceGet keeps its repository list in $XDG_DATA_HOME (or ~/.local/share)/PSResourceGet; when that data
    # folder is missing it writes PSResourceRepository.xml into the current folder instead.
    $dataHome = if ($env:XDG_DATA_HOME) { $env:XDG_DATA_HOME } else { Join-Path $HOME '.local' 'share' }
    $null = New-Item -ItemType Directory -Force -Path $dataHome
    Import-Module -Name Microsoft.PowerShell.PSResourceGet -ErrorAction Stop

    # Publishing to a file repository is how PSResourceGet packs: the nupkg it writes is one it can install.
    $suffix = [guid]::NewGuid().ToString('n').Substring(0, 8)
    $repository = "LvsDirectLocal-$suffix"
    $feed = Join-Path $OutputRoot "feed-$suffix"
    $null = New-Item -ItemType Directory -Force -Path $feed
    try {
        Register-PSResourceRepository -Name $repository -Uri $feed -Trusted
        Publish-PSResource -Path (Get-ModuleOutputPath) -Repository $repository
        $published = Join-Path $feed "$ModuleName.$version.nupkg"
        if (-not (Test-Path -LiteralPath $published -PathType Leaf)) { throw "Publish-PSResource wrote no $published." }
        Move-Item -LiteralPath $published -Destination $nupkg -Force
    }
    finally {
        Unregister-PSResourceRepository -Name $repository -ErrorAction SilentlyContinue
        Remove-Item -LiteralPath $feed -Recurse -Force -ErrorAction SilentlyContinue
    }
    Write-Host "Package written to $nupkg" -ForegroundColor Green
}

function Invoke-Clean {
    if (Test-Path -LiteralPath $OutputRoot) { Remove-Item -LiteralPath $OutputRoot -Recurse -Force }
    foreach ($project in Get-ChildItem -LiteralPath (Join-Path $RepoRoot 'src'), (Join-Path $RepoRoot 'tests') -Filter *.csproj -Recurse -File) {
        foreach ($folder in 'bin', 'obj') {
            $path = Join-Path $project.DirectoryName $folder
            if (Test-Path -LiteralPath $path) { Remove-Item -LiteralPath $path -Recurse -Force }
        }
    }
    Write-Host 'Cleaned output/ and the projects'' bin/ and obj/' -ForegroundColor Green
}

foreach ($t in $Task) {
    switch ($t) {
        'Build' { Invoke-Build }
        'Test' { Invoke-Test }
        'Demo' { Invoke-LabScript -Name Demo }
        'Bench' { Invoke-Bench }
        'Package' { Invoke-Package }
        'Clean' { Invoke-Clean; $script:Done.Clear() }
    }
}
