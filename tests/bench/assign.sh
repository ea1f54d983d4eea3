#!/usr/bin/env bash
# assign.sh: how long assign --auto takes to route a large backlog, with
# how much memory, and how long one assign --next takes at that backlog
# (issue 15, "What must be shown").
#
# Run by `make bench-assign`, never by `make check`. It builds mkinbox.c
# and timeit.c into a scratch directory against the library, makes an
# inbox of OPEN + 10,000 ... conversations (mkinbox: OPEN open ones, a
# third of them assigned to agent0 .. agent6, the rest waiting; the
# others resolved, 100,000 in all by default), and a roster of AGENTS
# agents (agent0 .. agentN-1, each with room for the whole backlog), then:
#
# (a) assign --auto over the backlog (every waiting conversation assigned,
#     least-loaded), ROUNDS times from the same starting point (the open
#     conversations' files put back between rounds), best wall time kept,
#     with its peak resident memory (GNU time's %M) and the count
#     assigned; every assignment is made durable (one syncfs(2) per batch
#     of claims) before its event is printed: the events are counted.
# (b) assign --next at that backlog: RUNS calls by one agent, each
#     claiming the oldest waiting conversation (timeit: best, median,
#     worst).
#
# Goals (issue 15): the whole backlog in under 1 s; --next under 20 ms;
# memory flat in the size of the history (compare SMSDESK_BENCH_TOTAL
# 20000 and 100000). Reported, not enforced.
#
# Environment:
#   SMSDESK_BIN            directory holding assign (default build/bin)
#   SMSDESK_LIB            libsmsdesk.a (default build/libsmsdesk.a)
#   SMSDESK_BENCH_WAITING  unassigned conversations (default 10000)
#   SMSDESK_BENCH_TOTAL    conversations in the inbox (default 100000)
#   SMSDESK_BENCH_AGENTS   agents in the roster (default 50)
#   SMSDESK_BENCH_ROUNDS   runs of --auto, best kept (default 3)
#   SMSDESK_BENCH_RUNS     timed --next calls (default 20)
#
# Exit status: 0; 1 if a run fails or assigns other than the backlog; 2 on
# a usage or setup error.

set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../.." && pwd -P)
bin=${SMSDESK_BIN:-$top/build/bin}
lib=${SMSDESK_LIB:-$top/build/libsmsdesk.a}
waiting=${SMSDESK_BENCH_WAITING:-10000}
total=${SMSDESK_BENCH_TOTAL:-100000}
nagents=${SMSDESK_BENCH_AGENTS:-50}
rounds=${SMSDESK_BENCH_ROUNDS:-3}
runs=${SMSDESK_BENCH_RUNS:-20}
pkgs="jansson libutf8proc libcrypto libsodium libmicrohttpd"
status=0

die() {
	echo "assign.sh: $*" >&2
	exit 2
}

fail() {
	echo "assign.sh: $*" >&2
	status=1
}

for v in "$waiting" "$total" "$nagents" "$rounds" "$runs"; do
	case $v in
	'' | *[!0-9]* | 0) die "bad count: '$v'" ;;
	esac
done
# mkinbox assigns a third of the open ones (i % 3 == 0): open = waiting * 3/2.
nopen=$(((waiting * 3 + 1) / 2))
[ "$total" -gt "$nopen" ] || die "SMSDESK_BENCH_TOTAL must pass $nopen"
[ -x "$bin/assign" ] || die "$bin/assign: not found (run make)"
[ -f "$lib" ] || die "$lib: not found (run make)"
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is needed for memory"
cc=${CC:-cc}
flags=$(pkg-config --cflags --libs $pkgs) || die "pkg-config: $pkgs"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/smsdesk-bench.XXXXXX") ||
	die "cannot make a scratch directory"
cleanup() {
	echo "assign.sh: removing the fixture" >&2
	rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

for h in mkinbox timeit; do
	"$cc" -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 \
	    -Wall -Wextra -I"$top/lib" -pthread -o "$scratch/$h" \
	    "$here/$h.c" "$lib" $flags || die "cannot build $h.c"
done

ib=$scratch/inbox
echo "smsdesk assign benchmark"
echo "making $total conversations, $nopen open ($waiting waiting), $nagents agents"
"$scratch/mkinbox" "$ib" "$nopen" "$((total - nopen))" >"$scratch/mk.out" ||
	die "mkinbox failed"
cat "$scratch/mk.out"
cap=$(((waiting + nopen) / nagents + 1))
for ((i = 0; i < nagents; i++)); do
	"$bin/assign" --dir "$ib" --add "agent$i" --capacity "$cap" \
	    >/dev/null || die "assign --add agent$i failed"
done
# A real inbox has lock/THREAD for every thread a delivery locked;
# mkinbox makes none, and the first run would pay for creating them.
(cd "$ib/work" && for t in *; do : >"../lock/$t"; done) ||
	die "cannot make the lock files"
# What --auto changes: the open conversations' files. Kept to put back.
(cd "$ib" && ls work | sed 's|^|conv/|' | tar -cf "$scratch/open.tar" -T -) ||
	die "cannot save the open conversations"
# Put back by hand, so queue/ is said to need rebuilding (smsdesk-inbox(5)):
# the first --next after it rebuilds, untimed (timeit's first run).
restore() {
	(cd "$ib" && tar -xf "$scratch/open.tar" && rm -f queue/.built) ||
		die "restore"
}

calc() { awk "BEGIN { $1 }" </dev/null; }

# (a) --auto over the backlog.
best= mem= for_best=
for ((r = 1; r <= rounds; r++)); do
	restore
	sync
	t0=$(date +%s%N)
	/usr/bin/time -f %M -o "$scratch/mem" "$bin/assign" --dir "$ib" \
	    --auto </dev/null >"$scratch/auto.out" 2>"$scratch/auto.err" ||
		fail "round $r: assign --auto failed: $(head -n 3 "$scratch/auto.err")"
	t1=$(date +%s%N)
	ms=$(calc "printf \"%.0f\", ($t1 - $t0) / 1e6")
	n=$(grep -c '"conversation.assigned"' "$scratch/auto.out")
	kb=$(tail -n 1 "$scratch/mem")
	echo "auto round $r: ${ms} ms, $n assigned, peak ${kb} KiB"
	[ "$n" -eq "$waiting" ] ||
		fail "round $r: $n assigned, not the $waiting waiting"
	if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then
		best=$ms mem=$kb
	fi
done
echo "assign --auto, $waiting waiting of $total, $nagents agents:" \
    "best ${best} ms (goal < 1000), peak ${mem} KiB"

# (b) --next at the backlog.
restore
sync
out=$("$scratch/timeit" "$runs" "$scratch/next.out" "$bin/assign" \
    --dir "$ib" --next agent7) || fail "assign --next failed"
grep -q '"conversation.assigned"' "$scratch/next.out" ||
	fail "assign --next claimed nothing"
echo "assign --next at $waiting waiting: $out (goal < 20 ms)"
exit "$status"
