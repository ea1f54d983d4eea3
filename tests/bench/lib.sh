# tests/bench/lib.sh: what the bash benchmarks share; sourced by them.

# start_listener BIN DIR LOG [EVENTS]: BIN/sms-recv --listen --dir DIR on
# a free port of 127.0.0.1, its stderr to LOG and its stdout to EVENTS
# (default /dev/null), and wait for its "listening on" line; another port
# while the one tried is taken. Sets $listener (pid) and $port. Returns 1,
# the start of LOG shown, if it does not start.
start_listener() {
	local b=$1 dir=$2 log=$3 events=${4:-/dev/null} try i
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 40000))
		rm -f "$log"	# an old "listening on" is no answer
		"$b/sms-recv" --listen "127.0.0.1:$port" --dir "$dir" \
		    >"$events" 2>"$log" &
		listener=$!
		for ((i = 0; i < 100; i++)); do
			grep -qs 'listening on' "$log" && return 0
			kill -0 "$listener" 2>/dev/null || break
			sleep 0.05
		done
		kill "$listener" 2>/dev/null
		wait "$listener" 2>/dev/null
		listener=
		grep -qs 'cannot listen' "$log" || break
	done
	echo "${0##*/}: sms-recv did not start:" >&2
	head -n 5 "$log" >&2
	return 1
}
