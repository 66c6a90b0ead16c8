#Requires -Version 7.4
<#
.SYNOPSIS
How fast LvsDirect is where it is mostly used, in a fresh process, against the raw kernel tools: run by
./build.ps1 -Task Bench. Exits 1 when a target is missed, naming it.

.DESCRIPTION
In a namespace of its own (eth0 = 198.18.0.2/15, VIPs 198.19.x.y/32 from the benchmark range) it measures, as
ratios taken in the same run so that a busy machine slows both sides alike:
  Cold start, each in a fresh pwsh (`pwsh -File`, pwsh's own start not counted):
    (1) Import-Module LvsDirect, the median of 5 processes                          target <= 100 ms
    (2) the first New-LvsVip of -Count VIPs (default 1000), the median of -FreshRepeat  target <= 1.5 x (b)
    (3) the first New-LvsVip of -ScaleCount VIPs (default 10,000)                    target <= 2 x (b) for as many
        with the time of each process the module ran, and of its in-process work (from warm runs, which have no
        JIT to hide it), for both sizes: no step may grow faster than linearly (more than 1.5 x the size ratio).
        A program the floor also runs is bound by the kernel's own growth and is judged against the floor's run
        of it at 10,000 instead (<= 1.5 x).
    (1) and (2) also print the CPU time of the pwsh process over the same span, for telling a busy machine's
        waiting apart from the module's own work; it is not judged.
  In a pwsh that already runs there with the module imported:
    (a) the seed's way: per VIP `arptables -A INPUT`, `arptables -A OUTPUT`, `ip addr add`, as one sh script
    (b) the raw floor: one hand-written `ip -batch` file and one `arptables-restore` input of the same state
    (c) New-LvsVip warm, for reference
    (d) New-LvsVip again when nothing has to change                                 target <= 2 x (e)
    (e) reading the state with the tools: `ip -j addr show` + `arptables -L -n` (what the module reads)
Every run is checked to have applied all VIPs and rules. Then the pools (tests/lab/PoolBench.ps1). The load
average is printed before, between and after. The namespace is removed at the end, even on failure.
#>
[CmdletBinding()]
param(
    [ValidateRange(10, 5000)][int] $Count = 1000,
    [ValidateRange(1000, 20000)][int] $ScaleCount = 10000,
    [ValidateRange(1, 10)][int] $Repeat = 5,
    [ValidateRange(1, 10)][int] $FreshRepeat = 3,
    [switch] $SkipPool
)

$ErrorActionPreference = 'Stop'
. (Join-Path (Split-Path -Parent $PSScriptRoot) 'common.ps1')

$reason = Test-LvsLabPrerequisite -Program 'ip', 'arptables', 'arptables-save', 'arptables-restore', 'sh'
if ($reason) {
    Write-Host "The benchmark cannot run here: $reason." -ForegroundColor Yellow
    exit 1
}

function Write-LvsLoad([string] $When) {
    Write-Host ("  load average {0}: {1}" -f $When, (Get-Content -LiteralPath /proc/loadavg -Raw).Trim()) -ForegroundColor DarkGray
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
$r = [ordered]@{ Import = $import; ImportCpu = [System.Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime.TotalMilliseconds - $c0; First = $null; FirstCpu = $null; Commands = @() }
if ($VipFile) {
    $vips = [System.IO.File]::ReadAllLines($VipFile)
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
}
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

    # Back to an empty benchmark state from outside the module: no VIP, no rule, no user chain.
    $reset = {
        $null = Invoke-LvsNetns $ns ip 'addr', 'flush', 'dev', 'eth0', 'to', '198.19.0.0/16'
        $null = Invoke-LvsNetns $ns arptables '-F'
        $null = Invoke-LvsNetns $ns arptables '-X'
    }
    # The kernel's state read without the module: every VIP on eth0 and its two rules.
    $assertApplied = {
        param([int] $n, [string] $what)
        $addresses = @((Get-LvsLabAddress -Namespace $ns) | Where-Object { $_.Address -like '198.19.*' -and $_.InterfaceName -eq 'eth0' }).Count
        $rules = @((Invoke-LvsNetns $ns arptables-save).StdOut -split "`n" | Where-Object { $_ -like '-A *' -and $_ -like '* 198.19.*' }).Count
        if ($addresses -ne $n -or $rules -ne 2 * $n) { throw "$what left $addresses addresses and $rules rules, not $n and $(2 * $n)." }
    }
    $module = Get-LvsTestModulePath
    $pwsh = Get-LvsPwshCommand
    $fresh = {
        param([string] $VipFile, [switch] $LogCommands)
        $argv = @('netns', 'exec', $ns) + $pwsh + @('-NoProfile', '-NonInteractive', '-File', $freshPath, '-ModulePath', $module)
        if ($VipFile) { $argv += @('-VipFile', $VipFile) }
        if ($LogCommands) { $argv += '-LogCommands' }
        $out = (Invoke-LvsNative ip $argv -TimeoutSeconds 600).StdOut
        $out.Trim() -split "`n" | Select-Object -Last 1 | ConvertFrom-Json
    }

    Write-Host "Benchmark: $Count and $ScaleCount VIPs in namespace $ns (eth0 198.18.0.2/15)" -ForegroundColor Cyan

    # Warm: the floor, the seed's way, the module in a running session, and reading the state.
    $m = Invoke-LvsInNamespace $ns -TimeoutSeconds 3600 -ArgumentList $dir, $Count, $ScaleCount, $Repeat, $FreshRepeat {
        param([string] $dir, [int] $count, [int] $scaleCount, [int] $repeat, [int] $freshRepeat)

        function Invoke-Tool([string] $file, [string[]] $argv, [string] $stdin) {
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
        function Reset-Vip {
            $null = Invoke-Tool ip 'addr', 'flush', 'dev', 'eth0', 'to', '198.19.0.0/16'
            $null = Invoke-Tool arptables '-F'
            $null = Invoke-Tool arptables '-X'
        }
        function Assert-Applied([int] $n, [string] $what) {
            $addresses = @((Invoke-Tool ip '-j', 'addr', 'show', 'dev', 'eth0' | ConvertFrom-Json).addr_info | Where-Object local -Like '198.19.*').Count
            $ruleCount = @((Invoke-Tool arptables-save) -split "`n" | Where-Object { $_ -like '-A *' -and $_ -like '* 198.19.*' }).Count
            if ($addresses -ne $n -or $ruleCount -ne 2 * $n) { throw "$what left $addresses addresses and $ruleCount rules, not $n and $(2 * $n)." }
        }
        function Measure-Ms([scriptblock] $body) {
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            & $body
            $sw.Elapsed.TotalMilliseconds
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
            $rules = Get-Content -Raw -LiteralPath (Join-Path $dir "rules$n.arp")
            $batch = Join-Path $dir "vips$n.ip"
            $runs = foreach ($i in 1..$(if ($n -eq $count) { $repeat } else { $freshRepeat })) {
                Reset-Vip
                $ip = Measure-Ms { $null = Invoke-Tool ip '-batch', $batch }
                $restore = Measure-Ms { $null = Invoke-Tool arptables-restore @() $rules }
                Assert-Applied $n 'ip -batch + arptables-restore'
                [pscustomobject]@{ Ip = $ip; Restore = $restore; Total = $ip + $restore }
            }
            $r["Floor$n"] = @($runs)
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
        # A first apply of each size with the time of each process, for the in-process work's growth.
        $r.Warm = foreach ($n in $count, $scaleCount) {
            Reset-Vip
            $list = @(Get-Content -LiteralPath (Join-Path $dir "vips$n.txt"))
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            $commands = @(New-LvsVip -Address $list -InterfaceName eth0 -Verbose 4>&1 |
                    Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match ' -> exit ' } | ForEach-Object Message)
            [pscustomobject]@{ N = $n; Total = $sw.Elapsed.TotalMilliseconds; Commands = $commands }
            Assert-Applied $n "New-LvsVip -Verbose of $n VIPs"
        }
        Reset-Vip
        [pscustomobject]$r
    }

    # Cold: fresh processes.
    $importRuns = @(foreach ($i in 1..5) { & $fresh })
    $imports = $importRuns.Import
    $first = @{}
    $firstCpu = @{}
    $steps = @{}
    foreach ($n in $sizes) {
        $vipFile = Join-Path $dir "vips$n.txt"
        $runs = @(foreach ($i in 1..$FreshRepeat) {
                & $reset
                & $fresh -VipFile $vipFile
                & $assertApplied $n "New-LvsVip of $n VIPs in a fresh pwsh"
            })
        $first[$n] = $runs.First
        $firstCpu[$n] = $runs.FirstCpu
        # One more run with -Verbose, for the time of each process (the cmdlet's total is from the runs above).
        & $reset
        $steps[$n] = @((& $fresh -VipFile $vipFile -LogCommands).Commands)
        & $assertApplied $n "New-LvsVip -Verbose of $n VIPs in a fresh pwsh"
    }
    & $reset
    $null = & $fresh -VipFile (Join-Path $dir "vips$Count.txt")
    $freshNoChange = (& $fresh -VipFile (Join-Path $dir "vips$Count.txt")).First
    & $assertApplied $Count 'New-LvsVip run again in a fresh pwsh'
    & $reset

    $floor = @{}
    foreach ($n in $sizes) {
        $runs = @($m."Floor$n")
        $floor[$n] = [pscustomobject]@{
            Total   = Get-LvsMedian $runs.Total
            Ip      = Get-LvsMedian $runs.Ip
            Restore = Get-LvsMedian $runs.Restore
        }
    }
    $row = { param($label, $value) Write-Host ('  {0,-66} {1,10:N1} ms' -f $label, $value) }
    Write-Host ''
    Write-Host '  Medians' -ForegroundColor Cyan
    & $row '(1) Import-Module LvsDirect, fresh pwsh (5 processes)' (Get-LvsMedian $imports)
    & $row '      its CPU time (pwsh alone; the rest is waiting for a CPU)' (Get-LvsMedian $importRuns.ImportCpu)
    foreach ($n in $sizes) {
        & $row "(2) New-LvsVip of $n VIPs, first call in a fresh pwsh" (Get-LvsMedian $first[$n])
        & $row "      its CPU time in pwsh (the programs it starts not counted)" (Get-LvsMedian $firstCpu[$n])
        & $row "(b) floor: ip -batch + arptables-restore, $n VIPs" $floor[$n].Total
        & $row "      of which ip -batch" $floor[$n].Ip
        & $row "      of which arptables-restore" $floor[$n].Restore
    }
    & $row '(a) seed: 3 processes per VIP, 100 VIPs' $m.Seed100
    & $row "(a) seed: 3 processes per VIP, $Count VIPs" $m.Seed
    & $row "(c) New-LvsVip of $Count VIPs, warm session" (Get-LvsMedian $m.Module)
    & $row '(d) New-LvsVip again, nothing to change, warm session' (Get-LvsMedian $m.NoChange)
    & $row '    the same in a fresh pwsh (for reference)' $freshNoChange
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
        $null
    }
    Write-Host ''
    Write-Host ("  Steps of the first call in a fresh pwsh, $Count and $ScaleCount VIPs (x{0:N0} the VIPs)" -f $size) -ForegroundColor Cyan
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
        if ($s.Ms -lt 20) {
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
    # In-process work, from the warm runs: in a fresh process it is mostly the fixed cost of the first use (JIT),
    # which would hide how the rest grows.
    $inProcess = @{}
    foreach ($w in $m.Warm) {
        $inProcess[[int]$w.N] = [math]::Max(1, $w.Total - (@(& $parse $w.Commands) | Measure-Object Ms -Sum).Sum)
    }
    $growth = $inProcess[$ScaleCount] / $inProcess[$Count]
    & $stepRow 'in-process work (warm: the total less the processes)' $inProcess[$Count] $inProcess[$ScaleCount] $growth `
        ('linear allows {0:N0}x: {1}' -f (1.5 * $size), $(if ($growth -le 1.5 * $size -or $inProcess[$ScaleCount] -lt 50) { 'ok' } else { 'FASTER THAN LINEAR' })) ($growth -le 1.5 * $size -or $inProcess[$ScaleCount] -lt 50)
    Write-Host ''
    Write-Host '  Processes of (d), nothing to change (warm, with -Verbose):' -ForegroundColor Cyan
    $m.NoChangeCommands | ForEach-Object { Write-Host "    $_" }

    Write-Host ''
    Write-Host '  Targets' -ForegroundColor Cyan
    Write-LvsVerdict '(1) Import-Module, fresh pwsh' (Get-LvsMedian $imports) 100 'ms'
    Write-LvsVerdict "(2)/(b) first call, $Count VIPs, vs the floor" ((Get-LvsMedian $first[$Count]) / $floor[$Count].Total) 1.5
    Write-LvsVerdict "(3)/(b) first call, $ScaleCount VIPs, vs the floor" ((Get-LvsMedian $first[$ScaleCount]) / $floor[$ScaleCount].Total) 2
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
    Write-Host '  (compare with the load averages above: the ratios are taken in the same run, the absolute import time is not)'
}
if ($failed -or $script:Misses.Count) { exit 1 }
Write-Host 'Benchmark finished: every target met.' -ForegroundColor Green
exit 0
