#!/bin/sh
# The same mistake, the same exit code, in every program (smsdesk(7) EXIT
# STATUS; lib/diag.c diag_exit_for()), said once, and nothing half done.
. "$(dirname "$0")/lib.sh"
twilio_env 0600

ib=$tmp/ib
T=+15551230061
rec="{\"from\":\"$T\",\"to\":\"$US\",\"provider_id\":\"SMx0600\",\"body\":\"hi\"}"
printf '%s\n' "$rec" >"$tmp/rec"
sms-recv -d "$ib" "$tmp/rec" >/dev/null || fail 'sms-recv makes an inbox'

# --- A missing inbox: 66 ---------------------------------------------------
check_exit 'inbox-ls, a missing inbox: 66' 66 'inbox-ls -d "$tmp/nope"'
check_exit 'inbox-mark, a missing inbox: 66' 66 \
	'inbox-mark -d "$tmp/nope" --read $T'
check 'and neither made one' '[ ! -e "$tmp/nope" ]'

# --- A NUMBER that is no number, on the command line: 2, said once ---------
for cmd in 'inbox-ls -d "$ib" 5551230061' \
    'inbox-mark -d "$ib" --read 5551230061' \
    'sms-send -d "$ib" --to 5551230061 hi' \
    'sms-send -d "$ib" --thread 5551230061 hi'; do
	check_exit "${cmd%% *} ${cmd#* -d \"\$ib\" }: a national number: 2" 2 \
		"$cmd >'$tmp/out' 2>'$tmp/err'"
	check '  said once, on stderr, naming it' \
		"[ ! -s '$tmp/out' ] && [ \$(wc -l <'$tmp/err') = 1 ] &&
		 grep -q '5551230061: national number' '$tmp/err'"
done

# --- A program checks every argument before it changes anything -----------
check_exit 'inbox-mark -A ana NUMBER: ana is no number, 2' 2 \
	'inbox-mark -d "$ib" -a bo $T ana 2>"$tmp/err"'
is 'and the conversation was not assigned' \
	"$(inbox-ls -d "$ib" | jq -r .assignee)" null
check 'the error names the argument and says nothing changed' \
	"grep -q '^inbox-mark: ana: .*nothing was changed' '$tmp/err'"

# --- sms-send --to without a text: 2, said once ----------------------------
check_exit 'sms-send --to, no text on stdin: 2' 2 \
	'sms-send -d "$ib" --to $T </dev/null >"$tmp/out" 2>"$tmp/err"'
check 'said once, no record' \
	"[ ! -s '$tmp/out' ] && [ \$(wc -l <'$tmp/err') = 1 ] &&
	 grep -q 'no text' '$tmp/err'"
check_exit 'sms-send --to @NAME: 2' 2 \
	'sms-send -d "$ib" --to @ACME hi >"$tmp/out" 2>"$tmp/err"'

# --- An inbox that cannot be written: 77 in every program that writes -----
if ! can_readonly "$ib"; then
	skip 'a read-only inbox' 'no read-only bind mount here'
else
	readonly_run "$ib" "$bin/sms-recv" -d "$ib" "$tmp/rec" \
	    >/dev/null 2>"$tmp/err"
	is 'sms-recv, a read-only inbox: 77' "$?" 77
	readonly_run "$ib" "$bin/inbox-mark" -d "$ib" -a bo $T \
	    >/dev/null 2>"$tmp/err"
	is 'inbox-mark, a read-only inbox: 77' "$?" 77
	readonly_run "$ib" "$bin/sms-send" -d "$ib" --to $T hi \
	    >/dev/null 2>"$tmp/err"
	is 'sms-send, a read-only inbox: 77' "$?" 77
	check 'the inbox is writable again, unchanged' \
		"inbox-ls -d '$ib' | jq -e '.assignee == null'"
fi

# --- An inbox others may write: 77 in every program that opens one --------
chmod o+w "$ib"
for cmd in 'inbox-ls -d "$ib"' 'inbox-mark -d "$ib" -a bo $T' \
    'sms-send -d "$ib" --to $T hi' 'sms-recv -d "$ib" "$tmp/rec"' \
    'inbox-contacts -d "$ib" ls'; do
	check_exit "${cmd%% *}, an inbox others may write: 77" 77 \
		"$cmd >'$tmp/out' 2>'$tmp/err'"
	check '  said once, saying what to run' \
		"[ ! -s '$tmp/out' ] && [ \$(wc -l <'$tmp/err') = 1 ] &&
		 grep -q 'writable by others; refused (chmod o-w)' '$tmp/err'"
done
chmod o-w "$ib"
is 'nothing was changed' "$(inbox-ls -d "$ib" | jq -c '[.assignee, .messages]')" \
	'[null,1]'

# --- A missing inbox: 66 in every program but sms-recv, which makes one ----
check_exit 'sms-send, a missing inbox: 66' 66 \
	'sms-send -d "$tmp/nope" --to $T hi'
check_exit 'sms-recv, a FILE that is missing: 66' 66 \
	'sms-recv -d "$ib" "$tmp/nofile" "$tmp/rec" 2>"$tmp/err"'
check '  the others are read, the missing one named' \
	"grep -q '^sms-recv: $tmp/nofile: No such file or directory' '$tmp/err'"
check 'and none of them made an inbox' '[ ! -e "$tmp/nope" ]'

# --- A group in the configuration that does not exist: 78, everywhere ------
mkdir -p "$XDG_CONFIG_HOME/smsdesk"
printf 'group = no-such-group-0600\n' >"$XDG_CONFIG_HOME/smsdesk/config"
chmod 600 "$XDG_CONFIG_HOME/smsdesk/config"
for cmd in 'inbox-ls -d "$ib"' 'inbox-mark -d "$ib" -a bo $T' \
    'sms-send -d "$ib" --to $T hi' 'sms-send -d "$ib" --dry-run --to $T hi' \
    'sms-recv -d "$ib" "$tmp/rec"' 'inbox-contacts -d "$ib" ls'; do
	check_exit "${cmd%% *}, a group that does not exist: 78" 78 \
		"$cmd >/dev/null 2>'$tmp/err'"
	check '  said as the configuration'"'"'s' \
		"grep -q \"config: group 'no-such-group-0600': no such group\" \
		    '$tmp/err'"
done
# --- A configuration file others may read: 78 ----------------------------
printf 'country = US\n' >"$XDG_CONFIG_HOME/smsdesk/config"
chmod 644 "$XDG_CONFIG_HOME/smsdesk/config"
for cmd in 'inbox-ls -d "$ib"' 'inbox-mark -d "$ib" -a bo $T' \
    'sms-send -d "$ib" --to $T hi' 'sms-recv -d "$ib" "$tmp/rec"' \
    'sms-sim --listen 127.0.0.1:0' 'inbox-contacts -d "$ib" ls'; do
	check_exit "${cmd%% *}, a configuration others may read: 78" 78 \
		"$cmd >/dev/null 2>/dev/null"
done
rm "$XDG_CONFIG_HOME/smsdesk/config"
check_exit 'sms-sim, an account SID that is none: 78' 78 \
	'TWILIO_ACCOUNT_SID=AC0600 sms-sim --listen 127.0.0.1:0'
check_exit 'sms-send, no credentials: 78' 78 \
	'env -u TWILIO_AUTH_TOKEN sms-send -d "$ib" --to $T hi'
check_exit 'sms-send, a provider not known: 78' 78 \
	'SMSDESK_PROVIDER=pigeon sms-send -d "$ib" --to $T hi 2>"$tmp/err"'
check 'and says which' 'grep -q "unknown provider .pigeon." "$tmp/err"'
check_exit 'sms-send --messaging-service that is not one of the provider'\''s: 2' 2 \
	'sms-send -d "$ib" --messaging-service XX01 --to $T hi 2>"$tmp/err"'
check 'and says why' 'grep -q "is not an MG SID" "$tmp/err"'

# --- A bad record: that record fails (1), the rest is done -----------------
# A NUMBER on the command line is a usage error (above); the same number in
# a record is that record's failure, reported with its line, and the stream
# goes on (smsdesk(7), EXIT STATUS): 1, not 65, which is for an input that
# is unusable as a whole.
U=+15551230062
printf '%s\n' '{"from":"+15551230062","to":"+15550100000","provider_id":"SMx0600u","body":"hi"}' \
	>"$tmp/rec2"
sms-recv -d "$ib" "$tmp/rec2" >/dev/null || fail 'sms-recv stores a second one'
printf '%s\n' '{"thread":"5551230061"}' "{\"thread\":\"$U\"}" >"$tmp/nat"
check_exit 'inbox-mark, a national number in a record: 1' 1 \
	'inbox-mark -d "$ib" -a bo <"$tmp/nat" >"$tmp/out" 2>"$tmp/err"'
check '  said with its line; the next record done' \
	"grep -q '^inbox-mark: stdin:1: .*national number' '$tmp/err' &&
	 inbox-ls -d '$ib' | jq -e 'select(.thread == \"$U\") |
	     .assignee == \"bo\"'"
sim || fail 'sms-sim starts'
printf '%s\n' '{"to":"5551230061","body":"hi"}' "{\"to\":\"$T\"}" \
	"{\"to\":\"$T\",\"body\":\"hi\"}" >"$tmp/nat"
check_exit 'sms-send, a national number and a missing body in records: 1' 1 \
	'sms-send -d "$ib" <"$tmp/nat" >"$tmp/out" 2>"$tmp/err"'
# (the records are prepared by parallel workers: their lines in any order)
is '  each said with its line' "$(cut -d: -f1-3 "$tmp/err" | sort |
	tr '\n' ' ')" \
	'sms-send: stdin:1 sms-send: stdin:2 '
is '  the third sent' "$(jq -r '.error.code // .status' "$tmp/out" |
	tr '\n' ' ')" 'invalid_recipient no_body queued '
printf '%s\n' '{"from":"+15551230063","to":"+15550100000","body":"no id"}' \
	'{oops' "{\"from\":\"+15551230064\",\"to\":\"+15550100000\",\"provider_id\":\"SMx0600v\",\"body\":\"hi\"}" \
	>"$tmp/bad"
check_exit 'sms-recv, a record without an id and a line that is no JSON: 1' 1 \
	'sms-recv -d "$ib" <"$tmp/bad" >"$tmp/out" 2>"$tmp/err"'
check '  each said with its line, the third stored' \
	"grep -q '^sms-recv: stdin:1: ' '$tmp/err' &&
	 grep -q '^sms-recv: stdin:2: ' '$tmp/err' &&
	 jq -e '.message.provider_id == \"SMx0600v\"' '$tmp/out'"
printf '%s\n' '{oops' '{"body":"hi"}' >"$tmp/bad"
check_exit 'segment, a line that is no JSON: 1' 1 \
	'segment <"$tmp/bad" >"$tmp/out" 2>"$tmp/err"'
check '  the next annotated' 'jq -e ".segments == 1" "$tmp/out"'
check_exit 'inbox-ls, a NUMBER with no conversation: 1' 1 \
	'inbox-ls -d "$ib" +15551230069'
check_exit 'inbox-mark, a NUMBER with no conversation: 1' 1 \
	'inbox-mark -d "$ib" -a bo +15551230069'
check_exit 'sms-send --thread, a NUMBER with no conversation: 1' 1 \
	'sms-send -d "$ib" --thread +15551230069 hi'
check 'none of them made it' '[ ! -e "$ib/conv/+15551230069" ]'

# --- Data unusable as a whole: 65 ------------------------------------------
check_exit 'sms-send --to, a text on stdin holding a NUL: 65' 65 \
	'printf "a\\000b" | sms-send -d "$ib" --to $T >"$tmp/out" 2>"$tmp/err"'
check '  said once, no record' \
	"[ ! -s '$tmp/out' ] && [ \$(wc -l <'$tmp/err') = 1 ]"
check_exit 'sms-send --to, a text on stdin that is not UTF-8: 65' 65 \
	'printf "a\\377b" | sms-send -d "$ib" --to $T >"$tmp/out" 2>"$tmp/err"'
check '  said once, no record' \
	"[ ! -s '$tmp/out' ] && [ \$(wc -l <'$tmp/err') = 1 ] &&
	 grep -q '^sms-send: stdin: the body is not UTF-8' '$tmp/err'"
check_exit 'segment --raw, a text that is not UTF-8: 65' 65 \
	'printf "a\\377b" | segment --raw >/dev/null 2>&1'

# --- An argument that is not UTF-8: 2, nothing sent -------------------------
n0=$(creates)
for a in 'BODY' '--template' '--key'; do
	case $a in
	BODY) cmd='sms-send -d "$ib" --to $T "$(printf "a\\377")"' ;;
	--template) cmd='sms-send -d "$ib" --template "$(printf "a\\377")" </dev/null' ;;
	--key) cmd='sms-send -d "$ib" --key "$(printf "a\\377")" --to $T hi' ;;
	esac
	check_exit "sms-send, a $a that is not UTF-8: 2" 2 \
		"$cmd >'$tmp/out' 2>'$tmp/err'"
	check '  said once, naming it' \
		"[ ! -s '$tmp/out' ] && [ \$(wc -l <'$tmp/err') = 1 ] &&
		 grep -q '^sms-send: $a: not UTF-8' '$tmp/err'"
done
is 'and nothing was sent' "$(creates)" "$n0"

# --- A temporary failure: 75 ---------------------------------------------------
kill "$simpid"
sim E --errors 100 --seed 6 || fail 'sms-sim starts'
check_exit 'sms-send, the provider answering 5xx: 75' 75 \
	'sms-send -d "$ib" -R 1 --to $T hi >/dev/null 2>&1'
check_exit 'sms-sim text, a simulator with no webhook (503): 75' 75 \
	'sms-sim text --url "$TWILIO_API_URL" $T hi >/dev/null 2>&1'
# Its port, once it is stopped, is one where nothing listens.
kill "$simpid"
wait "$simpid"
check_exit 'sms-send, the provider unreachable: 75' 75 \
	'sms-send -d "$ib" -R 0 --to $T hi >/dev/null 2>&1'
check_exit 'sms-sim text, no simulator: 75' 75 \
	'sms-sim text --url "$TWILIO_API_URL" $T hi >/dev/null 2>&1'

# --- sms-sim text: a webhook that refuses (4xx) is 1; 2xx is 0 ---------------
serve "$tmp/R.out" "$tmp/R.err" env TWILIO_AUTH_TOKEN=another sms-recv \
	-d "$ib" || fail 'sms-recv starts'
rpid=$server
sim H --webhook "http://127.0.0.1:$port/twilio" || fail 'sms-sim starts'
check_exit 'sms-sim text, the webhook refusing it (403): 1' 1 \
	'sms-sim text --url "$TWILIO_API_URL" $T hi >/dev/null 2>&1'
kill "$simpid" "$rpid"
serve "$tmp/R2.out" "$tmp/R2.err" sms-recv -d "$ib" || fail 'sms-recv starts'
rpid=$server
sim H2 --webhook "http://127.0.0.1:$port/twilio" || fail 'sms-sim starts'
check_exit 'sms-sim text, the webhook taking it: 0' 0 \
	'sms-sim text --url "$TWILIO_API_URL" $T hi >/dev/null'
check_exit 'sms-sim text, a full stdout: 74' 74 \
	'[ -w /dev/full ] && sms-sim text --url "$TWILIO_API_URL" $T again >/dev/full'
check_exit 'sms-sim, a port in use: 74' 74 \
	'sms-sim --listen "127.0.0.1:${TWILIO_API_URL##*:}" 2>/dev/null'
check_exit 'sms-recv, a port in use: 74' 74 \
	'sms-recv -d "$ib" --listen "127.0.0.1:${TWILIO_API_URL##*:}" 2>/dev/null'
kill "$simpid"
wait "$simpid"
is 'sms-sim, stopped by SIGTERM: 0' "$?" 0
kill "$rpid"
wait "$rpid"
is 'sms-recv, stopped by SIGTERM: 0' "$?" 0

# --- A full stdout: 74 in every program that prints --------------------------
if [ ! -w /dev/full ]; then
	skip 'a full stdout' 'no /dev/full'
else
	printf '%s\n' '{"from":"+15551230065","to":"+15550100000","provider_id":"SMx0600w","body":"hi"}' \
		>"$tmp/rec3"
	for cmd in 'segment hi' 'inbox-ls -d "$ib"' 'inbox-ls -d "$ib" $T' \
	    'inbox-mark -d "$ib" -a cy $T' 'sms-recv -d "$ib" "$tmp/rec3"' \
	    'sms-send -d "$ib" --dry-run --to $T hi'; do
		check_exit "$cmd, a full stdout: 74" 74 \
			"$cmd >/dev/full 2>'$tmp/err'"
		check '  said' "grep -q 'stdout: No space left on device' '$tmp/err'"
	done
fi

# --- A usage error: 2 in every program -----------------------------------------
for p in segment sms-recv inbox-ls inbox-mark sms-send sms-sim; do
	check_exit "$p --bogus: 2" 2 "$p --bogus"
done

done_testing
