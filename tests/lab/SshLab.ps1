#Requires -Version 7.4
<#
PowerShell remoting over SSH for the namespace lab of tests/common.ps1: dot-source this file after common.ps1.

New-LvsSshLab            gives each real server of a lab an sshd (key auth, the PowerShell subsystem) and the client
                         an ssh configuration, so `Invoke-Command -HostName rs1` and the pool cmdlets run from the
                         client namespace exactly as from an administrator's workstation.
Stop-LvsSshServer / Start-LvsSshServer
                         stop (by PID) and start one host's sshd: an unreachable host.
Install-LvsSshLabModule / Get-LvsSshLabModule
                         put the built module into (or look for it in) a host's private module folder.
Hide-LvsSshLabProgram    restarts one host's sshd with programs hidden from its sessions (a missing package).
Set-LvsSshLabPrivatePath restarts one host's sshd with private folders bound over host folders (its own /etc/sysctl.d).
Remove-LvsSshLab         stops every sshd this lab started, by PID, and removes its files.

Nothing of the host is written: each sshd runs in a mount namespace of its own (a private /run holding
/run/sshd; the host's /run/lvsdirect and /run/netns are bound back, so the module finds the namespace's name and
takes the same lock there as a local run), reads its
configuration, host key and authorized key from the lab's temp folder, and gives its sessions XDG_DATA_HOME,
XDG_CACHE_HOME and XDG_CONFIG_HOME under that folder, so "the remote user's module path" is a folder of the
test's own. The client's ssh reads /etc/ssh/ssh_config, which `ip netns exec` replaces with the lab's
(/etc/netns/<client>/ssh): known_hosts under the temp folder, and the names rs1.. in its /etc/hosts.
#>

function Get-LvsSshLabPwshSubsystem {
    # The Subsystem command: this installation's pwsh in server mode (sshd runs it through the user's shell).
    $pwsh = Get-LvsPwshCommand
    (@($pwsh) + @('-sshs', '-NoLogo', '-NoProfile')) -join ' '
}

function New-LvsSshLab {
    <#
    .SYNOPSIS
    Starts an sshd in each real server of $Lab (all by default, or -Role) and configures the client for SSH
    remoting to them. Returns the SSH lab: KeyFilePath, UserName, Port, Hosts (per role: Namespace, Address,
    Name, DataPath, ModulePath, Process) and the paths it owns. Remove it with Remove-LvsSshLab.
    #>
    param(
        [Parameter(Mandatory)] $Lab,
        [string[]] $Role = @($Lab.RealServers.Role),
        [ValidateRange(1, 65535)][int] $Port = 22,
        # Real servers without PowerShell: no `powershell` subsystem, and no pwsh on the sessions' PATH.
        [switch] $NoPowerShell
    )

    $sshd = Find-LvsProgram sshd
    if (-not $sshd) { throw 'sshd is not installed (apt-get install openssh-server).' }
    $root = Join-Path $Lab.TempPath 'ssh'
    $ssh = [pscustomobject]@{
        Lab          = $Lab
        Root         = $root
        Port         = $Port
        UserName     = 'root'
        KeyFilePath  = Join-Path $root 'client' 'id_ed25519'
        KnownHosts   = Join-Path $root 'client' 'known_hosts'
        ClientEtc    = "/etc/netns/$($Lab.Client.Namespace)/ssh"
        Hosts        = [ordered]@{}
        NoPowerShell = [bool]$NoPowerShell
    }
    try {
        $null = New-Item -ItemType Directory -Path (Join-Path $root 'client') -Force
        $null = Invoke-LvsNative ssh-keygen '-q', '-t', 'ed25519', '-N', '', '-C', 'lvsdirect-lab-client', '-f', $ssh.KeyFilePath
        foreach ($r in $Role) { $null = Add-LvsSshLabHost -SshLab $ssh -Role $r -SshdPath $sshd }
        Set-LvsSshLabClient -SshLab $ssh
        foreach ($h in $ssh.Hosts.Values) { Start-LvsSshServer -SshLab $ssh -Role $h.Role }
    }
    catch {
        Remove-LvsSshLab -SshLab $ssh
        throw
    }
    $ssh
}

function Add-LvsSshLabHost {
    # The files of one host's sshd: host key, authorized key, sshd_config, the start script, private XDG folders.
    param([Parameter(Mandatory)] $SshLab, [Parameter(Mandatory)][string] $Role, [Parameter(Mandatory)][string] $SshdPath)

    $labHost = Resolve-LvsLabHost $SshLab.Lab $Role
    $dir = Join-Path $SshLab.Root $Role
    $h = [pscustomobject]@{
        Role       = $Role
        Name       = $Role
        Namespace  = $labHost.Namespace
        Address    = $labHost.Address
        Directory  = $dir
        DataPath   = Join-Path $dir 'data'
        ModulePath = Join-Path $dir 'data' 'powershell' 'Modules'
        Log        = Join-Path $dir 'sshd.log'
        Script     = Join-Path $dir 'start-sshd.sh'
        Process    = $null
    }
    foreach ($sub in 'data', 'cache', 'config', 'tmp', 'hostrun') { $null = New-Item -ItemType Directory -Path (Join-Path $dir $sub) -Force }
    $null = Invoke-LvsNative ssh-keygen '-q', '-t', 'ed25519', '-N', '', '-C', "lvsdirect-lab-$Role", '-f', (Join-Path $dir 'host_ed25519')
    Copy-Item -LiteralPath "$($SshLab.KeyFilePath).pub" -Destination (Join-Path $dir 'authorized_keys')
    $config = @(
        "Port $($SshLab.Port)"
        "ListenAddress $($h.Address)"
        "HostKey $(Join-Path $dir 'host_ed25519')"
        "AuthorizedKeysFile $(Join-Path $dir 'authorized_keys')"
        'PermitRootLogin prohibit-password'
        'PubkeyAuthentication yes'
        'PasswordAuthentication no'
        'KbdInteractiveAuthentication no'
        # PAM would need the host's login stack; the keys live under /tmp, which StrictModes rejects.
        'UsePAM no'
        'StrictModes no'
        'UseDNS no'
        'PidFile none'
        'PrintMotd no'
        'LogLevel VERBOSE'
        "SetEnv XDG_DATA_HOME=$(Join-Path $dir 'data') XDG_CACHE_HOME=$(Join-Path $dir 'cache') XDG_CONFIG_HOME=$(Join-Path $dir 'config') TMPDIR=$(Join-Path $dir 'tmp') POWERSHELL_TELEMETRY_OPTOUT=1"
    )
    if (-not $SshLab.NoPowerShell) { $config += "Subsystem powershell $(Get-LvsSshLabPwshSubsystem)" }
    Set-Content -LiteralPath (Join-Path $dir 'sshd_config') -Value $config -Encoding ascii
    # Runs inside `unshare --mount`: /run becomes a private tmpfs with /run/sshd (which sshd insists on), and the
    # host's /run/lvsdirect (the module's lock, root-only) and /run/netns (how a namespace knows its name) are
    # bound back into it. `exec` keeps the PID: the one we started is sshd itself.
    $hostRun = Join-Path $dir 'hostrun'
    Set-Content -LiteralPath $h.Script -Encoding ascii -Value @(
        'set -e'
        "mount --rbind /run '$hostRun'"
        'mount -t tmpfs -o mode=0755 lvslab-run /run'
        "mkdir -p -m 0700 '$hostRun/lvsdirect'"
        'mkdir -p /run/sshd /run/lvsdirect /run/netns'
        "mount --rbind '$hostRun/lvsdirect' /run/lvsdirect"
        "mount --rbind '$hostRun/netns' /run/netns"
        "umount -l '$hostRun'"
        "exec '$SshdPath' -D -f '$(Join-Path $dir 'sshd_config')' -E '$($h.Log)'"
    )
    $SshLab.Hosts[$Role] = $h
    $h
}

function Set-LvsSshLabClient {
    # The client's /etc/ssh (seen only through ip netns exec) and host names for the real servers.
    param([Parameter(Mandatory)] $SshLab)

    $null = New-Item -ItemType Directory -Path $SshLab.ClientEtc -Force
    $lines = foreach ($h in $SshLab.Hosts.Values) {
        $key = (Get-Content -LiteralPath (Join-Path $h.Directory 'host_ed25519.pub') -Raw).Trim() -split ' '
        $endpoint = if ($SshLab.Port -eq 22) { $h.Address } else { "[$($h.Address)]:$($SshLab.Port)" }
        $named = if ($SshLab.Port -eq 22) { $h.Name } else { "[$($h.Name)]:$($SshLab.Port)" }
        "$endpoint,$named $($key[0]) $($key[1])"
    }
    Set-Content -LiteralPath $SshLab.KnownHosts -Value $lines -Encoding ascii
    Set-Content -LiteralPath (Join-Path $SshLab.ClientEtc 'ssh_config') -Encoding ascii -Value @(
        'Host *'
        "    UserKnownHostsFile $($SshLab.KnownHosts)"
        '    GlobalKnownHostsFile /dev/null'
        '    StrictHostKeyChecking yes'
        '    BatchMode yes'
        '    ConnectTimeout 10'
        '    LogLevel ERROR'
    )
    $hostsFile = "/etc/netns/$($SshLab.Lab.Client.Namespace)/hosts"
    $names = foreach ($h in $SshLab.Hosts.Values) { "$($h.Address)`t$($h.Name)" }
    Set-Content -LiteralPath $hostsFile -Value (@("127.0.0.1`tlocalhost") + $names) -Encoding ascii
    # A pwsh already running in the client saw the old /etc: start it again to see these files.
    Stop-LvsNamespaceSession -Namespace $SshLab.Lab.Client.Namespace
}

function Hide-LvsSshLabProgram {
    # Restarts one host's sshd with programs hidden from its sessions: an empty, non-executable file is bound over
    # each (in the sshd's own mount namespace only), as on a server where the package is not installed.
    param([Parameter(Mandatory)] $SshLab, [Parameter(Mandatory)][string] $Role, [Parameter(Mandatory)][string[]] $Program)

    $h = $SshLab.Hosts[$Role]
    $empty = Join-Path $h.Directory 'hidden-program'
    Set-Content -LiteralPath $empty -Value '' -NoNewline
    $binds = foreach ($p in $Program) {
        $path = Find-LvsProgram $p
        if (-not $path) { throw "$p is not installed: there is nothing to hide." }
        "mount --bind '$empty' '$path'"
    }
    Restart-LvsSshServerWithMount -SshLab $SshLab -Role $Role -Bind $binds
}

function Set-LvsSshLabPrivatePath {
    <#
    .SYNOPSIS
    Restarts one host's sshd with an empty private folder bound over each existing host folder, in the sshd's own
    mount namespace only: the module writes its default files there (e.g. /etc/sysctl.d) and the host's own stay
    untouched. Folders only: a file bound over another cannot be replaced by rename, as atomic writes do.
    Returns path -> the private folder.
    #>
    param([Parameter(Mandatory)] $SshLab, [Parameter(Mandatory)][string] $Role, [Parameter(Mandatory)][string[]] $Path)

    $h = $SshLab.Hosts[$Role]
    $copies = [ordered]@{}
    $binds = foreach ($p in $Path) {
        $copy = Join-Path $h.Directory 'private' ($p.TrimStart('/') -replace '/', '_')
        $null = New-Item -ItemType Directory -Path (Split-Path $copy) -Force
        if (-not (Test-Path -LiteralPath $p -PathType Container)) { throw "$p is not a folder on this machine: there is nothing to bind over." }
        $null = New-Item -ItemType Directory -Path $copy -Force
        $copies[$p] = $copy
        "mount --bind '$copy' '$p'"
    }
    Restart-LvsSshServerWithMount -SshLab $SshLab -Role $Role -Bind $binds
    $copies
}

function Restart-LvsSshServerWithMount {
    # Adds mount commands to one host's start script (before sshd is exec'd) and restarts its sshd.
    param([Parameter(Mandatory)] $SshLab, [Parameter(Mandatory)][string] $Role, [Parameter(Mandatory)][string[]] $Bind)

    $h = $SshLab.Hosts[$Role]
    $lines = @(Get-Content -LiteralPath $h.Script)
    $exec = @($lines | Where-Object { $_ -like 'exec *' })
    Set-Content -LiteralPath $h.Script -Encoding ascii -Value (@($lines | Where-Object { $_ -notlike 'exec *' }) + $Bind + $exec)
    Stop-LvsSshServer -SshLab $SshLab -Role $Role
    Start-LvsSshServer -SshLab $SshLab -Role $Role
}

function Start-LvsSshServer {
    # Starts one host's sshd and waits until it accepts connections.
    param([Parameter(Mandatory)] $SshLab, [Parameter(Mandatory)][string] $Role, [int] $TimeoutSeconds = 20)

    $h = $SshLab.Hosts[$Role]
    if (-not $h) { throw "The SSH lab has no host '$Role'." }
    if ($h.Process -and -not $h.Process.HasExited) { return }
    $psi = [System.Diagnostics.ProcessStartInfo]::new((Find-LvsProgram ip))
    foreach ($a in 'netns', 'exec', $h.Namespace, (Find-LvsProgram unshare), '--mount', '--propagation', 'private', '--', '/bin/sh', $h.Script) {
        $psi.ArgumentList.Add($a)
    }
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $h.Process = [System.Diagnostics.Process]::Start($psi)
    $h | Add-Member -NotePropertyName StdErr -NotePropertyValue $h.Process.StandardError.ReadToEndAsync() -Force
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ((Invoke-LvsNetns $h.Namespace ss '-H', '-l', '-t', '-n', "sport = :$($SshLab.Port)").StdOut -notmatch [regex]::Escape("$($h.Address):$($SshLab.Port)")) {
        if ($h.Process.HasExited) {
            $log = Get-Content -LiteralPath $h.Log -Raw -ErrorAction SilentlyContinue
            throw "sshd in $($h.Namespace) exited $($h.Process.ExitCode): $($h.StdErr.GetAwaiter().GetResult()) $log"
        }
        if ([DateTime]::UtcNow -gt $deadline) { throw "sshd in $($h.Namespace) is not listening on port $($SshLab.Port) after $TimeoutSeconds s." }
        Start-Sleep -Milliseconds 50
    }
}

function Stop-LvsSshServer {
    # Stops one host's sshd (and the sessions it forked) by the PID this lab started; the host becomes unreachable.
    param([Parameter(Mandatory)] $SshLab, [Parameter(Mandatory)][string] $Role)

    $h = $SshLab.Hosts[$Role]
    if (-not $h -or -not $h.Process) { return }
    try {
        if (-not $h.Process.HasExited) {
            $h.Process.Kill($true)
            $null = $h.Process.WaitForExit(10000)
        }
    }
    catch { Write-Warning "Stopping sshd $($h.Process.Id) in $($h.Namespace) failed: $_" }
    $h.Process.Dispose()
    $h.Process = $null
}

function Get-LvsSshLabModule {
    # The LvsDirect versions installed in a host's private module folder.
    param([Parameter(Mandatory)] $SshLab, [Parameter(Mandatory)][string] $Role)

    $folder = Join-Path $SshLab.Hosts[$Role].ModulePath 'LvsDirect'
    @(Get-ChildItem -LiteralPath $folder -Directory -ErrorAction SilentlyContinue |
            Where-Object { Test-Path -LiteralPath (Join-Path $_.FullName 'LvsDirect.psd1') } | ForEach-Object Name)
}

function Install-LvsSshLabModule {
    # Puts the built module into a host's private module folder, as if the admin had installed it there.
    param([Parameter(Mandatory)] $SshLab, [Parameter(Mandatory)][string] $Role)

    $source = Split-Path -Parent (Get-LvsTestModulePath)
    $dest = Join-Path $SshLab.Hosts[$Role].ModulePath 'LvsDirect' (Split-Path -Leaf $source)
    $null = New-Item -ItemType Directory -Path (Split-Path -Parent $dest) -Force
    Copy-Item -LiteralPath $source -Destination $dest -Recurse -Force
}

function Clear-LvsSshLabModule {
    # Removes the module from a host's private module folder: a host that does not have it.
    param([Parameter(Mandatory)] $SshLab, [Parameter(Mandatory)][string] $Role)

    $folder = Join-Path $SshLab.Hosts[$Role].ModulePath 'LvsDirect'
    if (Test-Path -LiteralPath $folder) { Remove-Item -LiteralPath $folder -Recurse -Force }
}

function Remove-LvsSshLab {
    <#
    .SYNOPSIS
    Stops every sshd of the SSH lab by its PID and removes the client's ssh files and the lab's key folder.
    Never throws. Call it before Remove-LvsLab.
    #>
    param([Parameter(Mandatory)][AllowNull()] $SshLab)

    if (-not $SshLab) { return }
    foreach ($h in @($SshLab.Hosts.Values)) { Stop-LvsSshServer -SshLab $SshLab -Role $h.Role }
    foreach ($path in $SshLab.ClientEtc, $SshLab.Root) {
        if ($path -and (Test-Path -LiteralPath $path)) { Remove-Item -LiteralPath $path -Recurse -Force -ErrorAction SilentlyContinue }
    }
}
