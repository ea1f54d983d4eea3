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
# on PATH), data ($SMSDESK_TESTDATA, the fixtures), tools ($SMSDESK_TOOLS,
# the test tools and shims) and tmp (a scratch directory, removed on
# exit). Command strings run in a subshell with eval, so they see these
# variables and any the test sets; their output is kept and shown as a
# diagnostic only when the check fails.

# Rounds: a suite that repeats a random or racing case takes its count
# from the environment through rounds (below); unset, the small fixed
# count that `make check` runs; `make soak` sets them large (Makefile).
# Some checks assume at least the default (listings taken meanwhile).
#   SMSDESK_CRASH_SECONDS  time budget of the kill rounds: 0210 (40),
#                          0510 (45)
#   SMSDESK_CRASH_ROUNDS   kill rounds: 0210 runs at least this many and
#                          at most twice (100); 0510 at most four times (100)
#   SMSDESK_RACE_ROUNDS    steps of each racing process: 0220 (100), 0310
#                          (50), tests/unit/inbox-race (150)
#   SMSDESK_CLAIM_ROUNDS   trials of 8 processes claiming one conversation:
#                          0700 (200)
#   SMSDESK_SEED           the seed of 0210 and 0510, to replay a run
# A suite with a new count names it here and reads it with rounds; the
# count per case stays fixed, whatever is parametrised around it.

top=$(cd "$(dirname "$0")/.." && pwd) || exit 1
bin=${SMSDESK_BIN:-$top/build/bin}
data=${SMSDESK_TESTDATA:-$top/tests/data}
PATH=$bin:$PATH
export PATH
# The carriers' rules (smsdesk-config(5) disclosure, registration) would
# add a line to every first message and remind of a registration on
# stderr: tests/0647 tests them, and unsets these; elsewhere messages go
# as written.
SMSDESK_DISCLOSURE=off SMSDESK_REGISTRATION='the test suite'
export SMSDESK_DISCLOSURE SMSDESK_REGISTRATION
# A message nobody gave a purpose is marketing, which the rules of
# smsdesk-rules(5) hold to hours and counts and which needs an opt-in on
# record: a test of something else sends notifications unless it says
# (tests/0525 and 0645 unset or override this).
SMSDESK_PURPOSE=notification
export SMSDESK_PURPOSE

tools=${SMSDESK_TOOLS:-$top/build/tools}
# sign URL < BODY: the X-Twilio-Signature of the form BODY posted to URL,
# made with $TWILIO_AUTH_TOKEN (tests/tools/twilio-sign).
sign() { "$tools/twilio-sign" "$@"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/smsdesk-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

tap_n=0
tap_failed=0
tap_planned=

# plan N: announce N tests up front (optional: done_testing prints the plan
# at the end otherwise). The check of the test's inboxes at the end
# (inbox_check_all) is one more test, added to N unless it is turned off.
plan() {
	tap_planned=$1
	[ "${SMSDESK_INBOX_CHECK-1}" = 0 ] || tap_planned=$(($1 + 1))
	printf '1..%d\n' "$tap_planned"
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

# A description is tap_prefix (if set: a parametrised test's "telnyx: ")
# and DESC.
tap_desc() {
	printf '%s%s\n' "${tap_prefix-}" "$1" | sed 's/#/\\#/g' | tr '\n' ' ' |
	    sed 's/ $//'
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
	[ "${SMSDESK_INBOX_CHECK-1}" = 0 ] || inbox_check_all
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

# rounds NAME DEFAULT: print $NAME if it is a whole number above 0, else
# DEFAULT (what make check runs); the count used is said as a diagnostic.
rounds() {
	eval "r_v=\${$1-}"
	case $r_v in
	''|*[!0-9]*|0) r_v=$2 ;;
	esac
	diag "$1=$r_v"
	echo "$r_v"
}

# poll COMMAND: eval COMMAND every 0.1 s until it succeeds, for up to
# 60 s (a generous deadline, not a wait: most conditions hold at once).
poll() {
	p_i=0
	while [ "$p_i" -lt 600 ]; do
		eval "$1" && return 0
		sleep 0.1
		p_i=$((p_i + 1))
	done
	return 1
}

# serve OUT ERR CMD...: start the server CMD... --listen 127.0.0.1:PORT
# (sms-recv, sms-sim; an external program, so that its pid is the one
# started: give it an environment with env(1)) in the background, stdout
# to OUT and stderr to ERR, and wait for its "listening on" line for as
# long as it runs, up to 60 s (a deadline, not a wait). PORT is
# $serve_port if set (a restart where the clients know the port: tried
# again for up to 2 s while it is taken), else a random one; another
# random one while the one tried is taken. $serve_before, if set, is
# eval'd before each start (to open the reader of a FIFO that OUT is,
# say). Sets port and server (its pid), which it adds to pids for the
# test's exit trap. Returns 1 if it does not start, its stderr shown as a
# diagnostic and its exit status in serve_rc.
serve() {
	sv_out=$1 sv_err=$2
	shift 2
	sv_try=0 serve_rc=0
	port=${serve_port-}
	sv_t0=$(date +%s%N)
	while [ "$sv_try" -lt 20 ]; do
		[ -n "$port" ] ||
		    port=$(($(od -An -N2 -tu2 /dev/urandom) % 40000 + 20000))
		[ -n "${serve_before-}" ] && eval "$serve_before"
		rm -f "$sv_err"	# an old "listening on" is no answer
		"$@" --listen "127.0.0.1:$port" >"$sv_out" 2>"$sv_err" &
		server=$!
		pids="${pids-} $server"
		sv_i=0
		while [ "$sv_i" -lt 6000 ]; do
			grep -qs 'listening on' "$sv_err" && return 0
			kill -0 "$server" 2>/dev/null || break
			sleep 0.01
			sv_i=$((sv_i + 1))
		done
		kill "$server" 2>/dev/null
		wait "$server"
		serve_rc=$?
		grep -qs 'cannot listen' "$sv_err" || break
		if [ -n "${serve_port-}" ] &&
		    [ $(($(date +%s%N) - sv_t0)) -lt 2000000000 ]; then
			sleep 0.02	# a killed server's port: soon free
		else
			port= sv_try=$((sv_try + 1))
		fi
	done
	diag "$1 did not start:"
	sed 's/^/# /' "$sv_err" >&2
	return 1
}

# webhook BODY [CURL-ARG...]: POST the form BODY to /twilio of the
# listener on 127.0.0.1:$port (the last serve's), signed (sign) for that
# URL, or for $signed_for if set (a listener with a public URL). The
# CURL-ARGs go before the URL (--max-time, --interface, -H). Prints the
# HTTP status (000: no answer); the answer's body is in $tmp/resp, its
# headers in $tmp/resp.h.
webhook() {
	w_body=$1
	shift
	w_url=http://127.0.0.1:$port/twilio
	w_sig=$(printf '%s' "$w_body" | sign "${signed_for:-$w_url}")
	curl -s -o "$tmp/resp" -D "$tmp/resp.h" -w '%{http_code}' \
	    -H "X-Twilio-Signature: $w_sig" --data-binary "$w_body" "$@" \
	    "$w_url"
}

# sim [NAME [ARG...]]: sms-sim for our number $US on a free port of
# 127.0.0.1 (see serve), with ARGs, its request log in $tmp/NAME.log
# (NAME defaults to sim); sets TWILIO_API_URL to it and simpid. sms-sim
# takes the account and token of the environment, and any API key SID
# with the token as its secret.
sim() {
	s_name=${1:-sim}
	[ $# -gt 0 ] && shift
	serve "$tmp/$s_name.out" "$tmp/$s_name.err" sms-sim \
	    --log "$tmp/$s_name.log" --number "$US" "$@" || return 1
	simpid=$server
	TWILIO_API_URL=http://127.0.0.1:$port
	export TWILIO_API_URL
}

# twilio_env NNNN: the setting of a test that signs webhooks or talks to
# sms-sim: no inbox, public URL, provider, API key, messaging service or
# country from outside; config and home under $tmp; the account
# AC<NNNN>aaa..., token tok-NNNN and our number US (+15550100000)
# exported as TWILIO_*; and every pid in pids killed on exit.
twilio_env() {
	unset SMSDESK_INBOX SMSDESK_PUBLIC_URL SMSDESK_PROVIDER \
	    TWILIO_API_KEY TWILIO_API_SECRET TWILIO_MESSAGING_SERVICE_SID \
	    SMSDESK_COUNTRY
	XDG_CONFIG_HOME=$tmp/config HOME=$tmp/home
	AC=AC${1}aaaaaaaaaaaaaaaaaaaaaaaaaaaa
	TOK=tok-$1
	US=+15550100000
	TWILIO_ACCOUNT_SID=$AC TWILIO_AUTH_TOKEN=$TOK TWILIO_FROM=$US
	export XDG_CONFIG_HOME HOME TWILIO_ACCOUNT_SID TWILIO_AUTH_TOKEN \
	    TWILIO_FROM
	pids=
	trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' \
	    EXIT
}

# --- Every carrier ----------------------------------------------------------

# providers: those a parametrised test runs for, every one known unless
# $PROVIDERS chooses (a test that runs for some of them only says which
# and why). sms_sim_providers: those the sending tests that read back the
# provider's own records (0510, 0515, 0540) run for through sms-sim;
# sms-sim plays Vonage too, but Vonage's SMS API looks no message up, so
# those tests cannot ask it what it has: 0440 and 0299 test it.
providers=${PROVIDERS:-twilio telnyx plivo vonage}
sms_sim_providers='twilio telnyx plivo'

# hook_cases: the webhooks a parametrised listener test runs for (0210,
# 0240, 0291): each carrier of $providers, and each channel besides SMS
# that one of them carries, written CARRIER:CHANNEL: twilio:whatsapp
# (Twilio's WhatsApp: the same webhooks on /twilio, signed alike, with
# whatsapp:+E164 addresses, WaId and ProfileName; tests/tools/hook makes
# them), unless $HOOK_CASES chooses. A case's carrier, its path and its
# secrets: hook_carrier CASE; its channel (empty for SMS): hook_channel
# CASE; the carriers of a list once each, comma-separated, as sms-recv
# -p takes them: hook_carriers CASE...
hook_cases=${HOOK_CASES:-$(for hc_p in $providers; do
	echo "$hc_p"
	[ "$hc_p" = twilio ] && echo twilio:whatsapp
done | tr '\n' ' ' | sed 's/ $//')}
hook_carrier() { echo "${1%%:*}"; }
hook_channel() { case $1 in *:*) echo "${1#*:}" ;; esac; }
hook_carriers() {
	for hc_p in "$@"; do echo "${hc_p%%:*}"; done | awk '!seen[$0]++' |
	    paste -s -d , -
}

# The Ed25519 seed of the Telnyx key the tests sign with (hook, sms-sim:
# SMSDESK_SIM_TELNYX_SEED); its public half goes to TELNYX_PUBLIC_KEY.
telnyx_seed=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

# carriers_env NNNN: twilio_env NNNN, then carrier_creds NNNN. Sets
# nothing provider-wide (SMSDESK_PROVIDER): a test says which carrier each
# program speaks.
carriers_env() {
	twilio_env "$1"
	carrier_creds "$1"
}

# carrier_creds NNNN: every other provider's setting from outside unset
# and its credentials, as its own tools name them, for the listener (its
# signing secret), hook and sms-sim (which sign with them) and sms-send
# (which sends with them): Telnyx's API key key-NNNN and public key,
# Plivo's auth id MANNNNSIM and token ptok-NNNN, Vonage's API key and
# secret and signature secret vsec-NNNN (sha256), each with our number
# $US as the sender.
carrier_creds() {
	unset SMSDESK_SIM_URL TELNYX_API_KEY TELNYX_FROM TELNYX_API_URL \
	    TELNYX_PUBLIC_KEY TELNYX_MESSAGING_PROFILE_ID PLIVO_AUTH_ID \
	    PLIVO_AUTH_TOKEN PLIVO_FROM PLIVO_API_URL PLIVO_POWERPACK_UUID \
	    PLIVO_MEDIA_URL VONAGE_API_KEY VONAGE_API_SECRET VONAGE_FROM \
	    VONAGE_API_URL VONAGE_SIGNATURE_SECRET VONAGE_SIGNATURE_METHOD
	TELNYX_API_KEY=key-$1 TELNYX_FROM=$US
	SMSDESK_SIM_TELNYX_SEED=$telnyx_seed
	TELNYX_PUBLIC_KEY=$("$tools/telnyx-sign" --public "$telnyx_seed")
	PLIVO_AUTH_ID=MA${1}SIM PLIVO_AUTH_TOKEN=ptok-$1 PLIVO_FROM=$US
	VONAGE_API_KEY=vk$1 VONAGE_API_SECRET=vs-$1 VONAGE_FROM=$US
	VONAGE_SIGNATURE_SECRET=vsec-$1 VONAGE_SIGNATURE_METHOD=sha256
	export TELNYX_API_KEY TELNYX_FROM SMSDESK_SIM_TELNYX_SEED \
	    TELNYX_PUBLIC_KEY PLIVO_AUTH_ID PLIVO_AUTH_TOKEN PLIVO_FROM \
	    VONAGE_API_KEY VONAGE_API_SECRET VONAGE_FROM \
	    VONAGE_SIGNATURE_SECRET VONAGE_SIGNATURE_METHOD
}

# provider_env P: every carrier's credentials (carrier_creds, after
# twilio_env) and SMSDESK_PROVIDER=P.
provider_env() {
	carrier_creds "${TOK#tok-}"
	SMSDESK_PROVIDER=$1
	export SMSDESK_PROVIDER
}

# api_url PROVIDER URL: point sms-send (and sms-recv's media fetches) at
# URL as PROVIDER's API: TWILIO_API_URL, TELNYX_API_URL, ...
api_url() {
	case $1 in
	twilio) TWILIO_API_URL=$2; export TWILIO_API_URL ;;
	telnyx) TELNYX_API_URL=$2; export TELNYX_API_URL ;;
	plivo) PLIVO_API_URL=$2; export PLIVO_API_URL ;;
	vonage) VONAGE_API_URL=$2; export VONAGE_API_URL ;;
	esac
}
provider_api() { api_url "$@"; }

# api_creds PROVIDER: PROVIDER's API credentials as USER:PASS for HTTP
# Basic auth (what its media URLs want: Twilio's and Plivo's), empty for
# one whose API takes none (Telnyx's bearer key; its media URLs are
# signed links fetched without credentials, lib/media.c).
api_creds() {
	case $1 in
	twilio) echo "$TWILIO_ACCOUNT_SID:$TWILIO_AUTH_TOKEN" ;;
	plivo) echo "$PLIVO_AUTH_ID:$PLIVO_AUTH_TOKEN" ;;
	vonage) echo "$VONAGE_API_KEY:$VONAGE_API_SECRET" ;;
	esac
}

# hook_post PROVIDER KIND [FIELD=VALUE...]: post PROVIDER's webhook KIND
# (inbound or status; tests/tools/hook says the fields) to /PROVIDER of
# the listener on 127.0.0.1:$port (the last serve's), in PROVIDER's own
# format, signed with carriers_env's secrets for that URL, or for
# $public_url/PROVIDER if $public_url is set (a listener
# with a public URL). PROVIDER may be a case of hook_cases
# (twilio:whatsapp: to /twilio, as WhatsApp's). Prints the
# HTTP status (000: no answer); the answer's body is in $tmp/resp, its
# headers in $tmp/resp.h. curl.OPT=VALUE fields add curl options
# (curl.max-time=20).
hook_post() {
	hp_p=$1 hp_path=${1%%:*}
	shift
	"$tools/hook" ${public_url:+-f "$public_url/$hp_path"} "$hp_p" \
	    "http://127.0.0.1:$port/$hp_path" "$@" >"$tmp/hook.cfg" ||
	    { echo hook-failed; return 1; }
	curl -s -o "$tmp/resp" -D "$tmp/resp.h" -w '%{http_code}' \
	    -K "$tmp/hook.cfg"
}

# --- Inboxes written by hand, as smsdesk-inbox(5) lays them out ---------

# mkinbox DIR: an empty inbox, its directories mode 0700.
mkinbox() {
	mkdir -m 700 "$1" || return
	for d in tmp msg conv work ids consent status lock quarantine; do
		mkdir -m 700 "$1/$d" || return
	done
}

# The ledgers, as smsdesk-inbox(5) (Ledgers) lays them out: the outbox
# is outbox/.log, lines "+ THREAD/NAME" and "- THREAD/NAME" (a message is
# in it while its last line is "+"), and an older inbox's links
# outbox/NAME; the index of provider ids and client keys is ids/XX, lines
# "KEY THREAD/NAME" or "KEY -" (the last line of a key is its entry), and
# an older inbox's links ids/KEY.
# outbox_ids DIR: the names (ids) of the messages in DIR's outbox, one a
# line. outbox_files DIR: their files, DIR/msg/THREAD/NAME.
outbox_files() {
	{
		[ -f "$1/outbox/.log" ] && awk -v d="$1" '
		/^[+-] [^\/ ]+\/./ {
			t = substr($0, 3)
			if (!(t in s)) k[++n] = t
			s[t] = substr($0, 1, 1)
		}
		END {
			for (i = 1; i <= n; i++)
				if (s[k[i]] == "+") print d "/msg/" k[i]
		}' "$1/outbox/.log"
		for f in "$1"/outbox/*; do
			[ -L "$f" ] && echo "$f"
		done
		:
	} 2>/dev/null
}
outbox_ids() {
	outbox_files "$1" | sed 's|.*/||'
}
# ledger_keys DIR: the keys that DIR's index has an entry for, one a line.
# ledger_target DIR KEY: where KEY's entry says its message is, as a link
# of the index said it, "../msg/THREAD/NAME"; nothing if it has none.
ledger_entries() {
	{
		cat "$1"/ids/[0-9a-f][0-9a-f] | awk '
		/^[^ ]+ ./ {
			k = $1
			if (!(k in s)) o[++n] = k
			s[k] = substr($0, length(k) + 2)
		}
		END {
			for (i = 1; i <= n; i++)
				if (s[o[i]] != "-") print o[i] " ../msg/" s[o[i]]
		}'
		for f in "$1"/ids/*-*; do
			[ -L "$f" ] || continue
			grep -q "^${f##*/} " "$1"/ids/[0-9a-f][0-9a-f] ||
				echo "${f##*/} $(readlink "$f")"
		done
		:
	} 2>/dev/null
}
ledger_keys() {
	ledger_entries "$1" | cut -d ' ' -f 1
}
ledger_target() {
	ledger_entries "$1" | awk -v k="$2" '$1 == k { print $2 }'
}

# from_now SECONDS: the time SECONDS from now (negative: ago), RFC 3339.
from_now() { jq -nr --argjson s "$1" 'now + $s | floor | todate'; }

# mkconv DIR THREAD JSON: THREAD's conversation record, JSON's fields over
# the defaults, in the working set unless resolved. It counts no message
# unless JSON says messages (as many as mkmsg makes: inbox-check counts).
mkconv() {
	jq -cn --arg t "$2" --argjson x "$3" '{type: "conversation",
	    thread: $t, status: "open", assignee: null, unread: 0,
	    messages: 0, opened_at: null, first_response_at: null,
	    last_in_at: null, last_out_at: null, waiting_since: null,
	    last_body: null, tags: [], csat: null} + $x' >"$1/conv/$2" &&
	chmod 600 "$1/conv/$2" || return
	[ "$(jq -r .status "$1/conv/$2")" = resolved ] && return
	: >"$1/work/$2" && chmod 600 "$1/work/$2"
}

# mkmsg DIR THREAD NAME DIRECTION AT BODY [STATUS]: a message file of
# provider twilio, provider id SM<NAME>, status STATUS (received).
mkmsg() {
	mkdir -p -m 700 "$1/msg/$2" &&
	jq -cn --arg t "$2" --arg id "$3" --arg d "$4" --arg at "$5" \
	    --arg b "$6" --arg s "${7:-received}" '{type: "message", id: $id,
	    thread: $t, direction: $d, body: $b, at: $at, status: $s,
	    provider: "twilio", provider_id: ("SM" + $id)}' \
	    >"$1/msg/$2/$3" && chmod 600 "$1/msg/$2/$3"
}

# inbox_check DIR: inbox-check(1) finds nothing wrong in the inbox DIR
# (exit 0, no finding), as every crash and fault test ends: what a crash
# or a fault left there is what smsdesk-inbox(5) allows, once the
# programs' own recovery ran (a writer's replay of a dead one's journal,
# which the tests' later runs make). inbox_damage DIR: the same as a
# line for a test's list of violations: nothing if DIR is sound, else
# the exit status and the first findings.
inbox_damage() {
	"$bin/inbox-check" -d "$1" >"$tmp/inbox-check.out" \
	    2>"$tmp/inbox-check.err"
	set -- "$1" "$?"
	[ "$2" = 0 ] && ! [ -s "$tmp/inbox-check.out" ] && return
	echo "inbox-check: exit $2: $(head -c 600 "$tmp/inbox-check.out" \
	    "$tmp/inbox-check.err" | tr '\n' ' ')"
}
# inbox_check_all: done_testing runs inbox_check on every inbox the test
# left under $tmp (a directory with msg/ and conv/), the whole suite's
# inboxes checked by `make check`, but
#   - those a test broke on purpose, named *bad*, *evil*, *planted* or
#     *trust*;
#   - those the test names in inbox_check_skip (paths, separated by
#     spaces), each with its reason beside it: an inbox built by hand
#     that no program would make, not worth building through them.
# SMSDESK_INBOX_CHECK=0 turns it off (to see a test's own results alone).
# A test that called plan gets one test for all its inboxes (plan counted
# it); another, one test for each inbox.
inbox_check_all() {
	i_all=
	for i_d in $(find "$tmp" -name conv -type d 2>/dev/null | sort); do
		i_d=${i_d%/conv}
		[ -d "$i_d/msg" ] || continue
		case $i_d in *bad*|*evil*|*planted*|*trust*) continue ;; esac
		i_skip=
		for i_s in ${inbox_check_skip-}; do
			[ "$i_d" = "${i_s%/}" ] && i_skip=1
		done
		[ -n "$i_skip" ] && continue
		if [ -z "$tap_planned" ]; then
			inbox_check "$i_d"
			continue
		fi
		i_bad=$(inbox_damage "$i_d")
		[ -z "$i_bad" ] || diag "$(basename "$i_d"): $i_bad"
		i_all="$i_all${i_bad:+ $(basename "$i_d")}"
	done
	[ -n "$tap_planned" ] || return 0
	if [ -z "$i_all" ]; then
		pass "inbox-check finds nothing wrong in the test's inboxes"
	else
		fail "inbox-check finds nothing wrong in the test's inboxes:$i_all"
	fi
}
inbox_check() {
	i_bad=$(inbox_damage "$1")
	if [ -z "$i_bad" ]; then
		pass "inbox-check finds nothing wrong in $(basename "$1")"
	else
		fail "inbox-check finds nothing wrong in $(basename "$1")"
		diag "$i_bad"
	fi
}

# faults_env: shim, the fault-injection shim (tests/shim/faults.c says
# how SMSDESK_FAULT_AT, _MODE and _LOG steer it), and ASAN_OPTIONS that
# let a sanitizer build run with it preloaded (the sanitizer's runtime
# wants to be the first library in a process; the shim is). Returns 1 if
# the shim is not built.
faults_env() {
	shim=$tools/faults.so
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
	export ASAN_OPTIONS
	[ -f "$shim" ]
}

# creates [NAME [TO]]: how many create requests sms-sim NAME (default sim)
# logged, to TO only if given.
creates() {
	[ -f "$tmp/${1:-sim}.log" ] || { echo 0; return; }
	jq -s --arg to "${2-}" '[.[] | select(.method == "POST" and
	    (.path | endswith("/Messages.json")) and
	    ($to == "" or .params.To == $to))] | length' "$tmp/${1:-sim}.log"
}

# Twilio's OpenAPI description, as far as the Messages API goes: the
# message resource's properties, the create request's parameters, the list
# envelope's keys. tests/0400-sms-sim.t says how it was made from the
# vendor's file, and compares the two when that file is at hand.
twilio_oas='{"create":{"properties":{"AddressRetention":{"enum":["retain","obfuscate"],"type":"string"},"ApplicationSid":{"pattern":"^AP[0-9a-fA-F]{32}$","type":"string"},"Attempt":{"type":"integer"},"Body":{"type":"string"},"ContentRetention":{"enum":["retain","discard"],"type":"string"},"ContentSid":{"pattern":"^HX[0-9a-fA-F]{32}$","type":"string"},"ContentVariables":{"type":"string"},"FallbackFrom":{"format":"phone-number","type":"string"},"ForceDelivery":{"type":"boolean"},"From":{"format":"phone-number","type":"string"},"MaxPrice":{"type":"number"},"MediaUrl":{"type":"array"},"MessagingServiceSid":{"pattern":"^MG[0-9a-fA-F]{32}$","type":"string"},"PersistentAction":{"type":"array"},"ProvideFeedback":{"type":"boolean"},"RiskCheck":{"enum":["enable","disable"],"type":"string"},"ScheduleType":{"enum":["fixed"],"type":"string"},"SendAsMms":{"type":"boolean"},"SendAt":{"format":"date-time","type":"string"},"ShortenUrls":{"type":"boolean"},"SmartEncoded":{"type":"boolean"},"StatusCallback":{"format":"uri","type":"string"},"To":{"format":"phone-number","type":"string"},"TrafficType":{"enum":["free"],"type":"string"},"ValidityPeriod":{"type":"integer"}},"required":["To"]},"list":["end","first_page_uri","messages","next_page_uri","page","page_size","previous_page_uri","start","uri"],"message":{"account_sid":{"pattern":"^AC[0-9a-fA-F]{32}$","type":"string"},"api_version":{"type":"string"},"body":{"type":"string"},"date_created":{"format":"date-time-rfc-2822","type":"string"},"date_sent":{"format":"date-time-rfc-2822","type":"string"},"date_updated":{"format":"date-time-rfc-2822","type":"string"},"direction":{"enum":["inbound","outbound-api","outbound-call","outbound-reply"],"type":"string"},"error_code":{"type":"integer"},"error_message":{"type":"string"},"from":{"format":"phone-number","type":"string"},"messaging_service_sid":{"pattern":"^MG[0-9a-fA-F]{32}$","type":"string"},"num_media":{"type":"string"},"num_segments":{"type":"string"},"price":{"type":"string"},"price_unit":{"format":"currency","type":"string"},"sid":{"pattern":"^(SM|MM)[0-9a-fA-F]{32}$","type":"string"},"status":{"enum":["queued","sending","sent","failed","delivered","undelivered","receiving","received","accepted","scheduled","read","partially_delivered","canceled"],"type":"string"},"subresource_uris":{"format":"uri-map","type":"object"},"to":{"type":"string"},"uri":{"type":"string"}}}'

# is_valid_create < RECORD: the params of a logged request are a valid
# create request: the required ones present, each one declared, a
# repeated one an array, each value of its type, pattern and enum.
is_valid_create() {
	jq -e --argjson oas "$twilio_oas" '.params as $p | $oas.create as $c
	| all($c.required[]; . as $r | $p | has($r))
	and ($p | to_entries | all(.[]; . as $e | $c.properties[$e.key] as $s
	    | $s != null
	    and (($e.value | type) != "array" or $s.type == "array")
	    and all([$e.value] | flatten[]; . as $v
		| (if $s.type == "boolean" then $v == "true" or $v == "false"
		   elif $s.type == "integer" then $v | test("^-?[0-9]+$")
		   elif $s.type == "number" then $v | test("^-?[0-9]+([.][0-9]+)?$")
		   else true end)
		and (if $s.pattern then $v | test($s.pattern) else true end)
		and (if $s.enum then any($s.enum[]; . == $v) else true end)
		and (if $s.format == "uri" then $v | test("^https?://[^ ]+$")
		     else true end))))' >/dev/null
}

# readonly_run DIR CMD...: run CMD with DIR read-only; its status is ours.
# Root writes through permissions, so as root DIR is made read-only by a
# read-only bind mount in a mount namespace of its own; as anyone else, by
# its permissions (given back after). can_readonly DIR: whether that works
# here (a container may refuse the mount).
readonly_run() {
	if [ "$(id -u)" = 0 ]; then
		unshare -m sh -c 'mount --bind "$1" "$1" &&
		    mount -o remount,bind,ro "$1" && shift && exec "$@"' \
		    sh "$@"
	else
		ro_dir=$1
		shift
		chmod -R a-w "$ro_dir"
		"$@"
		ro_rc=$?
		chmod -R u+w "$ro_dir"
		return "$ro_rc"
	fi
}
can_readonly() {
	[ "$(id -u)" != 0 ] || unshare -m sh -c 'mount --bind "$1" "$1" &&
	    mount -o remount,bind,ro "$1" && ! touch "$1/x"' sh "$1" \
	    2>/dev/null
}
