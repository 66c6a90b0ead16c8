#Requires -Version 7.4
<#
Shared by every Pester file and by tests/lab/*.ps1: dot-source it.

Import-LvsTestModule     imports the built module ($env:LVSDIRECT_MODULE_PATH, else the newest output/ build).
New-LvsLab / Remove-LvsLab
                         a client, a director and real servers on one bridge, each in its own network namespace
                         (prefix lvt<4 hex>-), all on 192.0.2.0/24; the director holds the VIP 203.0.113.100/32.
                         Nothing outside these namespaces is changed; Remove-LvsLab undoes everything.
Invoke-LvsInNamespace    runs a script block with the module imported, inside a namespace: in a pwsh kept
                         running there (fast), or in a fresh one (-Fresh, -User, -HideProgram, -Environment).
Get-ArpResponders, Enable-/Disable-DrForwarding, Test-DrDataPath
                         what the wire says: who answers ARP for the VIP, and who serves a TCP connection to it.
Get-LvsLabAddress, Get-LvsLabArpRule, Get-LvsLabKernelState
                         the kernel's state read with ip and arptables-save directly, never through the module.
#>

$env:POWERSHELL_TELEMETRY_OPTOUT = '1'

function Get-LvsLabNetwork {
    # Documentation ranges only (RFC 5737). The real servers' gateway is not the director (SPEC §1.4).
    [ordered]@{
        PrefixLength = 24
        Gateway      = '192.0.2.254'
        Client       = '192.0.2.50'
        Director     = '192.0.2.1'
        RealServer   = '192.0.2.1{0}'
        Vip          = '203.0.113.100'
    }
}

function Get-LvsTestModulePath {
    [OutputType([string])]
    param()

    if ($env:LVSDIRECT_MODULE_PATH) {
        if (-not (Test-Path -LiteralPath $env:LVSDIRECT_MODULE_PATH -PathType Leaf)) {
            throw "LVSDIRECT_MODULE_PATH points to '$env:LVSDIRECT_MODULE_PATH', which does not exist."
        }
        return (Resolve-Path -LiteralPath $env:LVSDIRECT_MODULE_PATH).ProviderPath
    }
    $root = Join-Path (Split-Path -Parent $PSScriptRoot) 'output' 'LvsDirect'
    $newest = Get-ChildItem -LiteralPath $root -Directory -ErrorAction SilentlyContinue |
        Where-Object { $_.Name -as [version] -and (Test-Path -LiteralPath (Join-Path $_.FullName 'LvsDirect.psd1')) } |
        Sort-Object { [version]$_.Name } -Descending | Select-Object -First 1
    if (-not $newest) { throw "No built module under ${root}: run ./build.ps1 -Task Build, or set LVSDIRECT_MODULE_PATH." }
    Join-Path $newest.FullName 'LvsDirect.psd1'
}

function Import-LvsTestModule {
    param([switch] $PassThru)

    Import-Module -Name (Get-LvsTestModulePath) -Force -ErrorAction Stop -PassThru:$PassThru
}

function Get-LvsPwshCommand {
    <#
    .SYNOPSIS
    The argument vector that starts a pwsh of this installation: the program, then what precedes pwsh's own
    arguments (pwsh.dll when the apphost cannot be used). -ForOtherUser avoids the apphost, which a dotnet-tool
    install leaves executable by its owner only.
    #>
    [OutputType([string[]])]
    param([switch] $ForOtherUser)

    $apphost = Join-Path $PSHOME 'pwsh'
    $dll = Join-Path $PSHOME 'pwsh.dll'
    $isExecutable = {
        param($path)
        (Test-Path -LiteralPath $path -PathType Leaf) -and
        (([int](Get-Item -LiteralPath $path).UnixFileMode) -band $(if ($ForOtherUser) { 0x1 } else { 0x49 })) -ne 0
    }
    if (& $isExecutable $apphost) { return , @($apphost) }
    if (Test-Path -LiteralPath $dll -PathType Leaf) {
        $dotnet = [Environment]::ProcessPath
        if ((Split-Path -Leaf $dotnet) -ne 'dotnet') {
            $dotnet = (Get-Command -Name dotnet -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source
        }
        if ($dotnet) { return , @($dotnet, $dll) }
    }
    throw "Cannot find how to start pwsh: neither '$apphost' nor 'dotnet $dll' is usable."
}

function Test-LvsLabPrerequisite {
    <#
    .SYNOPSIS
    Why the namespace lab cannot run here, or $null when it can. Tests use it as their -Skip reason.
    #>
    [OutputType([string])]
    param([string[]] $Program = @('ip', 'arptables', 'arptables-save', 'arping', 'ebtables', 'socat', 'ss', 'setpriv', 'unshare'))

    $missing = @($Program | Where-Object { -not (Find-LvsProgram $_) })
    $reason = if (-not $IsLinux) { 'the namespace lab needs Linux' }
    elseif ((& id -u) -ne '0') { 'the namespace lab needs root (network namespaces, arptables, ebtables)' }
    elseif ($missing) { "programs missing for the lab: $($missing -join ', ')" }
    # build.ps1's Test task reads which test files skipped their lab, and why: in CI that is a failure.
    if ($reason -and $env:LVSDIRECT_LAB_SKIP_LOG) {
        Add-Content -LiteralPath $env:LVSDIRECT_LAB_SKIP_LOG -Value "$($MyInvocation.PSCommandPath)`t$reason"
    }
    $reason
}

function Find-LvsProgram {
    param([string] $Name)

    $found = Get-Command -Name $Name -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($found) { return $found.Source }
    foreach ($folder in '/usr/local/sbin', '/usr/sbin', '/sbin') {
        $candidate = Join-Path $folder $Name
        if (Test-Path -LiteralPath $candidate -PathType Leaf) { return $candidate }
    }
    $null
}

function Invoke-LvsNative {
    <#
    .SYNOPSIS
    Runs a program with an argument vector (no shell, no PowerShell quoting rules), LC_ALL=C. Throws when it
    exits non-zero unless -AllowFailure; returns ExitCode, StdOut, StdErr.
    #>
    param(
        [Parameter(Mandatory, Position = 0)][string] $FilePath,
        [Parameter(Position = 1)][string[]] $ArgumentList = @(),
        [string] $InputText,
        [int] $TimeoutSeconds = 60,
        [switch] $AllowFailure
    )

    $psi = [System.Diagnostics.ProcessStartInfo]::new((Find-LvsProgram $FilePath) ?? $FilePath)
    foreach ($a in $ArgumentList) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $psi.Environment['LC_ALL'] = 'C'
    $p = [System.Diagnostics.Process]::Start($psi)
    try {
        $stdout = $p.StandardOutput.ReadToEndAsync()
        $stderr = $p.StandardError.ReadToEndAsync()
        if ($InputText) { $p.StandardInput.Write($InputText) }
        $p.StandardInput.Close()
        if (-not $p.WaitForExit($TimeoutSeconds * 1000)) {
            $p.Kill($true)
            throw "'$FilePath $($ArgumentList -join ' ')' did not finish within $TimeoutSeconds s."
        }
        $p.WaitForExit()
        $result = [pscustomobject]@{
            ExitCode = $p.ExitCode
            StdOut   = $stdout.GetAwaiter().GetResult()
            StdErr   = $stderr.GetAwaiter().GetResult()
        }
    }
    finally {
        $p.Dispose()
    }
    if ($result.ExitCode -ne 0 -and -not $AllowFailure) {
        throw "'$FilePath $($ArgumentList -join ' ')' exited $($result.ExitCode): $($result.StdErr.Trim())"
    }
    $result
}

function Invoke-LvsNetns {
    # A program inside a namespace; the same contract as Invoke-LvsNative.
    param(
        [Parameter(Mandatory, Position = 0)][string] $Namespace,
        [Parameter(Mandatory, Position = 1)][string] $FilePath,
        [Parameter(Position = 2)][string[]] $ArgumentList = @(),
        [string] $InputText,
        [int] $TimeoutSeconds = 60,
        [switch] $AllowFailure
    )

    Invoke-LvsNative ip (@('netns', 'exec', $Namespace, $FilePath) + $ArgumentList) -InputText $InputText `
        -TimeoutSeconds $TimeoutSeconds -AllowFailure:$AllowFailure
}

function New-LvsLabPrefix {
    # Unique per run, short enough that "<prefix>fresh" stays a readable namespace name.
    'lvt{0:x4}-' -f (Get-Random -Minimum 0 -Maximum 0x10000)
}

function New-LvsNamespace {
    <#
    .SYNOPSIS
    A network namespace with lo up and arp_ignore/arp_announce/rp_filter at 0 on every interface, because a new
    namespace copies the host's values and the lab must not depend on them.
    #>
    param([Parameter(Mandatory)][string] $Name)

    if ($Name -notmatch '^lvt[0-9a-f]{4}-') { throw "Refusing to create namespace '$Name': lab namespaces start with lvt<4 hex>-." }
    # ip netns exec mounts these over /etc/resolv.conf and /etc/hosts. arptables-nft-save looks up the name of
    # every --mangle-ip-s address: with the host's resolver unreachable from the lab that costs 10 s per call
    # (and would send a query towards it); a resolver on the namespace's own lo fails at once.
    $etc = "/etc/netns/$Name"
    $null = New-Item -ItemType Directory -Path $etc -Force
    Set-Content -LiteralPath "$etc/resolv.conf" -Value "nameserver 127.0.0.1`noptions timeout:1 attempts:1" -Encoding ascii
    Set-Content -LiteralPath "$etc/hosts" -Value "127.0.0.1`tlocalhost" -Encoding ascii
    $null = Invoke-LvsNative ip 'netns', 'add', $Name
    $null = Invoke-LvsNative ip '-n', $Name, 'link', 'set', 'lo', 'up'
    Set-LvsNamespaceArpSysctl -Namespace $Name
}

function Set-LvsNamespaceArpSysctl {
    param([Parameter(Mandatory)][string] $Namespace)

    $links = (Invoke-LvsNative ip '-n', $Namespace, '-j', 'link', 'show').StdOut | ConvertFrom-Json
    $settings = foreach ($conf in @('all', 'default') + @($links.ifname)) {
        foreach ($key in 'arp_ignore', 'arp_announce', 'rp_filter') { "net.ipv4.conf.$conf.$key=0" }
    }
    $null = Invoke-LvsNetns $Namespace sysctl (@('-q', '-w') + $settings)
}

function Remove-LvsNamespace {
    <#
    .SYNOPSIS
    Deletes namespaces this run created, after stopping the processes started in them; also removes their
    /etc/netns folder and the module's folders for them (Clear-LvsNamespaceState). Never throws.
    #>
    param([Parameter(Mandatory)][string[]] $Name)

    foreach ($ns in $Name) {
        if ($ns -notmatch '^lvt[0-9a-f]{4}-') { Write-Warning "Not removing '$ns': not a lab namespace."; continue }
        Stop-LvsNamespaceSession -Namespace $ns
        if (-not (Test-Path -LiteralPath "/run/netns/$ns")) { continue }
        try {
            # Only processes inside our own namespace: the lab started every one of them.
            $pids = (Invoke-LvsNative ip 'netns', 'pids', $ns -AllowFailure).StdOut -split '\s+' | Where-Object { $_ -match '^\d+$' }
            foreach ($id in $pids) { Stop-Process -Id ([int]$id) -Force -ErrorAction SilentlyContinue }
            $delete = Invoke-LvsNative ip 'netns', 'delete', $ns -AllowFailure
            if ($delete.ExitCode -ne 0) { Write-Warning "ip netns delete ${ns}: $($delete.StdErr.Trim())" }
        }
        catch {
            Write-Warning "Removing namespace $ns failed: $_"
        }
        finally {
            if (Test-Path -LiteralPath "/etc/netns/$ns") { Remove-Item -LiteralPath "/etc/netns/$ns" -Recurse -Force -ErrorAction SilentlyContinue }
            Clear-LvsNamespaceState -Namespace $ns
        }
    }
}

function Get-LvsNamespaceStatePath {
    <#
    .SYNOPSIS
    The module's folders for a lab namespace (ip netns exec makes it a named one): Durable holds its ownership
    record and sysctl record, Runtime its lock.
    #>
    param([Parameter(Mandatory)][string] $Namespace)

    [pscustomobject]@{
        Durable = "/var/lib/lvsdirect/netns/$Namespace"
        Runtime = "/run/lvsdirect/netns/$Namespace"
        Record  = "/var/lib/lvsdirect/netns/$Namespace/vips.json"
    }
}

function Clear-LvsNamespaceState {
    <#
    .SYNOPSIS
    Removes what the module keeps for a lab namespace (its record and lock folders), so a run leaves nothing
    behind and the next test starts with no VIP known as LvsDirect's. Never throws.
    #>
    param([Parameter(Mandatory)][string] $Namespace)

    if ($Namespace -notmatch '^lvt[0-9a-f]{4}-') { Write-Warning "Not clearing '$Namespace': not a lab namespace."; return }
    $paths = Get-LvsNamespaceStatePath -Namespace $Namespace
    foreach ($dir in $paths.Durable, $paths.Runtime) {
        if (Test-Path -LiteralPath $dir) { Remove-Item -LiteralPath $dir -Recurse -Force -ErrorAction SilentlyContinue }
    }
}

function Get-LvsInterfaceMac {
    param([string] $Namespace, [string] $InterfaceName = 'eth0')

    ((Invoke-LvsNative ip '-n', $Namespace, '-j', 'link', 'show', 'dev', $InterfaceName).StdOut | ConvertFrom-Json)[0].address
}

function ConvertTo-LvsLabMac {
    # Readable, stable, locally administered MACs derived from the IPv4 address: 192.0.2.11 -> 02:00:c0:00:02:0b.
    param([string] $Address)

    '02:00:' + ((([System.Net.IPAddress]::Parse($Address)).GetAddressBytes() | ForEach-Object { '{0:x2}' -f $_ }) -join ':')
}

function New-LvsLab {
    <#
    .SYNOPSIS
    Builds the lab and returns its description. Namespaces: <p>br (bridge br0 with one veth port per host, the
    real servers' gateway 192.0.2.254, and the director's DR forwarding emulated with ebtables), <p>cl (client
    192.0.2.50, default route via the director), <p>dir (director 192.0.2.1 with the VIP 203.0.113.100/32 on
    eth0), <p>rs1.. (real servers 192.0.2.11.., default route via 192.0.2.254). Every host's interface is eth0.
    A pwsh with the module imported is started in each real server for Invoke-LvsInNamespace (-NoSession: not).
    #>
    param(
        [ValidateRange(1, 40)][int] $RealServerCount = 2,
        [string] $Prefix = (New-LvsLabPrefix),
        [switch] $NoSession
    )

    if ($Prefix -notmatch '^lvt[0-9a-f]{4}-$') { throw "Prefix '$Prefix' must look like lvt<4 hex>-." }
    if (@(Invoke-LvsNative ip 'netns', 'list').StdOut -match "(?m)^$([regex]::Escape($Prefix))") { throw "Namespaces with prefix $Prefix already exist." }
    $net = Get-LvsLabNetwork
    $lab = [pscustomobject]@{
        Prefix       = $Prefix
        Vip          = $net.Vip
        Gateway      = $net.Gateway
        PrefixLength = $net.PrefixLength
        Bridge       = "${Prefix}br"
        Hosts        = [ordered]@{}
        Namespaces   = [System.Collections.Generic.List[string]]::new()
        TempPath     = Join-Path ([IO.Path]::GetTempPath()) $Prefix.TrimEnd('-')
    }
    $lab | Add-Member -MemberType ScriptProperty -Name RealServers -Value { @($this.Hosts.Values | Where-Object Role -like 'rs*') }
    $lab | Add-Member -MemberType ScriptProperty -Name Client -Value { $this.Hosts['cl'] }
    $lab | Add-Member -MemberType ScriptProperty -Name Director -Value { $this.Hosts['dir'] }

    try {
        $null = New-Item -ItemType Directory -Path $lab.TempPath -Force
        $lab.Namespaces.Add($lab.Bridge)
        New-LvsNamespace -Name $lab.Bridge
        foreach ($cmd in @(
                @('link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'),
                @('link', 'set', 'br0', 'up'),
                @('addr', 'add', "$($net.Gateway)/$($net.PrefixLength)", 'dev', 'br0'))) {
            $null = Invoke-LvsNative ip (@('-n', $lab.Bridge) + $cmd)
        }

        $null = Add-LvsLabHost -Lab $lab -Role cl -Address $net.Client -Gateway $net.Director
        $null = Add-LvsLabHost -Lab $lab -Role dir -Address $net.Director -Gateway $net.Gateway
        $null = Invoke-LvsNative ip '-n', $lab.Director.Namespace, 'addr', 'add', "$($net.Vip)/32", 'dev', 'eth0'
        foreach ($i in 1..$RealServerCount) {
            $rs = Add-LvsLabHost -Lab $lab -Role "rs$i" -Address ($net.RealServer -f $i) -Gateway $net.Gateway
            if (-not $NoSession) { Start-LvsNamespaceSession -Namespace $rs.Namespace }
        }
        Set-LvsNamespaceArpSysctl -Namespace $lab.Bridge
    }
    catch {
        Remove-LvsLab -Lab $lab
        throw
    }
    $lab
}

function Add-LvsLabHost {
    <#
    .SYNOPSIS
    Adds a host namespace "<prefix><Role>" with eth0 (a veth whose peer is in the bridge namespace) holding
    Address/24 and a default route via Gateway. -Isolated leaves the peer off the bridge: the same eth0 layout,
    but nothing on the wire (for replaying a real server's rc.local next to the original).
    #>
    param(
        [Parameter(Mandatory)] $Lab,
        [Parameter(Mandatory)][ValidatePattern('^[a-z][a-z0-9]{0,7}$')][string] $Role,
        [Parameter(Mandatory)][string] $Address,
        [string] $Gateway = $Lab.Gateway,
        [switch] $Isolated
    )

    if ($Lab.Hosts.Contains($Role)) { throw "The lab already has a host '$Role'." }
    $ns = "$($Lab.Prefix)$Role"
    $port = "v$Role"
    $mac = ConvertTo-LvsLabMac $Address
    $Lab.Namespaces.Add($ns)
    New-LvsNamespace -Name $ns
    $null = Invoke-LvsNative ip '-n', $Lab.Bridge, 'link', 'add', $port, 'type', 'veth', 'peer', 'name', 'eth0', 'address', $mac, 'netns', $ns
    if (-not $Isolated) { $null = Invoke-LvsNative ip '-n', $Lab.Bridge, 'link', 'set', $port, 'master', 'br0' }
    $null = Invoke-LvsNative ip '-n', $Lab.Bridge, 'link', 'set', $port, 'up'
    $null = Invoke-LvsNative ip '-n', $ns, 'link', 'set', 'eth0', 'up'
    $null = Invoke-LvsNative ip '-n', $ns, 'addr', 'add', "$Address/$($Lab.PrefixLength)", 'dev', 'eth0'
    $null = Invoke-LvsNative ip '-n', $ns, 'route', 'add', 'default', 'via', $Gateway, 'dev', 'eth0'
    Set-LvsNamespaceArpSysctl -Namespace $ns
    $h = [pscustomobject]@{
        Role       = $Role
        Namespace  = $ns
        Address    = $Address
        Mac        = Get-LvsInterfaceMac -Namespace $ns
        BridgePort = $port
        Isolated   = [bool]$Isolated
    }
    $Lab.Hosts[$Role] = $h
    $h
}

function Remove-LvsLab {
    <#
    .SYNOPSIS
    Undoes New-LvsLab completely: the pwsh sessions and other processes started in the namespaces (by PID),
    the namespaces, their /etc/netns folders and lock files, and the lab's temp folder. Never throws.
    #>
    param([Parameter(Mandatory)][AllowNull()] $Lab)

    if (-not $Lab) { return }
    $names = @($Lab.Namespaces)
    [array]::Reverse($names)
    Remove-LvsNamespace -Name $names
    if ($Lab.TempPath -and (Test-Path -LiteralPath $Lab.TempPath)) {
        Remove-Item -LiteralPath $Lab.TempPath -Recurse -Force -ErrorAction SilentlyContinue
    }
    $left = @((Invoke-LvsNative ip 'netns', 'list').StdOut -split "`n" | Where-Object { $_ -like "$($Lab.Prefix)*" })
    if ($left) { Write-Warning "Namespaces left behind: $($left -join '; ')" }
}

function Resolve-LvsLabHost {
    param($Lab, $HostName)

    if ($HostName -is [string]) {
        if (-not $Lab.Hosts.Contains($HostName)) { throw "The lab has no host '$HostName' (it has $($Lab.Hosts.Keys -join ', '))." }
        return $Lab.Hosts[$HostName]
    }
    $HostName
}

#region pwsh inside a namespace

function Get-LvsSessionTable {
    # Process-wide, so the sessions survive Pester's scopes and any number of dot-sourcings of this file.
    $table = [AppDomain]::CurrentDomain.GetData('LvsDirect.Tests.NamespaceSessions')
    if ($null -eq $table) {
        $table = [hashtable]::Synchronized(@{})
        [AppDomain]::CurrentDomain.SetData('LvsDirect.Tests.NamespaceSessions', $table)
    }
    $table
}

function Start-LvsNamespaceSession {
    <#
    .SYNOPSIS
    Starts one pwsh inside the namespace that serves remoting on a named pipe (a unix socket, which is not bound
    to a network namespace). Invoke-LvsInNamespace connects to it on first use, so each call costs tens of
    milliseconds instead of a pwsh start. The server exits by itself if this process dies.
    #>
    param([Parameter(Mandatory)][string] $Namespace)

    $table = Get-LvsSessionTable
    if ($table.ContainsKey($Namespace)) { return }
    $pipe = "$Namespace-$PID"
    $pwsh = Get-LvsPwshCommand
    $psi = [System.Diagnostics.ProcessStartInfo]::new((Find-LvsProgram ip))
    $serverLoop = "while (Get-Process -Id $PID -ErrorAction SilentlyContinue) { Start-Sleep -Seconds 2 }"
    foreach ($a in @('netns', 'exec', $Namespace) + $pwsh + @('-NoProfile', '-NonInteractive', '-CustomPipeName', $pipe, '-Command', $serverLoop)) {
        $psi.ArgumentList.Add($a)
    }
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $psi.Environment['POWERSHELL_TELEMETRY_OPTOUT'] = '1'
    $psi.Environment['TMPDIR'] = [IO.Path]::GetTempPath()
    # `ip netns exec` execs the command, so this PID is the pwsh we stop later.
    $process = [System.Diagnostics.Process]::Start($psi)
    $table[$Namespace] = [pscustomobject]@{
        Namespace = $Namespace
        PipeName  = $pipe
        Socket    = Join-Path ([IO.Path]::GetTempPath()) "CoreFxPipe_$pipe"
        Process   = $process
        StdOut    = $process.StandardOutput.ReadToEndAsync()
        StdErr    = $process.StandardError.ReadToEndAsync()
        Runspace  = $null
        Broken    = $null
    }
}

function Stop-LvsNamespaceSession {
    param([Parameter(Mandatory)][string] $Namespace)

    $table = Get-LvsSessionTable
    $s = $table[$Namespace]
    if (-not $s) { return }
    $table.Remove($Namespace)
    if ($s.Runspace) { try { $s.Runspace.Dispose() } catch { Write-Verbose "Closing the runspace in ${Namespace}: $_" } }
    try {
        if (-not $s.Process.HasExited) {
            $s.Process.Kill($true)
            $null = $s.Process.WaitForExit(5000)
        }
    }
    catch { Write-Warning "Stopping pwsh $($s.Process.Id) in $Namespace failed: $_" }
    $s.Process.Dispose()
    Remove-Item -LiteralPath $s.Socket -Force -ErrorAction SilentlyContinue
}

function Get-LvsOpenSessionRunspace {
    # The session's runspace, connected and with the module imported; $null when the namespace has no session.
    param([string] $Namespace, [string] $ModulePath, [int] $TimeoutSeconds = 60)

    $s = (Get-LvsSessionTable)[$Namespace]
    if (-not $s) { return $null }
    if ($s.Broken) { throw "The pwsh session in $Namespace is unusable: $($s.Broken)" }
    if ($s.Runspace -and $s.Runspace.RunspaceStateInfo.State -eq 'Opened') { return $s.Runspace }

    try {
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        while (-not (Test-Path -LiteralPath $s.Socket)) {
            if ($s.Process.HasExited) { throw "pwsh exited with $($s.Process.ExitCode): $($s.StdErr.GetAwaiter().GetResult())" }
            if ([DateTime]::UtcNow -gt $deadline) { throw "pwsh did not open $($s.Socket) within $TimeoutSeconds s" }
            Start-Sleep -Milliseconds 50
        }
        $info = [System.Management.Automation.Runspaces.NamedPipeConnectionInfo]::new($s.PipeName)
        $info.OpenTimeout = $TimeoutSeconds * 1000
        $rs = [System.Management.Automation.Runspaces.RunspaceFactory]::CreateRunspace($info)
        $rs.Open()
        $ps = [powershell]::Create()
        try {
            $ps.Runspace = $rs
            $null = $ps.AddCommand('Import-Module').AddParameter('Name', $ModulePath).AddParameter('Global').AddParameter('ErrorAction', 'Stop').Invoke()
        }
        finally { $ps.Dispose() }
        $s.Runspace = $rs
        $rs
    }
    catch {
        $s.Broken = "$_"
        throw "The pwsh session in $Namespace is unusable: $_"
    }
}

# Runs in the child: the caller's script block with the caller's arguments and $ErrorActionPreference = 'Stop',
# so the first error ends the script and reaches the caller with its FullyQualifiedErrorId.
function Get-LvsRemoteWrapper {
@'
param([string] $__LvsScript, $__LvsArguments)
$ErrorActionPreference = 'Stop'
$__LvsArgs = @($__LvsArguments)
& ([scriptblock]::Create($__LvsScript)) @__LvsArgs
'@
}

# A fresh pwsh runs this file: reads the request, optionally waits for a start signal (so concurrent runs really
# overlap), runs the script block, writes output and the terminating error (if any) to a CLIXML file.
function Get-LvsChildRunner {
@'
param([Parameter(Mandatory)][string] $RequestPath)
$ErrorActionPreference = 'Stop'
$request = Import-Clixml -LiteralPath $RequestPath
$output = [System.Collections.Generic.List[object]]::new()
$failure = $null
try {
    if ($request.ModulePath) { Import-Module -Name $request.ModulePath -ErrorAction Stop }
    if ($request.ReadyPath) {
        $null = New-Item -ItemType File -Path $request.ReadyPath
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        while (-not (Test-Path -LiteralPath $request.GoPath)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw 'No start signal within 120 s.' }
            Start-Sleep -Milliseconds 5
        }
    }
    $arguments = @($request.Arguments)
    & ([scriptblock]::Create($request.Script)) @arguments | ForEach-Object { $output.Add($_) }
}
catch {
    $failure = $_
}
[pscustomobject]@{ Output = $output.ToArray(); Failure = $failure } | Export-Clixml -LiteralPath $request.ResultPath -Depth 4
'@
}

function Start-LvsNamespaceChild {
    # Starts a fresh pwsh in the namespace for one script block; Receive-LvsNamespaceChild collects it.
    param(
        [Parameter(Mandatory)][string] $Namespace,
        [Parameter(Mandatory)][string] $Script,
        [object[]] $ArgumentList = @(),
        [string] $User,
        [string[]] $HideProgram = @(),
        [hashtable] $Environment = @{},
        [switch] $NoModule,
        [switch] $WaitForSignal
    )

    $dir = Join-Path ([IO.Path]::GetTempPath()) ("lvschild-" + [guid]::NewGuid().ToString('n').Substring(0, 12))
    $null = New-Item -ItemType Directory -Path $dir
    # A child running as another user writes its result (and its pwsh caches) here.
    $null = Invoke-LvsNative chmod '1777', $dir
    $request = [pscustomobject]@{
        Script     = $Script
        Arguments  = $ArgumentList
        ModulePath = if ($NoModule) { $null } else { Get-LvsTestModulePath }
        ResultPath = Join-Path $dir 'result.xml'
        ReadyPath  = if ($WaitForSignal) { Join-Path $dir 'ready' } else { $null }
        GoPath     = if ($WaitForSignal) { Join-Path $dir 'go' } else { $null }
    }
    $requestPath = Join-Path $dir 'request.xml'
    $request | Export-Clixml -LiteralPath $requestPath -Depth 4
    $runner = Join-Path $dir 'runner.ps1'
    Set-Content -LiteralPath $runner -Value (Get-LvsChildRunner) -Encoding utf8

    $argv = [System.Collections.Generic.List[string]]::new()
    $argv.AddRange([string[]]@('netns', 'exec', $Namespace))
    if ($HideProgram) {
        # A private mount namespace (inside the one ip netns exec already makes) where the programs' files are
        # covered by a non-executable empty file: "not installed", for this process tree only.
        $blank = Join-Path $dir 'blank'
        $null = New-Item -ItemType File -Path $blank
        $targets = foreach ($name in $HideProgram) {
            foreach ($folder in '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin') {
                $candidate = Join-Path $folder $name
                if (Test-Path -LiteralPath $candidate) { (Get-Item -LiteralPath $candidate).ResolveLinkTarget($true)?.FullName ?? $candidate }
            }
        }
        $mounts = @($targets | Sort-Object -Unique | ForEach-Object { "mount --bind '$blank' '$_'" }) -join ' && '
        $argv.AddRange([string[]]@('unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', "$mounts && exec `"`$@`"", 'sh'))
    }
    if ($User) {
        $uid = (Invoke-LvsNative id '-u', $User).StdOut.Trim()
        $gid = (Invoke-LvsNative id '-g', $User).StdOut.Trim()
        # CAP_DAC_READ_SEARCH only lets it read pwsh and the module under /root; it grants nothing on the network.
        $argv.AddRange([string[]]@('setpriv', "--reuid=$uid", "--regid=$gid", '--clear-groups',
                '--inh-caps=+dac_read_search', '--ambient-caps=+dac_read_search'))
    }
    $argv.AddRange([string[]](Get-LvsPwshCommand -ForOtherUser:([bool]$User)))
    $argv.AddRange([string[]]@('-NoProfile', '-NonInteractive', '-File', $runner, '-RequestPath', $requestPath))

    $psi = [System.Diagnostics.ProcessStartInfo]::new((Find-LvsProgram ip))
    foreach ($a in $argv) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $psi.Environment['POWERSHELL_TELEMETRY_OPTOUT'] = '1'
    $psi.Environment['HOME'] = $dir
    $psi.Environment['XDG_CACHE_HOME'] = $dir
    $psi.Environment['XDG_DATA_HOME'] = $dir
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
    $p = [System.Diagnostics.Process]::Start($psi)
    $p.StandardInput.Close()
    [pscustomobject]@{
        Namespace = $Namespace
        Directory = $dir
        Request   = $request
        Process   = $p
        StdOut    = $p.StandardOutput.ReadToEndAsync()
        StdErr    = $p.StandardError.ReadToEndAsync()
    }
}

function Receive-LvsNamespaceChild {
    # Waits for a child and returns Output, Failure (the deserialized ErrorRecord or $null), ExitCode, StdOut, StdErr.
    param([Parameter(Mandatory)] $Child, [int] $TimeoutSeconds = 120)

    try {
        if (-not $Child.Process.WaitForExit($TimeoutSeconds * 1000)) {
            $Child.Process.Kill($true)
            throw "pwsh in $($Child.Namespace) did not finish within $TimeoutSeconds s."
        }
        $Child.Process.WaitForExit()
        $stdout = $Child.StdOut.GetAwaiter().GetResult()
        $stderr = $Child.StdErr.GetAwaiter().GetResult()
        if (-not (Test-Path -LiteralPath $Child.Request.ResultPath)) {
            throw "pwsh in $($Child.Namespace) exited $($Child.Process.ExitCode) without a result. stdout: $stdout stderr: $stderr"
        }
        $result = Import-Clixml -LiteralPath $Child.Request.ResultPath
        [pscustomobject]@{
            Output   = @($result.Output | ForEach-Object { ConvertTo-LvsRemotingShape $_ })
            Failure  = $result.Failure
            ExitCode = $Child.Process.ExitCode
            StdOut   = $stdout
            StdErr   = $stderr
        }
    }
    finally {
        $Child.Process.Dispose()
        Remove-Item -LiteralPath $Child.Directory -Recurse -Force -ErrorAction SilentlyContinue
    }
}

function ConvertTo-LvsRemotingShape {
    # CLIXML brings an enum of a type this process does not load back as an Int32 that prints as a number;
    # remoting brings it as its name. Give a fresh child's output the remoting shape, so tests see one shape.
    param($InputObject)

    $isEnum = { param($v) $v -is [psobject] -and $v.pstypenames -contains 'Deserialized.System.Enum' }
    if (& $isEnum $InputObject) { return $InputObject.ToString() }
    if ($InputObject -is [psobject] -and $InputObject.pstypenames[0] -like 'Deserialized.*') {
        foreach ($p in @($InputObject.PSObject.Properties)) {
            if (& $isEnum $p.Value) { $p.Value = $p.Value.ToString() }
        }
    }
    $InputObject
}

function ConvertTo-LvsErrorRecord {
    # Rebuilds an error that crossed a process boundary, keeping its FullyQualifiedErrorId and category.
    param($Record, [string] $Namespace)

    $category = [System.Management.Automation.ErrorCategory]::NotSpecified
    $categoryText = if ($Record.CategoryInfo) { "$($Record.CategoryInfo.Category)" } else { '' }
    $null = [Enum]::TryParse($categoryText, $true, [ref]$category)
    $message = if ($Record.Exception -and $Record.Exception.Message) { $Record.Exception.Message } else { "$Record" }
    $exception = [System.Management.Automation.RemoteException]::new("[$Namespace] $message")
    [System.Management.Automation.ErrorRecord]::new($exception, "$($Record.FullyQualifiedErrorId)", $category, $Record.TargetObject)
}

function Invoke-LvsInNamespace {
    <#
    .SYNOPSIS
    Runs a script block inside a network namespace with the module imported and returns its output (as
    deserialized objects). The first error inside ends the script block and is thrown here with the same
    FullyQualifiedErrorId (`throw` keeps it as is; ThrowTerminatingError would append this function's name), so
    `{ Invoke-LvsInNamespace ... } | Should -Throw -ErrorId 'InvalidAddress,*'` works.

    Uses the namespace's running pwsh (Start-LvsNamespaceSession / New-LvsLab) when there is one; -Fresh, -User,
    -HideProgram and -Environment start a new pwsh for this call (about 1.5 s). Pass an array as one argument with
    -ArgumentList (, $array).
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory, Position = 0)][string] $Namespace,
        [Parameter(Mandatory, Position = 1)][scriptblock] $ScriptBlock,
        [object[]] $ArgumentList = @(),
        [switch] $Fresh,
        [string] $User,
        [string[]] $HideProgram = @(),
        [hashtable] $Environment = @{},
        [switch] $NoModule,
        [int] $TimeoutSeconds = 120
    )

    $useSession = -not ($Fresh -or $User -or $HideProgram -or $Environment.Count -or $NoModule)
    $runspace = if ($useSession) { Get-LvsOpenSessionRunspace -Namespace $Namespace -ModulePath (Get-LvsTestModulePath) } else { $null }

    if (-not $runspace) {
        $child = Start-LvsNamespaceChild -Namespace $Namespace -Script $ScriptBlock.ToString() -ArgumentList $ArgumentList `
            -User $User -HideProgram $HideProgram -Environment $Environment -NoModule:$NoModule
        $result = Receive-LvsNamespaceChild -Child $child -TimeoutSeconds $TimeoutSeconds
        $result.Output
        if ($result.Failure) { throw (ConvertTo-LvsErrorRecord $result.Failure $Namespace) }
        return
    }

    $ps = [powershell]::Create()
    try {
        $ps.Runspace = $runspace
        $null = $ps.AddScript((Get-LvsRemoteWrapper), $true).AddArgument($ScriptBlock.ToString()).AddArgument($ArgumentList)
        $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $async = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $output)
        if (-not $async.AsyncWaitHandle.WaitOne($TimeoutSeconds * 1000)) {
            $ps.Stop()
            throw "The script block in $Namespace did not finish within $TimeoutSeconds s."
        }
        $failure = $null
        try { $null = $ps.EndInvoke($async) }
        catch {
            $e = $_.Exception
            while ($e -and -not ($e -is [System.Management.Automation.IContainsErrorRecord])) { $e = $e.InnerException }
            $failure = if ($e) { $e.ErrorRecord } else { $_ }
            if ($e -is [System.Management.Automation.MethodInvocationException] -and $e.InnerException -is [System.Management.Automation.IContainsErrorRecord]) {
                $failure = $e.InnerException.ErrorRecord
            }
        }
        foreach ($w in $ps.Streams.Warning) { Write-Warning "[$Namespace] $w" }
        foreach ($v in $ps.Streams.Verbose) { Write-Verbose "[$Namespace] $v" }
        $output
        if (-not $failure -and $ps.Streams.Error.Count) { $failure = $ps.Streams.Error[0] }
        if ($failure) { throw (ConvertTo-LvsErrorRecord $failure $Namespace) }
    }
    finally {
        $ps.Dispose()
    }
}

function Invoke-LvsInNamespaceConcurrently {
    <#
    .SYNOPSIS
    Runs the script block once per argument list, each in its own fresh pwsh in the namespace, released at the
    same instant after all have started and imported the module. Returns one result per run (Output, Failure,
    ExitCode, StdOut, StdErr), in order.
    #>
    param(
        [Parameter(Mandatory)][string] $Namespace,
        [Parameter(Mandatory)][scriptblock] $ScriptBlock,
        [Parameter(Mandatory)][object[][]] $ArgumentLists,
        [int] $TimeoutSeconds = 120
    )

    $children = [System.Collections.Generic.List[object]]::new()
    try {
        foreach ($arguments in $ArgumentLists) {
            $children.Add((Start-LvsNamespaceChild -Namespace $Namespace -Script $ScriptBlock.ToString() -ArgumentList $arguments -WaitForSignal))
        }
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        while (@($children | Where-Object { -not (Test-Path -LiteralPath $_.Request.ReadyPath) }).Count) {
            $dead = $children | Where-Object { $_.Process.HasExited } | Select-Object -First 1
            if ($dead) { throw "A child pwsh exited before it was ready: $($dead.StdErr.GetAwaiter().GetResult())" }
            if ([DateTime]::UtcNow -gt $deadline) { throw "The child pwsh processes were not ready within $TimeoutSeconds s." }
            Start-Sleep -Milliseconds 20
        }
        foreach ($c in $children) { $null = New-Item -ItemType File -Path $c.Request.GoPath }
        $results = foreach ($c in $children) { Receive-LvsNamespaceChild -Child $c -TimeoutSeconds $TimeoutSeconds }
        $children.Clear()
        $results
    }
    finally {
        foreach ($c in $children) {
            if (-not $c.Process.HasExited) { $c.Process.Kill($true) }
            Remove-Item -LiteralPath $c.Directory -Recurse -Force -ErrorAction SilentlyContinue
        }
    }
}

#endregion

#region the wire

function Clear-LvsLabNeighbour {
    # Stale entries hide a missing OUT mangle rule (SPEC §4): every data-path or ARP check starts from empty caches.
    param([Parameter(Mandatory)] $Lab)

    foreach ($ns in $Lab.Namespaces) { $null = Invoke-LvsNative ip '-n', $ns, 'neigh', 'flush', 'all' -AllowFailure }
}

function Get-ArpResponders {
    <#
    .SYNOPSIS
    The distinct MACs (lower case) that answer ARP for Vip, asked by the client with broadcast probes (a unicast
    probe after the first reply would miss a second responder). arping exits 1 when some probes go unanswered
    even if replies came, so its output decides.
    #>
    [OutputType([string[]])]
    param(
        [Parameter(Mandatory)] $Lab,
        [string] $Vip = $Lab.Vip,
        [int] $Count = 3
    )

    Clear-LvsLabNeighbour -Lab $Lab
    $r = Invoke-LvsNetns $Lab.Client.Namespace arping '-b', '-c', "$Count", '-w', "$Count", '-I', 'eth0', $Vip -AllowFailure
    if ($r.ExitCode -gt 1) { throw "arping failed ($($r.ExitCode)): $($r.StdErr.Trim())" }
    $pattern = "(?m)^Unicast reply from $([regex]::Escape($Vip)) \[([0-9A-Fa-f:]{17})\]"
    @([regex]::Matches($r.StdOut, $pattern) | ForEach-Object { $_.Groups[1].Value.ToLowerInvariant() } | Sort-Object -Unique)
}

function Get-LvsLabHostByMac {
    param([Parameter(Mandatory)] $Lab, [Parameter(Mandatory)][string] $Mac)

    $Lab.Hosts.Values | Where-Object { $_.Mac -eq $Mac.ToLowerInvariant() } | Select-Object -First 1
}

function Enable-DrForwarding {
    <#
    .SYNOPSIS
    Emulates the director's LVS-DR forwarding (IPVS is not in this kernel): in the bridge, frames for the VIP get
    the real server's MAC as destination and are otherwise unchanged, which is what IPVS-DR puts on the wire.
    #>
    param([Parameter(Mandatory)] $Lab, [string] $Vip = $Lab.Vip, [Parameter(Mandatory)] $RealServer)

    $rs = Resolve-LvsLabHost $Lab $RealServer
    $rule = '-p', 'IPv4', '--ip-dst', $Vip, '-j', 'dnat', '--to-dst', $rs.Mac
    $present = Invoke-LvsNetns $Lab.Bridge ebtables (@('-t', 'nat', '--check', 'PREROUTING') + $rule) -AllowFailure
    if ($present.ExitCode -ne 0) { $null = Invoke-LvsNetns $Lab.Bridge ebtables (@('-t', 'nat', '-A', 'PREROUTING') + $rule) }
}

function Disable-DrForwarding {
    param([Parameter(Mandatory)] $Lab)

    $null = Invoke-LvsNetns $Lab.Bridge ebtables '-t', 'nat', '-F', 'PREROUTING'
}

function Test-DrDataPath {
    <#
    .SYNOPSIS
    Listens on Vip:Port in the real server (socat bound to the VIP, replying "served-by-<role>"), connects from
    the client and returns what came back ($null when nothing did). The listener is stopped by PID.
    -ListenAddress binds the listener elsewhere (the real server's own address, for the REDIRECT method).
    #>
    [OutputType([string])]
    param(
        [Parameter(Mandatory)] $Lab,
        [string] $Vip = $Lab.Vip,
        [Parameter(Mandatory)] $RealServer,
        [int] $Port = 8080,
        [int] $TimeoutSeconds = 3,
        [string] $ListenAddress = $Vip
    )

    $rs = Resolve-LvsLabHost $Lab $RealServer
    $log = Join-Path ([IO.Path]::GetTempPath()) "lvs-socat-$([guid]::NewGuid().ToString('n').Substring(0, 8)).log"
    $psi = [System.Diagnostics.ProcessStartInfo]::new((Find-LvsProgram ip))
    foreach ($a in 'netns', 'exec', $rs.Namespace, 'socat', '-lf', $log, "TCP4-LISTEN:$Port,bind=$ListenAddress,reuseaddr,fork", "EXEC:/bin/echo served-by-$($rs.Role)") {
        $psi.ArgumentList.Add($a)
    }
    $psi.RedirectStandardInput = $true
    $psi.UseShellExecute = $false
    $listener = [System.Diagnostics.Process]::Start($psi)
    try {
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ((Invoke-LvsNetns $rs.Namespace ss '-H', '-l', '-t', '-n', "sport = :$Port").StdOut -notmatch [regex]::Escape("${ListenAddress}:$Port")) {
            if ($listener.HasExited) { throw "socat in $($rs.Namespace) exited $($listener.ExitCode): $(Get-Content -Raw -LiteralPath $log -ErrorAction SilentlyContinue)" }
            if ([DateTime]::UtcNow -gt $deadline) { throw "socat in $($rs.Namespace) is not listening on ${ListenAddress}:$Port." }
            Start-Sleep -Milliseconds 20
        }
        Clear-LvsLabNeighbour -Lab $Lab
        $r = Invoke-LvsNetns $Lab.Client.Namespace socat '-T', "$TimeoutSeconds", '-u', "TCP4:${Vip}:$Port,connect-timeout=$TimeoutSeconds", 'STDOUT' `
            -AllowFailure -TimeoutSeconds ($TimeoutSeconds + 5)
        $reply = $r.StdOut.Trim()
        if ($reply) { $reply } else { $null }
    }
    finally {
        if (-not $listener.HasExited) { $listener.Kill(); $null = $listener.WaitForExit(5000) }
        $listener.Dispose()
        Remove-Item -LiteralPath $log -Force -ErrorAction SilentlyContinue
    }
}

#endregion

#region the kernel's state, read without the module

function Get-LvsLabAddress {
    <#
    .SYNOPSIS
    The IPv4 addresses in a namespace as `ip -j addr` reports them: InterfaceName, Address, PrefixLength,
    Label, Secondary, Broadcast.
    #>
    param([Parameter(Mandatory)][string] $Namespace, [string] $InterfaceName)

    $cmd = @('-n', $Namespace, '-j', '-4', 'addr', 'show') + $(if ($InterfaceName) { 'dev', $InterfaceName } else { @() })
    foreach ($link in ((Invoke-LvsNative ip $cmd).StdOut | ConvertFrom-Json)) {
        foreach ($a in @($link.addr_info)) {
            if (-not $a -or $a.family -ne 'inet') { continue }
            [pscustomobject]@{
                InterfaceName = $link.ifname
                Address       = $a.local
                PrefixLength  = [int]$a.prefixlen
                Label         = $a.PSObject.Properties['label']?.Value
                Secondary     = [bool]($a.PSObject.Properties['secondary']?.Value)
                Broadcast     = $a.PSObject.Properties['broadcast']?.Value
            }
        }
    }
}

function Get-LvsLabArptablesSave {
    # arptables-save without its timestamp comments, so two readings of the same rules compare equal.
    param([Parameter(Mandatory)][string] $Namespace)

    ((Invoke-LvsNetns $Namespace arptables-save).StdOut -split "`n" | Where-Object { $_ -and $_ -notmatch '^#' }) -join "`n"
}

function Get-LvsLabArpRule {
    <#
    .SYNOPSIS
    The rules of `arptables-save`, each parsed into Chain, Target, Source, Destination, InInterface,
    MangleIpSource and the raw Line. Compare these, never the text: arptables-nft reorders options.
    #>
    param([Parameter(Mandatory)][string] $Namespace)

    foreach ($line in (Get-LvsLabArptablesSave $Namespace) -split "`n") {
        if ($line -notmatch '^-A (\S+)\s*(.*)$') { continue }
        $rule = [ordered]@{ Chain = $Matches[1]; Target = $null; Source = $null; Destination = $null; InInterface = $null; MangleIpSource = $null; Line = $line }
        $tokens = @($Matches[2] -split '\s+' | Where-Object { $_ })
        for ($i = 0; $i -lt $tokens.Count - 1; $i++) {
            $key = switch ($tokens[$i]) {
                '-j' { 'Target' } '-s' { 'Source' } '-d' { 'Destination' } '-i' { 'InInterface' } '--mangle-ip-s' { 'MangleIpSource' }
                default { $null }
            }
            if ($key) { $rule[$key] = $tokens[$i + 1] -replace '/32$', ''; $i++ }
        }
        [pscustomobject]$rule
    }
}

function Get-LvsLabSuppressionRule {
    # The two rules that suppress ARP for Vip: the drop and the mangle, in LvsDirect's chains LVSDIRECT-IN/OUT
    # (or, as the seed and earlier versions wrote them, in INPUT/OUTPUT), as Get-LvsLabArpRule objects.
    param([Parameter(Mandatory)][string] $Namespace, [Parameter(Mandatory)][string] $Vip)

    Get-LvsLabArpRule $Namespace | Where-Object {
        ($_.Chain -in 'INPUT', 'LVSDIRECT-IN' -and $_.Target -eq 'DROP' -and $_.Destination -eq $Vip) -or
        ($_.Chain -in 'OUTPUT', 'LVSDIRECT-OUT' -and $_.Target -eq 'mangle' -and $_.Source -eq $Vip)
    }
}

function Get-LvsLabKernelState {
    # Addresses and ARP rules of a namespace as one comparable text: equal before and after means nothing changed.
    param([Parameter(Mandatory)][string] $Namespace)

    $addresses = Get-LvsLabAddress -Namespace $Namespace | ForEach-Object {
        "$($_.InterfaceName) $($_.Address)/$($_.PrefixLength) label=$($_.Label) secondary=$($_.Secondary) brd=$($_.Broadcast)"
    }
    (@($addresses) + '--' + (Get-LvsLabArptablesSave $Namespace)) -join "`n"
}

#endregion
