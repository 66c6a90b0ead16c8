using LvsDirect.Core.Host;
using LvsDirect.Core.Parsing;
using LvsDirect.Core.Persistence;

namespace LvsDirect.Core.Agentless;

/// <summary>
/// The one fixed program the agentless transport runs on a real server: POSIX sh, passed as the single
/// argument of <c>sh -c</c>. It never evaluates data. Everything variable (which files to read, the commands
/// to run, file contents) arrives on standard input, framed by counts, and runs as argument vectors; the
/// program to run must be on a fixed list.
///
/// Protocol (standard input):
///   LVSDIRECT 1 NONCE        header; NONCE (hex) prefixes every marker the script prints
///   FILE PATH                zero or more files to read (base64 in the state dump)
///   LOCKDIR DIR              optional, the root-only folder that stands in for /run/lvsdirect (and DIR/lib for
///                            /var/lib/lvsdirect); the lock is its scope's folder's "lock", as HostScope computes it
///   READ sysctl              optional: ARP and rp_filter sysctls per conf, with the boot sysctl files
///                            (sysctl.d, sysctl.conf) added to the files read
///   READ nft|redirects|stamp optional reads: LvsDirect's nftables table (nft -j, where nft is installed);
///                            the nat PREROUTING rules (iptables -S, for REDIRECT); "STAMP BOOTID INODE COOKIE",
///                            the namespace stamp the sysctl method's record carries (the cookie by perl or
///                            python3, empty where neither can ask or the kernel cannot tell it; then the
///                            record matches a local run's only on kernels without the cookie)
///   RUN NAME NARGS           optional reads a caller declares (the diagnosis), each followed by its program
///                            (one of <see cref="ReadPrograms"/>) and NARGS argument lines; run under the lock
///                            with no input when the program is installed, its output filed under NAME
///   READY                    end of the header; the script finds its network namespace (host, named by
///                            /run/netns, or anonymous, exactly as HostScope does), creates and checks its
///                            root-only folders, takes the host lock there and prints the state, with
///                            "SCOPE KIND STATEDIR" and the ownership record STATEDIR/vips.json and the sysctl
///                            method's record STATEDIR/arp-sysctl.json among the files
///   then operations:         STEP NARGS NINPUT / PROGRAM / NARGS argument lines / NINPUT input lines
///                            WRITE MODE NLINES [x] / PATH / NLINES base64 lines (atomic replace;
///                            x: make it executable even when the file it replaces was not)
///                            REMOVE 0 0 / PATH (remove a file; one that is not there is no failure)
///                            SYNC (print the state again), COMMIT (the end)
/// An operation runs only once all its lines have arrived, so a dropped connection never runs half of one;
/// the operations come in the planner's order, where every prefix is safe.
/// Standard output: "==NONCE" markers, command output and file contents in base64. Steps stop at the first
/// failure, like the local executor, because a later step may rely on an earlier one.
/// </summary>
public static class AgentlessScript
{
    /// <summary>The protocol version in the header; the script refuses any other.</summary>
    public const int ProtocolVersion = 1;

    /// <summary>Programs a step may run: the ones the planner emits, nothing else.</summary>
    public static IReadOnlyList<string> AllowedPrograms { get; } =
        ["ip", "arptables", "sysctl", "iptables", "iptables-restore", "ip6tables", "nft", "systemctl", "chkconfig"];

    /// <summary>Programs the script reports (HAVE) when the server has them: its own needs and every method's tool.</summary>
    public static IReadOnlyList<string> ReportedPrograms { get; } =
        ["ip", "arptables", "flock", "base64", "ss", "systemctl", "chkconfig", "sysctl", "nft", "iptables"];

    // SO_NETNS_COOKIE, as NamespaceStamp asks the kernel for it locally.
    private const int SoNetnsCookie = 71;

    /// <summary>Programs a RUN read may start: the ones whose state a diagnosis reads.</summary>
    public static IReadOnlyList<string> ReadPrograms { get; } = ["ip", "arptables", "nft", "iptables", "ip6tables", "ss", "sysctl"];

    /// <summary>The script text. It contains no single quote, so <c>sh -c '…'</c> carries it unchanged.</summary>
    public static string Text { get; } = BuildText();

    /// <summary>The remote command line ssh sends: fixed, whatever the input.</summary>
    public static string RemoteCommand { get; } = "sh -c '" + Text + "'";

    private static string BuildText()
    {
        var allowed = string.Join('|', AllowedPrograms);
        var readable = string.Join('|', ReadPrograms);
        var sysctlFiles = string.Join(' ', Diagnostics.PersistedConfig.SysctlFolders.Select(f => $"/{f}/*.conf"));
        var text = $$"""
set -f
trap "" PIPE
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
LC_ALL=C
export PATH LC_ALL
umask 022
IFS= read -r hello || exit 97
set -- $hello
if [ "$1" != LVSDIRECT ] || [ "$2" != {{ProtocolVersion}} ]; then echo "lvsdirect: unknown protocol header" >&2; exit 97; fi
case $3 in ""|*[!0-9a-f]*) echo "lvsdirect: bad nonce" >&2; exit 97;; esac
m="==$3"
nl="
"
files=
lockdir=
rsysctl=
rnft=
rredirects=
rstamp=
runs=
while IFS= read -r line; do
  case $line in
    READY) break;;
    "FILE "*) files="$files${line#FILE }$nl";;
    "LOCKDIR "*) lockdir=${line#LOCKDIR };;
    "READ sysctl") rsysctl=1;;
    "READ nft") rnft=1;;
    "READ redirects") rredirects=1;;
    "READ stamp") rstamp=1;;
    "RUN "*)
      set -- ${line#RUN }
      case $1 in ""|[!a-z]*|*[!a-z0-9]*) echo "lvsdirect: bad read name" >&2; exit 97;; esac
      case $2 in ""|*[!0-9]*) echo "lvsdirect: bad header line" >&2; exit 97;; esac
      IFS= read -r p || exit 97
      case $p in {{readable}}) ;; *) echo "lvsdirect: program not allowed" >&2; exit 97;; esac
      runs="$runs$1$nl$2$nl$p$nl"
      k=0
      while [ $k -lt $2 ]; do IFS= read -r a || exit 97; runs="$runs$a$nl"; k=$((k+1)); done
      ;;
    *) echo "lvsdirect: bad header line" >&2; exit 97;;
  esac
done
ns() { stat -L -c %d:%i -- "$1" 2>/dev/null; }
me=$(ns /proc/self/ns/net)
init=$(ns /proc/1/ns/net)
scope=anon
name=
if [ -n "$me" ] && { [ "$me" = "$init" ] || { [ -z "$init" ] && [ "${me##*:}" = {{HostScope.InitialNetnsInode}} ]; }; }; then
  scope=host
elif [ -n "$me" ]; then
  # One stat for every named namespace (a host may have dozens), of names that cannot hold a blank or a newline.
  cand=
  set +f
  for f in {{HostScope.NamedNetnsFolder}}/*; do
    n=${f##*/}
    case $n in ""|.|..|ino-*|*[!A-Za-z0-9._@+-]*) continue;; esac
    cand="$cand $f"
  done
  set -f
  if [ -n "$cand" ]; then
    while read -r id f; do
      if [ "$id" = "$me" ]; then scope=named; name=${f##*/}; break; fi
    done <<NETNS
$(stat -L -c "%d:%i %n" -- $cand 2>/dev/null)
NETNS
  fi
fi
if [ -n "$lockdir" ]; then rp=$lockdir; rr=; dp=$lockdir; dr=lib; else rp=/run; rr=lvsdirect; dp=/var/lib; dr=lvsdirect; fi
runbase=$rp${rr:+/$rr}
case $scope in
  host) rs=; ds=; rundir=$runbase; statedir=$dp/$dr;;
  named) rs="{{HostScope.NetnsFolder}} $name"; ds=$rs; rundir=$runbase/{{HostScope.NetnsFolder}}/$name; statedir=$dp/$dr/{{HostScope.NetnsFolder}}/$name;;
  *) rs="{{HostScope.NetnsFolder}} ino-${me##*:}"; ds=; rundir=$runbase/{{HostScope.NetnsFolder}}/ino-${me##*:}; statedir=$rundir;;
esac
chk() {
  [ ! -L "$1" ] && [ -d "$1" ] || return 1
  set -- $(stat -c "%u %a" -- "$1")
  [ "$1" = 0 ] && case $2 in *[2367]?|*[2367]) false;; *) true;; esac
}
mkpriv() {
  d=$1
  shift
  for c in "$@"; do
    d=$d/$c
    [ -L "$d" ] || [ -d "$d" ] || mkdir -m 700 -- "$d" 2>/dev/null
    chk "$d" || { echo "lvsdirect: $d is not a folder only root can change (a symlink, not owned by root, or writable by others); fix it (root-owned, mode 0700)" >&2; return 1; }
  done
}
uid=$(id -u)
if [ "$uid" = 0 ]; then
  { [ -z "$lockdir" ] || chk "$lockdir" || { echo "lvsdirect: $lockdir is not a folder only root can change" >&2; false; }; } &&
    mkpriv "$rp" $rr $rs && { [ $scope = anon ] || mkpriv "$dp" $dr $ds; } || exit 97
  t=$(mktemp -d "$rundir/.tmp.XXXXXX") || exit 97
  files="$files$statedir/{{VipRecord.FileName}}$nl$statedir/{{SysctlStateFile.FileName}}$nl"
else
  pd=${HOME:-/nonexistent}
  pd=${XDG_RUNTIME_DIR:-$pd}
  t=$(mktemp -d "$pd/.lvsdirect.XXXXXX") || { echo "lvsdirect: no private folder for temporary files (XDG_RUNTIME_DIR or HOME)" >&2; exit 97; }
fi
trap "rm -rf \"\$t\"" EXIT
printf "%s" "$files" > "$t/files"
echo "$m BEGIN {{ProtocolVersion}}"
echo "$m UID $uid"
echo "$m SCOPE $scope $statedir"
for p in {{string.Join(' ', ReportedPrograms)}}; do
  command -v "$p" >/dev/null 2>&1 && echo "$m HAVE $p"
done
# Most programs print nothing on one of their outputs, and most steps on both: base64 is started only for
# what has bytes (for an empty file it prints nothing either).
dump() {
  echo "$m OUT $1 $2"
  [ ! -s "$t/o" ] || base64 < "$t/o"
  echo "$m ERR"
  [ ! -s "$t/e" ] || base64 < "$t/e"
  echo "$m END"
}
if [ "$uid" = 0 ] && command -v flock >/dev/null 2>&1; then
  set +f
  for d in "$runbase"/{{HostScope.NetnsFolder}}/*; do
    n=${d##*/}
    case $n in ino-*|*[!A-Za-z0-9._@+-]*) continue;; esac
    [ -d "$d" ] && [ ! -L "$d" ] && [ ! -e "{{HostScope.NamedNetnsFolder}}/$n" ] || continue
    ( exec 8>>"$d/{{HostScope.LockFileName}}" && flock -n 8 && [ ! -e "{{HostScope.NamedNetnsFolder}}/$n" ] && rm -rf -- "$d" ) 2>/dev/null
  done
  set -f
  lock=$rundir/{{HostScope.LockFileName}}
  umask 077
  if [ -L "$lock" ] || ! { command exec 9>>"$lock"; } 2>"$t/e" || ! flock -w 60 9 2>>"$t/e"; then
    [ -L "$lock" ] && echo "lvsdirect: the lock file $lock is a symbolic link" >> "$t/e"
    : > "$t/o"
    dump lock 1
    echo "$m STATE-END"
    exit 0
  fi
  umask 022
fi
state() {
  if command -v ip >/dev/null 2>&1; then
    printf "address show\nroute show default\nroute show table all type unicast\n" | ip -j -batch - > "$t/o" 2> "$t/e"
    dump ip $?
  fi
  if command -v arptables >/dev/null 2>&1; then
    arptables -L -n > "$t/o" 2> "$t/e"
    dump arplist $?
    if [ -n "$1" ]; then
      arptables -V > "$t/o" 2> "$t/e"
      dump arpversion $?
    fi
  fi
  if [ -n "$rnft" ] && command -v nft >/dev/null 2>&1; then
    nft -j list table {{NftArpTable.Family}} {{NftArpTable.Name}} > "$t/o" 2> "$t/e"
    dump nft $?
  fi
  if [ -n "$rredirects" ] && command -v iptables >/dev/null 2>&1; then
    iptables -t {{RedirectSyntax.Table}} -S {{RedirectSyntax.Chain}} > "$t/o" 2> "$t/e"
    dump redirects $?
  fi
  if [ -n "$rsysctl" ]; then
    : > "$t/e"
    set +f
    confs=$(echo /proc/sys/net/ipv4/conf/*)
    set -f
    for d in $confs; do
      for k in arp_ignore arp_announce rp_filter; do
        v=
        [ -r "$d/$k" ] && IFS= read -r v < "$d/$k"
        [ -n "$v" ] && printf "%s %s %s\n" "${d##*/}" "$k" "$v"
      done
    done > "$t/o"
    dump sysctl 0
  fi
}
if [ -n "$rstamp" ]; then
  boot=
  read -r boot 2>/dev/null < /proc/sys/kernel/random/boot_id
  cookie=
  # perl-base is on every Debian and starts in a few ms; its getsockopt asks with a buffer the kernel refuses for
  # the cookie (it wants exactly 8 bytes), so perl makes the system call itself where its number is known.
  # python3, much slower to start, only where perl cannot.
  case $(uname -m 2>/dev/null) in
    x86_64) n=55;;
    aarch64|riscv64) n=209;;
    *) n=;;
  esac
  if [ -n "$n" ] && command -v perl >/dev/null 2>&1; then
    cookie=$(perl -e "socket(S,2,2,0)||exit 1;\$b=chr(0)x8;\$l=pack(q(L),8);syscall($n,fileno(S),1,{{SoNetnsCookie}},\$b,\$l)==0||exit 1;print unpack(q(Q),\$b)" 2>/dev/null)
  fi
  if [ -z "$cookie" ] && command -v python3 >/dev/null 2>&1; then
    cookie=$(python3 -c "import socket,sys;s=socket.socket(2,2);print(int.from_bytes(s.getsockopt(1,{{SoNetnsCookie}},8),sys.byteorder))" 2>/dev/null)
  fi
  case $cookie in *[!0-9]*) cookie=;; esac
  echo "$m STAMP ${boot:--} ${me##*:} $cookie"
fi
state all
if [ -n "$runs" ]; then
  printf "%s" "$runs" > "$t/runs"
  while IFS= read -r name && IFS= read -r n && IFS= read -r prog; do
    set --
    k=0
    while [ $k -lt $n ]; do IFS= read -r a; set -- "$@" "$a"; k=$((k+1)); done
    command -v "$prog" >/dev/null 2>&1 || continue
    echo "$m HAVE $prog"
    "$prog" "$@" < /dev/null > "$t/o" 2> "$t/e"
    dump "$name" $?
  done < "$t/runs"
fi
if [ -n "$rsysctl" ]; then
  set +f
  for f in {{sysctlFiles}} /etc/sysctl.conf; do
    [ -f "$f" ] && printf "%s\n" "$f" >> "$t/files"
  done
  set -f
fi
while IFS= read -r f; do
  if [ ! -e "$f" ] && [ ! -L "$f" ]; then
    echo "$m FILE 0 - $f"
  elif [ -r "$f" ] && [ -f "$f" ]; then
    echo "$m FILE 1 $(stat -L -c %a -- "$f") $f"
    base64 < "$f"
  else
    echo "$m FILE 2 - $f"
  fi
  echo "$m END"
done < "$t/files"
echo "$m STATE-END"
trap "" HUP
i=0
lines() {
  k=0
  while [ $k -lt $1 ]; do IFS= read -r a || return 1; printf "%s\n" "$a"; k=$((k+1)); done
}
while IFS= read -r hdr; do
  set -- $hdr
  case $1 in
    COMMIT) echo "$m DONE $i"; exit 0;;
    SYNC) state; echo "$m STATE-END"; continue;;
    STEP|WRITE|REMOVE) ;;
    *) echo "$m REFUSED $i unknown operation"; exit 0;;
  esac
  for c in "$2" "$3"; do
    case $c in ""|*[!0-9]*) echo "$m REFUSED $i bad header"; exit 0;; esac
  done
  op=$1
  n1=$2
  n2=$3
  x=$4
  if [ $op = STEP ]; then
    IFS= read -r prog || exit 0
    case $prog in
      {{allowed}}) ;;
      *) echo "$m REFUSED $i program not allowed"; exit 0;;
    esac
    set --
    k=0
    while [ $k -lt $n1 ]; do IFS= read -r a || exit 0; set -- "$@" "$a"; k=$((k+1)); done
    lines $n2 > "$t/in" || exit 0
    "$prog" "$@" < "$t/in" > "$t/o" 2> "$t/e"
    rc=$?
  elif [ $op = REMOVE ]; then
    IFS= read -r path || exit 0
    : > "$t/o"
    rm -f -- "$path" 2> "$t/e"
    rc=$?
  else
    IFS= read -r path || exit 0
    lines $n2 > "$t/b" || exit 0
    case $n1 in [0-7][0-7][0-7]|[0-7][0-7][0-7][0-7]) ;; *) echo "$m REFUSED $i bad mode"; exit 0;; esac
    : > "$t/o"
    target=$path
    [ -L "$path" ] && target=$(readlink -f -- "$path")
    case $target in */*) dir=${target%/*};; *) dir=.;; esac
    new=$(mktemp "${dir:-/}/.lvsdirect.XXXXXX" 2> "$t/e") &&
      base64 -d < "$t/b" > "$new" 2>> "$t/e" &&
      if [ -e "$target" ]; then
        chmod --reference="$target" -- "$new" 2>> "$t/e" && chown --reference="$target" -- "$new" 2>> "$t/e"
      else
        chmod "$n1" -- "$new" 2>> "$t/e"
      fi &&
      if [ "$x" = x ]; then chmod +x -- "$new" 2>> "$t/e"; fi &&
      mv -f -- "$new" "$target" 2>> "$t/e"
    rc=$?
    [ $rc -eq 0 ] || rm -f -- "$new"
  fi
  dump "$i" "$rc"
  [ $rc -eq 0 ] || exit 0
  i=$((i+1))
done
""";
        if (text.Contains('\''))
        {
            throw new InvalidOperationException("The agentless script must not contain a single quote.");
        }

        return text.Replace("\r\n", "\n");
    }
}
