#!/bin/sh
# sms-recv(1) when the disk fails under it: smsdesk(7), GUARANTEES,
# failures are loud.
#
# tests/shim/faults.c, preloaded, makes the k-th call that changes a file
# (write, fsync, open with O_CREAT, mkdir, link, symlink, rename) fail with
# ENOSPC, for k = 1, 2, ... until k is past the last call the run makes:
# once (the disk recovers) and always (it stays full); and the file
# reader's calls once with EIO (a disk that fails a write or an fsync
# with an I/O error). After each run, read without the shim:
#   - a run that met the fault exits non-zero and says why;
#   - every message it acknowledged (its event printed, or 200 answered)
#     is stored, and every opt-out it announced is in the ledger;
#   - nothing partial is visible: every listing succeeds, quarantine/ is
#     empty;
#   - a WhatsApp message acknowledged has its customer's profile name as
#     their contact's name;
#   - the provider's retry (the same input again, disk healthy) leaves
#     each message stored exactly once.
# Prints: program, mode, fault_points_tried, violations (must be 0).
#
# Every case of hook_cases (lib.sh: the carriers of $PROVIDERS, and
# Twilio's WhatsApp, twilio:whatsapp), its webhooks in its own format
# (tests/tools/hook): fault point k is tried with one case, the cases in
# turn (k mod N among those whose run still makes k calls), so that each
# meets a share of the points along the whole run and the run takes the
# time of one provider; each has its own fault-free run at the end,
# checked clean. A case is read and served as its carrier's (-p twilio
# for WhatsApp).
. "$(dirname "$0")/lib.sh"

carriers_env 0240
if ! faults_env; then
	skip 'fault injection' "no $shim (run make)"
	done_testing
fi

# Three messages from two customers, one of them STOP, and a delivery
# report for a message the inbox does not know (it is parked): a record,
# then each case's own webhook bodies, as it posts them (read with
# -p CARRIER; no signature is checked on a file); on WhatsApp, with the
# profile names Bo and Ann.
for P in $hook_cases; do
	h() { "$tools/hook" -b "$P" "http://127.0.0.1/$(hook_carrier "$P")" "$@"; }
	# profile NAME: the field of that profile name, on WhatsApp.
	profile() { [ -z "$(hook_channel "$P")" ] || echo "profile=$1"; }
	{
		echo '{"from":"+15551230001","to":"+15550000000","provider_id":"SMf1","body":"hello"}'
		h inbound id=SMf2 from=+15551230002 to=+15550000000 body=STOP \
		    $(profile Bo)
		h status id=SMout1 from=+15550000000 to=+15551230003 \
		    status=delivered
		h inbound id=SMf3 from=+15551230001 to=+15550000000 body=again \
		    $(profile Ann)
	} >"$tmp/in.$P" || fail "$P: hook makes the input"
done
all='["SMf1","SMf2","SMf3"]'

# next_provider K: the case of fault point K, the K-th (mod N) of those
# of $hook_cases not in $finished; fails if none is left.
# (K is kept before the list takes the arguments: $1 after it was the
# first case's name, which the shell's arithmetic took for 0, so that
# the first case took every point until it was finished.)
next_provider() {
	np_k=$1
	set -- $(for np_p in $hook_cases; do
		case " $finished " in *" $np_p "*) ;; *) echo "$np_p" ;; esac
	done)
	[ $# -gt 0 ] || return 1
	eval "echo \${$((np_k % $# + 1))}"
}

# listing IB: every message, as readers see them, in $tmp/ls; fails if
# the listing fails.
listing() {
	"$bin/inbox-ls" -d "$1" --all --messages --json >"$tmp/ls" 2>"$tmp/ls.err"
}

# verify IB OUT: the checks after a faulty run; prints what is wrong.
verify() {
	v_ib=$1 v_out=$2
	if [ ! -d "$v_ib/msg" ]; then
		# The fault fell while the inbox was being made.
		[ -s "$v_out" ] && echo "acknowledged into no inbox"
		return
	fi
	listing "$v_ib" || { echo "listing failed: $(head -c 200 "$tmp/ls.err")"; return; }
	[ -z "$(ls "$v_ib/quarantine")" ] ||
	    echo "quarantined: $(ls "$v_ib/quarantine" | head -n 3)"
	jq -rn --slurpfile out "$v_out" --slurpfile ls "$tmp/ls" '
	    ($ls | map(.provider_id)) as $have |
	    $out[] | select(.event == "message.received") |
	    .message.provider_id | select(. as $s | $have | index($s) | not) |
	    "acknowledged \(.) lost"'
	if grep -q '"event":"consent.optout"' "$v_out" &&
	    [ -z "$(ls "$v_ib/consent/+15551230002" 2>/dev/null)" ]; then
		echo "announced opt-out not in the ledger"
	fi
	unnamed "$v_ib" "$v_out"
}

# unnamed IB OUT: the WhatsApp messages OUT announced whose customer has
# no name in IB's contacts/.
unnamed() {
	jq -r 'select(.event == "message.received" and
	    .message.channel == "whatsapp") | .thread' "$2" |
	while read -r u_t; do
		[ -n "$(jq -r '.name // empty' "$1/contacts/$u_t" 2>/dev/null)" ] ||
		    echo "acknowledged WhatsApp message of $u_t, no name"
	done
}

# retry IB: the same input again, the disk healthy: each message once.
retry() {
	"$bin/sms-recv" -d "$1" -p "$(hook_carrier "$P")" <"$tmp/in.$P" >/dev/null \
	    2>"$tmp/retry.err" ||
	    { echo "retry failed: $(head -c 200 "$tmp/retry.err")"; return; }
	listing "$1" || { echo "listing after retry failed"; return; }
	jq -sce --argjson all "$all" '[.[].provider_id] | sort == $all' \
	    "$tmp/ls" >/dev/null ||
	    echo "after retry: $(jq -sc '[.[].provider_id]' "$tmp/ls")"
	# Not folded by readers: one file each (a failed delivery left none).
	r_n=$(find "$1/msg" -type f | wc -l | tr -d ' ')
	[ "$r_n" -eq 3 ] || echo "after retry: $r_n message files"
}

# The file reader: ENOSPC once and always, EIO once (mode eio).
for mode in once always eio; do
	fmode=$mode ferrno=ENOSPC said='No space left on device'
	[ "$mode" = eio ] && fmode=once ferrno=EIO said='Input/output error'
	k=0 violations=0 finished=
	while :; do
		k=$((k + 1))
		P=$(next_provider "$k") || break
		ib=$tmp/ib-$mode-$k
		rm -f "$tmp/calls"
		SMSDESK_FAULT_AT=$k SMSDESK_FAULT_MODE=$fmode \
		    SMSDESK_FAULT_ERRNO=$ferrno SMSDESK_FAULT_LOG=$tmp/calls \
		    LD_PRELOAD=$shim \
		    "$bin/sms-recv" -d "$ib" -p "$(hook_carrier "$P")" \
		    <"$tmp/in.$P" >"$tmp/out" \
		    2>"$tmp/err"
		rc=$?
		if [ ! -s "$tmp/calls" ] || [ "$rc" -ge 128 ]; then
			# Died without its destructor: a crash, never fine.
			violations=$((violations + 1))
			diag "k=$k ($mode, $P): sms-recv died (exit $rc): $(tail -c 300 "$tmp/err")"
			[ "$k" -lt 400 ] && continue
			break
		fi
		calls=$(cat "$tmp/calls")
		if [ "$calls" -lt "$k" ]; then
			# No fault met: P's clean run, kept to be checked.
			finished="$finished $P"
			echo "$rc:$(verify "$ib" "$tmp/out")$(jq -sc \
			    '[.[].provider_id] | sort' "$tmp/ls")$(jq -sc \
			    '[.[].channel] | unique' "$tmp/ls")" \
			    >"$tmp/clean.$P"
			eval "calls_$(echo "$P" | tr : _)=\$calls"
			rm -rf "$ib"
			continue
		fi
		bad=$(
			[ "$rc" -ne 0 ] || echo "exit 0 after a fault"
			grep -q "$said" "$tmp/err" ||
			    echo "the error is not reported"
			verify "$ib" "$tmp/out"
			retry "$ib"
			inbox_damage "$ib"
		)
		if [ -n "$bad" ]; then
			violations=$((violations + 1))
			diag "k=$k ($mode, $P): $bad"
		fi
		rm -rf "$ib"
	done
	tried=$((k - 1))
	diag "program=sms-recv mode=$mode fault_points_tried=$tried violations=$violations (calls of each case's fault-free run: $(for P in $hook_cases; do eval "printf '%s ' $P=\$calls_$(echo "$P" | tr : _)"; done | sed 's/ $//'))"
	check "sms-recv, a disk failing $fmode with $ferrno: $tried fault points over $(echo $hook_cases | tr ' ' ,), no violation" \
	    "[ $violations -eq 0 ] && [ $tried -gt 20 ]"
	for P in $hook_cases; do
		channels='[null]'
		[ -n "$(hook_channel "$P")" ] && channels='[null,"whatsapp"]'
		is "$P: and with no fault the run is clean (exit 0, all stored, channels $channels)" \
		    "$(cat "$tmp/clean.$P" 2>/dev/null)" "0:$all$channels"
	done
done

# The listener: each request answered 200 is stored, every other one is
# a 503 (the provider retries), never a crash.
# listen IB: sms-recv --listen under the shim on a free port (serve in
# lib.sh, quiet: a start the fault stopped is one outcome here); 0 once it
# listens, else 1 with its exit status in l_rc.
listen() {
	serve "$tmp/l.out" "$tmp/l.err" env SMSDESK_FAULT_AT="${fault:-0}" \
	    SMSDESK_FAULT_MODE=once SMSDESK_FAULT_LOG="$tmp/calls" \
	    LD_PRELOAD="$shim" "$bin/sms-recv" -d "$1" \
	    -p "$(hook_carrier "${P:-twilio}")" \
	    2>/dev/null &&
	    pid=$server && return
	l_rc=$serve_rc
	return 1
}

# post N SID: an inbound message from customer N, in $P's format (on
# WhatsApp, with the profile name Customer N); prints the status.
post() {
	hook_post "$P" inbound id="$2" from="+1555123000$1" \
	    to=+15550000000 body="hi $2" curl.max-time=20 \
	    ${ch:+"profile=Customer $1"}
}

# Fault point k with one provider, in turn, as for the file reader.
k=0 violations=0 started=0 finished=
while :; do
	k=$((k + 1))
	P=$(next_provider "$k") || break
	ch=$(hook_channel "$P")
	ib=$tmp/lib-$k
	rm -f "$tmp/calls"
	# The inbox exists already: the faults fall on deliveries.
	"$bin/sms-recv" -d "$ib" </dev/null >/dev/null 2>&1
	fault=$k
	if ! listen "$ib"; then
		# A fault while starting: it must say so and exit non-zero.
		rc=$l_rc
		if [ "$rc" -eq 0 ] || ! grep -q 'No space left' "$tmp/l.err"; then
			violations=$((violations + 1))
			diag "listener k=$k ($P): did not start, exit $rc: $(head -c 200 "$tmp/l.err")"
		fi
		rm -rf "$ib"
		continue
	fi
	started=$((started + 1))
	codes="$(post 1 SMl1) $(post 2 SMl2) $(post 1 SMl3)"
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	calls=$(cat "$tmp/calls" 2>/dev/null)
	[ -n "$calls" ] || calls=$k	# died: counted below by its exit
	bad=$(
		[ "$rc" -eq 0 ] || echo "the listener exited $rc"
		set -- $codes
		listing "$ib" || echo "listing failed"
		for sid in SMl1 SMl2 SMl3; do
			case $1 in
			200)	grep -q "\"provider_id\":\"$sid\"" "$tmp/ls" ||
				    echo "200 for $sid, not stored"
				n=${sid#SMl}; n=$((n == 3 ? 1 : n))
				[ -z "$ch" ] || [ "$(jq -r .name \
				    "$ib/contacts/+1555123000$n" 2>/dev/null)" = \
				    "Customer $n" ] ||
				    echo "200 for $sid, no name" ;;
			503)	# Nothing of it may show (smsdesk-inbox(5)).
				! grep -q "\"provider_id\":\"$sid\"" "$tmp/ls" ||
				    echo "503 for $sid, yet shown" ;;
			*)	echo "$sid answered $1" ;;
			esac
			shift
		done
		[ -z "$(ls "$ib/quarantine")" ] || echo "quarantined files"
		[ -z "$(find "$ib/msg" -mindepth 1 -type d -empty)" ] ||
		    echo "an empty thread directory"
		"$bin/sms-recv" -d "$ib" </dev/null >/dev/null 2>&1; inbox_damage "$ib"
	)
	if [ -n "$bad" ]; then
		violations=$((violations + 1))
		diag "listener k=$k ($P): $codes: $bad"
	fi
	rm -rf "$ib"
	if [ "$calls" -lt "$k" ]; then
		finished="$finished $P"
		echo "$codes" >"$tmp/codes.$P"
	fi
done
tried=$((k - 1))
diag "program=sms-recv-listener mode=once fault_points_tried=$tried violations=$violations (started $started)"
check "sms-recv --listen, one failing call: $tried fault points over $(echo $hook_cases | tr ' ' ,), 200 only when stored (and named)" \
    "[ $violations -eq 0 ] && [ $started -gt 10 ]"
for P in $hook_cases; do
	is "$P: with no fault left, three 200s" \
	    "$(cat "$tmp/codes.$P" 2>/dev/null)" '200 200 200'
done
P=twilio

# A listener that cannot listen (its port is taken) takes its journal
# with it: the start retried on another port makes the same calls as a
# first start, and the fault points above fall where they did.
fault=0
listen "$tmp/held"
held=$pid
"$bin/sms-recv" -d "$tmp/taken" --listen "127.0.0.1:$port" \
    >/dev/null 2>"$tmp/taken.err"
rc=$? said=$(grep -c 'cannot listen' "$tmp/taken.err")
is 'a listener whose port is taken: exit 74, no journal left' \
    "$rc:$said:$(ls "$tmp/taken/journal")" '74:1:'
kill -TERM "$held"
wait "$held"

done_testing
