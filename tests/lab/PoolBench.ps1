#Requires -Version 7.4
<#
The pool part of ./build.ps1 -Task Bench (dot-sourced by Bench.ps1 after common.ps1): Set-LvsRealServer against
bare PowerShell remoting to the same hosts.

Eight real-server namespaces each run an sshd with the PowerShell subsystem (tests/lab/SshLab.ps1); everything is
timed inside the client namespace, in one pwsh that keeps running there. Per round, in this order:
  (f) bare remoting: Invoke-Command -HostName rs1 -ScriptBlock {}
  (g) Set-LvsRealServer -HostName rs1 -VirtualIP <2 VIPs>, rs1 without the module
  (h) bare remoting: Invoke-Command -HostName rs1..rs8 -ScriptBlock {}
  (i) Set-LvsRealServer -HostName rs1..rs8 -VirtualIP <2 VIPs> -ThrottleLimit 8, no host with the module
  (j) plain ssh: `ssh rsN true` to rs1..rs8, all eight started at once
  (k) Set-LvsRealServer -HostName rs1..rs8 -VirtualIP <2 VIPs> -ThrottleLimit 8 -Transport Ssh (agentless)
Before each Set-LvsRealServer run, the module and the VIPs are removed from the hosts, so every run installs
the module and adds the VIPs; each run is checked to have done so. Rounds alternate so that load from outside
hits both sides alike. The target is (i)/(h) <= 2: all lab hosts share this machine's CPUs and each session
starts a pwsh on the server side, so bare remoting is the floor. The agentless transport starts no pwsh: its
floor is plain ssh, and its target is (k)/(j) <= 2.
#>

. (Join-Path $PSScriptRoot 'SshLab.ps1')

function Invoke-LvsPoolBench {
    [OutputType([bool])]
    param([ValidateRange(1, 10)][int] $Repeat = 3, [ValidateRange(2, 9)][int] $HostCount = 8)

    $reason = Test-LvsLabPrerequisite -Program 'ip', 'arptables', 'ss', 'unshare', 'sshd', 'ssh', 'ssh-keygen'
    if ($reason) {
        Write-Host "The pool benchmark cannot run here: $reason." -ForegroundColor Yellow
        return $false
    }

    $lab = $null
    $ssh = $null
    $ok = $true
    try {
        $lab = New-LvsLab -RealServerCount $HostCount -NoSession
        $ssh = New-LvsSshLab -Lab $lab
        Start-LvsNamespaceSession -Namespace $lab.Client.Namespace
        $roles = @($ssh.Hosts.Keys)
        $vips = '198.19.0.1', '198.19.0.2'
        Write-Host ''
        Write-Host "Pool benchmark: $HostCount real servers with sshd (lab $($lab.Prefix)), median of $Repeat rounds" -ForegroundColor Cyan

        $reset = {
            param([string[]] $Role)
            foreach ($r in $Role) {
                Clear-LvsSshLabModule -SshLab $ssh -Role $r
                $ns = $ssh.Hosts[$r].Namespace
                $null = Invoke-LvsNative ip '-n', $ns, 'addr', 'flush', 'dev', 'eth0', 'to', '198.19.0.0/16'
                $null = Invoke-LvsNetns $ns arptables '-F'
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
                elseif ($kind -eq 'agentless') {
                    $out = @(Set-LvsRealServer -HostName $hosts -VirtualIP $vips -UserName root -KeyFilePath $key -ThrottleLimit ([math]::Max(8, $hosts.Count)) -Transport Ssh)
                    $ms = $sw.Elapsed.TotalMilliseconds
                    $bad = @($out | Where-Object { "$($_.Status)" -ne 'Changed' -or @($_.Added).Count -ne $vips.Count })
                    if ($out.Count -ne $hosts.Count -or $bad) { throw "Set-LvsRealServer -Transport Ssh did not add everywhere: $($out | Out-String)" }
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
        # The client's first remoting call pays its one-time costs (assemblies, JIT): not part of any figure.
        $null = & $measure 'bare' @($roles[0])

        $null = & $measure 'ssh' $roles
        $t = @{ f = @(); g = @(); h = @(); i = @(); j = @(); k = @() }
        foreach ($round in 1..$Repeat) {
            $t.f += & $measure 'bare' @($roles[0])
            & $reset @($roles[0])
            $t.g += & $measure 'set' @($roles[0])
            $t.h += & $measure 'bare' $roles
            & $reset $roles
            $t.i += & $measure 'set' $roles
            $t.j += & $measure 'ssh' $roles
            & $reset $roles
            $t.k += & $measure 'agentless' $roles
            foreach ($r in $roles) {
                $present = @(Get-LvsLabAddress -Namespace $ssh.Hosts[$r].Namespace | Where-Object Address -In $vips).Count
                if ($present -ne $vips.Count) { throw "After round $round, $r has $present of the VIPs in its kernel." }
            }
        }

        $median = { param($v) $s = @($v | Sort-Object); $s[[math]::Floor(($s.Count - 1) / 2)] }
        $row = { param($label, $values) Write-Host ('  {0,-60} {1,9:N0} ms   (runs: {2})' -f $label, (& $median $values), (($values | ForEach-Object { '{0:N0}' -f $_ }) -join ', ')) }
        & $row '(f) bare remoting: Invoke-Command -HostName <1 host> {}' $t.f
        & $row '(g) Set-LvsRealServer -HostName <1 host>, installing the module' $t.g
        & $row "(h) bare remoting: Invoke-Command -HostName <$HostCount hosts> {}" $t.h
        & $row "(i) Set-LvsRealServer -HostName <$HostCount hosts>, installing the module" $t.i
        & $row "(j) plain ssh: ssh <host> true to $HostCount hosts at once" $t.j
        & $row "(k) Set-LvsRealServer -Transport Ssh, $HostCount hosts (agentless)" $t.k
        $gf = (& $median $t.g) / (& $median $t.f)
        $kj = (& $median $t.k) / (& $median $t.j)
        $ki = (& $median $t.k) / (& $median $t.i)
        $ih = (& $median $t.i) / (& $median $t.h)
        $hf = (& $median $t.h) / (& $median $t.f)
        Write-Host ''
        Write-Host ('  (g)/(f) one host, pool cmdlet vs bare remoting:      {0,6:N2}' -f $gf)
        Write-Host ('  (i)/(h) {0} hosts, pool cmdlet vs bare remoting:      {1,6:N2}  {2}' -f $HostCount, $ih, $(if ($ih -le 2) { 'within target <= 2' } else { 'MISSES target <= 2' })) -ForegroundColor $(if ($ih -le 2) { 'Green' } else { 'Yellow' })
        Write-Host ('  (h)/(f) bare remoting, {0} hosts vs 1 (shared CPUs):   {1,6:N2}' -f $HostCount, $hf)
        Write-Host ('  (k)/(j) {0} hosts, agentless vs plain ssh:            {1,6:N2}  {2}' -f $HostCount, $kj, $(if ($kj -le 2) { 'within target <= 2' } else { 'MISSES target <= 2' })) -ForegroundColor $(if ($kj -le 2) { 'Green' } else { 'Yellow' })
        Write-Host ('  (k)/(i) {0} hosts, agentless vs PowerShell remoting:  {1,6:N2}' -f $HostCount, $ki)
    }
    catch {
        $ok = $false
        Write-Host "The pool benchmark failed: $_" -ForegroundColor Red
        Write-Host $_.ScriptStackTrace -ForegroundColor DarkGray
    }
    finally {
        Remove-LvsSshLab -SshLab $ssh
        Remove-LvsLab -Lab $lab
    }
    $ok
}
