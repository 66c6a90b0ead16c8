#Requires -Version 7.4
<#
.SYNOPSIS
How fast LvsDirect sets up many VIPs, against the seed's one-process-per-command way and the raw batch floor:
run by ./build.ps1 -Task Bench.

.DESCRIPTION
In a namespace of its own (eth0 = 198.18.0.2/15, VIPs 198.19.x.y/32 from the benchmark range), with a pwsh
that already runs there with the module imported, measures:
  (a) the seed's way: per VIP `arptables -A INPUT`, `arptables -A OUTPUT`, `ip addr add` (3 processes), as one
      sh script, for 100 and for all VIPs;
  (b) the raw batch floor: one hand-written `ip -batch` file and one `arptables-restore` input;
  (c) New-LvsVip -Address <all VIPs> -InterfaceName eth0;
  (d) the same New-LvsVip again when nothing has to change;
  (e) what listing the state costs with the tools: `ip -j addr show` + `arptables -L -n` (what the module reads;
      the stricter floor), and for reference `ip -j addr show` + `arptables-save`.
and prints the ratios (c)/(b) and (d)/(e), each against its target of 2. Every run is checked to have applied
all VIPs and rules. The namespace is removed at the end, even on failure.
Then the pool part (tests/lab/PoolBench.ps1): Set-LvsRealServer on 1 and on 8 hosts without the module against
bare Invoke-Command -HostName to the same hosts, with the ratio (i)/(h) against its target of 2.
#>
[CmdletBinding()]
param(
    [ValidateRange(10, 5000)][int] $Count = 1000,
    [ValidateRange(1, 10)][int] $Repeat = 5
)

$ErrorActionPreference = 'Stop'
. (Join-Path (Split-Path -Parent $PSScriptRoot) 'common.ps1')

$reason = Test-LvsLabPrerequisite -Program 'ip', 'arptables', 'arptables-save', 'arptables-restore', 'sh'
if ($reason) {
    Write-Host "The benchmark cannot run here: $reason." -ForegroundColor Yellow
    exit 1
}

$ns = "$(New-LvsLabPrefix)bench"
$dir = Join-Path ([IO.Path]::GetTempPath()) $ns
$failed = $false
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

    $vips = @(0..($Count - 1) | ForEach-Object { '198.19.{0}.{1}' -f [math]::Floor($_ / 250), ($_ % 250 + 1) })
    $realIp = '198.18.0.2'
    $seedLines = { param($list) foreach ($v in $list) {
            "arptables -A INPUT -d $v -j DROP"
            "arptables -A OUTPUT -s $v -j mangle --mangle-ip-s $realIp"
            "ip addr add $v/32 dev eth0"
        } }
    Set-Content -LiteralPath (Join-Path $dir 'seed100.sh') -Value (@('set -e') + (& $seedLines ($vips | Select-Object -First 100))) -Encoding ascii
    Set-Content -LiteralPath (Join-Path $dir 'seed.sh') -Value (@('set -e') + (& $seedLines $vips)) -Encoding ascii
    Set-Content -LiteralPath (Join-Path $dir 'vips.ip') -Value ($vips | ForEach-Object { "address add $_/32 dev eth0" }) -Encoding ascii
    $rules = @('*filter', ':INPUT ACCEPT', ':OUTPUT ACCEPT') +
        @($vips | ForEach-Object { "-A INPUT -d $_ -j DROP" }) +
        @($vips | ForEach-Object { "-A OUTPUT -s $_ -j mangle --mangle-ip-s $realIp" })
    Set-Content -LiteralPath (Join-Path $dir 'rules.arp') -Value $rules -Encoding ascii

    Write-Host "Benchmark: $Count VIPs in namespace $ns (eth0 198.18.0.2/15), best and median of $Repeat runs" -ForegroundColor Cyan

    $m = Invoke-LvsInNamespace $ns -TimeoutSeconds 3600 -ArgumentList $vips.Count, $dir, $Repeat {
        param([int] $count, [string] $dir, [int] $repeat)

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
        }
        function Assert-Applied([int] $n, [string] $what) {
            $addresses = @((Invoke-Tool ip '-j', 'addr', 'show', 'dev', 'eth0' | ConvertFrom-Json).addr_info | Where-Object local -Like '198.19.*').Count
            # LvsDirect's two jumps into its own chains are not VIP rules.
            $ruleCount = @((Invoke-Tool arptables-save) -split "`n" | Where-Object { $_ -like '-A *' -and $_ -notmatch '^-A \S+ -j LVSDIRECT-(IN|OUT)$' }).Count
            if ($addresses -ne $n -or $ruleCount -ne 2 * $n) { throw "$what left $addresses addresses and $ruleCount rules, not $n and $(2 * $n)." }
        }
        function Measure-Ms([scriptblock] $body) {
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            & $body
            $sw.Stop()
            $sw.Elapsed.TotalMilliseconds
        }

        $vips = @(Get-Content -LiteralPath (Join-Path $dir 'vips.ip') | ForEach-Object { ($_ -split ' ')[2] -replace '/32$', '' })
        $rules = Get-Content -Raw -LiteralPath (Join-Path $dir 'rules.arp')
        $batch = Join-Path $dir 'vips.ip'
        $r = [ordered]@{}

        Reset-Vip
        $r.Seed100 = Measure-Ms { $null = Invoke-Tool sh (Join-Path $dir 'seed100.sh') }
        Assert-Applied 100 'the seed script for 100 VIPs'
        Reset-Vip
        $r.Seed = Measure-Ms { $null = Invoke-Tool sh (Join-Path $dir 'seed.sh') }
        Assert-Applied $count 'the seed script'

        $r.Batch = foreach ($i in 1..$repeat) {
            Reset-Vip
            Measure-Ms {
                $null = Invoke-Tool ip '-batch', $batch
                $null = Invoke-Tool arptables-restore @() $rules
            }
            Assert-Applied $count 'ip -batch + arptables-restore'
        }

        # JIT and first-use costs are paid once per session, not per call: pay them before timing.
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
        $r.ListSave = foreach ($i in 1..$repeat) {
            Measure-Ms {
                $null = Invoke-Tool ip '-j', 'addr', 'show'
                $null = Invoke-Tool arptables-save
            }
        }
        # Which processes the module ran and how long they took, against the cmdlet's own time: the rest is
        # the module's work in-process (parsing, planning, rendering).
        $commandsOf = {
            param([scriptblock] $call)
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            $log = @(& $call 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and "$_" -match ' -> exit ' } | ForEach-Object { "$_" })
            [pscustomobject]@{ Total = $sw.Elapsed.TotalMilliseconds; Commands = $log }
        }
        Reset-Vip
        $r.ModuleCommands = & $commandsOf { New-LvsVip -Address $vips -InterfaceName eth0 -Verbose }
        $r.NoChangeCommands = & $commandsOf { New-LvsVip -Address $vips -InterfaceName eth0 -Verbose }
        Reset-Vip
        [pscustomobject]$r
    }

    $stat = {
        param($values)
        $sorted = @($values | ForEach-Object { [double]$_ } | Sort-Object)
        [pscustomobject]@{ Best = $sorted[0]; Median = $sorted[[math]::Floor(($sorted.Count - 1) / 2)] }
    }
    $seed100 = [double]$m.Seed100
    $seed = [double]$m.Seed
    $batch = & $stat $m.Batch
    $module = & $stat $m.Module
    $noChange = & $stat $m.NoChange
    $list = & $stat $m.List
    $listSave = & $stat $m.ListSave
    $row = { param($label, $best, $median) Write-Host ('  {0,-62} {1,10:N1} ms {2,10:N1} ms' -f $label, $best, $median) }

    Write-Host ('  {0,-62} {1,13} {2,13}' -f '', 'best', 'median')
    & $row '(a) seed: 3 processes per VIP, 100 VIPs' $seed100 $seed100
    & $row "(a) seed: 3 processes per VIP, $Count VIPs" $seed $seed
    & $row "(b) batch floor: ip -batch + arptables-restore, $Count VIPs" $batch.Best $batch.Median
    & $row "(c) New-LvsVip -Address <$Count VIPs> -InterfaceName eth0" $module.Best $module.Median
    & $row '(d) New-LvsVip again, nothing to change' $noChange.Best $noChange.Median
    & $row '(e) listing: ip -j addr show + arptables -L -n' $list.Best $list.Median
    & $row '    (for reference: ip -j addr show + arptables-save)' $listSave.Best $listSave.Median

    $ratio = { param($a, $b) if ($b -gt 0) { $a / $b } else { [double]::NaN } }
    $cb = & $ratio $module.Median $batch.Median
    $de = & $ratio $noChange.Median $list.Median
    $verdict = { param($x) if ($x -le 2) { 'within target <= 2' } else { 'MISSES target <= 2' } }
    Write-Host ''
    Write-Host ('  (c)/(b) module vs batch floor:     {0,6:N2}  {1}' -f $cb, (& $verdict $cb)) -ForegroundColor $(if ($cb -le 2) { 'Green' } else { 'Yellow' })
    Write-Host ('  (d)/(e) no-op run vs listing:      {0,6:N2}  {1}' -f $de, (& $verdict $de)) -ForegroundColor $(if ($de -le 2) { 'Green' } else { 'Yellow' })
    Write-Host ('  (a)/(c) seed way vs module:        {0,6:N1}x' -f (& $ratio $seed $module.Median))
    Write-Host ''
    foreach ($case in @(@('(c)', $m.ModuleCommands), @('(d)', $m.NoChangeCommands))) {
        $inProcesses = ($case[1].Commands | ForEach-Object { if ($_ -match 'in (\d+) ms$') { [double]$Matches[1] } } | Measure-Object -Sum).Sum
        # The module may run its reads side by side, so the processes' times can add up to more than the cmdlet's.
        Write-Host ('  Processes of {0} (one more run, with -Verbose): {1:N0} ms summed over the processes, {2:N0} ms for the cmdlet' -f $case[0], $inProcesses, $case[1].Total)
        $case[1].Commands | ForEach-Object { Write-Host "    $_" }
    }
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

# The pool over SSH remoting, in the same run (tests/lab/PoolBench.ps1).
. (Join-Path $PSScriptRoot 'PoolBench.ps1')
if (-not (Invoke-LvsPoolBench)) { $failed = $true }

if ($failed) { exit 1 }
Write-Host 'Benchmark finished.' -ForegroundColor Green
exit 0
