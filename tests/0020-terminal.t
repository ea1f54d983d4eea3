#!/bin/sh
# On a terminal: what every program says there that it does not say in a
# pipe. A program about to read stdin from a terminal says so on stderr
# (smsdesk(7), Diagnostics), instead of waiting silently; sms-sim text
# prints a short line; a batch of sms-send, and --reconcile, end with a
# summary on stderr (sms-send(1), Summary).
#
# tests/tools/pty runs a program with the descriptors named on a terminal
# of its own (stdin: what pty reads, then Ctrl-D); what the program writes
# there is pty's stdout, and its stdout, where not on the terminal, the
# file of -o. sms-sim and sms-recv listen on 127.0.0.1 (random
# free ports), killed by PID on exit.
. "$(dirname "$0")/lib.sh"

twilio_env 0020
pty=$tools/pty
ib=$tmp/inbox
mkinbox "$ib"
note='from the terminal; end with Ctrl-D'

# --- Reading stdin from a terminal: said, on stderr ------------------------

check 'segment with no text, stdin a terminal: says it reads records' \
	'"$pty" -0 -2 segment </dev/null >"$tmp/t" &&
	 grep -qx "segment: reading records (NDJSON) $note" "$tmp/t"'
check 'segment --raw: says it reads the text, and reads it' \
	'echo hello | "$pty" -0 -2 -o "$tmp/o" segment --raw >"$tmp/t" &&
	 grep -qx "segment: reading the text $note" "$tmp/t" &&
	 jq -e ".body == \"hello\\n\"" "$tmp/o"'
check 'inbox-mark --resolve with no NUMBER: says it reads records' \
	'"$pty" -0 -2 inbox-mark -d "$ib" --resolve </dev/null >"$tmp/t" &&
	 grep -qx "inbox-mark: reading records (NDJSON) $note" "$tmp/t"'
check 'sms-send --to with no body: says it reads the text' \
	'"$pty" -0 -2 sms-send -d "$ib" --to +15551230001 </dev/null \
	    >"$tmp/t"; grep -qx "sms-send: reading the text $note" "$tmp/t"'
check 'sms-send with no --to: says it reads records' \
	'"$pty" -0 -2 sms-send -d "$ib" </dev/null >"$tmp/t" &&
	 grep -qx "sms-send: reading records (NDJSON) $note" "$tmp/t"'
check 'sms-recv without --listen: says it reads payloads' \
	'"$pty" -0 -2 sms-recv -d "$ib" </dev/null >"$tmp/t" &&
	 grep -q "^sms-recv: reading payloads .* $note\$" "$tmp/t"'
check 'said once, and nothing else on an empty input' \
	'"$pty" -0 -2 segment </dev/null | wc -l | grep -qx 1'
check 'stdin not a terminal: nothing said' \
	'"$pty" -2 segment </dev/null >"$tmp/t" && ! test -s "$tmp/t" &&
	 "$pty" -2 inbox-mark -d "$ib" --resolve </dev/null >"$tmp/t" &&
	 ! test -s "$tmp/t"'
check 'an operand: nothing read, nothing said' \
	'"$pty" -0 -2 -o /dev/null segment hello </dev/null >"$tmp/t" &&
	 ! test -s "$tmp/t"'

# --- sms-sim text: a line on a terminal, the message in a pipe -------------

serve "$tmp/R.out" "$tmp/R.err" sms-recv -d "$ib" ||
	{ fail 'sms-recv starts'; done_testing; }
hook=http://127.0.0.1:$port/twilio
sim S --webhook "$hook" || { fail 'sms-sim starts'; done_testing; }
pass 'sms-recv and sms-sim start'
check 'sms-sim text on a terminal: one short line' \
	'"$pty" sms-sim text --url "$TWILIO_API_URL" +15551230002 hi >"$tmp/t" &&
	 grep -Eqx "text SM[0-9a-f]{32} from \+15551230002 to \\$US: received \(webhook 200\)" "$tmp/t" &&
	 test "$(wc -l <"$tmp/t")" = 1'
check 'sms-sim text in a pipe: the message resource as JSON' \
	'sms-sim text --url "$TWILIO_API_URL" +15551230003 hi | jq -e \
	    ".from == \"+15551230003\" and .status == \"received\""'

# --- sms-send: the summary of a batch, and of --reconcile ------------------

sim B --optout +15551230009 --refuse +15551230008 ||
	{ fail 'sms-sim starts'; done_testing; }
printf '{"to":"+1555123000%d","body":"hi"}\n' 1 2 3 8 9 >"$tmp/in"
check_exit 'a batch with a stderr on a terminal: exit 1 (two refused)' 1 \
	'"$pty" -2 -o "$tmp/o" sms-send -d "$ib" <"$tmp/in" >"$tmp/t"'
check 'its last line: how many sent, how many refused and why' \
	'tail -n 1 "$tmp/t" | tr -d "\r" | sed "s/\x1b\[K//g" | grep -qx \
	    "sms-send: 3 sent, 2 refused (invalid_recipient 1, opted_out 1)"'
check 'stderr not a terminal: no summary' \
	'sed s/hi/again/ "$tmp/in" | sms-send -d "$ib" >/dev/null 2>"$tmp/e";
	 ! grep -q "sent," "$tmp/e" && ! grep -q "3 sent" "$tmp/e"'
check 'one message (--to): no summary, its line says it' \
	'"$pty" -2 -o /dev/null sms-send -d "$ib" --to +15551230004 hi \
	    >"$tmp/t" && ! grep -q "1 sent" "$tmp/t"'
mkinbox "$tmp/empty"
check '--reconcile, nothing in the outbox: says so, exit 0' \
	'"$pty" -2 sms-send -d "$tmp/empty" --reconcile >"$tmp/t" &&
	 grep -qx "sms-send: --reconcile: nothing to settle" "$tmp/t"'
check '--reconcile, only messages too recent to ask about: says so' \
	'"$pty" -2 sms-send -d "$ib" --reconcile >"$tmp/t" &&
	 grep -Eqx "sms-send: --reconcile: nothing to settle yet: [0-9]+ taken less than 300 s ago wait for their delivery reports" "$tmp/t"'
check '--reconcile that settles them: how many, and how' \
	'SMSDESK_RECONCILE_GRACE=0 "$pty" -2 -o "$tmp/o" sms-send -d "$ib" \
	    --reconcile >"$tmp/t" && tail -n 1 "$tmp/t" | tr -d "\r" |
	 sed "s/\x1b\[K//g" | grep -Eqx "sms-send: --reconcile: [0-9]+ sent"'
check '--reconcile, in a pipe: silent when nothing is left' \
	'sms-send -d "$ib" --reconcile >"$tmp/t" 2>"$tmp/e" &&
	 ! test -s "$tmp/e" && ! test -s "$tmp/t"'

done_testing
