#Requires -Version 7.4
<#
.SYNOPSIS
How fast LvsDirect is where it is mostly used, in a fresh process, against the raw kernel tools: run by
./build.ps1 -Task Bench. Exits 1 when a target is missed, naming it.

.DESCRIPTION
In a namespace of its own (eth0 = 198.18.0.2/15, VIPs 198.19.x.y/32 from the benchmark range) it measures, as
ratios taken in the same run so that a busy machine slows both sides alike:
  Cold start, each in a fresh pwsh (`pwsh -File`, pwsh's own start not counted), on two pwsh hosts, turn about:
    -ReadyToRunPwsh, pwsh as its Linux packages ship it (ReadyToRun; build.ps1 makes a copy of the project's pwsh
    with crossgen2), on which the targets are judged, and -ReferencePwsh (default: this pwsh), the dotnet tool
    (IL only, so every code path of pwsh itself is JIT-compiled), printed beside it for reference. Without
    -ReadyToRunPwsh the targets are judged on the reference pwsh. For each host also its own floor: Import-Module
    of an empty manifest (the median of 5 processes), and the module's share of (1), the difference.
    (1) Import-Module LvsDirect, the median of 5 processes                          target <= 100 ms
    (2) the first New-LvsVip of -Count VIPs (default 1000), the median of -FreshRepeat  target <= 1.5 x (b)
    (3) the first New-LvsVip of -ScaleCount VIPs (default 10,000), as many           target <= 2 x (b) for as many
        with the time of each process the module ran (on the judged host), and of its in-process work (the median
        of three warm runs, fewer with a -Repeat below 3; warm runs have no JIT to hide it), for both sizes: no
        step may grow faster than linearly (more than 1.5 x the size ratio).
        A program the floor also runs is bound by the kernel's own growth and is judged against the floor's run
        of it at 10,000 instead (<= 1.5 x). Programs the module runs side by side (its two reads; on arptables-nft
        the calls of LvsDirect's two chains) count with the time of the longer side, not with their sum: the
        arptables -A lists of both chains against the floor's arptables-restore, and the in-process work is the
        total less the programs counted so.
    (1), (2) and (3) also print the CPU time of the pwsh process over the same span, for telling a busy machine's
        waiting apart from the module's own work; (2) and (3) also its page faults (minor / major), and the share
        of the machine's CPU time the hypervisor took (steal) while they ran, for telling a slow host of the VM
        apart: none of these is judged.
    New-LvsVip of -Count VIPs again in a fresh pwsh when nothing has to change, the median of -FreshRepeat (not judged)
  In a pwsh that already runs there with the module imported:
    (a) the seed's way: per VIP `arptables -A INPUT`, `arptables -A OUTPUT`, `ip addr add`, as one sh script
    (b) the raw floor: one hand-written `ip -batch` file and one `arptables-restore` input of the same state
        (its median over the warm runs and one run before each round of the fresh processes, so that a change
        in the machine's speed during the run reaches both sides of (2) and (3))
    (c) New-LvsVip warm, for reference
    (d) New-LvsVip again when nothing has to change                                 target <= 2 x (e)
    (e) reading the state with the tools: `ip -j addr show` + `arptables -L -n` (what the module reads)
Every run is checked to have applied all VIPs and rules. Then the pools (tests/lab/PoolBench.ps1). The load
average is printed before, between and after. The namespace is removed at the end, even on failure.
A missed target makes the exit code 1, and each miss is named. A verdict on the machine follows: busy when a
1-minute load average before or after the single-host part was above the CPU count, or the hypervisor took 10 %
or more of the CPU time while (2) and (3) ran; then run the Bench again on a quiet machine before reading the
misses as the module's.
#>
[CmdletBinding()]
param(
    [ValidateRange(10, 5000)][int] $Count = 1000,
    [ValidateRange(1000, 20000)][int] $ScaleCount = 10000,
    [ValidateRange(1, 10)][int] $Repeat = 5,
    [ValidateRange(1, 10)][int] $FreshRepeat = 3,
    [switch] $SkipPool,
    # pwsh.dll of a ReadyToRun pwsh, started with dotnet: the cold-start targets are judged on it.
    [string] $ReadyToRunPwsh,
    # pwsh.dll of the pwsh measured beside it for reference; without it, this pwsh.
    [string] $ReferencePwsh
)

$ErrorActionPreference = 'Stop'
. (Join-Path (Split-Path -Parent $PSScriptRoot) 'common.ps1')

$reason = Test-LvsLabPrerequisite -Program 'ip', 'arptables', 'arptables-save', 'arptables-restore', 'sh'
if ($reason) {
    Write-Host "The benchmark cannot run here: $reason." -ForegroundColor Yellow
    exit 1
}

# Each load average printed, kept for the verdict on a miss: its 1-minute value, by when it was taken.
$script:Loads = [ordered]@{}
function Write-LvsLoad([string] $When) {
    $line = (Get-Content -LiteralPath /proc/loadavg -Raw).Trim()
    $script:Loads[$When] = [double]::Parse(($line -split ' ')[0], [cultureinfo]::InvariantCulture)
    Write-Host ("  load average {0}: {1}" -f $When, $line) -ForegroundColor DarkGray
}

# What the machine was like while the targets were measured, for telling a miss of a busy machine apart from the
# module's: a 1-minute load above the CPU count, or a hypervisor that took 10 % or more of the CPU time while (2) and
# (3) ran. In this project's runs the met ones had 0.3-9.8 % steal, and a 1.62 miss of (2) came at 14.7 %.
function Write-LvsMachineVerdict($Steal) {
    $cpus = [Environment]::ProcessorCount
    $loads = @($script:Loads.GetEnumerator() | ForEach-Object { '{0:N2} {1}' -f $_.Value, $_.Key })
    $stealText = if ($null -eq $Steal) { 'not measured' } else { '{0:N1} %' -f $Steal }
    Write-Host ("  The machine: {0} CPUs; 1-minute load average {1}; steal while (2) and (3) ran: {2}." -f $cpus, ($loads -join ', '), $stealText)
    $busy = @()
    # The load after the pools is mostly the pools' own 40 sshd namespaces, so it does not count here.
    $peak = (@($script:Loads.GetEnumerator() | Where-Object Key -ne 'after the pools' | ForEach-Object Value) | Measure-Object -Maximum).Maximum
    if ($peak -gt $cpus) { $busy += "a load of $('{0:N2}' -f $peak) on $cpus CPUs" }
    if ($null -ne $Steal -and $Steal -ge 10) { $busy += "$stealText of the CPU time taken by the hypervisor" }
    if ($busy.Count) {
        Write-Host "  The machine was busy ($($busy -join ', ')): these misses may be the machine's. Run the Bench again on a quiet machine before reading them as the module's." -ForegroundColor Yellow
    }
    else {
        $how = if ($null -eq $Steal) { 'load within its CPUs; steal not measured' } else { 'load within its CPUs, steal under 10 %' }
        Write-Host "  The machine was quiet ($how): read these misses as the module's." -ForegroundColor Yellow
    }
}

# The machine's CPU time so far (all CPUs, in clock ticks) and the part of it the hypervisor gave to other guests
# (steal, the 8th value of /proc/stat's cpu line): a VM whose host is busy runs everything slower, and a fresh
# pwsh with it, without a load average to show for it.
function Get-LvsCpuTime {
    $v = @((Get-Content -LiteralPath /proc/stat -TotalCount 1) -split '\s+' | Select-Object -Skip 1 | ForEach-Object { [long]$_ })
    [pscustomobject]@{ Total = ($v | Select-Object -First 8 | Measure-Object -Sum).Sum; Steal = $v[7] }
}

function Get-LvsStealShare($Before, $After) {
    $total = $After.Total - $Before.Total
    if ($total -le 0) { return 0.0 }
    100.0 * ($After.Steal - $Before.Steal) / $total
}

# pwsh's hosts differ in whether their own assemblies carry precompiled (ReadyToRun) code or only IL.
function Test-LvsReadyToRunImage([string] $Path) {
    $stream = [System.IO.File]::OpenRead($Path)
    try {
        $cor = [System.Reflection.PortableExecutable.PEReader]::new($stream).PEHeaders.CorHeader
        [bool]($cor -and $cor.ManagedNativeHeaderDirectory.Size -gt 0)
    }
    finally { $stream.Dispose() }
}

function Get-LvsMedian($Values) {
    $sorted = @($Values | ForEach-Object { [double]$_ } | Sort-Object)
    if ($sorted.Count -eq 0) { return [double]::NaN }
    $sorted[[math]::Floor(($sorted.Count - 1) / 2)]
}

# The benchmark's verdicts: each target met or missed, collected so that the end can name every miss.
$script:Misses = [System.Collections.Generic.List[string]]::new()
function Write-LvsVerdict([string] $Label, [double] $Value, [double] $Target, [string] $Unit = 'x') {
    $ok = $Value -le $Target
    $text = if ($Unit -eq 'x') { '{0,8:N2}  target <= {1}' -f $Value, $Target } else { '{0,8:N1} ms  target <= {1} ms' -f $Value, $Target }
    Write-Host ('  {0,-58} {1}  {2}' -f $Label, $text, $(if ($ok) { 'met' } else { 'MISSED' })) -ForegroundColor $(if ($ok) { 'Green' } else { 'Yellow' })
    if (-not $ok) { $script:Misses.Add("$Label = $($text.Trim())") }
}

# A fresh pwsh runs this file: pwsh has started, the clock starts at the first line of the script.
$freshScript = @'
param([string] $ModulePath, [string] $VipFile, [switch] $LogCommands)
$ErrorActionPreference = 'Stop'
$sw = [System.Diagnostics.Stopwatch]::StartNew()
# The CPU time of this process beside each wall time: on a busy machine the wall time also counts waiting for a CPU,
# which the CPU time does not (the programs the module starts are other processes and are not in it). Read once the
# clock runs, so that its cost is in the wall time and nothing it warms up runs before the clock starts.
$c0 = [System.Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime.TotalMilliseconds
Import-Module -Name $ModulePath
$import = $sw.Elapsed.TotalMilliseconds
$r = [ordered]@{ Import = $import; ImportCpu = [System.Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime.TotalMilliseconds - $c0; First = $null; FirstCpu = $null; FirstMinorFaults = $null; FirstMajorFaults = $null; Commands = @() }
if ($VipFile) {
    $vips = [System.IO.File]::ReadAllLines($VipFile)
    # The page faults of this process over the call, read outside the clock: on a VM, a fault on a page the host has
    # taken back costs several times one on a page the guest still holds, a cost the floor's small programs hardly pay.
    $stat0 = [System.IO.File]::ReadAllText('/proc/self/stat')
    $sw.Restart()
    $c0 = [System.Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime.TotalMilliseconds
    if ($LogCommands) {
        $r.Commands = @(New-LvsVip -Address $vips -InterfaceName eth0 -Verbose 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match ' -> exit ' } | ForEach-Object Message)
    }
    else {
        $null = New-LvsVip -Address $vips -InterfaceName eth0
    }
    $r.First = $sw.Elapsed.TotalMilliseconds
    $r.FirstCpu = [System.Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime.TotalMilliseconds - $c0
    # Fields 10 and 12 of /proc/self/stat, counted after the command name (which may hold blanks) and its ')'.
    $faults = foreach ($t in $stat0, [System.IO.File]::ReadAllText('/proc/self/stat')) { , @($t.Substring($t.LastIndexOf(')') + 2).Split(' ')) }
    $r.FirstMinorFaults = [long]$faults[1][7] - [long]$faults[0][7]
    $r.FirstMajorFaults = [long]$faults[1][9] - [long]$faults[0][9]
}
$r.Version = $PSVersionTable.PSVersion.ToString()
$r | ConvertTo-Json -Compress
'@

$ns = "$(New-LvsLabPrefix)bench"
$dir = Join-Path ([IO.Path]::GetTempPath()) $ns
$failed = $false
Write-LvsLoad 'before'
try {
    $null = New-Item -ItemType Directory -Path $dir -Force
    New-LvsNamespace -Name $ns
    foreach ($cmd in @(
            @('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0'),
            @('link', 'set', 'peer0', 'up'),
            @('link', 'set', 'eth0', 'up'),
            @('addr', 'add', '198.18.0.2/15', 'dev', 'eth0'),
            @('route', 'add', 'default', 'via', '198.18.0.1', 'dev', 'eth0'))) {
        $null = Invoke-LvsNative ip (@('-n', $ns) + $cmd)
    }
    Set-LvsNamespaceArpSysctl -Namespace $ns
    Start-LvsNamespaceSession -Namespace $ns

    $realIp = '198.18.0.2'
    $vipList = { param([int] $n) 0..($n - 1) | ForEach-Object { '198.19.{0}.{1}' -f [math]::Floor($_ / 250), ($_ % 250 + 1) } }
    $sizes = @($Count, $ScaleCount)
    foreach ($n in $sizes) {
        $vips = @(& $vipList $n)
        Set-Content -LiteralPath (Join-Path $dir "vips$n.txt") -Value $vips -Encoding ascii
        Set-Content -LiteralPath (Join-Path $dir "vips$n.ip") -Value ($vips | ForEach-Object { "address add $_/32 dev eth0" }) -Encoding ascii
        Set-Content -LiteralPath (Join-Path $dir "rules$n.arp") -Encoding ascii -Value (@('*filter', ':INPUT ACCEPT', ':OUTPUT ACCEPT') +
            @($vips | ForEach-Object { "-A INPUT -d $_ -j DROP" }) + @($vips | ForEach-Object { "-A OUTPUT -s $_ -j mangle --mangle-ip-s $realIp" }))
    }
    $seedLines = { param($list) foreach ($v in $list) {
            "arptables -A INPUT -d $v -j DROP"
            "arptables -A OUTPUT -s $v -j mangle --mangle-ip-s $realIp"
            "ip addr add $v/32 dev eth0"
        } }
    $vips = @(Get-Content -LiteralPath (Join-Path $dir "vips$Count.txt"))
    Set-Content -LiteralPath (Join-Path $dir 'seed100.sh') -Value (@('set -e') + (& $seedLines ($vips | Select-Object -First 100))) -Encoding ascii
    Set-Content -LiteralPath (Join-Path $dir 'seed.sh') -Value (@('set -e') + (& $seedLines $vips)) -Encoding ascii
    $freshPath = Join-Path $dir 'fresh.ps1'
    Set-Content -LiteralPath $freshPath -Value $freshScript -Encoding utf8
    # A host's own floor for (1): a module with nothing in it.
    $emptyManifest = Join-Path $dir 'BenchEmpty' 'BenchEmpty.psd1'
    $null = New-Item -ItemType Directory -Path (Split-Path -Parent $emptyManifest) -Force
    Set-Content -LiteralPath $emptyManifest -Encoding utf8 -Value ("@{{ ModuleVersion = '1.0'; GUID = '{0}'; FunctionsToExport = @(); CmdletsToExport = @(); VariablesToExport = @(); AliasesToExport = @() }}" -f [guid]::NewGuid())

    # Back to an empty benchmark state from outside the module: no VIP, no rule, no user chain.
    # Also without LvsDirect's record of the VIPs it added: on a fresh host there is none, while one left from the
    # previous run would list VIPs that were flushed behind its back (10,000 of them after the scale runs), which a
    # first call then has to read and forget.
    $record = (Get-LvsNamespaceStatePath -Namespace $ns).Record
    $reset = {
        $null = Invoke-LvsNetns $ns ip 'addr', 'flush', 'dev', 'eth0', 'to', '198.19.0.0/16'
        $null = Invoke-LvsNetns $ns arptables '-F'
        $null = Invoke-LvsNetns $ns arptables '-X'
        Remove-Item -LiteralPath $record -Force -ErrorAction SilentlyContinue
    }
    # The kernel's state read without the module: every VIP on eth0 and its two rules.
    $assertApplied = {
        param([int] $n, [string] $what)
        $addresses = @((Get-LvsLabAddress -Namespace $ns) | Where-Object { $_.Address -like '198.19.*' -and $_.InterfaceName -eq 'eth0' }).Count
        $rules = @((Invoke-LvsNetns $ns arptables-save).StdOut -split "`n" | Where-Object { $_ -like '-A *' -and $_ -like '* 198.19.*' }).Count
        if ($addresses -ne $n -or $rules -ne 2 * $n) { throw "$what left $addresses addresses and $rules rules, not $n and $(2 * $n)." }
    }
    $module = Get-LvsTestModulePath
    # The pwsh hosts of the fresh processes: the judged one first.
    $describeHost = {
        param([string] $Name, [string[]] $Pwsh, [string] $PwshHome, [bool] $Judged)
        $r2r = Test-LvsReadyToRunImage (Join-Path $PwshHome 'System.Management.Automation.dll')
        [pscustomobject]@{
            Name   = $Name
            Pwsh   = $Pwsh
            Home   = $PwshHome
            Judged = $Judged
            Kind   = $(if ($r2r) { 'ReadyToRun' } else { 'IL only' })
        }
    }
    $hosts = @(
        if ($ReadyToRunPwsh) {
            $h = & $describeHost 'ReadyToRun' @((Find-LvsProgram dotnet), $ReadyToRunPwsh) (Split-Path -Parent $ReadyToRunPwsh) $true
            if ($h.Kind -ne 'ReadyToRun') { throw "-ReadyToRunPwsh $ReadyToRunPwsh has no ReadyToRun code in its System.Management.Automation.dll." }
            $h
        }
        $referenceName = if ($ReadyToRunPwsh) { 'reference' } else { 'this pwsh' }
        if ($ReferencePwsh) { & $describeHost $referenceName @((Find-LvsProgram dotnet), $ReferencePwsh) (Split-Path -Parent $ReferencePwsh) (-not $ReadyToRunPwsh) }
        else { & $describeHost $referenceName (Get-LvsPwshCommand) $PSHOME (-not $ReadyToRunPwsh) }
    )
    $judged = $hosts[0]
    $fresh = {
        param([string[]] $Pwsh, [string] $ModulePath = $module, [string] $VipFile, [switch] $LogCommands)
        $argv = @('netns', 'exec', $ns) + $Pwsh + @('-NoProfile', '-NonInteractive', '-File', $freshPath, '-ModulePath', $ModulePath)
        if ($VipFile) { $argv += @('-VipFile', $VipFile) }
        if ($LogCommands) { $argv += '-LogCommands' }
        $out = (Invoke-LvsNative ip $argv -TimeoutSeconds 600).StdOut
        $out.Trim() -split "`n" | Select-Object -Last 1 | ConvertFrom-Json
    }

    Write-Host "Benchmark: $Count and $ScaleCount VIPs in namespace $ns (eth0 198.18.0.2/15)" -ForegroundColor Cyan
    Write-Host '  pwsh of the fresh processes:'
    # Each host's first process, not timed, also brings its files into the page cache for the timed ones.
    foreach ($h in $hosts) {
        $h | Add-Member -NotePropertyName Version -NotePropertyValue (& $fresh $h.Pwsh -ModulePath $emptyManifest).Version
        $h | Add-Member -NotePropertyName Title -NotePropertyValue $(
            if ($h.Name -eq 'ReadyToRun') { "pwsh $($h.Version) as its Linux packages ship it (ReadyToRun)" }
            elseif ($h.Home -like '*/powershell/*/tools/*') { "the dotnet tool pwsh $($h.Version) ($($h.Kind))" }
            else { "pwsh $($h.Version) ($($h.Kind))" })
        Write-Host ('    {0,-10} {1}: {2}  {3}' -f $h.Name, $h.Title, ($h.Pwsh -join ' '), $(if ($h.Judged) { '[targets judged here]' } else { '[for reference]' }))
    }
    if (-not $ReadyToRunPwsh) {
        Write-Host '    no -ReadyToRunPwsh given (build.ps1 -Task Bench makes one): the targets are judged on this pwsh' -ForegroundColor Yellow
    }
    Write-Host "  The warm session and this script: pwsh $($PSVersionTable.PSVersion) in $PSHOME"

    # Warm: the floor, the seed's way, the module in a running session, and reading the state.
    $m = Invoke-LvsInNamespace $ns -TimeoutSeconds 3600 -ArgumentList $dir, $Count, $ScaleCount, $Repeat, $FreshRepeat, $record {
        param([string] $dir, [int] $count, [int] $scaleCount, [int] $repeat, [int] $freshRepeat, [string] $record)

        # Global: the cold part below measures the floor again in this session, between the fresh processes.
        $global:LvsBenchRecord = $record
        function global:Invoke-Tool([string] $file, [string[]] $argv, [string] $stdin) {
            # Like the module's runner: argument vector, LC_ALL=C, stdin from memory, stdout read to the end.
            $psi = [System.Diagnostics.ProcessStartInfo]::new($file)
            foreach ($a in $argv) { $psi.ArgumentList.Add($a) }
            $psi.RedirectStandardInput = $true
            $psi.RedirectStandardOutput = $true
            $psi.RedirectStandardError = $true
            $psi.Environment['LC_ALL'] = 'C'
            $p = [System.Diagnostics.Process]::Start($psi)
            $err = $p.StandardError.ReadToEndAsync()
            $out = $p.StandardOutput.ReadToEndAsync()
            if ($stdin) { $p.StandardInput.Write($stdin) }
            $p.StandardInput.Close()
            $p.WaitForExit()
            if ($p.ExitCode -ne 0) { throw "$file $($argv -join ' ') exited $($p.ExitCode): $($err.Result)" }
            $out.Result
        }
        function global:Reset-Vip {
            $null = Invoke-Tool ip 'addr', 'flush', 'dev', 'eth0', 'to', '198.19.0.0/16'
            $null = Invoke-Tool arptables '-F'
            $null = Invoke-Tool arptables '-X'
            Remove-Item -LiteralPath $global:LvsBenchRecord -Force -ErrorAction SilentlyContinue
        }
        function global:Assert-Applied([int] $n, [string] $what) {
            $addresses = @((Invoke-Tool ip '-j', 'addr', 'show', 'dev', 'eth0' | ConvertFrom-Json).addr_info | Where-Object local -Like '198.19.*').Count
            $ruleCount = @((Invoke-Tool arptables-save) -split "`n" | Where-Object { $_ -like '-A *' -and $_ -like '* 198.19.*' }).Count
            if ($addresses -ne $n -or $ruleCount -ne 2 * $n) { throw "$what left $addresses addresses and $ruleCount rules, not $n and $(2 * $n)." }
        }
        function global:Measure-Ms([scriptblock] $body) {
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            & $body
            $sw.Elapsed.TotalMilliseconds
        }
        # One run of the floor of $n VIPs, from an empty state, and each of its two programs alone.
        function global:Measure-Floor([int] $n, [string] $dir) {
            $rules = Get-Content -Raw -LiteralPath (Join-Path $dir "rules$n.arp")
            $batch = Join-Path $dir "vips$n.ip"
            Reset-Vip
            $ip = Measure-Ms { $null = Invoke-Tool ip '-batch', $batch }
            $restore = Measure-Ms { $null = Invoke-Tool arptables-restore @() $rules }
            Assert-Applied $n 'ip -batch + arptables-restore'
            [pscustomobject]@{ Ip = $ip; Restore = $restore; Total = $ip + $restore }
        }

        $r = [ordered]@{}
        Reset-Vip
        $r.Seed100 = Measure-Ms { $null = Invoke-Tool sh (Join-Path $dir 'seed100.sh') }
        Assert-Applied 100 'the seed script for 100 VIPs'
        Reset-Vip
        $r.Seed = Measure-Ms { $null = Invoke-Tool sh (Join-Path $dir 'seed.sh') }
        Assert-Applied $count 'the seed script'

        # The floor, and each of its two programs alone: the kernel's own growth from one size to the other.
        foreach ($n in $count, $scaleCount) {
            $r["Floor$n"] = @(foreach ($i in 1..$(if ($n -eq $count) { $repeat } else { $freshRepeat })) { Measure-Floor $n $dir })
        }

        $vips = @(Get-Content -LiteralPath (Join-Path $dir "vips$count.txt"))
        # JIT and first-use costs are paid once per session: pay them before timing the warm figures.
        $null = New-LvsVip -Address 198.19.255.1 -InterfaceName eth0
        Remove-LvsVip -Address 198.19.255.1
        $r.Module = foreach ($i in 1..$repeat) {
            Reset-Vip
            Measure-Ms { $null = New-LvsVip -Address $vips -InterfaceName eth0 }
            Assert-Applied $count 'New-LvsVip'
        }
        $r.NoChange = foreach ($i in 1..$repeat) {
            Measure-Ms { $null = New-LvsVip -Address $vips -InterfaceName eth0 }
            Assert-Applied $count 'New-LvsVip run again'
        }
        $r.List = foreach ($i in 1..$repeat) {
            Measure-Ms {
                $null = Invoke-Tool ip '-j', 'addr', 'show'
                $null = Invoke-Tool arptables '-L', '-n'
            }
        }
        $r.NoChangeCommands = @(New-LvsVip -Address $vips -InterfaceName eth0 -Verbose 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match ' -> exit ' } | ForEach-Object Message)
        # First applies of each size with the time of each process, for the in-process work's growth: three of
        # each, as one warm run of 1000 VIPs alone has varied from 27 to 52 ms here.
        $r.Warm = foreach ($n in $count, $scaleCount) { foreach ($k in 1..([math]::Min($repeat, 3))) {
            Reset-Vip
            $list = @(Get-Content -LiteralPath (Join-Path $dir "vips$n.txt"))
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            $commands = @(New-LvsVip -Address $list -InterfaceName eth0 -Verbose 4>&1 |
                    Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match ' -> exit ' } | ForEach-Object Message)
            [pscustomobject]@{ N = $n; Total = $sw.Elapsed.TotalMilliseconds; Commands = $commands }
            Assert-Applied $n "New-LvsVip -Verbose of $n VIPs"
        } }
        Reset-Vip
        [pscustomobject]$r
    }

    # Cold: fresh processes, the hosts taking turns so that a change in the machine's load hits both alike.
    $cold = @{}
    foreach ($h in $hosts) { $cold[$h.Name] = @{ Empty = @(); Import = @(); First = @{}; NoChange = @() } }
    foreach ($i in 1..5) {
        foreach ($h in $hosts) {
            $cold[$h.Name].Empty += (& $fresh $h.Pwsh -ModulePath $emptyManifest).Import
            $cold[$h.Name].Import += & $fresh $h.Pwsh
        }
    }
    $steps = @{}
    # The floor again before each round of fresh processes, in the warm session: the machine's speed drifts over
    # the minutes of a run, and the ratios of (2) and (3) are taken against the floor of all these runs.
    $floorBesideCold = @{}
    $stealBefore = Get-LvsCpuTime
    foreach ($n in $sizes) {
        $vipFile = Join-Path $dir "vips$n.txt"
        foreach ($h in $hosts) { $cold[$h.Name].First[$n] = @() }
        $floorBesideCold[$n] = @()
        foreach ($i in 1..$FreshRepeat) {
            $floorBesideCold[$n] += Invoke-LvsInNamespace $ns -TimeoutSeconds 600 -ArgumentList $n, $dir { param([int] $n, [string] $dir) Measure-Floor $n $dir }
            foreach ($h in $hosts) {
                & $reset
                $cold[$h.Name].First[$n] += & $fresh $h.Pwsh -VipFile $vipFile
                & $assertApplied $n "New-LvsVip of $n VIPs in a fresh pwsh ($($h.Name))"
            }
        }
        # One more run with -Verbose on the judged host, for the time of each process (the cmdlet's total is from
        # the runs above); the processes are the same on every host.
        & $reset
        $steps[$n] = @((& $fresh $judged.Pwsh -VipFile $vipFile -LogCommands).Commands)
        & $assertApplied $n "New-LvsVip -Verbose of $n VIPs in a fresh pwsh"
    }
    $stealDuringFirst = Get-LvsStealShare $stealBefore (Get-LvsCpuTime)
    & $reset
    $null = & $fresh $judged.Pwsh -VipFile (Join-Path $dir "vips$Count.txt")
    foreach ($i in 1..$FreshRepeat) {
        foreach ($h in $hosts) { $cold[$h.Name].NoChange += (& $fresh $h.Pwsh -VipFile (Join-Path $dir "vips$Count.txt")).First }
    }
    & $assertApplied $Count 'New-LvsVip run again in a fresh pwsh'
    & $reset

    $floor = @{}
    foreach ($n in $sizes) {
        $runs = @($m."Floor$n") + @($floorBesideCold[$n])
        $floor[$n] = [pscustomobject]@{
            Total   = Get-LvsMedian $runs.Total
            Ip      = Get-LvsMedian $runs.Ip
            Restore = Get-LvsMedian $runs.Restore
            Runs    = $runs.Count
        }
    }
    $row = { param($label, $value) Write-Host ('  {0,-66} {1,10:N1} ms' -f $label, $value) }
    # One column per host, the judged one first.
    $hostRow = {
        param([string] $label, [scriptblock] $value)
        Write-Host (('  {0,-66}' -f $label) + (-join @($hosts | ForEach-Object { '{0,10:N1} ms' -f (& $value $cold[$_.Name]) })))
    }
    $median = @{}
    foreach ($h in $hosts) {
        $c = $cold[$h.Name]
        $median[$h.Name] = [pscustomobject]@{
            Empty  = Get-LvsMedian $c.Empty
            Import = Get-LvsMedian $c.Import.Import
            First  = @{ $Count = (Get-LvsMedian $c.First[$Count].First); $ScaleCount = (Get-LvsMedian $c.First[$ScaleCount].First) }
        }
    }
    Write-Host ''
    Write-Host (('  {0,-66}' -f 'Medians, fresh pwsh') + (-join @($hosts | ForEach-Object { '{0,13}' -f $_.Name }))) -ForegroundColor Cyan
    & $hostRow 'Import-Module of an empty manifest: the host''s floor (5 processes)' { param($c) Get-LvsMedian $c.Empty }
    & $hostRow '(1) Import-Module LvsDirect (5 processes)' { param($c) Get-LvsMedian $c.Import.Import }
    & $hostRow '      LvsDirect''s own share: (1) less the empty manifest' { param($c) (Get-LvsMedian $c.Import.Import) - (Get-LvsMedian $c.Empty) }
    & $hostRow '      its CPU time (pwsh alone; the rest is waiting for a CPU)' { param($c) Get-LvsMedian $c.Import.ImportCpu }
    foreach ($n in $sizes) {
        & $hostRow "($(if ($n -eq $Count) { 2 } else { 3 })) New-LvsVip of $n VIPs, first call ($FreshRepeat processes)" { param($c) Get-LvsMedian $c.First[$n].First }
        & $hostRow '      its CPU time in pwsh (the programs it starts not counted)' { param($c) Get-LvsMedian $c.First[$n].FirstCpu }
        Write-Host (('  {0,-66}' -f '      its page faults in pwsh, minor / major') + (-join @($hosts | ForEach-Object {
                        $f = $cold[$_.Name].First[$n]
                        '{0,13}' -f ('{0:N0} / {1:N0}' -f (Get-LvsMedian $f.FirstMinorFaults), (Get-LvsMedian $f.FirstMajorFaults)) })))
    }
    Write-Host ('  {0,-66} {1,10:N1} %' -f 'CPU time the hypervisor took (steal) while (2) and (3) ran', $stealDuringFirst)
    & $hostRow "New-LvsVip of $Count VIPs again, nothing to change ($FreshRepeat processes)" { param($c) Get-LvsMedian $c.NoChange }
    Write-Host ''
    Write-Host "  Medians, the kernel tools and the warm session (this pwsh, $PSHOME)" -ForegroundColor Cyan
    foreach ($n in $sizes) {
        & $row "(b) floor: ip -batch + arptables-restore, $n VIPs ($($floor[$n].Runs) runs)" $floor[$n].Total
        & $row "      of which ip -batch" $floor[$n].Ip
        & $row "      of which arptables-restore" $floor[$n].Restore
    }
    & $row '(a) seed: 3 processes per VIP, 100 VIPs' $m.Seed100
    & $row "(a) seed: 3 processes per VIP, $Count VIPs" $m.Seed
    & $row "(c) New-LvsVip of $Count VIPs, warm session" (Get-LvsMedian $m.Module)
    & $row '(d) New-LvsVip again, nothing to change, warm session' (Get-LvsMedian $m.NoChange)
    & $row '(e) reading the state: ip -j addr show + arptables -L -n' (Get-LvsMedian $m.List)

    # Each process of the first call at both sizes, matched by what it does: its command line with the address
    # lists and line counts taken out, so that the chunks one long list is split into (more of them at the larger
    # size) count as one step, whose time is their sum.
    $parse = {
        param([string[]] $lines)
        $steps = [ordered]@{}
        foreach ($l in $lines) {
            if ($l -notmatch '^(?<cmd>.*?) -> exit \d+ in (?<ms>\d+) ms$') { continue }
            $cmd = $Matches.cmd
            $ms = [double]$Matches.ms
            $shape = $cmd -replace '\d{1,3}(\.\d{1,3}){3}(,\d{1,3}(\.\d{1,3}){3})+', '<VIPs>' -replace '\(\d+ line\(s\)', '(N line(s)'
            if ($steps.Contains($shape)) { $steps[$shape].Ms += $ms; continue }
            $steps[$shape] = [pscustomobject]@{ Key = $shape; Program = ($cmd -split ' ')[0]; Text = $shape; Ms = $ms }
        }
        $steps.Values
    }
    $small = @(& $parse $steps[$Count])
    $large = @(& $parse $steps[$ScaleCount])
    $size = $ScaleCount / $Count
    # The floor's own programs are bound by the kernel (adding one address costs more the more there are), so the
    # module's run of the same program is judged against the floor's at the same size, not against linear.
    $floorPart = {
        param($step)
        if ($step.Program -eq 'arptables-restore') { return 'Restore' }
        if ($step.Program -eq 'ip' -and $step.Text -like 'ip -batch *') { return 'Ip' }
        # arptables -A with address lists loads the same rules into the same nftables table as the floor's
        # arptables-restore, and arptables-nft's own cost grows faster than linearly with the rules in one
        # transaction (measured alone: 4000 addresses 46 ms, 8000 addresses 148 ms); its steps are judged together
        # against the floor's restore.
        if ($step.Program -eq 'arptables' -and $step.Text -like 'arptables -A *') { return 'Rules' }
        $null
    }
    # The module runs some programs side by side: its two reads (ip, arptables -L), and on arptables-nft LvsDirect's
    # two chains, each chain's calls in order (the lanes of PlanExecutor). A set of steps costs the call the time of
    # its longest lane, not the sum of its programs' times.
    $laneOf = {
        param([string] $text)
        if ($text -notlike 'arptables *') { return $null }
        if ($text -like '*LVSDIRECT-IN*') { return 'in' }
        if ($text -like '*LVSDIRECT-OUT*') { return 'out' }
        $null
    }
    $wallMs = {
        param($parsed)
        $lanes = @{ in = 0.0; out = 0.0 }
        $reads = 0.0
        $rest = 0.0
        foreach ($p in $parsed) {
            $lane = & $laneOf $p.Text
            if ($lane) { $lanes[$lane] += $p.Ms }
            elseif ($p.Text -like 'ip -j -batch *' -or $p.Text -eq 'arptables -L -n') { $reads = [math]::Max($reads, $p.Ms) }
            else { $rest += $p.Ms }
        }
        $reads + [math]::Max($lanes.in, $lanes.out) + $rest
    }
    $rules = [pscustomobject]@{ Small = @{ in = 0.0; out = 0.0 }; Large = @{ in = 0.0; out = 0.0 } }
    Write-Host ''
    Write-Host ("  Steps of the first call in a fresh pwsh ($($judged.Name)), $Count and $ScaleCount VIPs (x{0:N0} the VIPs)" -f $size) -ForegroundColor Cyan
    Write-Host ('  {0,-46} {1,10} {2,10} {3,8}  {4}' -f 'step', "$Count", "$ScaleCount", 'growth', 'judged')
    $stepRow = {
        param([string] $label, [double] $a, [double] $b, [double] $growth, [string] $judged, [bool] $ok)
        Write-Host ('  {0,-46} {1,7:N0} ms {2,7:N0} ms {3,7:N1}x  {4}' -f $label, $a, $b, $growth, $judged) -ForegroundColor $(if ($ok) { 'Gray' } else { 'Yellow' })
        if (-not $ok) { $script:Misses.Add("step '$label' at $ScaleCount VIPs: $judged") }
    }
    foreach ($s in $large) {
        $before = $small | Where-Object Key -EQ $s.Key
        $text = if ($s.Text.Length -gt 40) { $s.Text.Substring(0, 40) + '...' } else { $s.Text }
        if (-not $before) {
            & $stepRow $text 0 $s.Ms 0 "a process the call with $Count VIPs did not run" $false
            continue
        }
        $growth = $s.Ms / [math]::Max(1, $before.Ms)
        $part = & $floorPart $s
        if ($part -eq 'Rules') {
            $lane = & $laneOf $s.Text
            $rules.Small[$lane] += $before.Ms
            $rules.Large[$lane] += $s.Ms
            & $stepRow $text $before.Ms $s.Ms $growth 'with the other arptables -A, below' $true
        }
        elseif ($s.Ms -lt 20) {
            & $stepRow $text $before.Ms $s.Ms $growth 'too short to judge' $true
        }
        elseif ($part) {
            $vsFloor = $s.Ms / [math]::Max(1, $floor[$ScaleCount].$part)
            & $stepRow $text $before.Ms $s.Ms $growth ('{0:N2}x the floor''s own run of it (<= 1.5): {1}' -f $vsFloor, $(if ($vsFloor -le 1.5) { 'kernel-bound, ok' } else { 'SLOWER THAN THE KERNEL' })) ($vsFloor -le 1.5)
        }
        else {
            & $stepRow $text $before.Ms $s.Ms $growth ('linear allows {0:N0}x: {1}' -f (1.5 * $size), $(if ($growth -le 1.5 * $size) { 'ok' } else { 'FASTER THAN LINEAR' })) ($growth -le 1.5 * $size)
        }
    }
    $rulesSmall = [math]::Max($rules.Small.in, $rules.Small.out)
    $rulesLarge = [math]::Max($rules.Large.in, $rules.Large.out)
    if ($rulesLarge -gt 0) {
        $vsFloor = $rulesLarge / [math]::Max(1, $floor[$ScaleCount].Restore)
        & $stepRow 'arptables -A, both chains side by side' $rulesSmall $rulesLarge ($rulesLarge / [math]::Max(1, $rulesSmall)) `
            ('{0:N2}x the floor''s arptables-restore of the same rules (<= 1.5): {1}' -f $vsFloor, $(if ($vsFloor -le 1.5) { 'kernel-bound, ok' } else { 'SLOWER THAN THE KERNEL' })) ($vsFloor -le 1.5)
        Write-Host ('        (the longer chain''s calls; both chains'' calls add up to {0:N0} ms and {1:N0} ms)' -f ($rules.Small.in + $rules.Small.out), ($rules.Large.in + $rules.Large.out)) -ForegroundColor DarkGray
    }
    # In-process work, from the warm runs: in a fresh process it is mostly the fixed cost of the first use (JIT),
    # which would hide how the rest grows.
    # Each run's total less the wall time of its programs, the median of the runs of a size.
    $inProcess = @{}
    foreach ($group in @($m.Warm | Group-Object N)) {
        $inProcess[[int]$group.Name] = [math]::Max(1, (Get-LvsMedian @($group.Group | ForEach-Object { $_.Total - (& $wallMs @(& $parse $_.Commands)) })))
    }
    $growth = $inProcess[$ScaleCount] / $inProcess[$Count]
    $warmRuns = @($m.Warm | Where-Object N -EQ $Count).Count
    & $stepRow "in-process work (warm, median of $warmRuns runs)" $inProcess[$Count] $inProcess[$ScaleCount] $growth `
        ('linear allows {0:N0}x: {1}' -f (1.5 * $size), $(if ($growth -le 1.5 * $size -or $inProcess[$ScaleCount] -lt 50) { 'ok' } else { 'FASTER THAN LINEAR' })) ($growth -le 1.5 * $size -or $inProcess[$ScaleCount] -lt 50)
    Write-Host ''
    Write-Host '  Processes of (d), nothing to change (warm, with -Verbose):' -ForegroundColor Cyan
    $m.NoChangeCommands | ForEach-Object { Write-Host "    $_" }

    Write-Host ''
    Write-Host "  Targets, judged on $($judged.Title)" -ForegroundColor Cyan
    # The other hosts' figures under each target, not judged: what the same module gives there, and why.
    $reference = {
        param([scriptblock] $value, [string] $format)
        foreach ($h in @($hosts | Where-Object { -not $_.Judged })) {
            Write-Host ("      for reference, $($h.Title): $format" -f (& $value $median[$h.Name])) -ForegroundColor DarkGray
        }
    }
    Write-LvsVerdict '(1) Import-Module, fresh pwsh' $median[$judged.Name].Import 100 'ms'
    Write-Host ('      its host''s empty manifest alone: {0:N1} ms, so LvsDirect''s own share is {1:N1} ms' -f $median[$judged.Name].Empty, ($median[$judged.Name].Import - $median[$judged.Name].Empty)) -ForegroundColor DarkGray
    & $reference { param($x) $x.Import, $x.Empty } '{0:N1} ms, of which {1:N1} ms an empty manifest''s import alone'
    Write-LvsVerdict "(2)/(b) first call, $Count VIPs, vs the floor" ($median[$judged.Name].First[$Count] / $floor[$Count].Total) 1.5
    & $reference { param($x) $x.First[$Count] / $floor[$Count].Total } '{0:N2} x'
    Write-LvsVerdict "(3)/(b) first call, $ScaleCount VIPs, vs the floor" ($median[$judged.Name].First[$ScaleCount] / $floor[$ScaleCount].Total) 2
    & $reference { param($x) $x.First[$ScaleCount] / $floor[$ScaleCount].Total } '{0:N2} x'
    Write-LvsVerdict '(d)/(e) no-op re-run vs reading the state' ((Get-LvsMedian $m.NoChange) / (Get-LvsMedian $m.List)) 2
    Write-Host ('  (a)/(c) seed way vs module (warm):                         {0,8:N1}x' -f ($m.Seed / (Get-LvsMedian $m.Module)))
}
catch {
    $failed = $true
    Write-Host "The benchmark failed: $_" -ForegroundColor Red
    Write-Host $_.ScriptStackTrace -ForegroundColor DarkGray
}
finally {
    Remove-LvsNamespace -Name $ns
    Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue
    if (@((Invoke-LvsNative ip 'netns', 'list').StdOut -split "`n" | Where-Object { $_ -like "$ns*" }).Count) {
        Write-Host "Namespace $ns was left behind." -ForegroundColor Red
        $failed = $true
    }
}
Write-LvsLoad 'after the single-host part'

if (-not $SkipPool) {
    # The pools, in the same run (tests/lab/PoolBench.ps1).
    . (Join-Path $PSScriptRoot 'PoolBench.ps1')
    $pool = Invoke-LvsPoolBench
    if (-not $pool.Ran) { $failed = $true }
    foreach ($miss in $pool.Misses) { $script:Misses.Add($miss) }
    Write-LvsLoad 'after the pools'
}

Write-Host ''
if ($script:Misses.Count) {
    Write-Host "Missed $($script:Misses.Count) target(s):" -ForegroundColor Yellow
    $script:Misses | ForEach-Object { Write-Host "  - $_" -ForegroundColor Yellow }
    Write-Host '  (the ratios are taken in the same run, so a slower machine slows both sides; the absolute import time is not a ratio)'
    Write-LvsMachineVerdict -Steal $stealDuringFirst
}
if ($failed -or $script:Misses.Count) { exit 1 }
Write-Host 'Benchmark finished: every target met.' -ForegroundColor Green
exit 0
