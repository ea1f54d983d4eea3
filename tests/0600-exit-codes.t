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

done_testing
