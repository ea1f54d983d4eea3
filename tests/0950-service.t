#!/bin/sh
# The systemd units of etc/systemd/ (smsdesk(7), Running as a service):
# installed by `make install` (PREFIX, DESTDIR, UNITDIR), every one passing
# `systemd-analyze verify` with the programs and man pages it names
# installed, the hardening each service promises present, and the
# listener's unit run as systemd would run it, as far as a test can:
#
# Its ExecStart, read from the installed unit, expanded with the unit's
# Environment= and an environment file made from the shipped example (the
# test's inbox, port and configuration added at its end), in a clean
# environment, with the unit's UMask=. As root, in a mount namespace of
# its own where every file system is read-only but the directory that
# stands for the unit's ReadWritePaths= (ProtectSystem=strict), /home and
# /root are empty (ProtectHome=), and as an unprivileged user and group
# (nobody, nogroup: the unit's User= and Group=, the group trusted with
# the inbox) with no capabilities and no new privileges (setpriv). /tmp
# stays read-only there, where the unit has a private one: stricter.
# What needs systemd itself (the seccomp filter, RestrictAddressFamilies=,
# MemoryDenyWriteExecute=, a private /tmp and /dev) is not played:
# systemd-analyze security rates those settings, and, but in the
# sanitizer build, strace(1) shows that what the listener and the jobs do
# stays within them (their system calls, socket families, no memory both
# writable and executable).
#
# The listener, so started, takes signed webhooks; is SIGKILLed in the
# middle of a burst (a death Restart=on-failure restarts: the test
# restarts it the same way) and started again, and every message answered
# 200 is there once, and every one sent again by the "provider" too; the
# unit's ExecReload= (SIGHUP) leaves it answering, once sms-recv(1) says
# it reloads on SIGHUP; SIGTERM stops it with exit 0 (no restart) within
# the unit's TimeoutStopSec=; a configuration that is wrong ends it with
# 78, which RestartPreventExitStatus= does not restart. Then the jobs of
# the timers that need no provider run as their units say on the inbox it
# filled (polling and the modem's spool are only verified).
. "$(dirname "$0")/lib.sh"

twilio_env 0950
unset MAKEFLAGS MFLAGS MAKELEVEL V

units=$(cd "$top/etc/systemd" && ls *.service *.timer)
services=$(cd "$top/etc/systemd" && ls *.service)

# --- make install ------------------------------------------------------------

# The programs of the build under test ($bin is BUILD/bin).
build=${bin%/bin}
minstall() {
	make --no-print-directory -C "$top" BUILD="$build" "$@" install \
	    >"$tmp/install.out" 2>&1
}
dest=$tmp/dest
check 'make install DESTDIR=... PREFIX=/usr' \
	'minstall DESTDIR="$dest" PREFIX=/usr'
[ "$tap_rc" = 0 ] || sed 's/^/# /' "$tmp/install.out" >&2
missing=
for u in $units; do
	[ -f "$dest/usr/lib/systemd/system/$u" ] || missing="$missing $u"
done
is 'every unit in PREFIX/lib/systemd/system' "$missing" ''
is 'the units name the programs in BINDIR (PREFIX/bin)' \
	"$(cat "$dest"/usr/lib/systemd/system/*.service |
	    sed -n 's/^Exec\(Start\|Reload\)=//p' |
	    awk '$1 ~ /^\// && $1 !~ /^\/usr\/bin\// || /@BINDIR@/')" ''
check 'the user and group in PREFIX/lib/sysusers.d' \
	'grep -q "^u smsdesk " "$dest/usr/lib/sysusers.d/smsdesk.conf"'
check 'the example environment file in PREFIX/share/doc/smsdesk/examples/systemd' \
	'test -f "$dest/usr/share/doc/smsdesk/examples/systemd/smsdesk.env"'
check 'nothing installed outside PREFIX (not in /etc)' \
	'test "$(ls "$dest")" = usr'
check 'UNITDIR chooses where the units go' \
	'minstall DESTDIR="$tmp/dest2" UNITDIR=/etc/systemd/system &&
	 test -f "$tmp/dest2/etc/systemd/system/smsdesk-recv.service" &&
	 ! test -e "$tmp/dest2/usr/local/lib/systemd"'
check 'make uninstall takes them away' \
	'make --no-print-directory -C "$top" DESTDIR="$dest" PREFIX=/usr \
	    uninstall >"$tmp/un.out" 2>&1 &&
	 ! ls "$dest"/usr/lib/systemd/system/smsdesk-* 2>/dev/null &&
	 ! test -e "$dest/usr/lib/sysusers.d/smsdesk.conf"'
if command -v systemd-sysusers >/dev/null; then
	check 'systemd-sysusers makes the user and group smsdesk from it' \
	    'mkdir -p "$tmp/sysroot/etc" &&
	     systemd-sysusers --root="$tmp/sysroot" \
	        "$top/etc/systemd/smsdesk.sysusers" 2>&1 &&
	     grep -q "^smsdesk:x:[0-9]*:[0-9]*:[^:]*:/var/lib/smsdesk:" \
	        "$tmp/sysroot/etc/passwd" &&
	     grep -q "^smsdesk:" "$tmp/sysroot/etc/group"'
else
	skip 'systemd-sysusers makes the user and group' 'no systemd-sysusers'
fi

# A real prefix, so that what the units name exists: for verify, and
# for the run below.
p=$tmp/p
check 'make install PREFIX=(a scratch directory)' 'minstall PREFIX="$p"'
ud=$p/lib/systemd/system

# --- systemd-analyze ---------------------------------------------------------

if ! command -v systemd-analyze >/dev/null; then
	skip 'systemd-analyze verify' 'no systemd-analyze (Debian: systemd)'
else
	# It prints warnings and exits 0 for some mistakes (an unknown key):
	# a pass is exit 0 and not a word said. The man pages of
	# Documentation= are looked for where they were installed.
	if command -v man >/dev/null; then manopt=--man=yes
	else manopt=--man=no; diag 'no man(1): Documentation= not checked'; fi
	for u in $units; do
		check "systemd-analyze verify $u" \
		    '(cd "$ud" && MANPATH="$p/share/man" SYSTEMD_LOG_TARGET=console \
		        systemd-analyze verify $manopt "./$u" >"$tmp/verify" 2>&1) &&
		     ! test -s "$tmp/verify" || { cat "$tmp/verify"; false; }'
	done
	# A unit with a mistake fails it, so the checks above can fail.
	sed 's/^ProtectSystem=strict$/ProtectSystm=strict/' \
	    "$ud/smsdesk-recv.service" >"$tmp/smsdesk-broken.service"
	check 'systemd-analyze verify says so of a misspelt key' \
	    '(cd "$tmp" && SYSTEMD_LOG_TARGET=console systemd-analyze verify \
	        --man=no ./smsdesk-broken.service 2>&1) | grep -q ProtectSystm'
	# Exposure, from 0 (none) to 10: systemd rates the settings.
	for u in $services; do
		check "systemd-analyze security $u: exposure at most 2.0" \
		    '(cd "$ud" && SYSTEMD_LOG_TARGET=console systemd-analyze \
		        security --offline=true --threshold=20 --no-pager "./$u" \
		        >"$tmp/sec" 2>&1) ||
		     { grep -e "Overall" -e "✗" "$tmp/sec"; false; }'
		diag "$(grep Overall "$tmp/sec")"
	done
fi

# --- What every service promises -----------------------------------------

# key VALUE: each a line the unit must have.
need='User=smsdesk
Group=smsdesk
NoNewPrivileges=yes
CapabilityBoundingSet=
ProtectSystem=strict
ReadWritePaths=/var/lib/smsdesk
StateDirectory=smsdesk
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictNamespaces=yes
RestrictRealtime=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
Environment=SMSDESK_INBOX=/var/lib/smsdesk/inbox XDG_CONFIG_HOME=/etc
EnvironmentFile=-/etc/smsdesk/smsdesk.env
StandardOutput=null'
for u in $services; do
	# The check's findings (paths, not texts) are for the journal.
	out=null
	[ "$u" = smsdesk-check.service ] && out=journal
	is "$u: its hardening and settings" \
	    "$(printf '%s\n' "$need" | sed "s/^StandardOutput=null\$/StandardOutput=$out/" |
	        grep -vxF -f "$top/etc/systemd/$u")" ''
	check "$u: RestrictAddressFamilies= says which" \
	    'grep -Eqx "RestrictAddressFamilies=AF_UNIX( AF_INET AF_INET6)?" \
	        "$top/etc/systemd/$u"'
	# The trusted group makes the inbox's directories setgid.
	check "$u: no RestrictSUIDSGID= (setgid directories)" \
	    '! grep -q "^RestrictSUIDSGID=yes" "$top/etc/systemd/$u"'
	# What ProtectSystem=strict leaves it: its inbox must be there.
	check "$u: its inbox is in its ReadWritePaths=" \
	    'ib=$(sed -n "s/^Environment=.*SMSDESK_INBOX=\([^ ]*\).*/\1/p" \
	        "$top/etc/systemd/$u") &&
	     sed -n "s/^ReadWritePaths=//p" "$top/etc/systemd/$u" |
	     awk -v ib="$ib" "index(ib, \$0 \"/\") == 1 { f = 1 } END { exit !f }"'
	is "$u: no secret in it" \
	    "$(grep -iE '^[^#]*(TOKEN|SECRET|API_KEY|PASSWORD)[A-Z_]*=' \
	        "$top/etc/systemd/$u")" ''
done
for t in $(cd "$top/etc/systemd" && ls *.timer); do
	check "$t: it has its service" \
	    'test -f "$top/etc/systemd/${t%.timer}.service"'
done
check 'smsdesk-recv.service: Restart=on-failure, a bounded stop, reload by SIGHUP' \
	'grep -qx Restart=on-failure "$ud/smsdesk-recv.service" &&
	 grep -qx "RestartPreventExitStatus=2 77 78" "$ud/smsdesk-recv.service" &&
	 grep -Eqx "TimeoutStopSec=[0-9]+s" "$ud/smsdesk-recv.service" &&
	 grep -qx "ExecReload=kill -HUP \$MAINPID" "$ud/smsdesk-recv.service"'

# Every unit is in smsdesk(7) (a timer's service by its timer), and every
# timer's command in the README's crontab.
for u in $units; do
	case $u in
	*.service) [ -f "$top/etc/systemd/${u%.service}.timer" ] && continue ;;
	esac
	check "smsdesk(7) names $u" 'grep -qxF ".It Pa $u" "$top/man/smsdesk.7"'
done
for s in $(cd "$top/etc/systemd" && ls *.timer); do
	cmd=$(sed -n 's|^ExecStart=@BINDIR@/||p' "$top/etc/systemd/${s%.timer}.service" |
	    sed 's/ *\$[A-Z_]*$//; s/\${SMSTOOLS_SPOOL}/\/var\/spool\/sms/')
	# A line of /etc/cron.d: five fields, the user, the command (or a
	# comment of one, for a job instead of the listener).
	check "the README's crontab runs what ${s%.timer} does: $cmd" \
	    'tr -s " " <"$top/README.md" |
	     grep -E "^ ?(# )?[^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ smsdesk " |
	     grep -qF -- " smsdesk $cmd"'
done

# --- The listener, run as its unit says -------------------------------------

# unit-exec UNIT KEY ENVFILE [MAINPID]: exec the command of KEY (ExecStart,
# ExecReload) of UNIT as systemd would: its words expanded from the
# unit's Environment= then ENVFILE (for the unit's EnvironmentFile=), a
# "${NAME}" whole, a "$NAME" word split at blanks; in an environment of
# these and what systemd adds (PATH, HOME, USER...) alone, under the
# unit's UMask=. The sanitizers' options pass, for the sanitizer build.
cat >"$tmp/unit-exec.pl" <<'EOF'
use strict;
my ($unit, $key, $envfile, $mainpid) = @ARGV;
open my $u, "<", $unit or die "$unit: $!\n";
my ($sec, %k);
while (<$u>) {
	chomp;
	next if /^\s*(#|;|$)/;
	if (/^\[(.*)\]$/) { $sec = $1; next }
	my ($n, $v) = /^([A-Za-z]+)=(.*)$/ or die "$unit:$.: not a key\n";
	push @{$k{$n}}, $v if $sec eq "Service";
}
my %env;
for my $line (@{$k{Environment} || []}) {
	for my $w ($line =~ /((?:"[^"]*"|\S)+)/g) {
		$w =~ s/"//g;
		my ($n, $v) = $w =~ /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s
		    or die "Environment=$w\n";
		$env{$n} = $v;
	}
}
my @ef = @{$k{EnvironmentFile} || []};
die "EnvironmentFile= wanted once\n" unless @ef == 1;
open my $e, "<", $envfile or die "$envfile: $!\n";
while (<$e>) {
	chomp;
	next if /^\s*(#|;|$)/;
	my ($n, $v) = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*?)\s*$/
	    or die "$envfile:$.: not NAME=VALUE\n";
	$v = $1 if $v =~ /^"(.*)"$/ || $v =~ /^'(.*)'$/;
	$env{$n} = $v;
}
my @pw = getpwuid($<);
my %keep = map { $_ => $ENV{$_} } grep { /^(ASAN|UBSAN|LSAN)_OPTIONS$/ }
    keys %ENV;
%ENV = (PATH => "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    HOME => $pw[7], USER => $pw[0], LOGNAME => $pw[0], SHELL => $pw[8],
    %keep, %env);
$ENV{MAINPID} = $mainpid if defined $mainpid;
my @cmd = @{$k{$key} || []};
die "$key= wanted once\n" unless @cmd == 1;
die "$key: a specifier (%) is not played here\n" if $cmd[0] =~ /%/;
my @argv;
for my $w (split ' ', $cmd[0]) {
	if ($w =~ /^\$([A-Za-z_][A-Za-z0-9_]*)$/) {
		push @argv, split ' ', ($ENV{$1} // "");
	} else {
		$w =~ s/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/$ENV{$1} \/\/ ""/ge;
		push @argv, $w;
	}
}
umask oct($k{UMask}[0]) if $k{UMask};
exec { $argv[0] } @argv or die "exec $argv[0]: $!\n";
EOF

unit=$ud/smsdesk-recv.service
restart=$(sed -n 's/^Restart=//p' "$unit")
prevent=$(sed -n 's/^RestartPreventExitStatus=//p' "$unit")
# restarts STATUS: whether systemd, by the unit's Restart= and
# RestartPreventExitStatus=, starts again a process that ended with the
# shell's STATUS (128 + N: killed by signal N).
restarts() {
	[ "$restart" = on-failure ] || return 1
	if [ "$1" -gt 128 ]; then
		# SIGHUP, SIGINT, SIGPIPE and SIGTERM are clean.
		case $(($1 - 128)) in 1|2|13|15) return 1 ;; esac
		return 0
	fi
	[ "$1" -ne 0 ] || return 1
	for x in $prevent; do [ "$x" = "$1" ] && return 1; done
	return 0
}
stop_s=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s$/\1/p' "$unit")
state=$tmp/state	# stands for ReadWritePaths=/var/lib/smsdesk
ib=$state/inbox
port=$(($(od -An -N2 -tu2 /dev/urandom) % 40000 + 20000))
public=https://hooks.example/sms
signed_for=$public/twilio

# As root: the unit's user (nobody) must reach the scratch directory, the
# prefix and the configuration; the state directory is its own, 0750
# (StateDirectoryMode=).
sandbox=no
mkdir "$tmp/probe"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
    id nobody >/dev/null 2>&1 && getent group nogroup >/dev/null &&
    unshare -m sh -c 'mount -o remount,bind,ro / &&
	mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" &&
	! touch "$1/x"' sh "$tmp/probe" 2>/dev/null; then
	sandbox=yes
	user=nobody group=nogroup
else
	user=$(id -un) group=$(id -gn)
	diag 'not root, or no mount namespace or setpriv here: the listener runs as this user, without the sandbox'
fi
mkdir -p "$state" "$tmp/etc/smsdesk"
# The configuration, where XDG_CONFIG_HOME=/etc puts it (here the test's
# etc), with the secret: the user's own, mode 0600.
(umask 077 && cat >"$tmp/etc/smsdesk/config" <<EOF
twilio_auth_token = $TOK
public_url = $public
group = $group
EOF
)
# The environment file: the shipped example, then the test's settings.
{
	cat "$p/share/doc/smsdesk/examples/systemd/smsdesk.env"
	echo "SMSDESK_INBOX=$ib"
	echo "XDG_CONFIG_HOME=$tmp/etc"
	echo "SMSDESK_LISTEN=127.0.0.1:\$PORT"
} >"$tmp/env.in"
if [ "$sandbox" = yes ]; then
	chmod 711 "$tmp"
	chmod 755 "$tmp/etc" "$tmp/etc/smsdesk"
	chmod 644 "$tmp/unit-exec.pl" "$tmp/env.in"
	chown "$user:$group" "$state" "$tmp/etc/smsdesk/config"
	chmod 750 "$state"
fi

# in_unit CMD...: CMD as the unit's process would be, as far as a test
# can, each as the unit says: in a mount namespace of its own where
# everything is read-only but $state (ProtectSystem=strict,
# ReadWritePaths=), /home and /root empty (ProtectHome=yes), as
# $user:$group, without capabilities (CapabilityBoundingSet=) or new
# privileges (NoNewPrivileges=yes). It is exec'd: its pid is the one
# started.
key() { sed -n "s/^$1=//p" "$unit"; }
in_unit() {
	if [ "$sandbox" = yes ]; then
		exec unshare -m sh -c '
		state=$1 user=$2 group=$3 ps=$4 ph=$5 nnp=$6 cbs=$7
		shift 7
		mount --bind "$state" "$state" || exit 71
		[ "$ps" = strict ] &&
		awk "{ print \$5 }" /proc/self/mountinfo | while read -r m; do
			case $m in
			/proc|/proc/*|/sys|/sys/*|/dev|/dev/*|"$state") ;;
			*) mount -o remount,bind,ro "$m" 2>/dev/null ;;
			esac
		done
		[ "$ph" = yes ] && for h in /home /root; do
			case $state in "$h"/*) continue ;; esac
			[ -d "$h" ] && mount -t tmpfs -o ro,mode=0755 tmpfs "$h"
		done
		set -- ${cbs:+--bounding-set=-all --inh-caps=-all} "$@"
		[ "$nnp" = yes ] && set -- --no-new-privs "$@"
		exec setpriv --reuid="$user" --regid="$group" --clear-groups "$@"
		' sh "$state" "$user" "$group" "$(key ProtectSystem)" \
		    "$(key ProtectHome)" "$(key NoNewPrivileges)" \
		    "$(grep -qx 'CapabilityBoundingSet=' "$unit" && echo none)" \
		    "$@"
	else
		exec "$@"
	fi
}

# running PID: whether PID runs (a zombie, not waited for yet, does not).
running() {
	[ -r "/proc/$1/stat" ] &&
	    [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]
}

# start: the listener, as its unit starts it, on $port (another if that
# one is taken at the first start); sets pid. Its stderr in $tmp/L.err.
starts=0
out=$tmp/L.out
[ "$(key StandardOutput)" = null ] && out=/dev/null
start() {
	st_try=0
	while [ "$st_try" -lt 20 ]; do
		sed "s/\\\$PORT/$port/" "$tmp/env.in" >"$tmp/env"
		[ "$sandbox" = yes ] && chmod 644 "$tmp/env"
		rm -f "$tmp/L.err"
		(in_unit perl "$tmp/unit-exec.pl" "$unit" ExecStart "$tmp/env") \
		    >>"$out" 2>"$tmp/L.err" </dev/null &
		pid=$!
		pids="$pids $pid"
		st_i=0
		while [ "$st_i" -lt 6000 ]; do
			grep -qs 'listening on' "$tmp/L.err" && {
				starts=$((starts + 1)); return 0; }
			running "$pid" || break
			sleep 0.01
			st_i=$((st_i + 1))
		done
		kill "$pid" 2>/dev/null
		wait "$pid"
		grep -qs 'cannot listen' "$tmp/L.err" || break
		if [ "$starts" -gt 0 ]; then
			sleep 0.1	# our own port, soon free
		else
			port=$(($(od -An -N2 -tu2 /dev/urandom) % 40000 + 20000))
		fi
		st_try=$((st_try + 1))
	done
	sed 's/^/# L: /' "$tmp/L.err" >&2
	return 1
}

# as_unit_user CMD...: a reader of the inbox, as the unit's user (the
# inbox trusts its owner and group only), with the unit's settings.
as_unit_user() {
	if [ "$sandbox" = yes ]; then
		setpriv --reuid="$user" --regid="$group" --clear-groups \
		    env -i PATH="$PATH" SMSDESK_INBOX="$ib" \
		    XDG_CONFIG_HOME="$tmp/etc" "$@"
	else
		env -i PATH="$PATH" SMSDESK_INBOX="$ib" \
		    XDG_CONFIG_HOME="$tmp/etc" HOME="$HOME" "$@"
	fi
}

# post ID: a customer's text, signed for the public URL, from a number
# the last two digits of ID make; prints the code.
post() {
	webhook "MessageSid=$1&AccountSid=$AC&From=%2B155509500${1#"${1%??}"}&To=%2B15550100000&Body=service+$1" \
	    --max-time 20
}

# stored: the provider ids the inbox shows, one a line, as the unit's
# user reads them.
stored() {
	for t in $(ls "$ib/msg" 2>/dev/null); do
		as_unit_user "$p/bin/inbox-ls" --json --no-mark "$t" || return 1
	done | jq -r 'select(.type == "message") | .provider_id' | sort
}

# What systemd alone enforces, and so the sandbox cannot play, is checked
# against what the programs do (strace(1), at the end): their system
# calls against SystemCallFilter=, the sockets they open against
# RestrictAddressFamilies=, no memory both writable and executable
# (MemoryDenyWriteExecute=). trace: whether strace is here and may trace.
# Not the sanitizer build: LeakSanitizer does not work under ptrace (the
# plain build traces the same code).
trace=no
command -v strace >/dev/null && command -v systemd-analyze >/dev/null &&
    ! grep -qa __asan_init "$p/bin/sms-recv" && trace=yes
# attach: strace the listener ($pid, as root from outside), into
# $tmp/st.recv.N, until it ends; no trace from then on if it cannot.
attach() {
	[ "$trace" = yes ] || return 0
	strace -f -qq -o "$tmp/st.recv.$starts" -p "$pid" 2>"$tmp/strace.err" &
	pids="$pids $!"
	poll "[ -s '$tmp/st.recv.$starts' ] || ! running $!" &&
	    [ -s "$tmp/st.recv.$starts" ] && return 0
	diag "strace cannot trace here: $(cat "$tmp/strace.err")"
	trace=no
}

pids=
if ! start; then
	fail 'the listener starts as its unit says'
	done_testing
fi
pass 'the listener starts as its unit says'
attach
check 'it says where it listens, and the public URL of the configuration' \
	'grep -q "listening on 127.0.0.1:$port for twilio.*public URL $public" \
	    "$tmp/L.err"'
check 'with the options of the example environment file (--per-address 0)' \
	'grep -q "any number from one address" "$tmp/L.err"'
if [ "$sandbox" = yes ]; then
	st=/proc/$pid/status
	is "it runs as $user:$group" \
	    "$(awk '/^Uid:/ { u = $2 } /^Gid:/ { g = $2 } END { print u ":" g }' "$st")" \
	    "$(id -u "$user"):$(getent group "$group" | cut -d: -f3)"
	is 'without capabilities, and no new privileges' \
	    "$(awk '/^(CapEff|CapBnd|NoNewPrivs):/ { printf "%s %s ", $1, $2 }' "$st")" \
	    'CapEff: 0000000000000000 CapBnd: 0000000000000000 NoNewPrivs: 1 '
	check 'in its own mount namespace, where only the state is writable' \
	    'test "$(readlink /proc/$pid/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" &&
	     grep -q " $tmp/state rw," /proc/$pid/mountinfo &&
	     grep -Eq "^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / ro," /proc/$pid/mountinfo'
	check 'with a clean environment: no secret from outside' \
	    '! tr "\0" "\n" </proc/$pid/environ | grep -q TWILIO_AUTH_TOKEN &&
	     tr "\0" "\n" </proc/$pid/environ | grep -qx "SMSDESK_LISTEN=127.0.0.1:$port"'
else
	for s in "it runs as the unit's user" 'without capabilities' \
	    'in its own mount namespace' 'with a clean environment'; do
		skip "$s" 'not root: no sandbox'
	done
fi

is 'a signed webhook: 200' "$(post SM950000000000000000000000000000001)" 200
check 'the inbox the unit names is made, for the trusted group' \
	'test -d "$ib/msg" &&
	 test "$(stat -c %G "$ib/msg")" = "$group" &&
	 { [ "$sandbox" = no ] || test "$(stat -c %a "$ib/msg")" = 2770; }'
is 'a forged one: 403' "$(TWILIO_AUTH_TOKEN=forged post SM950000000000000000000000000000002)" 403

# A burst, SIGKILLed half-way: Restart=on-failure starts it again.
: >"$tmp/burst"
(
	i=3
	while [ "$i" -le 60 ]; do
		id=SM95$(printf '%031d' "$i")
		echo "$(post "$id") $id" >>"$tmp/burst"
		i=$((i + 1))
	done
) &
bpid=$!
check 'a burst under way' \
	'poll "[ \$(grep -c \"^200 \" \"$tmp/burst\") -ge 10 ]"'
kill -9 "$pid"
wait "$pid" 2>/dev/null
killed=$?
check 'SIGKILL: a death Restart=on-failure restarts' 'restarts "$killed"'
if start; then
	pass 'started again, as the unit starts it'
	attach
else
	fail 'started again, as the unit starts it'
	done_testing
fi
diag "$(grep 'replayed' "$tmp/L.err" || echo 'nothing to replay')"
wait "$bpid"
grep '^200 ' "$tmp/burst" | cut -d' ' -f2 >"$tmp/acked"
diag "burst: $(wc -l <"$tmp/acked") of $(wc -l <"$tmp/burst") answered 200 across the kill"
# What was not answered 200 is sent again, as a provider does.
grep -v '^200 ' "$tmp/burst" | cut -d' ' -f2 | while read -r id; do
	echo "$(post "$id") $id"
done >"$tmp/retried"
is 'every retry after the restart: 200' \
	"$(grep -vc '^200 ' "$tmp/retried")" 0
stored >"$tmp/stored" || fail 'the inbox can be read as its user'
is 'nothing acknowledged is lost' \
	"$(sort "$tmp/acked" | comm -23 - "$tmp/stored")" ''
is 'nothing is stored twice, and every message is there' \
	"$(uniq -d "$tmp/stored"; seq -f 'SM95%031.0f' 3 60 | sort |
	    comm -23 - "$tmp/stored")" ''
check 'the first message is still there' \
	'grep -qx SM950000000000000000000000000000001 "$tmp/stored"'

# ExecReload=: SIGHUP. Before the listener reloads on it, SIGHUP would
# end it: checked once sms-recv(1) says it reloads.
if grep -q 'SIGHUP' "$top/man/sms-recv.1"; then
	check 'ExecReload= (SIGHUP): it goes on' \
	    '(perl "$tmp/unit-exec.pl" "$unit" ExecReload "$tmp/env" "$pid") &&
	     sleep 1 && running "$pid"'
	is 'and answers after it' "$(post SM950000000000000000000000000000099)" 200
else
	skip 'ExecReload= (SIGHUP): it goes on' 'sms-recv(1) has no SIGHUP reload yet'
	skip 'and answers after it' 'sms-recv(1) has no SIGHUP reload yet'
fi

# systemd stops with SIGTERM, then SIGKILL after TimeoutStopSec=.
t0=$(date +%s)
kill -TERM "$pid"
i=0
while running "$pid" && [ "$i" -lt $((${stop_s:-30} * 10)) ]; do
	sleep 0.1
	i=$((i + 1))
done
t1=$(date +%s)
kill -9 "$pid" 2>/dev/null
wait "$pid"
rc=$?
is 'SIGTERM: exit 0' "$rc" 0
[ "$rc" = 0 ] || tail -n 20 "$tmp/L.err" | sed 's/^/# L: /' >&2
check_fail 'which Restart=on-failure does not restart' 'restarts "$rc"'
check "within TimeoutStopSec= (${stop_s}s)" \
	'[ -n "$stop_s" ] && [ $((t1 - t0)) -lt "$stop_s" ]'
check 'it stopped cleanly: its journal checkpointed and gone' \
	'test -z "$(ls "$ib/journal")"'

# The jobs, each as its unit runs it (in the same sandbox), on the inbox
# the listener filled: nothing they do needs more than the inbox. Those
# that need the network of a provider, polling and the modem's spool,
# are not run here.
cat >>"$tmp/etc/smsdesk/config" <<EOF
twilio_account_sid = $AC
twilio_api_url = http://127.0.0.1:9
from = $US
retention = 365d
EOF
check 'an agent on shift, for the routing job' \
	'as_unit_user "$p/bin/assign" --add ana >/dev/null'
listener=$unit
for j in assign csat due media woke retention check; do
	unit=$ud/smsdesk-$j.service
	# Traced from inside the sandbox, into the one place it may write.
	st=
	[ "$trace" = yes ] && st="strace -f -qq -o $state/st.$j"
	check "smsdesk-$j.service runs as its unit says: exit 0" \
	    '(in_unit $st perl "$tmp/unit-exec.pl" "$unit" ExecStart "$tmp/env") \
	        >"$tmp/job.out" 2>&1 </dev/null || { cat "$tmp/job.out"; false; }'
	[ -f "$state/st.$j" ] && mv "$state/st.$j" "$tmp/st.$j"
done
unit=$listener
check 'the routing job gave ana the waiting conversations' \
	'test "$(as_unit_user "$p/bin/inbox-ls" --assignee ana | wc -l)" -gt 0'

# The traces, each against its unit. Only what the program does counts:
# from its execve on (perl, setpriv and strace before it are the test's).
if [ "$trace" = yes ]; then
	systemd-analyze syscall-filter >"$tmp/filters" 2>/dev/null
	for f in "$tmp"/st.*; do
		# The listener's, attached to once it ran: all of them its.
		case $f in
		*/st.recv.*) u=$ud/smsdesk-recv.service attached=1 ;;
		*) u=$ud/smsdesk-${f##*/st.}.service attached=0 ;;
		esac
		what=$(basename "$u")
		[ -s "$f" ] || { fail "$what: traced"; continue; }
		perl -e '
		my ($trace, $unit, $filters, $bin, $on) = @ARGV;
		open my $u, "<", $unit or die;
		my ($filter, @fam);
		while (<$u>) {
			$filter = $1 if /^SystemCallFilter=(\S+)$/;
			@fam = split " ", $1 if /^RestrictAddressFamilies=(.*)$/;
		}
		# The filter, its groups expanded.
		open my $g, "<", $filters or die;
		my (%grp, $cur);
		while (<$g>) {
			chomp;
			if (/^(@\S+)/) { $cur = $1; next }
			s/^\s+//;
			push @{$grp{$cur}}, $_ if $cur && $_ ne "" && !/^#/;
		}
		my (%allow, %seen);
		my @q = ($filter);
		while (@q) {
			my $x = shift @q;
			next if $seen{$x}++;
			for (@{$grp{$x} || []}) {
				if (/^@/) { push @q, $_ } else { $allow{$_} = 1 }
			}
		}
		my %fam = map { $_ => 1 } @fam;
		open my $t, "<", $trace or die;
		my (%bad, %sock, @wx);
		while (<$t>) {
			$on = 1 if !$on && /execve\("\Q$bin\E\/[^"]+".* = 0$/;
			next unless $on;
			my ($sc) = /^\d+\s+(?:<\.\.\. )?([a-z_0-9]+)[( ]/ or next;
			$bad{$sc}++ unless $allow{$sc};
			$sock{$1}++ if /^\d+\s+socket(?:pair)?\((AF_[A-Z0-9]+)/;
			push @wx, $_ if /^\d+\s+(?:mmap|mprotect|pkey_mprotect)\(.*PROT_WRITE\|PROT_EXEC/;
		}
		die "no execve of the program
" unless $on;
		my @out;
		push @out, "not in $filter: " . join(" ", sort keys %bad) if %bad;
		my @nf = grep { !$fam{$_} } sort keys %sock;
		push @out, "socket families not allowed: @nf" if @nf;
		push @out, "writable and executable: $wx[0]" if @wx;
		print "$_
" for @out;
		' "$f" "$u" "$tmp/filters" "$p/bin" "$attached" >"$tmp/st.bad" 2>&1
		is "$what: what it did ($(basename "$f")) its unit allows" \
		    "$(cat "$tmp/st.bad")" ''
	done
else
	skip 'the system calls, sockets and memory the programs use, against their units' \
	    'no strace here (Debian: strace), it may not trace, or a sanitizer build'
fi

# The inbox the units kept: inbox-check, as the unit's user checks it
# (smsdesk-check.service), finds nothing wrong. It is the unit user's and
# its group's, not root's: the check at the end of the test leaves it.
check "inbox-check, as $user, finds nothing wrong in the units' inbox" \
	'o=$(as_unit_user inbox-check 2>&1) && [ -z "$o" ] ||
	 { printf "%s\n" "$o"; false; }'
inbox_check_skip=$ib

# A configuration that is wrong: exit 78 at once, and no restart (a
# restart would fail the same way, every 2 s).
echo 'group = no-such-group-0950' >>"$tmp/etc/smsdesk/config"
(in_unit perl "$tmp/unit-exec.pl" "$unit" ExecStart "$tmp/env") \
    >/dev/null 2>"$tmp/bad.err" </dev/null &
bad=$!
pids="$pids $bad"
check 'a group that does not exist: it ends' \
	'poll "! running $bad"'
kill -9 "$bad" 2>/dev/null
wait "$bad"
rc=$?
is 'exit 78' "$rc" 78
check_fail 'which RestartPreventExitStatus= keeps from restarting' \
	'restarts "$rc"'

done_testing
