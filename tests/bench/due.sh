#!/usr/bin/env bash
# due.sh: what `sms-send --due` costs with many messages scheduled (issue
# 18, "What must be shown"): a run that finds and sends the 1,000 due of
# 100,000 scheduled, and a run with nothing due, next to the naive way of
# finding them, a scan of every message file for status scheduled.
#
# Run by `make bench-due`, never by `make check`. It builds mksched.c and
# timeit.c into a scratch directory against the library, makes an inbox
# of TOTAL scheduled messages (mksched: DUE of them in the hour before
# NOW, the rest over the 30 days after), starts sms-sim on 127.0.0.1,
# then, with the clock pinned at NOW (SMSDESK_NOW):
#
# (a) sms-send --due --jobs 8 once: the DUE messages found, claimed and
#     sent (wall time, peak memory, the count sent);
# (b) sms-send --due with nothing due (the same NOW, after (a)): RUNS
#     timed runs (timeit: best, median, worst) - the run cron makes
#     every minute;
# (c) the peer, in the same run: grep -rl '"status":"scheduled"' msg/,
#     which reads every message file to find the scheduled ones (timeit).
#
# Goal (issue 18): (b) under 20 ms, growing with what is due, not with what
# is scheduled (compare SMSDESK_BENCH_TOTAL 10000 and 100000). Reported,
# not enforced.
#
# Environment:
#   SMSDESK_BIN            directory holding sms-send, sms-sim (build/bin)
#   SMSDESK_LIB            libsmsdesk.a (default build/libsmsdesk.a)
#   SMSDESK_BENCH_TOTAL    scheduled messages (default 100000)
#   SMSDESK_BENCH_DUE      of them due (default 1000)
#   SMSDESK_BENCH_RUNS     timed runs of (b) (default 20) and (c) (5)
#
# Exit status: 0; 1 if a run fails or sends other than the due; 2 on a
# usage or setup error.

set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../.." && pwd -P)
bin=${SMSDESK_BIN:-$top/build/bin}
lib=${SMSDESK_LIB:-$top/build/libsmsdesk.a}
total=${SMSDESK_BENCH_TOTAL:-100000}
due=${SMSDESK_BENCH_DUE:-1000}
runs=${SMSDESK_BENCH_RUNS:-20}
pkgs="jansson libutf8proc libcrypto libsodium libmicrohttpd"
NOW=2026-12-01T12:00:00Z
status=0

die() {
	echo "due.sh: $*" >&2
	exit 2
}

fail() {
	echo "due.sh: $*" >&2
	status=1
}

for v in "$total" "$due" "$runs"; do
	case $v in
	'' | *[!0-9]* | 0) die "bad count: '$v'" ;;
	esac
done
[ "$due" -le "$total" ] || die "SMSDESK_BENCH_DUE is more than the total"
[ -x "$bin/sms-send" ] && [ -x "$bin/sms-sim" ] ||
	die "$bin/sms-send or sms-sim: not found (run make)"
[ -f "$lib" ] || die "$lib: not found (run make)"
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is needed for memory"
cc=${CC:-cc}
flags=$(pkg-config --cflags --libs $pkgs) || die "pkg-config: $pkgs"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/smsdesk-bench.XXXXXX") ||
	die "cannot make a scratch directory"
simpid=
cleanup() {
	[ -n "$simpid" ] && kill "$simpid" 2>/dev/null
	echo "due.sh: removing the fixture" >&2
	rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

for h in mksched timeit; do
	"$cc" -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 \
	    -Wall -Wextra -I"$top/lib" -pthread -o "$scratch/$h" \
	    "$here/$h.c" "$lib" $flags || die "cannot build $h.c"
done

ib=$scratch/inbox
echo "smsdesk --due benchmark"
echo "making $total scheduled messages, $due due at $NOW"
"$scratch/mksched" "$ib" "$total" "$due" "$NOW" || die "mksched failed"

# The provider: sms-sim on a free port of 127.0.0.1.
export XDG_CONFIG_HOME=$scratch/config HOME=$scratch/home
unset SMSDESK_INBOX SMSDESK_PUBLIC_URL SMSDESK_PROVIDER TWILIO_API_KEY \
    TWILIO_API_SECRET TWILIO_MESSAGING_SERVICE_SID SMSDESK_COUNTRY
export TWILIO_ACCOUNT_SID=AC0018aaaaaaaaaaaaaaaaaaaaaaaaaaaa
export TWILIO_AUTH_TOKEN=tok-0018 TWILIO_FROM=+15550100000
# Notices: a message without a purpose is marketing, which the rules of
# smsdesk-rules(5) hold to hours and caps by the recipient's place.
export SMSDESK_PURPOSE=notification
for try in 1 2 3 4 5; do
	port=$(($(od -An -N2 -tu2 /dev/urandom) % 40000 + 20000))
	"$bin/sms-sim" --number "$TWILIO_FROM" --listen "127.0.0.1:$port" \
	    >/dev/null 2>"$scratch/sim.err" &
	simpid=$!
	for ((i = 0; i < 500; i++)); do
		grep -qs 'listening on' "$scratch/sim.err" && break 2
		kill -0 "$simpid" 2>/dev/null || break
		sleep 0.01
	done
	kill "$simpid" 2>/dev/null
	simpid=
done
[ -n "$simpid" ] || die "sms-sim does not start: $(cat "$scratch/sim.err")"
export TWILIO_API_URL=http://127.0.0.1:$port
export SMSDESK_NOW=$NOW

calc() { awk "BEGIN { $1 }" </dev/null; }

# (a) the due ones, found and sent.
sync
t0=$(date +%s%N)
/usr/bin/time -f %M -o "$scratch/mem" "$bin/sms-send" --dir "$ib" --due \
    --jobs 8 >"$scratch/due.out" 2>"$scratch/due.err" ||
	fail "sms-send --due failed: $(head -n 3 "$scratch/due.err")"
t1=$(date +%s%N)
ms=$(calc "printf \"%.0f\", ($t1 - $t0) / 1e6")
n=$(grep -c '"provider_id":"SM' "$scratch/due.out")
[ "$n" -eq "$due" ] || fail "$n sent, not the $due due"
echo "sms-send --due, $due due of $total: ${ms} ms, $n sent," \
    "peak $(tail -n 1 "$scratch/mem") KiB"

# (b) nothing due: what cron's run costs every minute.
out=$("$scratch/timeit" "$runs" "$scratch/none.out" "$bin/sms-send" \
    --dir "$ib" --due) || fail "sms-send --due (nothing due) failed"
[ -s "$scratch/none.out" ] && fail "a run with nothing due printed something"
echo "sms-send --due, nothing due of $((total - due)): $out (goal < 20 ms)"
best=$(printf '%s\n' "$out" | sed -n 's/.*best_ms=\([0-9.]*\).*/\1/p')

# (c) the peer: every message file read for status scheduled.
pout=$("$scratch/timeit" 5 "$scratch/grep.out" grep -rl \
    '"status":"scheduled"' "$ib/msg") || true
pbest=$(printf '%s\n' "$pout" | sed -n 's/.*best_ms=\([0-9.]*\).*/\1/p')
echo "peer, grep -rl '\"status\":\"scheduled\"' msg/ ($(wc -l <"$scratch/grep.out" | tr -d ' ') files): $pout"
[ -n "$best" ] && [ -n "$pbest" ] &&
	echo "ratio, peer / --due with nothing due: $(calc "printf \"%.0f\", $pbest / ($best > 0 ? $best : 0.001)")x"
exit "$status"
