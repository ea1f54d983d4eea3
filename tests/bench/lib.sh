# tests/bench/lib.sh: what the bash benchmarks share; sourced by them.

# Messages go as written, as the peers send them: no first-message
# disclosure line, no registration reminder (smsdesk-config(5)).
export SMSDESK_DISCLOSURE=off SMSDESK_REGISTRATION=benchmark

# serve LOG STAMP OUT CMD...: CMD in the background, the argument
# 127.0.0.1:PORT made a free port of 127.0.0.1, stdin /dev/null, stdout to
# OUT, stderr to LOG (each line prefixed with its arrival time when STAMP
# is "stamp"), and wait for its "listening on" line; another port while
# the one tried is taken. Sets $served (pid) and $port. Returns 1, the
# start of LOG shown, if it does not start.
serve() {
	local log=$1 stamp=$2 out=$3 try i a argv
	shift 3
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 40000))
		rm -f "$log"	# an old "listening on" is no answer
		argv=()
		for a in "$@"; do
			[ "$a" = 127.0.0.1:PORT ] && a=127.0.0.1:$port
			argv+=("$a")
		done
		if [ "$stamp" = stamp ]; then
			"${argv[@]}" </dev/null >"$out" \
			    2> >(while IFS= read -r l; do
				printf '%s %s\n' "$EPOCHREALTIME" "$l"
			    done >"$log") &
		else
			"${argv[@]}" </dev/null >"$out" 2>"$log" &
		fi
		served=$!
		for ((i = 0; i < 100; i++)); do
			grep -qs 'listening on' "$log" && return 0
			kill -0 "$served" 2>/dev/null || break
			sleep 0.05
		done
		kill "$served" 2>/dev/null
		wait "$served" 2>/dev/null
		served=
		grep -qs 'cannot listen' "$log" || break
	done
	echo "${0##*/}: ${1##*/} did not start:" >&2
	head -n 5 "$log" >&2
	return 1
}

# start_listener BIN DIR LOG [EVENTS]: BIN/sms-recv --listen --dir DIR
# (serve), its stdout to EVENTS (default /dev/null). Sets $listener and
# $port.
start_listener() {
	listener=
	serve "$3" "" "${4:-/dev/null}" "$1/sms-recv" --listen 127.0.0.1:PORT \
	    --dir "$2" || return 1
	listener=$served
}

# What send.sh and send-latency.sh share: they set $bin, $scratch, $top,
# $cache, $peer_pkg, $peer_ver and a die() before they use these.

# Seconds since the epoch, to the microsecond, without a fork if bash has it.
now() {
	if [ -n "${EPOCHREALTIME:-}" ]; then
		echo "$EPOCHREALTIME"
	else
		date +%s.%N
	fi
}

calc() {
	awk "BEGIN { $1 }" </dev/null
}

# start_sim LOG [stamp]: sms-sim (serve) with the options in the array
# sim_opts, if set, its stderr in LOG (each line prefixed with its arrival
# time with "stamp"); sets $sim (pid) and every provider's API URL
# (TWILIO_API_URL, TELNYX_API_URL, ...: each provider reads only its own).
start_sim() {
	sim=
	serve "$1" "${2:-}" /dev/null "$bin/sms-sim" --listen 127.0.0.1:PORT \
	    --number "$TWILIO_FROM" ${sim_opts[@]+"${sim_opts[@]}"} || return 1
	sim=$served
	export TWILIO_API_URL=http://127.0.0.1:$port
	export TELNYX_API_URL=$TWILIO_API_URL PLIVO_API_URL=$TWILIO_API_URL
	export VONAGE_API_URL=$TWILIO_API_URL
}

stop_sim() {
	kill -TERM "$sim"
	wait "$sim"
	sim=
}

# created LOG: the creates sms-sim answered (201 as Twilio, 200 as Telnyx
# or Vonage, 202 as Plivo).
created() {
	grep -cE ' 20[012] .*created SM' "$1"
}

# provider_accounts: every provider's account and sender in the
# environment, for sms-send and for sms-sim playing that provider
# (sms-sim --provider); SMSDESK_PROVIDER then chooses one. Made-up
# credentials: they go only to sms-sim on 127.0.0.1.
provider_accounts() {
	export TELNYX_API_KEY=bench-telnyx-key TELNYX_FROM=$TWILIO_FROM
	export PLIVO_AUTH_ID=MABENCH0000000000000 PLIVO_AUTH_TOKEN=bench-plivo
	export PLIVO_FROM=$TWILIO_FROM
	export VONAGE_API_KEY=benchkey VONAGE_API_SECRET=bench-vonage
	export VONAGE_FROM=$TWILIO_FROM
}

# sim_run NAME WANT IN CMD...: one measured run (measure) of CMD <IN
# against a fresh sms-sim; fails the run (fail, returns 1) unless CMD
# exits 0 and sms-sim answered WANT creates.
sim_run() {
	local name=$1 want=$2 in=$3 rc got
	shift 3
	start_sim "$scratch/sim.log" || { status=1; return 1; }
	measure "$in" "$scratch/out" "$@"
	rc=$?
	stop_sim
	got=$(created "$scratch/sim.log")
	if [ "$rc" -ne 0 ]; then
		fail "$name: exit $rc"
		head -n 5 "$scratch/err" >&2
		return 1
	fi
	if [ "$got" -ne "$want" ]; then
		fail "$name: sms-sim created $got messages, want $want"
		return 1
	fi
}

# measure IN OUT CMD...: run CMD <IN >OUT once; sets $secs (wall), $rss
# (peak KiB), $cpu (user + system seconds, "-" when polled), $rss_how.
# Returns CMD's status.
measure() {
	local in=$1 out=$2 t0 t1 rc pid hwm=0 k v rest
	shift 2
	if [ "${SMSDESK_BENCH_RSS:-}" != poll ] &&
	    /usr/bin/time -f %M true >/dev/null 2>&1; then
		rss_how="/usr/bin/time -f %M"
		t0=$(now)
		/usr/bin/time -f '%M %U %S' -o "$scratch/rss" "$@" \
		    <"$in" >"$out" 2>"$scratch/err"
		rc=$?
		t1=$(now)
		set -- $(tail -n 1 "$scratch/rss")
		rss=$1
		cpu=$(calc "printf \"%.2f\", $2 + $3")
	else
		# VmHWM only grows, so the last value read before exit is
		# the peak to within one poll interval.
		rss_how="VmHWM from /proc, polled every 5 ms"
		t0=$(now)
		"$@" <"$in" >"$out" 2>"$scratch/err" &
		pid=$!
		while kill -0 "$pid" 2>/dev/null; do
			while read -r k v rest; do
				[ "$k" = VmHWM: ] && [ "$v" -gt "$hwm" ] &&
					hwm=$v
			done 2>/dev/null <"/proc/$pid/status"
			sleep 0.005
		done
		wait "$pid"
		rc=$?
		t1=$(now)
		rss=$hwm
		cpu=-
	fi
	secs=$(calc "printf \"%.3f\", $t1 - $t0")
	return "$rc"
}

# keep NAME: keep the best time ($secs) and the largest memory ($rss) of
# NAME in t_NAME, m_NAME, c_NAME (cpu of the best run).
keep() {
	local old
	eval "old=\${t_$1:-}"
	if [ -z "$old" ] || [ "$(calc "print ($secs < $old)")" = 1 ]; then
		eval "t_$1=$secs c_$1=$cpu"
	fi
	eval "old=\${m_$1:-0}"
	[ "$rss" -gt "$old" ] && eval "m_$1=$rss"
}

# The peer: installed once into the cache, never inside the repository.
inside_repo() {
	case $1/ in
	"$top"/*) die "$1: the peer cache is inside the repository" ;;
	esac
}

# peer_setup: the peer package for Node ($peer_pkg $peer_ver: the twilio
# library, the segment calculator) in $cache/npm, installed there once;
# sets peer (1 if usable), peer_why (why not) and NODE_PATH.
# SMSDESK_BENCH_PEER=0 skips it.
peer_setup() {
	peer=0
	peer_why=
	npmdir=$cache/npm
	if [ "${SMSDESK_BENCH_PEER:-1}" = 0 ]; then
		peer_why="SMSDESK_BENCH_PEER=0"
	elif ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		peer_why="node or npm not found"
	else
		case $npmdir in
		/*) ;;
		*) npmdir=$PWD/$npmdir ;;
		esac
		inside_repo "$npmdir"
		mkdir -p "$npmdir" || die "cannot create $npmdir"
		npmdir=$(cd "$npmdir" && pwd -P)
		inside_repo "$npmdir"
		pj=$npmdir/node_modules/$peer_pkg/package.json
		have=$(node -p "require('$pj').version" 2>/dev/null)
		if [ "$have" != "$peer_ver" ]; then
			echo "installing $peer_pkg@$peer_ver into $npmdir"
			# A package.json of its own stops npm from climbing
			# to a parent.
			[ -f "$npmdir/package.json" ] ||
				echo '{ "private": true }' \
				    >"$npmdir/package.json"
			(cd "$npmdir" && npm install --no-audit --no-fund \
			    --silent "$peer_pkg@$peer_ver") >&2
			have=$(node -p "require('$pj').version" 2>/dev/null)
		fi
		if [ "$have" = "$peer_ver" ]; then
			peer=1
			export NODE_PATH=$npmdir/node_modules
		else
			peer_why="cannot install $peer_pkg@$peer_ver"
		fi
	fi
}

# gen_messages N NUMBERS FILE: N NDJSON records into FILE, "to" over NUMBERS
# customers, an ASCII body of about 80 characters (one segment), a unique
# "key".
gen_messages() {
	awk -v n="$1" -v k="$2" -v tag="bench-$$-$(date +%s)" 'BEGIN {
		split("Mon Tue Wed Thu Fri Sat Sun", day, " ")
		for (i = 0; i < n; i++)
			printf "{\"to\":\"+1555123%04d\",\"body\":\"Order " \
			    "%06d has shipped. It arrives %s between 9am " \
			    "and 5pm; reply HELP for help.\",\"key\":" \
			    "\"%s-%d\"}\n", i % k, i, day[i % 7 + 1], tag, i
	}' >"$3"
}

# mkinbox DIR: an empty inbox (msg/ marks one; sms-send makes the rest),
# for sms-send never makes one (smsdesk-inbox(5)).
mkinbox() {
	mkdir -m 700 "$1" "$1/msg" || die "cannot make the inbox $1"
}

# fs_check: $fs from SMSDESK_BENCH_FS, checked: empty for the scratch
# directory's disk ("disk"), "loop" for a fresh loop-mounted ext4 per run
# (root, mkfs.ext4, mount), or, by default, loop where it can be and the
# disk elsewhere: a file system that earlier work left freeing thousands
# of inodes makes every file cost more (drop_scratch), the same figures
# twice. Sets loop_mb and mkfs_opts too.
fs_check() {
	fs=${SMSDESK_BENCH_FS:-auto}
	loop_mb=${SMSDESK_BENCH_LOOP_MB:-1024}
	mkfs_opts=${SMSDESK_BENCH_MKFS:--O ^has_journal -E lazy_itable_init=0}
	case $loop_mb in
	'' | *[!0-9]* | 0) die "SMSDESK_BENCH_LOOP_MB: bad size '$loop_mb'" ;;
	esac
	case $fs in
	auto)
		fs=loop
		[ "$(id -u)" = 0 ] || fs=
		for p in mkfs.ext4 mount umount losetup; do
			command -v "$p" >/dev/null || fs=
		done ;;
	disk) fs= ;;
	loop)
		[ "$(id -u)" = 0 ] ||
			die "SMSDESK_BENCH_FS=loop: needs root (mount)"
		for p in mkfs.ext4 mount umount; do
			command -v "$p" >/dev/null ||
				die "SMSDESK_BENCH_FS=loop: $p not found"
		done ;;
	*) die "SMSDESK_BENCH_FS: '$fs' is not loop or disk" ;;
	esac
}

# loop_up: a fresh ext4 on $scratch/loop.img, mounted on $scratch/fs
# (sets $mnt). loop_down: unmounted and its file removed; nothing if
# none is mounted.
loop_up() {
	loop_down
	mkdir -p "$scratch/fs" || return 1
	rm -f "$scratch/loop.img"
	truncate -s "${loop_mb}M" "$scratch/loop.img" &&
	    mkfs.ext4 -q -F $mkfs_opts "$scratch/loop.img" >&2 &&
	    mount -o loop "$scratch/loop.img" "$scratch/fs" || {
		rm -f "$scratch/loop.img"
		fail "cannot make and mount a loop ext4 in $scratch"
		return 1
	}
	mnt=$scratch/fs
}
loop_down() {
	if [ -n "$mnt" ]; then
		umount "$mnt" || umount -l "$mnt"
		mnt=
	fi
	rm -f "$scratch/loop.img"
}

# drop_scratch DIR: remove the scratch directory DIR, or, with
# SMSDESK_BENCH_LEAVE set, add it to that file for whoever runs the next
# benchmark to remove once that one is done. ext4 without a journal (the
# disks here) skips the inodes freed in the last minute or more when it
# makes a file, so a benchmark started right after another's removal of
# its thousands of files pays for scanning past them in every file it
# makes: measured, send-latency.sh ran at 80-85 % of its bound right after
# send.sh had removed its inboxes, at 94 % on a fresh file system.
drop_scratch() {
	if [ -n "${SMSDESK_BENCH_LEAVE:-}" ]; then
		printf '%s\n' "$1" >>"$SMSDESK_BENCH_LEAVE"
	else
		rm -rf "$1"
	fi
}
