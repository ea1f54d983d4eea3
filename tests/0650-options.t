#!/bin/sh
# One meaning per option letter (smsdesk(7), Options; tests/0001-docs.t
# holds every program to the table): the letters do what the table says,
# the short forms it took away are unknown options (exit 2, nothing done),
# and a program checks all of its arguments before it changes anything.
. "$(dirname "$0")/lib.sh"
twilio_env 0610
# Nothing here may reach a provider: a port where nobody listens.
TWILIO_API_URL=http://127.0.0.1:1
export TWILIO_API_URL

ib=$tmp/ib
mkinbox "$ib"
mkconv "$ib" +15551230001 '{"assignee":"ana","unread":1}'
mkconv "$ib" +15551230002 '{"assignee":"bob"}'
mkconv "$ib" +15551230003 '{}'
# state THREAD: the conversation as it stands (its file, every change).
state() { cat "$ib/conv/$1"; }
threads() { jq -r .thread | sort | tr '\n' ' ' | sed 's/ $//'; }

# --- The letters of the table ------------------------------------------------

is 'inbox-ls -a NAME: the conversations assigned to NAME' \
	"$(inbox-ls -d "$ib" -a ana | threads)" +15551230001
is 'inbox-ls -A: those assigned to nobody' \
	"$(inbox-ls -d "$ib" -A | threads)" +15551230003
check_exit 'inbox-ls -a and -A exclude each other: exit 2' 2 \
	'inbox-ls -d "$ib" -a ana -A'
is 'inbox-ls -u: those with unread messages' \
	"$(inbox-ls -d "$ib" -u | threads)" +15551230001
check 'inbox-mark -T TAG adds the tag' \
	'inbox-mark -d "$ib" -T vip +15551230002 >/dev/null &&
	 [ "$(jq -c .tags "$ib/conv/+15551230002" | tail -n 1)" = "[\"vip\"]" ]'
check 'inbox-mark -z UNTIL snoozes' \
	'inbox-mark -d "$ib" -z 2h +15551230002 >/dev/null &&
	 [ "$(tail -n 1 "$ib/conv/+15551230002" | jq -r .status)" = snoozed ]'
check 'inbox-mark -a NAME assigns, -A unassigns' \
	'inbox-mark -d "$ib" -a cy +15551230003 >/dev/null &&
	 [ "$(tail -n 1 "$ib/conv/+15551230003" | jq -r .assignee)" = cy ] &&
	 inbox-mark -d "$ib" -A +15551230003 >/dev/null &&
	 [ "$(tail -n 1 "$ib/conv/+15551230003" | jq -r .assignee)" = null ]'
is 'segment -L LANG is --language' \
	"$(segment -L tr 'Şu an' | jq -c '[.encoding, .shift_tables]')" \
	"$(segment --language tr 'Şu an' | jq -c '[.encoding, .shift_tables]')"

# --- The short forms the table took away: unknown, exit 2, nothing done ------

before=$(state +15551230001)
for opts in '-t vip' '-s 2h' '-o' '-p' '-r'; do
	check_exit "inbox-mark $opts: exit 2" 2 \
		"inbox-mark -d '$ib' $opts +15551230001"
done
is 'and the conversation is as it was' "$(state +15551230001)" "$before"
# inbox-mark -A ana +1555...: -A takes no name, so "ana" is a NUMBER that
# is not one; the conversation keeps its agent (it was unassigned and then
# refused, issue 13).
check_exit 'inbox-mark -A NAME NUMBER: exit 2' 2 \
	'inbox-mark -d "$ib" -A ana +15551230001'
is 'and nobody was unassigned' "$(state +15551230001)" "$before"
for opts in '-U' '-l 1' '-n +15551230001'; do
	check_exit "inbox-ls $opts: exit 2" 2 "inbox-ls -d '$ib' $opts"
done
is 'inbox-ls -n NUMBER left the thread unread' \
	"$(state +15551230001)" "$before"
for opts in '-l tr hi' '-p 0.0079 hi' '-r' '-s hi' '-S hi'; do
	check_exit "segment $opts: exit 2" 2 "segment $opts </dev/null"
done
for opts in '-t +15551230001 hi' '-T hi' '-j 2' '-m 2'; do
	check_exit "sms-send $opts: exit 2" 2 \
		"sms-send -d '$tmp/send' $opts </dev/null"
done
check 'and no inbox was made' '[ ! -e "$tmp/send" ]'
for opts in '-a 2' '-t 5' '-u https://example.com'; do
	check_exit "sms-recv $opts: exit 2" 2 \
		"sms-recv -d '$tmp/recv' $opts </dev/null"
done
check 'and no inbox was made' '[ ! -e "$tmp/recv" ]'
for opts in "-c $tmp/log" '-D 5' '-E 5' '-e 5' '-f +15551230001' '-L 10' \
    '-n +15550100000' '-o +15551230001' '-R hi' '-s 1' '-x +15551230001'; do
	# (were it taken, the simulator would serve: timeout ends it)
	check_exit "sms-sim $opts: exit 2" 2 \
		"timeout 20 sms-sim $opts --listen 127.0.0.1:0"
done
check_exit 'sms-sim text -u URL: exit 2' 2 \
	'sms-sim text -u http://127.0.0.1:1 +15551230001 hi'

# --- Every argument checked before anything is changed -----------------------

check_exit 'sms-recv --provider that is none: exit 78' 78 \
	'sms-recv -d "$tmp/new" --provider nope </dev/null'
check 'and no inbox was made' '[ ! -e "$tmp/new" ]'
check_exit 'sms-recv --listen that is no address: exit 2' 2 \
	'sms-recv -d "$tmp/new" --listen no-such-host.invalid:99999'
check 'and no inbox was made' '[ ! -e "$tmp/new" ]'
check_exit 'sms-recv --listen without a signing secret: exit 78' 78 \
	'env -u TWILIO_AUTH_TOKEN sms-recv -d "$tmp/new" --listen 127.0.0.1:0'
check 'and no inbox was made' '[ ! -e "$tmp/new" ]'
printf '%s\n' '{"from":"+15551230009","provider_id":"SM0610a","body":"hi"}' \
	>"$tmp/good.ndjson"
check_exit 'sms-recv FILE MISSING: exit 66' 66 \
	'sms-recv -d "$ib" "$tmp/good.ndjson" "$tmp/missing" >"$tmp/out"'
check 'and the first FILE was not stored' \
	'[ ! -e "$ib/conv/+15551230009" ] && [ ! -s "$tmp/out" ]'

printf '%s\n' '{"to":"+15551230004","name":"Ann"}' >"$tmp/recs"
check_exit 'sms-send --template with an unclosed {: exit 2' 2 \
	'sms-send -d "$tmp/new" --template "Hi {name" <"$tmp/recs" >"$tmp/out" \
	    2>"$tmp/err"'
check 'said, nothing printed, no inbox made' \
	'grep -q "^sms-send: --template: unclosed {" "$tmp/err" &&
	 [ ! -s "$tmp/out" ] && [ ! -e "$tmp/new" ]'
check_exit 'sms-send --template that is not UTF-8: exit 2' 2 \
	'sms-send -d "$tmp/new" --template "$(printf "Hi \377{name}")" \
	    <"$tmp/recs"'
check_exit 'sms-send --to NUMBER with a text that is not UTF-8: exit 2' 2 \
	'sms-send -d "$tmp/new" --to +15551230004 "$(printf "\377")"'
check 'and no inbox was made' '[ ! -e "$tmp/new" ]'

done_testing
