#Requires -Version 7.4
<#
The pool part of ./build.ps1 -Task Bench (dot-sourced by Bench.ps1 after common.ps1): Set-LvsRealServer against
bare PowerShell remoting and against plain ssh to the same hosts.

-AgentlessHostCount real-server namespaces (32 by default; the lab holds up to 40) each run an sshd with the
PowerShell subsystem (tests/lab/SshLab.ps1); everything is timed inside the client namespace, in one pwsh that
keeps running there. Per round, in this order:
  (f) bare remoting: Invoke-Command -HostName rs1 -ScriptBlock {}
  (g) Set-LvsRealServer -HostName rs1 -VirtualIP <2 VIPs>, rs1 without the module
  (h) bare remoting: Invoke-Command -HostName rs1..rs8 -ScriptBlock {}
  (i) Set-LvsRealServer -HostName rs1..rs8 -VirtualIP <2 VIPs> -ThrottleLimit 8, no host with the module
  (j) plain ssh: `ssh rsN true` to rs1..rs8, all started at once
  (k) Set-LvsRealServer -HostName rs1..rs8 -VirtualIP <2 VIPs> -Transport Ssh (agentless)
  (l) plain ssh to all -AgentlessHostCount hosts at once
  (m) Set-LvsRealServer -Transport Ssh on all of them, the first apply
  (n) the same again, nothing to change (every host Unchanged)
Before each first apply, the module and the VIPs are removed from the hosts, so every run installs the module
(remoting) and adds the VIPs; each run is checked to have done so. Rounds alternate so that load from outside
hits both sides alike. Targets: (i)/(h) <= 2 (each remoting session starts a pwsh on the server side, so bare
remoting is the floor); (m)/(l) and (n)/(l) <= 1.5 (the agentless transport starts no pwsh: its floor is plain
ssh). (k)/(j) is printed next to them.
#>

. (Join-Path $PSScriptRoot 'SshLab.ps1')

function Invoke-LvsPoolBench {
    # Returns Ran (the benchmark ran to the end) and Misses (one line per missed target).
    param(
        [ValidateRange(1, 10)][int] $Repeat = 3,
        [ValidateRange(2, 9)][int] $HostCount = 8,
        [ValidateRange(2, 40)][int] $AgentlessHostCount = 32
    )

    $misses = [System.Collections.Generic.List[string]]::new()
    $reason = Test-LvsLabPrerequisite -Program 'ip', 'arptables', 'ss', 'unshare', 'sshd', 'ssh', 'ssh-keygen'
    if ($reason) {
        Write-Host "The pool benchmark cannot run here: $reason." -ForegroundColor Yellow
        return [pscustomobject]@{ Ran = $false; Misses = $misses }
    }

    $lab = $null
    $ssh = $null
    $ran = $true
    try {
        $lab = New-LvsLab -RealServerCount ([math]::Max($HostCount, $AgentlessHostCount)) -NoSession
        $ssh = New-LvsSshLab -Lab $lab
        Start-LvsNamespaceSession -Namespace $lab.Client.Namespace
        $all = @($ssh.Hosts.Keys)
        $roles = @($all | Select-Object -First $HostCount)
        $fleet = @($all | Select-Object -First $AgentlessHostCount)
        $vips = '198.19.0.1', '198.19.0.2'
        Write-Host ''
        Write-Host "Pool benchmark: $($all.Count) real servers with sshd (lab $($lab.Prefix)), median of $Repeat rounds" -ForegroundColor Cyan

        $reset = {
            param([string[]] $Role)
            foreach ($r in $Role) {
                Clear-LvsSshLabModule -SshLab $ssh -Role $r
                $ns = $ssh.Hosts[$r].Namespace
                $null = Invoke-LvsNative ip '-n', $ns, 'addr', 'flush', 'dev', 'eth0', 'to', '198.19.0.0/16'
                $null = Invoke-LvsNetns $ns arptables '-F'
                $null = Invoke-LvsNetns $ns arptables '-X'
            }
        }
        $measure = {
            param([string] $Kind, [string[]] $Hosts)
            $r = Invoke-LvsInNamespace $lab.Client.Namespace -TimeoutSeconds 600 -ArgumentList $Kind, $Hosts, $ssh.KeyFilePath, $vips {
                param([string] $kind, [string[]] $hosts, [string] $key, [string[]] $vips)
                $sw = [System.Diagnostics.Stopwatch]::StartNew()
                if ($kind -eq 'ssh') {
                    $procs = foreach ($h in $hosts) {
                        $psi = [System.Diagnostics.ProcessStartInfo]::new('ssh')
                        foreach ($a in '-T', '-o', 'BatchMode=yes', '-i', $key, '-l', 'root', '--', $h, 'true') { $psi.ArgumentList.Add($a) }
                        $psi.RedirectStandardError = $true
                        [System.Diagnostics.Process]::Start($psi)
                    }
                    foreach ($p in $procs) { $p.WaitForExit() }
                    $ms = $sw.Elapsed.TotalMilliseconds
                    $bad = @($procs | Where-Object ExitCode -ne 0)
                    if ($bad) { throw "ssh true failed on $($bad.Count) host(s): $($bad[0].StandardError.ReadToEnd())" }
                }
                elseif ($kind -in 'agentless', 'agentless-again') {
                    $out = @(Set-LvsRealServer -HostName $hosts -VirtualIP $vips -UserName root -KeyFilePath $key -ThrottleLimit ([math]::Max(8, $hosts.Count)) -Transport Ssh)
                    $ms = $sw.Elapsed.TotalMilliseconds
                    $bad = if ($kind -eq 'agentless') {
                        @($out | Where-Object { "$($_.Status)" -ne 'Changed' -or @($_.Added).Count -ne $vips.Count })
                    }
                    else {
                        @($out | Where-Object { "$($_.Status)" -ne 'Unchanged' -or @($_.Added).Count -ne 0 })
                    }
                    if ($out.Count -ne $hosts.Count -or $bad) { throw "Set-LvsRealServer -Transport Ssh ($kind) did not do what it should everywhere: $($out | Out-String)" }
                }
                elseif ($kind -eq 'bare') {
                    $out = @(Invoke-Command -HostName $hosts -UserName root -KeyFilePath $key -ScriptBlock { $PID })
                    $ms = $sw.Elapsed.TotalMilliseconds
                    if ($out.Count -ne $hosts.Count) { throw "bare remoting reached $($out.Count) of $($hosts.Count) hosts." }
                }
                else {
                    $out = @(Set-LvsRealServer -HostName $hosts -VirtualIP $vips -UserName root -KeyFilePath $key -ThrottleLimit ([math]::Max(8, $hosts.Count)))
                    $ms = $sw.Elapsed.TotalMilliseconds
                    $bad = @($out | Where-Object { "$($_.Status)" -ne 'Changed' -or -not $_.ModuleInstalled -or @($_.Added).Count -ne $vips.Count })
                    if ($out.Count -ne $hosts.Count -or $bad) { throw "Set-LvsRealServer did not install and add everywhere: $($out | Out-String)" }
                }
                $ms
            }
            [double]$r
        }
        $assertVips = {
            param([string[]] $Role, [string] $When)
            foreach ($r in $Role) {
                $present = @(Get-LvsLabAddress -Namespace $ssh.Hosts[$r].Namespace | Where-Object Address -In $vips).Count
                if ($present -ne $vips.Count) { throw "$When, $r has $present of the VIPs in its kernel." }
            }
        }
        # The client's first remoting call pays its one-time costs (assemblies, JIT): not part of any figure.
        $null = & $measure 'bare' @($roles[0])

        $null = & $measure 'ssh' $fleet
        $t = @{ f = @(); g = @(); h = @(); i = @(); j = @(); k = @(); l = @(); m = @(); n = @() }
        foreach ($round in 1..$Repeat) {
            $t.f += & $measure 'bare' @($roles[0])
            & $reset @($roles[0])
            $t.g += & $measure 'set' @($roles[0])
            $t.h += & $measure 'bare' $roles
            & $reset $roles
            $t.i += & $measure 'set' $roles
            & $assertVips $roles "After (i) of round $round"
            $t.j += & $measure 'ssh' $roles
            & $reset $roles
            $t.k += & $measure 'agentless' $roles
            & $assertVips $roles "After (k) of round $round"
            $t.l += & $measure 'ssh' $fleet
            & $reset $fleet
            $t.m += & $measure 'agentless' $fleet
            $t.n += & $measure 'agentless-again' $fleet
            & $assertVips $fleet "After (n) of round $round"
        }

        $median = { param($v) $s = @($v | Sort-Object); $s[[math]::Floor(($s.Count - 1) / 2)] }
        $row = { param($label, $values) Write-Host ('  {0,-64} {1,9:N0} ms   (runs: {2})' -f $label, (& $median $values), (($values | ForEach-Object { '{0:N0}' -f $_ }) -join ', ')) }
        & $row '(f) bare remoting: Invoke-Command -HostName <1 host> {}' $t.f
        & $row '(g) Set-LvsRealServer -HostName <1 host>, installing the module' $t.g
        & $row "(h) bare remoting: Invoke-Command -HostName <$HostCount hosts> {}" $t.h
        & $row "(i) Set-LvsRealServer -HostName <$HostCount hosts>, installing the module" $t.i
        & $row "(j) plain ssh: ssh <host> true to $HostCount hosts at once" $t.j
        & $row "(k) Set-LvsRealServer -Transport Ssh, $HostCount hosts (agentless)" $t.k
        & $row "(l) plain ssh: ssh <host> true to $AgentlessHostCount hosts at once" $t.l
        & $row "(m) Set-LvsRealServer -Transport Ssh, $AgentlessHostCount hosts, first apply" $t.m
        & $row "(n) the same again, $AgentlessHostCount hosts, nothing to change" $t.n
        $ratio = { param($a, $b) (& $median $t[$a]) / (& $median $t[$b]) }
        $verdict = {
            param([string] $label, [double] $value, [double] $target)
            $ok = $value -le $target
            Write-Host ('  {0,-58} {1,8:N2}  target <= {2}  {3}' -f $label, $value, $target, $(if ($ok) { 'met' } else { 'MISSED' })) -ForegroundColor $(if ($ok) { 'Green' } else { 'Yellow' })
            if (-not $ok) { $misses.Add(('{0} = {1:N2}, target <= {2}' -f $label, $value, $target)) }
        }
        Write-Host ''
        Write-Host ('  (g)/(f) one host, pool cmdlet vs bare remoting:           {0,8:N2}' -f (& $ratio 'g' 'f'))
        Write-Host ('  (h)/(f) bare remoting, {0} hosts vs 1 (shared CPUs):        {1,8:N2}' -f $HostCount, (& $ratio 'h' 'f'))
        & $verdict "(i)/(h) $HostCount hosts, pool cmdlet vs bare remoting" (& $ratio 'i' 'h') 2
        Write-Host ('  (k)/(j) {0} hosts, agentless vs plain ssh:                 {1,8:N2}' -f $HostCount, (& $ratio 'k' 'j'))
        Write-Host ('  (k)/(i) {0} hosts, agentless vs PowerShell remoting:       {1,8:N2}' -f $HostCount, (& $ratio 'k' 'i'))
        & $verdict "(m)/(l) $AgentlessHostCount hosts, agentless first apply vs plain ssh" (& $ratio 'm' 'l') 1.5
        & $verdict "(n)/(l) $AgentlessHostCount hosts, agentless re-run vs plain ssh" (& $ratio 'n' 'l') 1.5
    }
    catch {
        $ran = $false
        Write-Host "The pool benchmark failed: $_" -ForegroundColor Red
        Write-Host $_.ScriptStackTrace -ForegroundColor DarkGray
    }
    finally {
        Remove-LvsSshLab -SshLab $ssh
        Remove-LvsLab -Lab $lab
    }
    [pscustomobject]@{ Ran = $ran; Misses = $misses }
}
