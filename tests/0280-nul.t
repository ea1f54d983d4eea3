#!/bin/sh
# A NUL (JSON's \u0000, a form's %00) in a value that builds a message:
# the record is refused whole, with a clear error, and the rest of the
# stream goes on. A C string would cut the value at the NUL and send, or
# store, another text than the one given (sms-record(5), sms-recv(1)).
#
# The provider is sms-sim on 127.0.0.1, killed by PID on exit.
. "$(dirname "$0")/lib.sh"

twilio_env 0280
ib=$tmp/inbox
mkinbox "$ib"

# --- sms-send: records on stdin ----------------------------------------------

sim A || { fail 'sms-sim starts'; done_testing; }

# send < RECORDS: sms-send over stdin; records in $tmp/out, errors in
# $tmp/err; prints the exit status.
send() {
	sms-send -d "$ib" "$@" >"$tmp/out" 2>"$tmp/err"
	echo $?
}

n0=$(creates A)
is 'a body with a NUL inside: exit 1' \
	"$(printf '%s\n' '{"to":"+12025550010","body":"x\u0000y"}' | send)" 1
check 'failed, invalid_value, naming the field and the NUL' \
	'jq -e ".status == \"failed\" and .error.code == \"invalid_value\" and
	    (.error.message | test(\"body.*NUL\"))" "$tmp/out" &&
	 grep -q "\"body\" holds a NUL" "$tmp/err"'
is 'and nothing was sent' "$(creates A)" "$n0"

printf '%s\n' '{"to":"+12025550010","body":"\u0000hidden"}' | send >/dev/null
check 'a body that starts with a NUL: not "no body", a NUL' \
	'jq -e ".error.code == \"invalid_value\"" "$tmp/out" &&
	 ! grep -q "no \"body\"" "$tmp/err"'
is 'and nothing was sent' "$(creates A)" "$n0"

printf '%s\n' '{"thread":"+12025550010\u0000","to":"+12025550011","body":"hi"}' |
	send >/dev/null
check 'a thread with a NUL: refused, not sent to "to" instead' \
	'jq -e ".error.code == \"invalid_value\" and
	    (.error.message | test(\"thread\"))" "$tmp/out"'
printf '%s\n' '{"to":"+12025550010","body":"hi","key":"k1\u0000x"}' |
	send >/dev/null
check 'a key with a NUL: refused, not sent without its key' \
	'jq -e ".error.code == \"invalid_value\"" "$tmp/out"'
is 'nothing was sent for any of them' "$(creates A)" "$n0"

is 'a template field with a NUL: exit 1' \
	"$(printf '%s\n' '{"thread":"+12025550010","name":"Ann\u0000 evil"}' |
	    send --template 'Hi {name}')" 1
check 'failed, template, naming the field' \
	'jq -e ".error.code == \"template\" and
	    (.error.message | test(\"name.*NUL\"))" "$tmp/out"'
is 'and "Hi Ann" was not sent' "$(creates A)" "$n0"

{
	printf '%s\n' '{"to":"+12025550010","body":"x\u0000y"}'
	printf '%s\n' '{"to":"+12025550012","body":"whole"}'
} | send >/dev/null
check 'the stream goes on: the next record is sent' \
	'jq -s -e "length == 2 and .[1].body == \"whole\" and
	    .[1].provider_id" "$tmp/out"'
is 'one request, with the whole body' \
	"$(jq -s -r '[.[] | select(.method == "POST")][-1].params.Body' \
	    "$tmp/A.log"):$(creates A)" "whole:$((n0 + 1))"

# --- sms-sim: a To cut at a NUL is another number ----------------------------

is 'sms-sim: a To holding %00: 400 21211' \
	"$(curl -s -o "$tmp/resp" -w '%{http_code}' -u "$AC:$TOK" \
	    --data 'To=%2B12025550010%000&From=%2B15550100000&Body=hi' \
	    "$TWILIO_API_URL/2010-04-01/Accounts/$AC/Messages.json"):$(jq -r .code "$tmp/resp")" \
	'400:21211'
is 'sms-sim: a StatusCallback holding %00: 400' \
	"$(curl -s -o /dev/null -w '%{http_code}' -u "$AC:$TOK" \
	    --data 'To=%2B12025550010&From=%2B15550100000&Body=hi&StatusCallback=http://127.0.0.1:9/x%00y' \
	    "$TWILIO_API_URL/2010-04-01/Accounts/$AC/Messages.json")" 400

# --- sms-recv: records and forms from a file ---------------------------------

{
	printf '%s\n' '{"from":"+15551230001","body":"a\u0000b","provider_id":"SMn1"}'
	printf '%s\n' '{"from":"+15551230001\u0000x","body":"hi","provider_id":"SMn2"}'
	printf '%s\n' '{"from":"+15551230001","body":"hi","provider_id":"SMn3\u0000"}'
	printf '%s\n' 'From=%2B15551230001&To=%2B15550000000&Body=a%00b&MessageSid=SMn4'
	printf '%s\n' '{"from":"+15551230001","body":"whole","provider_id":"SMn5"}'
} >"$tmp/in"
sms-recv -d "$ib" "$tmp/in" >"$tmp/out" 2>"$tmp/err"
is 'sms-recv: four lines with a NUL: exit 1' "$?" 1
is 'each named, with its line and field' \
	"$(sed 's/^sms-recv: [^:]*:\([0-9]\): .*\(body\|from\|provider_id\|Body\).*NUL.*/\1 \2/' "$tmp/err")" \
	"$(printf '1 body\n2 from\n3 provider_id\n4 Body')"
is 'only the whole one stored' \
	"$(cat "$ib"/msg/+15551230001/* | jq -r .body)" whole

# --- sms-recv: the listener ---------------------------------------------------

serve "$tmp/L.out" "$tmp/L.err" sms-recv -d "$ib" ||
	{ fail 'the listener starts'; done_testing; }
post() { webhook "$1"; }
is 'listener: a Body holding %00: 400, as sms-recv(1) says' \
	"$(post 'From=%2B15551230002&To=%2B15550000000&Body=x%00y&MessageSid=SMn6')" 400
is 'listener: a Body starting with %00: 400' \
	"$(post 'From=%2B15551230002&To=%2B15550000000&Body=%00y&MessageSid=SMn7')" 400
is 'listener: a From holding %00: 400' \
	"$(post 'From=%2B15551230002%00&To=%2B15550000000&Body=y&MessageSid=SMn8')" 400
is 'listener: %00 in a parameter smsdesk does not read: 400 too' \
	"$(post 'AccountSid=AC%00x&From=%2B15551230002&To=%2B15550000000&Body=y&MessageSid=SMn10')" 400
is 'listener: %00 in a parameter name: 400' \
	"$(post 'Acc%00ountSid=AC&From=%2B15551230002&To=%2B15550000000&Body=y&MessageSid=SMn11')" 400
check 'nothing stored from those' "[ ! -e '$ib/msg/+15551230002' ]"
is 'listener: a whole Body: 200' \
	"$(post 'From=%2B15551230002&To=%2B15550000000&Body=xy&MessageSid=SMn9')" 200

# --- inbox-mark and inbox-ls: records and files --------------------------------

printf '%s\n' '{"thread":"+15551230001\u0000+15551230002"}' |
	inbox-mark -d "$ib" --tag t >"$tmp/out" 2>"$tmp/err"
is 'inbox-mark: a thread holding a NUL: exit 1' "$?" 1
check 'named as such, and no conversation changed' \
	'grep -q "stdin:1: \"thread\" holds a NUL" "$tmp/err" &&
	 [ ! -s "$tmp/out" ] &&
	 tail -n 1 "$ib/conv/+15551230001" | jq -e ".tags == []"'

# A conversation whose assignee holds a NUL (written by hand, or by an
# older program): it is nobody's, not "bob"'s.
conv=$(tail -n 1 "$ib/conv/+15551230001" |
	jq -c '.assignee = "bob\u0000evil"')
printf '%s\n' "$conv" >>"$ib/conv/+15551230001"
inbox-mark -d "$ib" --assign bob +15551230002 >/dev/null
is 'inbox-ls --assignee bob: not the one whose assignee holds a NUL' \
	"$(inbox-ls -d "$ib" --assignee bob | jq -r .thread)" +15551230002
inbox-mark -d "$ib" --tag "a" +15551230001 >/dev/null
conv=$(tail -n 1 "$ib/conv/+15551230001" | jq -c '.tags = ["a\u0000b"]')
printf '%s\n' "$conv" >>"$ib/conv/+15551230001"
inbox-mark -d "$ib" --untag a +15551230001 >/dev/null
check 'inbox-mark --untag a: a tag "a\u0000b" is another tag' \
	'tail -n 1 "$ib/conv/+15551230001" | jq -e ".tags == [\"a\u0000b\"]"'

done_testing
