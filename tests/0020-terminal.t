#!/bin/sh
# On a terminal: what every program says there that it does not say in a
# pipe. A program about to read stdin from a terminal says so on stderr
# (smsdesk(7), TERMINALS), instead of waiting silently; sms-sim text prints
# a short line.
#
# tests/tools/pty runs a program with the descriptors named on a terminal
# of its own (stdin: what pty reads, then Ctrl-D); what the program writes
# there is pty's stdout. sms-sim and sms-recv listen on 127.0.0.1 (random
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
	'echo hello | "$pty" -0 -2 segment --raw >"$tmp/t" &&
	 grep -qx "segment: reading the text $note" "$tmp/t"'
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
	'"$pty" -0 -2 sh -c "segment hello >/dev/null" </dev/null >"$tmp/t" &&
	 ! test -s "$tmp/t"'

# --- sms-sim text: a line on a terminal, the message in a pipe -------------

serve "$tmp/R.out" "$tmp/R.err" sms-recv -d "$ib" ||
	{ fail 'sms-recv starts'; done_testing; }
hook=http://127.0.0.1:$port/twilio
sim S --webhook "$hook" || { fail 'sms-sim starts'; done_testing; }
pass 'sms-recv and sms-sim start'
check 'sms-sim text on a terminal: one short line' \
	'"$pty" sms-sim text -u "$TWILIO_API_URL" +15551230002 hi >"$tmp/t" &&
	 grep -Eqx "text SM[0-9a-f]{32} from \+15551230002 to \\$US: received \(webhook 200\)" "$tmp/t" &&
	 test "$(wc -l <"$tmp/t")" = 1'
check 'sms-sim text in a pipe: the message resource as JSON' \
	'sms-sim text -u "$TWILIO_API_URL" +15551230003 hi | jq -e \
	    ".from == \"+15551230003\" and .status == \"received\""'

done_testing
