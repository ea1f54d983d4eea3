#!/usr/bin/env bash
# inbox.sh: how many durable deliveries per second sms-recv --listen makes,
# against the plain fsync limit of the same disk, and how long inbox-ls
# takes to list the working set of a large inbox (issue 3, "What must be
# shown"; DESIGN.md section 9).
#
# Run by `make bench-inbox` (and `make bench`), never by `make check`. It
# builds its helpers (fsync-loop.c, post-load.c, mkinbox.c, timeit.c) into
# a scratch directory against the library, then:
#
# (a) for each concurrency C, the plain limit (fsync-loop: write 400 bytes
#     in tmp/, fsync, link into new/, fsync new/, with C writer threads)
#     and the listener (a fresh inbox, sms-recv --listen on 127.0.0.1,
#     post-load sending signed Twilio webhooks on C keep-alive
#     connections), each for SECONDS, in the same scratch directory so
#     both figures belong to the same file system. Before the timed run
#     each of NUMBERS customers writes once, so that the timed messages
#     land in existing conversations, the common case. The whole sequence
#     runs ROUNDS times and the best rate of each is kept: other work on
#     the machine only ever makes a figure worse. Every 200 must be a
#     stored message: the messages in the inbox are counted afterwards.
#     No run's files are removed before the end: on ext4 without a
#     journal a new file scans past the inodes freed in the last minutes,
#     so removing one run's files would slow whichever run came next.
# (b) an inbox of 2,000 open conversations, grown to 10,000, 98,000 and
#     100,000 resolved ones behind them (100,000 conversations in all at
#     98,000, the issue's case), and finally a backlog played through
#     work/; at each step inbox-ls --json (the working set) and at the
#     large steps inbox-ls --all --json, warm, best of RUNS.
# (c) the listener as in (a), at PCONNS connections, for each provider of
#     PROVIDERS in turn (post-load -P: Twilio's signed form, Telnyx's
#     Ed25519-signed JSON, Plivo's V3-signed form, Vonage's form signed
#     with sig by md5hash, a nonce each), rounds interleaved,
#     best kept, each against Twilio's figure of the same run.
#
# Targets (issue 3): the listener within 80 % of the plain fsync rate at
# equal concurrency; the working set under 50 ms warm whatever the
# history. Issue 19: no provider's listener slower than Twilio's by more
# than 20 %. Targets are reported, not enforced.
#
# Environment:
#   SMSDESK_BIN             directory holding sms-recv and inbox-ls
#                           (default build/bin)
#   SMSDESK_LIB             libsmsdesk.a (default build/libsmsdesk.a)
#   SMSDESK_BENCH_SECONDS   length of each load and fsync run (default 10)
#   SMSDESK_BENCH_CONNS     listener concurrencies (default "1 8 32")
#   SMSDESK_BENCH_WRITERS   fsync-loop concurrencies (default "1 8")
#   SMSDESK_BENCH_NUMBERS   customer numbers the load draws From from
#                           (default 1000)
#   SMSDESK_BENCH_ROUNDS    rounds of part (a), best kept (default 2)
#   SMSDESK_BENCH_OPEN      open conversations of part (b) (default 2000)
#   SMSDESK_BENCH_RUNS      timed runs per listing, best kept (default 5)
#   SMSDESK_BENCH_PART      any of a, b and c (default ab)
#   SMSDESK_BENCH_PROVIDERS part (c)'s providers (default
#                           "twilio telnyx plivo vonage")
#   SMSDESK_BENCH_PCONNS    part (c)'s connections (default 8)
#
# Exit status: 0; 1 if a tool fails or stores other than it acknowledged;
# 2 on a usage or setup error.

set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../.." && pwd -P)
bin=${SMSDESK_BIN:-$top/build/bin}
lib=${SMSDESK_LIB:-$top/build/libsmsdesk.a}
secs=${SMSDESK_BENCH_SECONDS:-10}
conns=${SMSDESK_BENCH_CONNS:-1 8 32}
writers=${SMSDESK_BENCH_WRITERS:-1 8}
numbers=${SMSDESK_BENCH_NUMBERS:-1000}
rounds=${SMSDESK_BENCH_ROUNDS:-2}
nopen=${SMSDESK_BENCH_OPEN:-2000}
runs=${SMSDESK_BENCH_RUNS:-5}
part=${SMSDESK_BENCH_PART:-ab}
providers=${SMSDESK_BENCH_PROVIDERS:-twilio telnyx plivo vonage}
pconns=${SMSDESK_BENCH_PCONNS:-8}
pkgs="jansson libutf8proc libcrypto libsodium libmicrohttpd"
status=0
listener=

die() {
	echo "inbox.sh: $*" >&2
	exit 2
}

fail() {
	echo "inbox.sh: $*" >&2
	status=1
}

for v in "$secs" "$numbers" "$rounds" "$nopen" "$runs" "$pconns" $conns \
    $writers; do
	case $v in
	'' | *[!0-9]* | 0) die "bad count: '$v'" ;;
	esac
done
case $part in
*[!abc]* | '') die "SMSDESK_BENCH_PART: '$part' is not made of a, b and c" ;;
esac
for p in $providers; do
	case $p in
	twilio | telnyx | plivo | vonage) ;;
	*) die "SMSDESK_BENCH_PROVIDERS: '$p' is not twilio, telnyx, plivo or" \
	    "vonage" ;;
	esac
done
case $part in *[ac]*) need="sms-recv" ;; *) need= ;; esac
case $part in *b*) need="$need inbox-ls" ;; esac
for p in $need; do
	[ -x "$bin/$p" ] || die "$bin/$p: not found or not executable (run make)"
done
[ -f "$lib" ] || die "$lib: not found (run make)"
cc=${CC:-cc}
command -v "$cc" >/dev/null || die "$cc: not found"
flags=$(pkg-config --cflags --libs $pkgs) || die "pkg-config: $pkgs"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/smsdesk-bench.XXXXXX") ||
	die "cannot make a scratch directory"
cleanup() {
	[ -n "$listener" ] && kill "$listener" 2>/dev/null && wait "$listener"
	[ -d "$scratch/ls-inbox" ] &&
		echo "inbox.sh: removing the fixture (may take minutes)" >&2
	rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

for h in fsync-loop post-load mkinbox timeit; do
	"$cc" -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 \
	    -Wall -Wextra -I"$top/lib" -pthread -o "$scratch/$h" \
	    "$here/$h.c" "$lib" $flags || die "cannot build $h.c"
done

calc() {
	awk "BEGIN { $1 }" </dev/null
}

# kv KEY LINE: the value of KEY=VALUE in LINE.
kv() {
	local w
	for w in $2; do
		case $w in "$1"=*) echo "${w#*=}"; return 0 ;; esac
	done
	echo 0
}

echo "smsdesk inbox benchmark"
echo "scratch: $scratch (inbox and fsync loop on this file system)"
df -T "$scratch" | sed 's/^/  /'
if command -v findmnt >/dev/null; then
	echo "mount:   $(findmnt -n -o SOURCE,FSTYPE,OPTIONS -T "$scratch")"
fi
# Whether fsyncs can share a journal commit matters to every figure below.
dev=$(df -P "$scratch" | awk 'NR == 2 { print $1 }')
if [ -r "/sys/fs/ext4/${dev##*/}/journal_task" ]; then
	j=$(cat "/sys/fs/ext4/${dev##*/}/journal_task")
	[ "$j" = "<none>" ] && j="none: each fsync writes its own blocks"
	echo "journal: $j"
fi
printf 'host:    %s, %s CPUs, kernel %s\n' \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
    "$(getconf _NPROCESSORS_ONLN)" "$(uname -r)"
load() {
	echo "load:    $(cut -d ' ' -f 1-3 /proc/loadavg) (1, 5, 15 min) $1"
}
load "at the start"
echo

# --- (a) deliveries per second ---------------------------------------

. "$here/lib.sh"

stop_listener() {
	local rc
	kill -TERM "$listener"
	wait "$listener"
	rc=$?
	listener=
	return "$rc"
}

# better NEW OLD: whether rate NEW beats OLD (or OLD is unset).
better() {
	[ -z "$2" ] || [ "$(calc "print ($1 > $2)")" = 1 ]
}

# plain C: the fsync loop with C writers; keeps the best rate in plain_C.
plain() {
	local c=$1 d=$scratch/fsync-$1.$round out r old
	mkdir "$d" || return 1
	if ! out=$("$scratch/fsync-loop" "$d" "$secs" "$c"); then
		fail "fsync-loop $c: failed"
		return 1
	fi
	r=$(kv rate "$out")
	eval "old=\${plain_$c:-}"
	better "$r" "$old" && eval "plain_$c=$r"
}

# listen C: the listener under post-load on C connections; keeps the
# best run in listen_C, p50_C, p99_C, stored_C.
listen() {
	local c=$1 ib=$scratch/inbox-c$1.$round out warm rc ok stored r old
	start_listener "$bin" "$ib" "$scratch/log-c$c" "$scratch/events-c$c" ||
		{ status=1; return 1; }
	warm=$("$scratch/post-load" -p "$port" -S -c 8 -n "$numbers" -t 120 \
	    -f "$numbers") || fail "post-load (opening conversations): $warm"
	out=$("$scratch/post-load" -p "$port" -c "$c" -t "$secs" \
	    -f "$numbers")
	rc=$?
	stop_listener || fail "sms-recv --listen (C=$c): exit $?"
	[ "$rc" -eq 0 ] || fail "post-load -c $c: exit $rc: $out"
	ok=$(($(kv ok "$warm") + $(kv ok "$out")))
	stored=$(find "$ib/msg" -type f | wc -l)
	[ "$stored" -eq "$ok" ] ||
		fail "C=$c: $ok acknowledged but $stored messages stored"
	r=$(kv rate "$out")
	eval "old=\${listen_$c:-}"
	if better "$r" "$old"; then
		eval "listen_$c=$r p50_$c=$(kv p50_ms "$out")"
		eval "p99_$c=$(kv p99_ms "$out") stored_$c=$stored"
	fi
}

# The plain rate to hold the listener at C against: C writers if
# measured, else the most writers measured below C.
plain_for() {
	local c=$1 w best=
	for w in $writers; do
		[ "$w" -le "$c" ] && { [ -z "$best" ] || [ "$w" -gt "$best" ]; } &&
			best=$w
	done
	echo "$best"
}

if [[ $part == *a* ]]; then
	export TWILIO_AUTH_TOKEN=0123456789abcdef0123456789abcdef
	all=$(printf '%s\n' $conns $writers | sort -n -u)
	echo "(a) durable deliveries per second, $secs s per run, best of" \
	    "$rounds rounds; messages from $numbers customers into their" \
	    "open conversations"
	for ((round = 0; round < rounds; round++)); do
		for c in $all; do
			case " $writers " in *" $c "*) plain "$c" ;; esac
			case " $conns " in *" $c "*) listen "$c" ;; esac
		done
	done
	echo
	printf '%-22s %5s %9s %8s %8s %9s  %s\n' what C "per s" \
	    "p50 ms" "p99 ms" stored "vs plain"
	for w in $writers; do
		eval "r=\${plain_$w:-}"
		[ -n "$r" ] && printf '%-22s %5s %9.0f %8s %8s %9s\n' \
		    "plain fsync loop" "$w" "$r" - - -
	done
	met=1
	for c in $conns; do
		eval "r=\${listen_$c:-}"
		[ -n "$r" ] || continue
		eval "p50=\$p50_$c p99=\$p99_$c st=\$stored_$c"
		w=$(plain_for "$c")
		vs=-
		if [ -n "$w" ]; then
			eval "pr=\${plain_$w:-0}"
			if [ "$(calc "print ($pr > 0)")" = 1 ]; then
				pct=$(calc "printf \"%.0f\", 100 * $r / $pr")
				vs="$pct % of plain at $w"
				[ "$pct" -ge 80 ] || met=0
			fi
		fi
		printf '%-22s %5s %9.0f %8s %8s %9s  %s\n' \
		    "sms-recv --listen" "$c" "$r" "$p50" "$p99" "$st" "$vs"
	done
	echo "(per s: 200s per second for the listener, files per second" \
	    "for the loop; stored: messages found in that run's inbox," \
	    "$numbers of them from opening the conversations)"
	if [ "$met" = 1 ]; then
		echo "target: listener within 80 % of the plain rate: met"
	else
		echo "target: listener within 80 % of the plain rate: NOT met"
	fi
	echo
fi

# --- (b) inbox-ls on a large inbox -------------------------------------

# time_ls WHAT WANT ARGS...: inbox-ls ARGS warm, best of $runs; checks
# that it wrote WANT lines; prints a table row.
time_ls() {
	local what=$1 want=$2 out lines
	shift 2
	if ! out=$("$scratch/timeit" "$runs" "$scratch/ls.out" \
	    "$bin/inbox-ls" --dir "$lsib" "$@" 2>"$scratch/ls.err"); then
		fail "inbox-ls $*: failed"
		head -n 5 "$scratch/ls.err" >&2
		return 1
	fi
	lines=$(wc -l <"$scratch/ls.out")
	[ "$lines" -eq "$want" ] ||
		fail "inbox-ls $*: $lines lines, want $want"
	row_best=$(kv best_ms "$out")
	printf '%8d %9d  %-29s %8d %9s %9s %8s\n' "$nopen" "$hist" "$what" \
	    "$lines" "$row_best" "$(kv median_ms "$out")" "$(kv cpu_ms "$out")"
}

# grow RESOLVED: the fixture with $nopen open and RESOLVED resolved.
grow() {
	hist=$1
	"$scratch/mkinbox" "$lsib" "$nopen" "$hist" >"$scratch/mk.out" ||
		{ fail "mkinbox $nopen $hist: failed"; return 1; }
}

if [[ $part == *b* ]]; then
	lsib=$scratch/ls-inbox
	load "before (b)"
	echo "(b) inbox-ls --json, warm (one run first), best and median of" \
	    "$runs"
	printf '%8s %9s  %-29s %8s %9s %9s %8s\n' open resolved listing \
	    lines "best ms" "median ms" "cpu ms"
	for h in 0 10000 98000 100000; do
		grow "$h" || break
		time_ls "working set" "$nopen" --json || continue
		eval "ws_$h=\$row_best"
		case $h in
		98000 | 100000)
			time_ls "--all" "$((nopen + h))" --all --json ;;
		esac
	done
	if "$scratch/mkinbox" -b "$lsib" "$nopen" 100000 >"$scratch/mk.out"
	then
		time_ls "working set after a backlog" "$nopen" --json &&
			ws_peak=$row_best
	else
		fail "mkinbox -b: failed"
	fi
	echo "(cpu ms: least user + system time of the runs; backlog: all" \
	    "100000 resolved ones were in work/ at once and left it)"
	if [ -n "${ws_0:-}" ] && [ -n "${ws_100000:-}" ]; then
		echo "working set with 100000 resolved behind it: ${ws_100000}" \
		    "ms, with none: ${ws_0} ms ($(calc "printf \"%.2f\", \
		    $ws_100000 / $ws_0")x)"
		if [ "$(calc "print ($ws_100000 < 50 && $ws_0 < 50)")" = 1 ]
		then
			echo "target: working set under 50 ms warm: met"
		else
			echo "target: working set under 50 ms warm: NOT met"
		fi
	fi
fi

# --- (c) the listener, provider by provider ------------------------------

# plisten P: the listener for provider P under post-load -P P on $pconns
# connections, as listen does; keeps the best run in prate_P, pp50_P and
# pp99_P.
plisten() {
	local p=$1 ib=$scratch/inbox-$1.$round out warm rc ok stored r old
	SMSDESK_PROVIDER=$p start_listener "$bin" "$ib" "$scratch/log-$p" \
	    "$scratch/events-$p" || { status=1; return 1; }
	warm=$("$scratch/post-load" -P "$p" -p "$port" -S -c 8 -n "$numbers" \
	    -t 120 -f "$numbers") || fail "post-load -P $p (opening): $warm"
	out=$("$scratch/post-load" -P "$p" -p "$port" -c "$pconns" \
	    -t "$secs" -f "$numbers")
	rc=$?
	stop_listener || fail "sms-recv --listen ($p): exit $?"
	[ "$rc" -eq 0 ] || fail "post-load -P $p: exit $rc: $out"
	ok=$(($(kv ok "$warm") + $(kv ok "$out")))
	stored=$(find "$ib/msg" -type f | wc -l)
	[ "$stored" -eq "$ok" ] ||
		fail "$p: $ok acknowledged but $stored messages stored"
	r=$(kv rate "$out")
	eval "old=\${prate_$p:-}"
	if better "$r" "$old"; then
		eval "prate_$p=$r pp50_$p=$(kv p50_ms "$out")"
		eval "pp99_$p=$(kv p99_ms "$out")"
	fi
}

if [[ $part == *c* ]]; then
	# The secrets the listener checks with, and post-load signs with
	# (Telnyx: the key pair of the seed 0x00..0x1f, providers.md's).
	export TWILIO_AUTH_TOKEN=0123456789abcdef0123456789abcdef
	export PLIVO_AUTH_TOKEN=bench-plivo-token
	export VONAGE_SIGNATURE_SECRET=bench-vonage-secret
	unset VONAGE_SIGNATURE_METHOD	# md5hash, Vonage's default
	export TELNYX_PUBLIC_KEY=A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=
	echo "(c) the listener by provider, $pconns connections, $secs s a" \
	    "run, best of $rounds rounds, rounds interleaved"
	for ((round = 0; round < rounds; round++)); do
		for p in $providers; do
			plisten "$p"
		done
	done
	echo
	printf '%-10s %5s %9s %8s %8s  %s\n' provider C "per s" "p50 ms" \
	    "p99 ms" "vs twilio"
	met=1
	tw=${prate_twilio:-}
	for p in $providers; do
		eval "r=\${prate_$p:-}"
		[ -n "$r" ] || continue
		eval "p50=\$pp50_$p p99=\$pp99_$p"
		vs=-
		if [ -n "$tw" ] && [ "$p" != twilio ]; then
			pct=$(calc "printf \"%.0f\", 100 * $r / $tw")
			vs="$pct %"
			[ "$pct" -ge 80 ] || met=0
		fi
		printf '%-10s %5s %9.0f %8s %8s  %s\n' "$p" "$pconns" "$r" \
		    "$p50" "$p99" "$vs"
	done
	if [ -z "$tw" ]; then
		echo "target: no figure for twilio to hold the others to"
	elif [ "$met" = 1 ]; then
		echo "target: every provider within 20 % of twilio: met"
	else
		echo "target: every provider within 20 % of twilio: NOT met"
	fi
	echo
fi
exit "$status"
