# tests/lib.sh: TAP helpers for the shell tests, after mblaze's t/lib.sh.
#
# A test is a POSIX sh script, tests/NNNN-name.t, run by prove(1) from the
# top of the tree. It sources this file, makes its checks, and ends with
# done_testing, which prints the plan and sets the exit status:
#
#	. "$(dirname "$0")/lib.sh"
#	check 'one segment' 'segment hello | jq -e ".segments == 1"'
#	is 'encoding' "$(segment hello | jq -r .encoding)" GSM-7
#	done_testing
#
# It sets: top (the tree), bin ($SMSDESK_BIN, the built programs, put first
# on PATH), data ($SMSDESK_TESTDATA, the fixtures) and tmp (a scratch
# directory, removed on exit). Command strings run in a subshell with eval,
# so they see these variables and any the test sets; their output is kept
# and shown as a diagnostic only when the check fails.

top=$(cd "$(dirname "$0")/.." && pwd) || exit 1
bin=${SMSDESK_BIN:-$top/build/bin}
data=${SMSDESK_TESTDATA:-$top/tests/data}
PATH=$bin:$PATH
export PATH

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smsdesk-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

tap_n=0
tap_failed=0
tap_planned=

# plan N: announce N tests up front (optional: done_testing prints the plan
# at the end otherwise).
plan() {
	tap_planned=$1
	printf '1..%d\n' "$1"
}

# diag LINE...: diagnostic lines for the reader, on stderr.
diag() {
	printf '%s\n' "$@" | sed 's/^/# /' >&2
}

# pass DESC / fail DESC: record one result. A '#' in DESC is escaped, as
# TAP reads what follows it as a directive.
pass() {
	tap_n=$((tap_n + 1))
	printf 'ok %d - %s\n' "$tap_n" "$(tap_desc "$1")"
}

fail() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	printf 'not ok %d - %s\n' "$tap_n" "$(tap_desc "$1")"
}

tap_desc() {
	printf '%s\n' "$1" | sed 's/#/\\#/g' | tr '\n' ' ' | sed 's/ $//'
}

# skip DESC REASON: a test that could not run here.
skip() {
	tap_n=$((tap_n + 1))
	printf 'ok %d - %s # SKIP %s\n' "$tap_n" "$(tap_desc "$1")" "$2"
}

# ok STATUS DESC: pass if STATUS (an exit status) is 0.
ok() {
	if [ "$1" -eq 0 ]; then pass "$2"; else fail "$2"; fi
}

# Run a command string; its status in tap_rc, its output in $tmp/.tap.out.
tap_run() {
	(eval "$1") >"$tmp/.tap.out" 2>&1 </dev/null
	tap_rc=$?
}

tap_show() {
	diag "command: $1" "exit status: $tap_rc"
	[ -s "$tmp/.tap.out" ] && sed 's/^/# /' "$tmp/.tap.out" >&2
	return 0
}

# check DESC COMMAND: pass if COMMAND exits 0.
check() {
	tap_run "$2"
	if [ "$tap_rc" -eq 0 ]; then
		pass "$1"
	else
		fail "$1"
		tap_show "$2"
	fi
}

# check_fail DESC COMMAND: pass if COMMAND exits non-zero.
check_fail() {
	tap_run "$2"
	if [ "$tap_rc" -ne 0 ]; then
		pass "$1"
	else
		fail "$1"
		tap_show "$2"
	fi
}

# check_exit DESC STATUS COMMAND: pass if COMMAND exits with STATUS.
check_exit() {
	tap_run "$3"
	if [ "$tap_rc" -eq "$2" ]; then
		pass "$1"
	else
		fail "$1"
		diag "wanted exit status $2"
		tap_show "$3"
	fi
}

# is DESC GOT WANT: pass if the two strings are equal, else show a diff.
is() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1"
		printf '%s\n' "$3" >"$tmp/.tap.want"
		printf '%s\n' "$2" >"$tmp/.tap.got"
		diff -u "$tmp/.tap.want" "$tmp/.tap.got" |
		    sed '1s/.*/--- want/; 2s/.*/+++ got/; s/^/# /' >&2
	fi
}

# done_testing: print the plan (unless plan was called) and exit non-zero
# if any test failed or the count is not the one planned.
done_testing() {
	if [ -z "$tap_planned" ]; then
		printf '1..%d\n' "$tap_n"
	elif [ "$tap_planned" -ne "$tap_n" ]; then
		diag "planned $tap_planned tests but ran $tap_n"
		exit 1
	fi
	[ "$tap_failed" -eq 0 ] || diag "failed $tap_failed of $tap_n"
	[ "$tap_failed" -eq 0 ]
	exit
}

# serve OUT ERR CMD...: start the server CMD... --listen 127.0.0.1:PORT
# (sms-recv, sms-sim) on a random port, stdout to OUT and stderr to ERR,
# and wait for its "listening on" line; another port while the one tried
# is taken. Sets port and server (its pid), which it adds to pids for the
# test's exit trap. Returns 1, its stderr shown, if it does not start.
serve() {
	sv_out=$1 sv_err=$2
	shift 2
	sv_try=0
	while [ "$sv_try" -lt 20 ]; do
		sv_try=$((sv_try + 1))
		port=$(($(od -An -N2 -tu2 /dev/urandom) % 40000 + 20000))
		"$@" --listen "127.0.0.1:$port" >"$sv_out" 2>"$sv_err" &
		server=$!
		pids="${pids-} $server"
		sv_i=0
		while [ "$sv_i" -lt 100 ]; do
			grep -qs 'listening on' "$sv_err" && return 0
			kill -0 "$server" 2>/dev/null || break
			sleep 0.05
			sv_i=$((sv_i + 1))
		done
		kill "$server" 2>/dev/null
		wait "$server"
		grep -qs 'cannot listen' "$sv_err" || break
	done
	diag "$1 did not start:"
	sed 's/^/# /' "$sv_err" >&2
	return 1
}
