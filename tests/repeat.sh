#!/bin/bash
# tests/repeat.sh: run test files round after round under a named load, to
# show that they never fail because the machine is busy.
#
#   tests/repeat.sh [-n ROUNDS] [-j JOBS] [-l LOAD] [-k] test...
#
# Each round runs every test file given with prove -j JOBS (the files load
# one another, as in a parallel make check), while LOAD runs beside them for
# the whole run: a command line, by default stress-ng(1) keeping every core
# half busy, with a pipe and a disk writer too (-l none: no load). A round's
# output is kept in $REPEAT_LOG (default a new directory under /tmp) as
# round-N.log. Stops at the first failed round with -k.
#
# Prints one line per round and, at the end, how many rounds passed in a row
# and how often each file failed. Exits 0 only if every round passed.
# Needs the environment of the Makefile's test target (make repeat sets it).
set -u
me=${0##*/}
rounds=20 jobs=6 keep_going=1
ncpu=$(nproc 2>/dev/null || echo 2)
load="stress-ng --cpu $ncpu --cpu-load 50 --pipe 1 --hdd 1 --hdd-bytes 64m"
while getopts n:j:l:k o; do
	case $o in
	n) rounds=$OPTARG ;;
	j) jobs=$OPTARG ;;
	l) load=$OPTARG ;;
	k) keep_going=0 ;;
	*) echo "usage: $me [-n rounds] [-j jobs] [-l load] [-k] test..." >&2
	   exit 64 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -eq 0 ]; then
	echo "$me: no test files given" >&2
	exit 64
fi
case $rounds$jobs in
*[!0-9]*) echo "$me: -n and -j take numbers" >&2; exit 64 ;;
esac

log=${REPEAT_LOG:-$(mktemp -d /tmp/repeat.XXXXXX)}
mkdir -p "$log" || exit 73
loadpid= provepid=
# stop PID: stop PID's group of processes (setsid made it its leader).
stop() {
	kill -TERM -- "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
stop_load() {
	[ -z "$loadpid" ] || stop "$loadpid"
	loadpid=
}
trap '[ -z "$provepid" ] || stop "$provepid"; stop_load; exit 130' INT TERM
if [ "$load" != none ]; then
	command -v "${load%% *}" >/dev/null || {
		echo "$me: ${load%% *}: not installed (make deps)" >&2
		exit 69
	}
	# The load writes its scratch files beside the logs, in its own group
	# of processes so that it stops whole.
	(cd "$log" && exec setsid $load >load.log 2>&1) &
	loadpid=$!
fi
echo "# $me: $rounds rounds of ${*##*/} at -j$jobs"
echo "# load: $load"
echo "# logs: $log"

declare -A failed
passed=0 streak=0 best=0 start=$SECONDS
for ((r = 1; r <= rounds; r++)); do
	t0=$SECONDS
	# In the background, so that an interrupt stops the round at once.
	setsid prove -j"$jobs" "$@" >"$log/round-$r.log" 2>&1 &
	provepid=$!
	wait "$provepid"
	rc=$?
	provepid=
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1)) streak=$((streak + 1))
		[ $streak -gt $best ] && best=$streak
		echo "round $r: pass ($((SECONDS - t0)) s)"
	else
		streak=0
		bad=$(sed -n 's/^\([^ ]*\) *(Wstat.*/\1/p' "$log/round-$r.log" |
		    sort -u | tr '\n' ' ')
		for f in $bad; do
			failed[$f]=$(( ${failed[$f]:-0} + 1 ))
		done
		echo "round $r: FAIL ($((SECONDS - t0)) s): ${bad:-prove exit $rc}"
		[ $keep_going = 1 ] || { rounds=$r; break; }
	fi
done
stop_load
echo "# passed $passed of $rounds rounds, $best in a row," \
    "$((SECONDS - start)) s in all"
for f in "${!failed[@]}"; do
	echo "# $f failed ${failed[$f]} times"
done
[ $passed -eq $rounds ]
