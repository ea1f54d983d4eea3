#!/usr/bin/env bash
# segment.sh: how fast segment(1) annotates an NDJSON stream, how its memory
# grows with the input, and how it compares with Twilio's calculator
# (sms-segments-calculator 1.3.0 on Node; reference section 13).
#
# Run by `make bench`, never by `make check`. It builds gen-messages.c,
# generates a corpus of N records in a scratch directory, times segment on
# it (best of RUNS), times the peer on the first SAMPLE records (the peer
# manages about 1,400 messages/s, so a full run would take ten minutes or
# more), and cross-checks segment's (encoding, segments) against the peer
# on that sample. The peer is installed on first use into a cache outside
# the repository. Without node and npm the peer parts are skipped.
#
# Environment:
#   SMSDESK_BIN           directory holding segment (default build/bin)
#   SMSDESK_BENCH_CACHE   peer cache (default ~/.cache/smsdesk-bench)
#   SMSDESK_BENCH_N       corpus size (default 1000000)
#   SMSDESK_BENCH_SAMPLE  peer sample size (default 20000)
#   SMSDESK_BENCH_RUNS    timed runs per measurement, best kept (default 3)
#   SMSDESK_BENCH_PEER    0 to skip the peer
#   SMSDESK_BENCH_RSS     "poll" to read VmHWM from /proc instead of
#                         /usr/bin/time
#   SMSDESK_BENCH_RAW_MB  sizes of the --raw texts in MB (default "1 10 50")
#
# Exit status: 0; 1 if segment fails or writes a different number of lines
# than it read, or if the memory of --raw grows with its text; 2 on a usage
# or setup error.

set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../.." && pwd -P)
bin=${SMSDESK_BIN:-$top/build/bin}
seg=$bin/segment
n=${SMSDESK_BENCH_N:-1000000}
sample=${SMSDESK_BENCH_SAMPLE:-20000}
runs=${SMSDESK_BENCH_RUNS:-3}
raw_mb=${SMSDESK_BENCH_RAW_MB:-1 10 50}
cache=${SMSDESK_BENCH_CACHE:-${HOME:-/nonexistent}/.cache/smsdesk-bench}
peer_pkg=sms-segments-calculator
peer_ver=1.3.0
status=0

die() {
	echo "segment.sh: $*" >&2
	exit 2
}

fail() {
	echo "segment.sh: $*" >&2
	status=1
}

. "$here/lib.sh"

for v in "$n" "$sample" "$runs" $raw_mb; do
	case $v in
	'' | *[!0-9]* | 0) die "bad count: '$v'" ;;
	esac
done
[ "$sample" -le "$n" ] || sample=$n
[ -x "$seg" ] || die "$seg: not found or not executable (run make)"
cc=${CC:-cc}
command -v "$cc" >/dev/null || die "$cc: not found"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/smsdesk-bench.XXXXXX") ||
	die "cannot make a scratch directory"
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT TERM HUP



# best_of NAME IN OUT CMD...: run CMD <IN >OUT $runs times and put the best
# wall time in seconds into $best. Returns CMD's status if any run fails.
best_of() {
	local name=$1 in=$2 out=$3 i t0 t1 rc
	shift 3
	best=
	for ((i = 0; i < runs; i++)); do
		t0=$(now)
		"$@" <"$in" >"$out" 2>"$scratch/err"
		rc=$?
		t1=$(now)
		if [ "$rc" -ne 0 ]; then
			echo "segment.sh: $name: exit $rc" >&2
			head -n 5 "$scratch/err" >&2
			return "$rc"
		fi
		best=$(calc "t = $t1 - $t0; b = \"$best\";
		    printf \"%.6f\", (b == \"\" || t < b + 0) ? t : b")
	done
}

# count_out NAME WANT IN CMD...: run CMD <IN once, check that it succeeds
# and writes WANT lines; put "lines gsm ucs2 segments" in $stats.
count_out() {
	local name=$1 want=$2 in=$3 rc
	shift 3
	stats=$("$@" <"$in" 2>"$scratch/err" | awk '
		{ n++ }
		/"encoding":"GSM-7"/ { g++ }
		/"encoding":"UCS-2"/ { u++ }
		match($0, /"segments":[0-9]+/) {
			s += substr($0, RSTART + 11, RLENGTH - 11)
		}
		END { print n + 0, g + 0, u + 0, s + 0 }')
	rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ]; then
		fail "$name: exit $rc"
		head -n 5 "$scratch/err" >&2
		return 1
	fi
	set -- $stats
	if [ "$1" -ne "$want" ]; then
		fail "$name: $want records in, $1 lines out"
		return 1
	fi
	return 0
}

# maxrss IN CMD...: peak resident set of CMD <IN >/dev/null, in KiB, into
# $rss; $rss_how says how it was measured.
maxrss() {
	local in=$1 pid hwm=0 k v rest
	shift
	if [ "${SMSDESK_BENCH_RSS:-}" != poll ] &&
	    /usr/bin/time -f %M true >/dev/null 2>&1; then
		rss_how="/usr/bin/time -f %M"
		/usr/bin/time -f %M -o "$scratch/rss" "$@" <"$in" >/dev/null ||
			return 1
		rss=$(tail -n 1 "$scratch/rss")
		return 0
	fi
	# VmHWM only grows, so the last value read before exit is the peak
	# to within one poll interval.
	rss_how="VmHWM from /proc, polled every 5 ms"
	"$@" <"$in" >/dev/null &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		while read -r k v rest; do
			[ "$k" = VmHWM: ] && [ "$v" -gt "$hwm" ] && hwm=$v
		done 2>/dev/null <"/proc/$pid/status"
		sleep 0.005
	done
	wait "$pid" || return 1
	rss=$hwm
}

rate() {	# records seconds
	calc "printf \"%d\", $1 / $2"
}

mbps() {	# bytes seconds
	calc "printf \"%.2f\", $1 / $2 / 1e6"
}

row() {		# tool mode records seconds bytes
	printf '%-24s %-5s %9s %9.3f %11s %9s\n' "$1" "$2" "$3" "$4" \
	    "$(rate "$3" "$4")" "$(mbps "$5" "$4")"
}

# The corpus, and the two prefixes: every prefix of it is itself a corpus.
"$cc" -std=c11 -O2 -o "$scratch/gen-messages" "$here/gen-messages.c" ||
	die "cannot build gen-messages.c"
corpus=$scratch/corpus.ndjson
t0=$(now)
"$scratch/gen-messages" "$n" >"$corpus" || die "gen-messages failed"
t1=$(now)
bytes=$(wc -c <"$corpus")
head -n "$sample" "$corpus" >"$scratch/sample.ndjson"
sbytes=$(wc -c <"$scratch/sample.ndjson")
mem_small=$((n >= 1000000 ? 100000 : (n + 9) / 10))
head -n "$mem_small" "$corpus" >"$scratch/small.ndjson"

echo "smsdesk segment benchmark"
echo "segment: $seg"
printf 'corpus:  %d records, %.1f MB (%d bytes/record), generated in %.1f s\n' \
    "$n" "$(calc "print $bytes / 1e6")" "$((bytes / n))" \
    "$(calc "print $t1 - $t0")"

# One untimed run of each mode checks the output and warms the page cache.
for mode in plain smart; do
	flag=
	[ "$mode" = smart ] && flag=--smart
	if count_out "segment${flag:+ $flag}" "$n" "$corpus" "$seg" $flag; then
		set -- $stats
		fmt='output %-5s %d lines: %.1f%% GSM-7, %.1f%% UCS-2, '
		fmt="$fmt%d segments (%.2f per message)\n"
		printf "$fmt" "$mode:" "$1" "$(calc "print 100 * $2 / $1")" \
		    "$(calc "print 100 * $3 / $1")" "$4" \
		    "$(calc "print $4 / $1")"
	fi
done
[ "$status" -eq 0 ] || exit "$status"
count_out "segment (sample)" "$sample" "$scratch/sample.ndjson" "$seg" ||
	exit "$status"

# The peer, installed once into the cache, never inside the repository.
peer_setup
if [ "$peer" = 1 ]; then
	echo "peer:    $peer_pkg $peer_ver, node $(node --version)," \
	    "on the first $sample records"
else
	echo "peer:    skipped ($peer_why)"
fi
echo

printf '%-24s %-5s %9s %9s %11s %9s\n' tool mode records "best s" \
    msgs/s MB/s
for mode in plain smart; do
	flag=
	[ "$mode" = smart ] && flag=--smart
	best_of "segment${flag:+ $flag}" "$corpus" /dev/null "$seg" $flag ||
		{ status=1; break; }
	eval "seg_${mode}_full=\$best"
	row segment "$mode" "$n" "$best" "$bytes"
	best_of "segment${flag:+ $flag} (sample)" "$scratch/sample.ndjson" \
	    "$scratch/seg-$mode.out" "$seg" $flag || { status=1; break; }
	eval "seg_${mode}_sample=\$best"
	row segment "$mode" "$sample" "$best" "$sbytes"
	[ "$peer" = 1 ] || continue
	if best_of "peer${flag:+ $flag}" "$scratch/sample.ndjson" \
	    "$scratch/peer-$mode.out" node "$here/peer-segment.js" $flag; then
		eval "peer_${mode}=\$best"
		row "$peer_pkg" "$mode" "$sample" "$best" "$sbytes"
	else
		echo "segment.sh: peer failed; skipping it" >&2
		peer=0
	fi
done
[ "$status" -eq 0 ] || exit "$status"

echo
echo "peak memory of segment (max RSS):"
for f in small corpus; do
	in=$scratch/$f.ndjson
	[ "$f" = corpus ] && in=$corpus
	recs=$(wc -l <"$in")
	if maxrss "$in" "$seg"; then
		printf '  %9d records  %8d KiB\n' "$recs" "$rss"
	else
		fail "segment (memory, $recs records) failed"
	fi
done
echo "  (measured with $rss_how)"

# --raw must stay flat too: one text of 1, 10, 50 MB, ASCII (GSM-7) and
# Cyrillic with emoji (UCS-2), from a file and from a pipe (then copied to
# TMPDIR), with and without --split=words. The peak may not grow by more
# than 16 MB from the smallest text to the largest.
echo
echo "peak memory of segment --raw (max RSS, KiB; seconds):"
printf '  %-6s %-5s %-5s %-13s %9s %7s\n' size text from options KiB s
for kind in ascii ucs2; do
	for mb in $raw_mb; do
		in=$scratch/raw-$kind-$mb
		if [ "$kind" = ascii ]; then
			yes 'Your order has shipped, track it at example.com/t/48213.'
		else
			yes 'Ваш заказ отправлен 📦 Спасибо! 👩‍🦰'
		fi | head -c "$((mb * 1000000))" >"$in"
		# A cut sequence at the end would make the text invalid.
		[ "$kind" = ucs2 ] && printf '\n' >>"$in" &&
			sed -i '$d' "$in"
		for from in file pipe; do
			for opt in - --split=words; do
				o=$opt
				[ "$o" = - ] && o=
				t0=$(now)
				if [ "$from" = file ]; then
					maxrss "$in" "$seg" --raw $o
				else
					maxrss "$in" sh -c "cat | '$seg' --raw $o"
				fi || { fail "segment --raw $o on $in failed"; continue; }
				t1=$(now)
				printf '  %-6s %-5s %-5s %-13s %9d %7.2f\n' \
				    "${mb}MB" "$kind" "$from" "$opt" "$rss" \
				    "$(calc "print $t1 - $t0")"
				k=$kind-$from-$opt
				eval "first=\${raw_first_${k//[-=]/_}:-}"
				[ -n "$first" ] || eval "raw_first_${k//[-=]/_}=$rss"
				if [ -n "$first" ] && [ "$rss" -gt "$((first + 16384))" ]; then
					fail "--raw $kind $from $opt grows: $first KiB, then $rss KiB at $mb MB"
				fi
			done
		done
		rm -f "$in"
	done
done
echo "  (measured with $rss_how)"

if [ "$peer" = 1 ]; then
	echo
	for mode in plain smart; do
		node "$here/compare-peer.js" "$mode, first $sample" \
		    "$scratch/sample.ndjson" "$scratch/seg-$mode.out" \
		    "$scratch/peer-$mode.out" 5 ||
			echo "segment.sh: cross-check ($mode) failed" >&2
	done
	echo
	ratio() {	# rate-a-seconds ... (records, seconds) pairs
		calc "printf \"%.0f\", ($1 / $2) / ($3 / $4)"
	}
	echo "ratio on the same $sample records: segment is" \
	    "$(ratio "$sample" "$seg_plain_sample" "$sample" "$peer_plain")x" \
	    "the peer, $(ratio "$sample" "$seg_smart_sample" "$sample" \
	    "$peer_smart")x with --smart (messages/s)"
	echo "ratio with --smart: segment is" \
	    "$(ratio "$n" "$seg_smart_full" "$sample" "$peer_smart")x" \
	    "the peer (messages/s; segment on $n, peer on $sample)"
	echo "ratio: segment is" \
	    "$(ratio "$n" "$seg_plain_full" "$sample" "$peer_plain")x" \
	    "the peer (messages/s)"
fi
exit "$status"
