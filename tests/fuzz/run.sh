#!/bin/sh
# run.sh: run libFuzzer harnesses, for `make fuzz` and `make fuzz-merge`.
#
# Usage: run.sh [-m] DIR NAME...
#   DIR/fuzzers/NAME is the harness built with -fsanitize=fuzzer. Each runs
#   FUZZ_TIME seconds (default 60) over DIR/corpus/NAME, a fresh copy of
#   tests/fuzz/corpus/NAME, writing a crash's input to DIR/crashes/ and
#   its output to DIR/NAME.log; then one line of figures per target from
#   libFuzzer's final stats. Exit 1 if any target found a crash.
#   With -m, merge into tests/fuzz/corpus/NAME the inputs of DIR/corpus/NAME
#   that reach code the committed corpus does not (libFuzzer's -merge=1).
set -u
# Status lines hold dictionary entries, which need not be UTF-8.
LC_ALL=C
export LC_ALL
merge=0
if [ "${1:-}" = -m ]; then
	merge=1
	shift
fi
dir=$1
shift
time=${FUZZ_TIME:-60}
src=tests/fuzz/corpus
status=0

if [ $merge = 1 ]; then
	for t in "$@"; do
		[ -d "$dir/corpus/$t" ] || continue
		"$dir/fuzzers/$t" -merge=1 "$src/$t" "$dir/corpus/$t" \
			>"$dir/$t.merge.log" 2>&1 || status=1
		echo "$t: $(ls "$src/$t" | wc -l) files in $src/$t"
	done
	exit $status
fi

mkdir -p "$dir/corpus" "$dir/crashes"
printf '%-11s %9s %7s %7s %7s %11s %5s  %s\n' target runs exec/s cov ft \
	corpus time result
for t in "$@"; do
	rm -rf "$dir/corpus/$t"
	cp -R "$src/$t" "$dir/corpus/$t"
	start=$(date +%s)
	"$dir/fuzzers/$t" -max_total_time="$time" -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$dir/crashes/$t-" \
		"$dir/corpus/$t" >"$dir/$t.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	# The last status line: "#N DONE cov: C ft: F corp: N/Sb ...".
	last=$(grep -E '^#[0-9]+' "$dir/$t.log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$t.log")
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/$t.log")
	if [ $rc = 0 ]; then
		result=ok
	else
		input=$(sed -n 's/.*Test unit written to //p' "$dir/$t.log" |
			tail -n 1)
		result="CRASH (exit $rc): $dir/$t.log, input ${input:-?}"
		status=1
	fi
	printf '%-11s %9s %7s %7s %7s %11s %5s  %s\n' "$t" "${runs:-?}" \
		"${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${secs}s" \
		"$result"
done
exit $status
