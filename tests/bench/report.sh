#!/usr/bin/env bash
# report.sh: how long csat-survey report takes over months of history,
# with how much memory, next to jq working out some of the same figures
# from the same files (issue 16, "Speed and memory").
#
# Run by `make bench-report`, never by `make check`. It builds
# mkhistory.c and timeit.c into a scratch directory against the library
# and makes an inbox whose history/ holds CONVERSATIONS conversations and
# about MESSAGES messages over DAYS days (mkhistory: about 1.8 lines of
# events a message, 320 MB for the default million), with the working set
# that leaves; the clock is pinned at its end (SMSDESK_NOW). The page
# cache is warm for every timed run (timeit runs each command once
# first). Then:
#
# (a) csat-survey report --since 90d, 30d and 7d: timeit's best and
#     median wall time of RUNS runs, CPU time and peak resident memory
#     (the NDJSON total checked each time).
# (b) the peer, jq 1.6 (Debian's), over the same day files: two volume
#     figures of the report, the messages in and out of the period, with
#     `jq -n 'reduce inputs ...'`, streaming, so its memory is one record
#     at a time (`jq -s` would hold 320 MB of records; and counting the
#     distinct conversations in a jq object as a set took over 11 minutes
#     of CPU for 90 days before it was stopped: each update copies it);
#     once each for 7 and 90 days, wall time and peak memory by GNU time;
#     its figures must equal the report's. The ratio of the two wall times
#     is printed.
# (c) memory and time flat in the history outside the period: DAYS older
#     days of CONVERSATIONS other conversations are added before the
#     first (the history twice as long), and the 7- and 90-day reports
#     run again: the day files before --since are never opened.
#
# Goals (issue 16): under 2 s for 90 days; memory flat in the history
# outside the period. Reported, not enforced.
#
# Environment:
#   SMSDESK_BIN            directory holding csat-survey (default build/bin)
#   SMSDESK_LIB            libsmsdesk.a (default build/libsmsdesk.a)
#   SMSDESK_BENCH_CONV     conversations (default 100000)
#   SMSDESK_BENCH_MSGS     messages (default 1000000)
#   SMSDESK_BENCH_DAYS     days of history (default 90)
#   SMSDESK_BENCH_RUNS     timed runs of each report (default 5)
#   SMSDESK_BENCH_PEER     0: no jq (default 1)
#
# Exit status: 0; 1 if a run fails or the peer's figures differ; 2 on a
# usage or setup error.

set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../.." && pwd -P)
bin=${SMSDESK_BIN:-$top/build/bin}
lib=${SMSDESK_LIB:-$top/build/libsmsdesk.a}
nconv=${SMSDESK_BENCH_CONV:-100000}
nmsgs=${SMSDESK_BENCH_MSGS:-1000000}
days=${SMSDESK_BENCH_DAYS:-90}
runs=${SMSDESK_BENCH_RUNS:-5}
pkgs="jansson libutf8proc libcrypto libsodium libmicrohttpd"
status=0

die() {
	echo "report.sh: $*" >&2
	exit 2
}

fail() {
	echo "report.sh: $*" >&2
	status=1
}

for v in "$nconv" "$nmsgs" "$days" "$runs"; do
	case $v in
	'' | *[!0-9]* | 0) die "bad count: '$v'" ;;
	esac
done
[ "$days" -ge 90 ] || die "SMSDESK_BENCH_DAYS: at least 90"
[ -x "$bin/csat-survey" ] || die "$bin/csat-survey: not found (run make)"
[ -f "$lib" ] || die "$lib: not found (run make)"
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is needed for memory"
peer=${SMSDESK_BENCH_PEER:-1}
if [ "$peer" != 0 ] && ! command -v jq >/dev/null; then
	echo "report.sh: jq not found: no peer" >&2
	peer=0
fi
cc=${CC:-cc}
flags=$(pkg-config --cflags --libs $pkgs) || die "pkg-config: $pkgs"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/smsdesk-bench.XXXXXX") ||
	die "cannot make a scratch directory"
cleanup() {
	echo "report.sh: removing the fixture" >&2
	rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

for h in mkhistory timeit; do
	"$cc" -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 \
	    -Wall -Wextra -I"$top/lib" -o "$scratch/$h" "$here/$h.c" "$lib" \
	    $flags || die "cannot build $h.c"
done

calc() { awk "BEGIN { $1 }" </dev/null; }
kv() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# The clock: the end of the history, a fixed time so runs compare.
end=2026-12-06T18:00:00Z
export SMSDESK_NOW=$end
ib=$scratch/inbox
echo "smsdesk csat-survey report benchmark"
echo "making $days days of history: $nconv conversations, about $nmsgs messages"
"$scratch/mkhistory" "$ib" "$nconv" "$nmsgs" "$days" "$end" ||
	die "mkhistory failed"
echo "history/: $(du -sh "$ib/history" | cut -f 1) in $(ls "$ib/history" | wc -l) day files"

# report SINCE: timed (timeit), the total checked; sets t_ms, c_ms, kb.
report() {
	local out
	out=$("$scratch/timeit" "$runs" "$scratch/rep.out" "$bin/csat-survey" \
	    report --dir "$ib" --since "$1" --json) ||
		{ fail "report --since $1 failed"; return 1; }
	jq -e 'select(.group == "total") | .messages_in > 0' \
	    "$scratch/rep.out" >/dev/null 2>&1 ||
		fail "report --since $1: no total with messages"
	t_ms=$(kv best_ms "$out") c_ms=$(kv cpu_ms "$out")
	kb=$(kv peak_kb "$out")
	printf '  report --since %-4s best %7.0f ms, median %7.0f ms, cpu %7.0f ms, peak %6d KiB\n' \
	    "$1" "$t_ms" "$(kv median_ms "$out")" "$c_ms" "$kb"
}

# peer SINCE-TIME: jq's volume figures of [SINCE-TIME, end] over the day
# files from that day; sets p_s, p_kb; its figures in $scratch/peer.out.
peer() {
	local from=${1%%T*} t0 t1
	t0=$(date +%s.%N)
	(cd "$ib/history" && /usr/bin/time -f %M -o "$scratch/peer.mem" \
	    jq -n -c --arg since "$1" --arg until "$end" '
	    reduce (inputs | select(.event == "message" and
	        .at >= $since and .at <= $until) | .direction) as $d
	        ({in: 0, out: 0}; .[$d] += 1)
	    | {messages_in: .in, messages_out: .out}' \
	    $(ls | awk -v f="$from" '$0 >= f')) >"$scratch/peer.out" ||
		{ fail "jq failed"; return 1; }
	t1=$(date +%s.%N)
	p_s=$(calc "printf \"%.2f\", $t1 - $t0")
	p_kb=$(tail -n 1 "$scratch/peer.mem")
	echo "  jq over the same files:  $p_s s, peak $p_kb KiB"
}

# same: the report's volume figures (rep.out's total) are jq's.
same() {
	local a b
	a=$(jq -c 'select(.group == "total") | {messages_in, messages_out}' \
	    "$scratch/rep.out")
	b=$(cat "$scratch/peer.out")
	if [ "$a" = "$b" ]; then
		echo "  the same figures: $a"
	else
		fail "the report says $a, jq $b"
	fi
}

echo "(a) the reports (best of $runs, warm cache)"
report 90d; t90=$t_ms k90=$kb
report 30d
report 7d; t7=$t_ms k7=$kb

if [ "$peer" != 0 ]; then
	echo "(b) the peer: $(jq --version), the messages in and out of the period"
	for p in 7d 90d; do
		s=$(( ${p%d} * 86400 ))
		since=$(jq -nr --arg e "$end" --argjson s "$s" \
		    '$e | fromdate - $s | todate')
		"$bin/csat-survey" report --dir "$ib" --since "$p" \
		    >"$scratch/rep.out" || fail "report --since $p failed"
		echo " $p:"
		peer "$since" || continue
		same
		[ "$p" = 7d ] && r=$t7 || r=$t90
		echo "  report $(calc "printf \"%.0f\", $r") ms against jq" \
		    "$p_s s: jq takes $(calc "printf \"%.0f\", $p_s * 1000 / $r") times as long"
	done
else
	echo "(b) no peer (SMSDESK_BENCH_PEER=0 or no jq)"
fi

echo "(c) $days older days of $nconv other conversations before the first"
old_end=$(jq -nr --arg e "$end" --argjson d "$days" \
    '$e | fromdate | . - (. % 86400) - ($d * 86400) - 1 | todate')
"$scratch/mkhistory" "$ib" "$nconv" "$nmsgs" "$days" "$old_end" "$nconv" ||
	die "mkhistory (older days) failed"
echo "history/: $(du -sh "$ib/history" | cut -f 1) in $(ls "$ib/history" | wc -l) day files"
report 90d
echo "  90 days: $(calc "printf \"%.0f\", $t90") ms, $k90 KiB before; $(calc "printf \"%.0f\", $t_ms") ms, $kb KiB now"
report 7d
echo "  7 days: $(calc "printf \"%.0f\", $t7") ms, $k7 KiB before; $(calc "printf \"%.0f\", $t_ms") ms, $kb KiB now"
exit "$status"
