#!/usr/bin/env bash
# slow.sh: slow clients cannot stall the listener (issue 11, item 10).
#
# Run by `make bench-slow`, never by `make check`. It builds slow-load.c
# into a scratch directory against the library, then, for each scenario,
# starts sms-recv --listen on a fresh inbox and runs slow-load against it:
#
#   trickle-one   1,000 connections from 127.0.0.2, each sending one
#                 header line every 3 s, reconnecting when cut off
#   trickle-many  the same from 1,000 addresses of 127.1.0.0/16
#   idle-many     1,000 idle connections, one per address, reconnecting
#   idle-one      1,000 idle connections from 127.0.0.2, reconnecting
#
# while valid signed webhooks come from 127.0.0.1, as a provider's would,
# five a second for SECONDS, each on its own new connection. It reports
# p50/p99/max latency of those webhooks and how many failed, and how many
# lines the listener wrote to stderr: in all, not prefixed "sms-recv:",
# and the request log lines among them.
#
# Goal (issue 11): a valid webhook answered within 1 s at the 99th
# percentile in every scenario. Reported, not enforced.
#
# The limit of open files is raised (ulimit -n) to 20000 or the hard
# limit: 1,000 slow connections need as many descriptors in slow-load
# and in the listener.
#
# Environment:
#   SMSDESK_BIN              directory holding sms-recv (default build/bin)
#   SMSDESK_LIB              libsmsdesk.a (default build/libsmsdesk.a)
#   SMSDESK_OLD_BIN          another build's directory, run the same way
#                            (the one before the change), if set
#   SMSDESK_BENCH_SECONDS    webhooks are sent for this long (default 30)
#   SMSDESK_BENCH_SLOW       slow connections (default 1000)
#   SMSDESK_BENCH_SCENARIOS  default "trickle-one trickle-many idle-many
#                            idle-one"
#
# Exit status: 0; 2 on a usage or setup error.

set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd -P)
top=$(cd "$here/../.." && pwd -P)
bin=${SMSDESK_BIN:-$top/build/bin}
lib=${SMSDESK_LIB:-$top/build/libsmsdesk.a}
old=${SMSDESK_OLD_BIN:-}
secs=${SMSDESK_BENCH_SECONDS:-30}
nslow=${SMSDESK_BENCH_SLOW:-1000}
scenarios=${SMSDESK_BENCH_SCENARIOS:-trickle-one trickle-many idle-many idle-one}
pkgs="jansson libutf8proc libcrypto libsodium libmicrohttpd"
listener=

die() {
	echo "slow.sh: $*" >&2
	exit 2
}

for b in "$bin" $old; do
	[ -x "$b/sms-recv" ] || die "$b/sms-recv: not found (run make)"
done
[ -f "$lib" ] || die "$lib: not found (run make)"
cc=${CC:-cc}
flags=$(pkg-config --cflags --libs $pkgs) || die "pkg-config: $pkgs"

hard=$(ulimit -Hn)
want=20000
[ "$hard" != unlimited ] && [ "$hard" -lt "$want" ] && want=$hard
ulimit -n "$want" || die "cannot raise the limit of open files to $want"
[ "$want" -ge $((nslow + 300)) ] ||
	die "the limit of open files ($want) is too low for $nslow connections"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/smsdesk-slow.XXXXXX") ||
	die "cannot make a scratch directory"
cleanup() {
	[ -n "$listener" ] && kill "$listener" 2>/dev/null && wait "$listener"
	rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

"$cc" -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -Wall \
    -Wextra -I"$top/lib" -pthread -o "$scratch/slow-load" \
    "$here/slow-load.c" "$lib" $flags || die "cannot build slow-load.c"

TWILIO_AUTH_TOKEN=tok-bench-slow
export TWILIO_AUTH_TOKEN
unset SMSDESK_INBOX SMSDESK_PUBLIC_URL SMSDESK_PROVIDER
export XDG_CONFIG_HOME=$scratch/config HOME=$scratch

. "$here/lib.sh"

kv() {
	local w
	for w in $2; do
		case $w in "$1"=*) echo "${w#*=}"; return 0 ;; esac
	done
	echo "?"
}

echo "smsdesk slow-client benchmark"
printf 'host:    %s, %s CPUs, kernel %s\n' \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
    "$(getconf _NPROCESSORS_ONLN)" "$(uname -r)"
echo "load:    $(cut -d ' ' -f 1-3 /proc/loadavg) (1, 5, 15 min) at the start"
echo "files:   ulimit -n $want (slow-load and the listener)"
echo "webhooks: 5 a second for ${secs}s from 127.0.0.1, each on a new" \
    "connection; $nslow slow connections"
echo
printf '%-5s %-13s %6s %5s %6s %9s %9s %9s %8s %8s %8s\n' build scenario \
    sent ok failed p50_ms p99_ms max_ms stderr unpref reqlog
n=0
for b in $old "$bin"; do
	n=$((n + 1))
	if [ -n "$old" ] && [ "$b" = "$old" ]; then name=old; else name=new; fi
	for sc in $scenarios; do
		case $sc in
		trickle-one) args="-a one" ;;
		trickle-many) args="-a many" ;;
		idle-one) args="-a one -i" ;;
		idle-many) args="-a many -i" ;;
		*) die "unknown scenario $sc" ;;
		esac
		ib=$scratch/inbox-$n-$sc
		log=$scratch/log-$n-$sc
		start_listener "$b" "$ib" "$log" || exit 2
		out=$("$scratch/slow-load" -p "$port" -n "$nslow" -s "$secs" \
		    $args)
		kill -TERM "$listener"
		wait "$listener"
		listener=
		lines=$(wc -l <"$log")
		unpref=$(grep -vc '^sms-recv: ' "$log")
		reqlog=$(grep -c ' POST /twilio ' "$log")
		printf '%-5s %-13s %6s %5s %6s %9s %9s %9s %8s %8s %8s\n' \
		    "$name" "$sc" "$(kv webhooks "$out")" "$(kv ok "$out")" \
		    "$(kv failed "$out")" "$(kv p50_ms "$out")" \
		    "$(kv p99_ms "$out")" "$(kv max_ms "$out")" "$lines" \
		    "$unpref" "$reqlog"
		grep -v ' POST /twilio ' "$log" |
		    sed -E 's/127\.[0-9.]+/ADDR/; s/[0-9]+ more/N more/;
		    s/port [0-9]+/port N/; s/:[0-9]+ /:N /' |
		    sort | uniq -c | sort -rn |
		    head -n 4 | sed 's/^/        /'
	done
done
echo
echo "load:    $(cut -d ' ' -f 1-3 /proc/loadavg) (1, 5, 15 min) at the end"
