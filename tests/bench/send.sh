#!/usr/bin/env bash
# send.sh: how many messages a second sms-send(1) sends to sms-sim(1), and
# in how much memory, against the official twilio library for Node doing
# the same and against a shell loop calling curl once per message; and how
# exactly --rate holds its pace (issue 4, "What must be shown").
#
# Run by `make bench-send` (and `make bench`), never by `make check`.
# In a scratch directory it generates N NDJSON records ("to" over NUMBERS
# customers, an ASCII body of about 80 characters, a unique "key"), then:
#
# (a) for each concurrency C, each against a fresh sms-sim on a free port
#     of 127.0.0.1 (no faults, no --log, no webhook; no StatusCallback is
#     asked for, so it posts nothing back):
#       sms-send -d INBOX --jobs C, the inbox in the scratch directory (the
#         disk: every message is durable as queued before its request,
#         by a journal line whose fdatasync the messages queued at the
#         same moment share; its files, and the answer that settles it,
#         are synced by checkpoints, the last one before sms-send exits);
#       the same with the inbox on tmpfs (/dev/shm), where fsync costs
#         nothing: the difference is the disk's share of the time;
#       peer-send.js: the twilio library, C create() promises in flight
#         on kept-alive connections, nothing written anywhere.
#     Wall time includes start-up (node's loading the library, too).
#     Peak memory is the maximum resident set, from /usr/bin/time -f %M
#     or VmHWM. Each run must have all N created: sms-sim's own count of
#     201s is checked. The whole sequence runs ROUNDS times and the best
#     time of each is kept (other work only ever makes a time worse); the
#     memory shown is the largest seen.
# (b) a bash loop running curl -u SID:TOKEN --data-urlencode ... once per
#     message, sequentially, on the first CURL_N records, scaled. Its peak
#     memory is that of the largest single process (bash or one curl).
# (c) sms-send --rate RATE/s --jobs RATE_JOBS on RATE_N messages (10 s at the
#     defaults), against an sms-sim whose log lines are timestamped as they
#     arrive: the rate is (creates - 1) / (last - first arrival), and also
#     messages over sms-send's wall time.
# (p) each provider of PROVIDERS: sms-send --jobs PJOBS on the same N
#     messages against a fresh sms-sim --provider P (its API as that
#     carrier's: Twilio's form and 201, Telnyx's JSON and 200, Plivo's JSON
#     and 202, ...), the inbox on disk; rounds interleaved over the
#     providers, best kept; each provider's messages a second against
#     Twilio's (issue 19: none slower by more than 20 %).
#
# Targets (issue 4): at least 3 times the library's throughput at a tenth
# of its memory; --rate 50/s measured within 2 % of 50. Reported, not
# enforced. The peers store nothing; sms-send's figures on the disk carry
# its durability, and the tmpfs figures show what is left without it.
#
# Environment:
#   SMSDESK_BIN               directory holding sms-send and sms-sim
#                             (default build/bin)
#   SMSDESK_BENCH_CACHE       peer cache (default ~/.cache/smsdesk-bench)
#   SMSDESK_BENCH_N           messages per run (default 10000)
#   SMSDESK_BENCH_NUMBERS     customers the messages go to (default 1000)
#   SMSDESK_BENCH_JOBS        concurrencies (default "1 8")
#   SMSDESK_BENCH_ROUNDS      rounds of part (a), best kept (default 3)
#   SMSDESK_BENCH_FS          "loop" for a fresh loop-mounted ext4 per run
#                             of part (a) (root only), "disk" for the
#                             scratch directory's disk; default: loop if
#                             root with mkfs.ext4, mount and losetup, else
#                             the disk (lib.sh, fs_check)
#   SMSDESK_BENCH_MKFS        mkfs.ext4 options for "loop" (default
#                             "-O ^has_journal -E lazy_itable_init=0":
#                             ext4 without a journal, as the disk of
#                             issue 14, its inode tables written by mkfs,
#                             not by a kernel thread during the run)
#   SMSDESK_BENCH_LOOP_MB     size of each loop file system (default 1024)
#   SMSDESK_BENCH_CURL_N      messages of the curl loop (default 1000)
#   SMSDESK_BENCH_RATE        --rate of part (c), a second (default 50)
#   SMSDESK_BENCH_RATE_N      messages of part (c) (default 500)
#   SMSDESK_BENCH_RATE_JOBS   --jobs of part (c) (default 4)
#   SMSDESK_BENCH_SHM         tmpfs directory for the second inbox
#                             (default /dev/shm; "none" to skip)
#   SMSDESK_BENCH_PEER        0 to skip the twilio library
#   SMSDESK_BENCH_TWILIO      its version (default 6.2.0)
#   SMSDESK_BENCH_RSS         "poll" to read VmHWM from /proc instead of
#                             /usr/bin/time
#   SMSDESK_BENCH_LEAVE       a file to which the scratch directory's path
#                             is added at the end, instead of removing it
#                             (make bench-send: see drop_scratch in lib.sh)
#   SMSDESK_BENCH_PROVIDERS   part (p)'s providers (default "twilio telnyx
#                             plivo vonage")
#   SMSDESK_BENCH_PJOBS       part (p)'s --jobs (default 8)
#   SMSDESK_BENCH_PART        any of a, b, c, p (default abcp; l is for
#                             send-latency.sh, run after this by make
#                             bench-send)
#
# Exit status: 0; 1 if a tool fails or sms-sim did not create every
# message; 2 on a usage or setup error.

set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../.." && pwd -P)
bin=${SMSDESK_BIN:-$top/build/bin}
n=${SMSDESK_BENCH_N:-10000}
numbers=${SMSDESK_BENCH_NUMBERS:-1000}
jobs=${SMSDESK_BENCH_JOBS:-1 8}
rounds=${SMSDESK_BENCH_ROUNDS:-3}
curl_n=${SMSDESK_BENCH_CURL_N:-1000}
rate=${SMSDESK_BENCH_RATE:-50}
rate_n=${SMSDESK_BENCH_RATE_N:-500}
rate_jobs=${SMSDESK_BENCH_RATE_JOBS:-4}
shm=${SMSDESK_BENCH_SHM:-/dev/shm}
cache=${SMSDESK_BENCH_CACHE:-${HOME:-/nonexistent}/.cache/smsdesk-bench}
part=${SMSDESK_BENCH_PART:-abcp}
providers=${SMSDESK_BENCH_PROVIDERS:-twilio telnyx plivo vonage}
pjobs=${SMSDESK_BENCH_PJOBS:-8}
peer_pkg=twilio
peer_ver=${SMSDESK_BENCH_TWILIO:-6.2.0}
status=0
sim=

die() {
	echo "send.sh: $*" >&2
	exit 2
}

fail() {
	echo "send.sh: $*" >&2
	status=1
}

. "$here/lib.sh"

for v in "$n" "$numbers" "$rounds" "$curl_n" "$rate" "$rate_n" \
    "$rate_jobs" "$pjobs" $jobs; do
	case $v in
	'' | *[!0-9]* | 0) die "bad count: '$v'" ;;
	esac
done
[ "$numbers" -le 10000 ] || die "SMSDESK_BENCH_NUMBERS: at most 10000"
[ "$curl_n" -le "$n" ] || curl_n=$n
[ "$rate_n" -le "$n" ] || rate_n=$n
case $part in
*[!abclp]* | '') die "SMSDESK_BENCH_PART: '$part' is not made of a, b, c, l, p" ;;
esac
for p in sms-send sms-sim; do
	[ -x "$bin/$p" ] || die "$bin/$p: not found or not executable (run make)"
done
fs_check
case $part in *b*)
	command -v curl >/dev/null || die "curl: not found" ;;
esac

scratch=$(mktemp -d "${TMPDIR:-/tmp}/smsdesk-bench.XXXXXX") ||
	die "cannot make a scratch directory"
scratch=$(cd "$scratch" && pwd -P) || die "cannot enter $scratch"
shmdir=
mnt=
cleanup() {
	if [ -n "$sim" ]; then
		kill "$sim" 2>/dev/null
		wait "$sim" 2>/dev/null
	fi
	loop_down
	drop_scratch "$scratch"
	[ -n "$shmdir" ] && rm -rf "$shmdir"
}

trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The account, in the environment only; nothing from the user's
# configuration (a public URL there would make sms-send ask for status
# callbacks, and sms-sim post them).
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
provider_accounts

# --- the messages ------------------------------------------------------

msgs=$scratch/messages.ndjson
gen_messages "$n" "$numbers" "$msgs" || die "cannot generate the messages"
bytes=$(wc -c <"$msgs")
blen=$(head -n 1 "$msgs" | sed 's/.*"body":"//; s/",.*//' | wc -c)
head -n "$curl_n" "$msgs" >"$scratch/curl.ndjson"
head -n "$rate_n" "$msgs" >"$scratch/rate.ndjson"

# The tmpfs inbox, if there is a tmpfs to put it on.
shm_why=
if [ "$shm" = none ]; then
	shm_why="SMSDESK_BENCH_SHM=none"
elif [ ! -d "$shm" ] || [ ! -w "$shm" ]; then
	shm_why="$shm: not a writable directory"
elif [ "$(stat -f -c %T "$shm" 2>/dev/null)" != tmpfs ]; then
	shm_why="$shm: not a tmpfs"
elif ! shmdir=$(mktemp -d "$shm/smsdesk-bench.XXXXXX"); then
	shmdir=
	shm_why="cannot make a directory in $shm"
fi

case $part in *a*) peer_setup ;; *) peer=0 peer_why="no part a" ;; esac

echo "smsdesk send benchmark"
echo "sms-send: $bin/sms-send, against $bin/sms-sim (fresh for each run," \
    "no faults, no log file, no callbacks)"
printf 'messages: %d to %d customers, %d-character ASCII bodies (1 segment)' \
    "$n" "$numbers" "$((blen - 1))"
printf ', unique keys\n'
if [ -z "$fs" ]; then
	echo "scratch:  $scratch (the disk inbox, every run's kept to the end)"
else
	echo "scratch:  $scratch"
fi
if command -v findmnt >/dev/null; then
	echo "          $(findmnt -n -o SOURCE,FSTYPE,OPTIONS -T "$scratch")"
fi
if [ "$fs" = loop ]; then
	echo "disk:     loop: a fresh ext4 (${loop_mb} MB file in the" \
	    "scratch directory, mkfs.ext4 $mkfs_opts, mount -o loop) for"
	echo "          every disk run of sms-send and every run of the" \
	    "library (its working directory)"
else
	echo "disk:     the scratch directory's (SMSDESK_BENCH_FS=loop, as" \
	    "root, for a fresh loop-mounted ext4 per run)"
fi
if [ -n "$shmdir" ]; then
	echo "tmpfs:    $shmdir (the tmpfs inbox)"
else
	echo "tmpfs:    skipped ($shm_why)"
fi
if [ "$peer" = 1 ]; then
	echo "peer:     $peer_pkg $peer_ver (npm), node $(node --version)," \
	    "client.api.baseUrl set to sms-sim"
else
	echo "peer:     skipped ($peer_why)"
fi
echo "curl:     $(curl --version | head -n 1 | cut -d ' ' -f 1-2)," \
    "one process per message, first $curl_n messages"
printf 'host:     %s, %s CPUs, kernel %s\n' \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
    "$(getconf _NPROCESSORS_ONLN)" "$(uname -r)"
echo "load:     $(cut -d ' ' -f 1-3 /proc/loadavg) (1, 5, 15 min) at the start"
echo

# --- (a) sms-send and the library ----------------------------------------

# one NAME WANT IN CMD...: one measured run of CMD <IN against a fresh
# sms-sim; checks exit 0 and WANT creates; keeps the figures under NAME.
one() {
	sim_run "$@" || return 1
	keep "$1"
	eval "n_$1=$2"
}

# sent OUT WANT: that sms-send printed WANT records with a provider id.
sent() {
	local got
	got=$(grep -c '"provider_id":"' "$1")
	[ "$got" -eq "$2" ] || fail "sms-send: $got records with a provider" \
	    "id, want $2"
}

if [ -z "${part##*a*}" ]; then
	echo "(a) $n messages per run, best of $rounds rounds"
	for ((r = 0; r < rounds; r++)); do
		for c in $jobs; do
			# Kept to the end: removing a run's files would slow
			# the next run on ext4 without a journal (inbox.sh).
			ib=$scratch/inbox-$c.$r
			if [ "$fs" = loop ]; then
				loop_up || break 2
				ib=$mnt/inbox
			fi
			mkinbox "$ib"
			one "disk_$c" "$n" "$msgs" "$bin/sms-send" -d "$ib" \
			    --jobs "$c" && sent "$scratch/out" "$n"
			[ "$fs" = loop ] && loop_down
			if [ -n "$shmdir" ]; then
				ib=$shmdir/inbox
				mkinbox "$ib"
				one "shm_$c" "$n" "$msgs" "$bin/sms-send" \
				    -d "$ib" --jobs "$c" && sent "$scratch/out" "$n"
				rm -rf "$ib"
			fi
			if [ "$peer" = 1 ] && [ "$fs" = loop ]; then
				loop_up || break 2
				# Its working directory on the fresh disk, as
				# sms-send's inbox is (it writes nothing).
				if mkdir "$mnt/peer" && cd "$mnt/peer"; then
					one "npm_$c" "$n" /dev/null node \
					    "$here/peer-send.js" "$msgs" "$c"
					cd "$top" || die "cannot cd to $top"
				fi
				loop_down
			elif [ "$peer" = 1 ]; then
				one "npm_$c" "$n" /dev/null node \
				    "$here/peer-send.js" "$msgs" "$c"
			fi
		done
	done
fi

# --- (b) curl once per message -----------------------------------------

if [ -z "${part##*b*}" ]; then
	# The loop reads to and body from a TSV made beforehand, so the
	# time is curl's, not a JSON parser's.
	awk '{
		to = $0; sub(/.*"to":"/, "", to); sub(/".*/, "", to)
		b = $0; sub(/.*"body":"/, "", b); sub(/",.*/, "", b)
		print to "\t" b
	}' "$scratch/curl.ndjson" >"$scratch/curl.tsv"
	cat >"$scratch/curl-loop.sh" <<'EOF'
url=$TWILIO_API_URL/2010-04-01/Accounts/$TWILIO_ACCOUNT_SID/Messages.json
while IFS=$'\t' read -r to body; do
	curl -sS -o /dev/null -w '%{http_code}\n' \
	    -u "$TWILIO_ACCOUNT_SID:$TWILIO_AUTH_TOKEN" \
	    --data-urlencode "To=$to" --data-urlencode "From=$TWILIO_FROM" \
	    --data-urlencode "Body=$body" "$url"
done
EOF
	one curl_1 "$curl_n" "$scratch/curl.tsv" bash "$scratch/curl-loop.sh"
	got=$(grep -c '^201$' "$scratch/out")
	[ "$got" -eq "$curl_n" ] || fail "curl loop: $got 201s, want $curl_n"
fi

# --- the table ---------------------------------------------------------

if [ -n "$(compgen -v t_)" ]; then
	printf '%-30s %3s %7s %8s %9s %10s %7s\n' tool C messages "best s" \
	    msgs/s "peak KiB" "cpu s"
	row() {	# label name c
		local t m cpu cnt
		eval "t=\${t_$2:-} m=\${m_$2:-} cpu=\${c_$2:-} cnt=\${n_$2:-}"
		[ -n "$t" ] || return 0
		printf '%-30s %3s %7s %8.3f %9.0f %10s %7s\n' "$1" "$3" \
		    "$cnt" "$t" "$(calc "print $cnt / $t")" "$m" "$cpu"
	}
	for c in $jobs; do
		row "sms-send, inbox on disk" "disk_$c" "$c"
		row "sms-send, inbox on tmpfs" "shm_$c" "$c"
		row "twilio $peer_ver (node)" "npm_$c" "$c"
	done
	row "curl loop (sample)" curl_1 1
	echo "(wall time including start-up; peak KiB: maximum resident set," \
	    "measured with $rss_how; cpu s: user + system of the best run;" \
	    "every run checked: sms-sim answered 201 to each message)"
	echo
fi

# tput NAME: messages a second of NAME.
tput() {
	eval "calc \"print \${n_$1} / \${t_$1}\""
}

if [ -z "${part##*a*}" ] && [ "$peer" = 1 ]; then
	echo "ratios against the twilio library at the same concurrency:"
	for c in $jobs; do
		[ -n "$(eval "echo \${t_npm_$c:-}")" ] || continue
		for where in disk shm; do
			[ -n "$(eval "echo \${t_${where}_$c:-}")" ] || continue
			x=$(calc "printf \"%.2f\", $(tput "${where}_$c") / \
			    $(tput "npm_$c")")
			eval "md=\${m_${where}_$c} mn=\${m_npm_$c}"
			mr=$(calc "printf \"%.3f\", $md / $mn")
			met="NOT met"
			[ "$(calc "print ($x >= 3 && $mr <= 0.1)")" = 1 ] &&
				met=met
			label=disk
			[ "$where" = shm ] && label=tmpfs
			printf '  C=%-2s inbox on %-5s  %5.2fx the throughput,' \
			    "$c" "$label" "$x"
			printf ' %.3f of the memory (1/%.0f)  target: %s\n' \
			    "$mr" "$(calc "print 1 / $mr")" "$met"
		done
	done
	echo "(target: at least 3x the throughput at a tenth of the memory;" \
	    "the library writes nothing; sms-send makes every message"
	echo " durable as queued before its request (a journal line," \
	    "fdatasync'd) and syncs its files before it exits; on tmpfs the" \
	    "syncs cost nothing)"
	echo
fi
if [ -n "${t_curl_1:-}" ]; then
	for c in $jobs; do
		[ -n "$(eval "echo \${t_disk_$c:-}")" ] || continue
		printf 'sms-send --jobs %s (disk) is %.1fx the curl loop' "$c" \
		    "$(calc "print $(tput "disk_$c") / $(tput curl_1)")"
		printf ' (messages/s; curl on %d, sms-send on %d)\n' \
		    "$curl_n" "$n"
	done
	echo
fi

# --- (p) the providers, side by side ------------------------------------

if [ -z "${part##*p*}" ]; then
	echo "(p) $n messages per run to sms-sim playing each provider," \
	    "sms-send --jobs $pjobs, inbox on disk, best of $rounds rounds," \
	    "rounds interleaved"
	for ((r = 0; r < rounds; r++)); do
		for p in $providers; do
			ib=$scratch/inbox-$p.$r
			if [ "$fs" = loop ]; then
				loop_up || break 2
				ib=$mnt/inbox
			fi
			mkinbox "$ib"
			sim_opts=(--provider "$p")
			SMSDESK_PROVIDER=$p one "p_$p" "$n" "$msgs" \
			    "$bin/sms-send" -d "$ib" --jobs "$pjobs" &&
				sent "$scratch/out" "$n"
			sim_opts=()
			[ "$fs" = loop ] && loop_down
		done
	done
	printf '%-10s %7s %8s %9s %7s  %-9s %s\n' provider messages \
	    "best s" msgs/s "cpu s" "vs twilio" "cpu vs twilio"
	met=1
	for p in $providers; do
		eval "t=\${t_p_$p:-} cpu=\${c_p_$p:-}"
		[ -n "$t" ] || continue
		vs=- cvs=-
		if [ -n "${t_p_twilio:-}" ] && [ "$p" != twilio ]; then
			pct=$(calc "printf \"%.0f\", 100 * $t_p_twilio / $t")
			vs="$pct %"
			[ "$pct" -ge 80 ] || met=0
			case $cpu$c_p_twilio in *[!0-9.]*) ;; *)
				cvs="$(calc "printf \"%.0f\", \
				    100 * $c_p_twilio / $cpu") %" ;;
			esac
		fi
		printf '%-10s %7s %8.3f %9.0f %7s  %-9s %s\n' "$p" "$n" \
		    "$t" "$(calc "print $n / $t")" "$cpu" "$vs" "$cvs"
	done
	echo "(cpu s: sms-send's user + system; sms-sim, on the same cores," \
	    "is not in it: where the wall ratio is lower than the cpu one," \
	    "the simulator's own work is the difference)"
	if [ -z "${t_p_twilio:-}" ]; then
		echo "target: no figure for twilio to hold the others to"
	elif [ "$met" = 1 ]; then
		echo "target: every provider within 20 % of twilio: met"
	else
		echo "target: every provider within 20 % of twilio: NOT met"
	fi
	echo
fi

# --- (c) the rate limiter -------------------------------------------------

if [ -z "${part##*c*}" ]; then
	echo "(c) sms-send --rate $rate/s --jobs $rate_jobs, $rate_n messages," \
	    "inbox on disk"
	ib=$scratch/inbox-rate
	mkinbox "$ib"
	if start_sim "$scratch/rate.log" stamp; then
		t0=$(now)
		"$bin/sms-send" -d "$ib" --jobs "$rate_jobs" --rate "$rate/s" \
		    <"$scratch/rate.ndjson" >"$scratch/rate.out" \
		    2>"$scratch/err"
		rc=$?
		t1=$(now)
		stop_sim
		# The timestamping reader may still be writing.
		for ((i = 0; i < 100; i++)); do
			[ "$(created "$scratch/rate.log")" -ge "$rate_n" ] &&
				break
			sleep 0.05
		done
		[ "$rc" -eq 0 ] || { fail "sms-send --rate: exit $rc";
		    head -n 5 "$scratch/err" >&2; }
		sent "$scratch/rate.out" "$rate_n"
		got=$(created "$scratch/rate.log")
		[ "$got" -eq "$rate_n" ] ||
			fail "--rate: sms-sim created $got, want $rate_n"
		set -- $(awk '/ 201 .*created SM/ {
			if (!c++) f = $1; l = $1
			# the most requests in any 1 s window from the first
			t[c] = $1
		} END {
			m = 0; j = 1
			for (i = 1; i <= c; i++) {
				while (t[i] - t[j] >= 1) j++
				if (i - j + 1 > m) m = i - j + 1
			}
			printf "%d %.6f %d\n", c, l - f, m
		}' "$scratch/rate.log")
		cnt=$1 span=$2 peak=$3
		wall=$(calc "printf \"%.3f\", $t1 - $t0")
		if [ "$cnt" -ge 2 ] && [ "$(calc "print ($span > 0)")" = 1 ]
		then
			arr=$(calc "printf \"%.2f\", ($cnt - 1) / $span")
			err=$(calc "d = $arr - $rate; if (d < 0) d = -d;
			    printf \"%.2f\", 100 * d / $rate")
			printf '  at sms-sim: %d creates, first to last %.3f s:' \
			    "$cnt" "$span"
			printf ' %s a second, %s %% off %s\n' "$arr" "$err" \
			    "$rate"
			printf '  wall time:  %d messages in %s s: %.2f a second' \
			    "$rate_n" "$wall" "$(calc "print $rate_n / $wall")"
			printf ' (start-up and the last answer included)\n'
			printf '  busiest second at sms-sim: %d creates\n' "$peak"
			if [ "$(calc "print ($err <= 2)")" = 1 ]; then
				echo "target: --rate $rate/s within 2 % of $rate: met"
			else
				echo "target: --rate $rate/s within 2 % of" \
				    "$rate: NOT met"
			fi
		else
			fail "--rate: too few creates timed ($cnt)"
		fi
	else
		status=1
	fi
	rm -rf "$ib"
fi
exit "$status"
