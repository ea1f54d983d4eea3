#!/usr/bin/env bash
# send-latency.sh: sms-send(1) against a carrier that takes its time to
# answer, as real ones do (100-500 ms), beside the official twilio library
# for Node at the same concurrency (issue 14, "Fast on a real disk").
#
# Run by `make bench-send`, after send.sh; never by `make check`. In a
# scratch directory it generates N NDJSON records (as send.sh does), then:
#
# (0) checks that sms-sim itself serves C connections waiting LATENCY ms
#     each in parallel: PROBE_N requests by curl --parallel, C at once,
#     against sms-sim --latency LATENCY; the time it took against the
#     bound PROBE_N / C * LATENCY.
# (a) ROUNDS alternating rounds, each against a fresh
#     sms-sim --latency LATENCY on 127.0.0.1:
#       sms-send -d INBOX --jobs C, the inbox in the scratch directory
#         (the disk);
#       peer-send.js FILE C: the twilio library, C create() promises in
#         flight on kept-alive connections, nothing stored.
#     The best time of each is kept, and the largest peak memory.
#
# It prints messages a second, the share of the bound C / LATENCY (no
# client can send faster with C requests in flight), the peak resident
# set of both, and the ratios. Targets (issue 14): sms-send at 90 % of
# the bound or more, faster than the library, in under a quarter of its
# memory. Reported, not enforced.
#
# Environment (and as in send.sh: SMSDESK_BIN, SMSDESK_BENCH_CACHE,
# SMSDESK_BENCH_PEER, SMSDESK_BENCH_TWILIO, SMSDESK_BENCH_RSS, and
# SMSDESK_BENCH_FS (by default, as root, a fresh loop-mounted ext4 for
# every run of either side) with SMSDESK_BENCH_MKFS and
# SMSDESK_BENCH_LOOP_MB):
#   SMSDESK_BENCH_LAT_N        messages per run (default 3840)
#   SMSDESK_BENCH_LAT_C        requests in flight (default 256)
#   SMSDESK_BENCH_LAT_MS       sms-sim --latency (default 200)
#   SMSDESK_BENCH_LAT_ROUNDS   rounds, best kept (default 3)
#   SMSDESK_BENCH_LAT_PROBE_N  requests of the sms-sim check (default 4 C)
#   SMSDESK_BENCH_NUMBERS      customers the messages go to (default 1000)
#   SMSDESK_BENCH_PART         when set, this runs only if it holds "l"
#                              (make bench-send runs send.sh, then this)
#
# Exit status: 0; 1 if a tool fails or sms-sim did not create every
# message; 2 on a usage or setup error.

set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../.." && pwd -P)
bin=${SMSDESK_BIN:-$top/build/bin}
n=${SMSDESK_BENCH_LAT_N:-3840}
conc=${SMSDESK_BENCH_LAT_C:-256}
lat=${SMSDESK_BENCH_LAT_MS:-200}
rounds=${SMSDESK_BENCH_LAT_ROUNDS:-3}
probe_n=${SMSDESK_BENCH_LAT_PROBE_N:-$((4 * conc))}
numbers=${SMSDESK_BENCH_NUMBERS:-1000}
cache=${SMSDESK_BENCH_CACHE:-${HOME:-/nonexistent}/.cache/smsdesk-bench}
peer_pkg=twilio
peer_ver=${SMSDESK_BENCH_TWILIO:-6.2.0}
status=0
sim=

die() {
	echo "send-latency.sh: $*" >&2
	exit 2
}

fail() {
	echo "send-latency.sh: $*" >&2
	status=1
}

. "$here/lib.sh"

case ${SMSDESK_BENCH_PART:-l} in
*l*) ;;
*) exit 0 ;;
esac
for v in "$n" "$conc" "$lat" "$rounds" "$probe_n" "$numbers"; do
	case $v in
	'' | *[!0-9]* | 0) die "bad count: '$v'" ;;
	esac
done
[ "$numbers" -le 10000 ] || die "SMSDESK_BENCH_NUMBERS: at most 10000"
for p in sms-send sms-sim; do
	[ -x "$bin/$p" ] ||
		die "$bin/$p: not found or not executable (run make)"
done
fs_check

scratch=$(mktemp -d "${TMPDIR:-/tmp}/smsdesk-bench.XXXXXX") ||
	die "cannot make a scratch directory"
scratch=$(cd "$scratch" && pwd -P) || die "cannot enter $scratch"
mnt=
cleanup() {
	if [ -n "$sim" ]; then
		kill "$sim" 2>/dev/null
		wait "$sim" 2>/dev/null
	fi
	loop_down
	drop_scratch "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

unset SMSDESK_INBOX SMSDESK_PUBLIC_URL SMSDESK_PROVIDER TWILIO_API_KEY \
	TWILIO_API_SECRET TWILIO_MESSAGING_SERVICE_SID SMSDESK_COUNTRY \
	TWILIO_EDGE TWILIO_REGION HTTP_PROXY http_proxy
export XDG_CONFIG_HOME=$scratch/config
export TWILIO_ACCOUNT_SID=AC0123456789abcdef0123456789abcdef
export TWILIO_AUTH_TOKEN=bench0123456789abcdef0123456789
export TWILIO_FROM=+15550100000
# Notices: a message without a purpose is marketing, which the rules of
# smsdesk-rules(5) hold to hours and caps by the recipient's place.
export SMSDESK_PURPOSE=notification

msgs=$scratch/messages.ndjson
gen_messages "$n" "$numbers" "$msgs" || die "cannot generate the messages"
peer_setup
sim_opts=(--latency "$lat")
bound=$(calc "print $conc * 1000 / $lat")

echo "smsdesk send benchmark, latency: sms-sim --latency $lat," \
    "$conc requests in flight"
echo "sms-send: $bin/sms-send, against $bin/sms-sim (fresh for each run)"
echo "messages: $n to $numbers customers, one segment each, unique keys"
echo "scratch:  $scratch"
if [ "$fs" = loop ]; then
	echo "disk:     loop: a fresh ext4 (${loop_mb} MB, mkfs.ext4 $mkfs_opts)" \
	    "for every run of either side"
else
	echo "disk:     the scratch directory's, every run's inbox kept to the" \
	    "end (SMSDESK_BENCH_FS=loop, as root, for a fresh ext4 per run)"
fi
if command -v findmnt >/dev/null; then
	echo "          $(findmnt -n -o SOURCE,FSTYPE,OPTIONS -T "$scratch")"
fi
if [ "$peer" = 1 ]; then
	echo "peer:     $peer_pkg $peer_ver (npm), node $(node --version)"
else
	echo "peer:     skipped ($peer_why)"
fi
printf 'host:     %s CPUs, load %s (1, 5, 15 min) at the start\n' \
    "$(getconf _NPROCESSORS_ONLN)" "$(cut -d ' ' -f 1-3 /proc/loadavg)"
echo "bound:    $conc in flight / $lat ms = $bound messages a second"
echo

# --- (0) sms-sim itself --------------------------------------------------

if command -v curl >/dev/null &&
    curl --help all 2>/dev/null | grep -q -- --parallel-max; then
	url=/2010-04-01/Accounts/$TWILIO_ACCOUNT_SID/Messages.json
	if start_sim "$scratch/sim.log"; then
		for ((i = 0; i < probe_n; i++)); do
			printf 'url = "%s%s"\noutput = "/dev/null"\n' \
			    "$TWILIO_API_URL" "$url"
		done >"$scratch/probe.cfg"
		t0=$(now)
		curl -sS -Z --parallel-immediate --parallel-max "$conc" \
		    -u "$TWILIO_ACCOUNT_SID:$TWILIO_AUTH_TOKEN" \
		    -K "$scratch/probe.cfg" 2>"$scratch/err"
		t1=$(now)
		stop_sim
		got=$(grep -c ' 200 ' "$scratch/sim.log")
		printf '(0) sms-sim: %d list requests by curl, %d at once,' \
		    "$probe_n" "$conc"
		printf ' in %.3f s (bound %.3f s: %.0f %%); %d answered 200\n' \
		    "$(calc "print $t1 - $t0")" \
		    "$(calc "print $probe_n / $conc * $lat / 1000")" \
		    "$(calc "print 100 * ($probe_n / $conc * $lat / 1000) / \
		    ($t1 - $t0)")" "$got"
		[ "$got" -eq "$probe_n" ] ||
			fail "sms-sim answered $got of $probe_n requests"
	else
		status=1
	fi
else
	echo "(0) sms-sim: not checked (no curl with --parallel-max)"
fi
echo

# --- (a) sms-send and the library ----------------------------------------

# one NAME IN CMD...: one measured run of CMD <IN against a fresh sms-sim;
# checks exit 0 and N creates; keeps the figures under NAME.
one() {
	local name=$1
	shift
	sim_run "$name" "$n" "$@" || return 1
	printf '  round %d %-9s %7.3f s %8.0f msgs/s %8d KiB\n' "$r" "$name" \
	    "$secs" "$(calc "print $n / $secs")" "$rss"
	keep "$name"
}

echo "(a) $n messages per run, best of $rounds alternating rounds"
for ((r = 1; r <= rounds; r++)); do
	# Kept to the end: removing a run's files would slow the next run
	# on ext4 without a journal (send.sh).
	ib=$scratch/inbox.$r
	if [ "$fs" = loop ]; then
		loop_up || break
		ib=$mnt/inbox
	fi
	mkinbox "$ib"
	one sms_send "$msgs" "$bin/sms-send" -d "$ib" --jobs "$conc"
	[ "$fs" = loop ] && loop_down
	if [ "$peer" = 1 ] && [ "$fs" = loop ]; then
		loop_up || break
		# Its working directory on the fresh disk, as sms-send's inbox
		# is (it writes nothing).
		if mkdir "$mnt/peer" && cd "$mnt/peer"; then
			one twilio /dev/null node "$here/peer-send.js" "$msgs" \
			    "$conc"
			cd "$top" || die "cannot cd to $top"
		fi
		loop_down
	elif [ "$peer" = 1 ]; then
		one twilio /dev/null node "$here/peer-send.js" "$msgs" "$conc"
	fi
done
echo

printf '%-26s %4s %8s %9s %9s %10s %7s\n' tool C "best s" msgs/s "of bound" \
    "peak KiB" "cpu s"
row() {	# label name
	local t m cpu
	eval "t=\${t_$2:-} m=\${m_$2:-} cpu=\${c_$2:-}"
	[ -n "$t" ] || return 0
	printf '%-26s %4s %8.3f %9.0f %8.1f%% %10s %7s\n' "$1" "$conc" "$t" \
	    "$(calc "print $n / $t")" "$(calc "print 100 * $n / $t / $bound")" \
	    "$m" "$cpu"
}
row "sms-send, inbox on disk" sms_send
row "twilio $peer_ver (node)" twilio
echo "(wall time including start-up; of bound: messages a second over" \
    "$conc / $lat ms; peak KiB: maximum resident set, measured with" \
    "${rss_how:-?}; every run checked: sms-sim answered 201 to each message)"
if [ -n "${t_sms_send:-}" ]; then
	share=$(calc "print 100 * $n / $t_sms_send / $bound")
	met="NOT met"
	[ "$(calc "print ($share >= 90)")" = 1 ] && met=met
	printf 'sms-send: %.1f %% of the bound  target 90 %%: %s\n' \
	    "$share" "$met"
fi
if [ -n "${t_sms_send:-}" ] && [ -n "${t_twilio:-}" ]; then
	x=$(calc "printf \"%.2f\", $t_twilio / $t_sms_send")
	mr=$(calc "printf \"%.3f\", $m_sms_send / $m_twilio")
	met="NOT met"
	[ "$(calc "print ($x > 1 && $mr < 0.25)")" = 1 ] && met=met
	printf 'against the library: %.2fx the throughput, %.3f of the' "$x" \
	    "$mr"
	printf ' memory  target (faster, under 0.25): %s\n' "$met"
fi
exit "$status"
