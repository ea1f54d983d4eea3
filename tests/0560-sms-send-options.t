#!/bin/sh
# sms-send(1): the ways to name the account and the sender (API keys, a
# Messaging Service, --from, the configuration file), throttling after the
# last retry, the default --max-segments, the progress line on a terminal;
# every create it makes is valid against Twilio's OpenAPI description.
# And sms-recv(1): a webhook delivered twice gets one acknowledgement.
#
# The provider is sms-sim on 127.0.0.1 (a random free port), killed by
# PID on exit; credentials are in the environment (or a private
# configuration file) only.
. "$(dirname "$0")/lib.sh"

twilio_env 0560
unset SMSDESK_NOW
SK=SK0560aaaaaaaaaaaaaaaaaaaaaaaaaaaa
MG=MG0560aaaaaaaaaaaaaaaaaaaaaaaaaaaa
ib=$tmp/inbox
mkinbox "$ib"

# last NAME: the last create request sms-sim NAME logged.
last() {
	jq -c 'select(.method == "POST")' "$tmp/$1.log" | tail -n 1
}

sim A || { fail 'sms-sim starts'; done_testing; }

# --- An API key and its secret ---------------------------------------------

check 'an API key pair, no auth token: sent' \
	'env -u TWILIO_AUTH_TOKEN TWILIO_API_KEY=$SK TWILIO_API_SECRET=$TOK \
	    sms-send -d "$ib" --to +15551230001 "by key" >"$tmp/out" &&
	 jq -e ".status == \"queued\" and
	     (.provider_id | test(\"^SM[0-9a-f]{32}$\"))" "$tmp/out"'
is 'the provider took the request as authenticated' \
	"$(last A | jq -c '[.auth, .status, .params.Body]')" '[true,201,"by key"]'
check 'the pair is used instead of the auth token: a wrong token is unused' \
	'TWILIO_AUTH_TOKEN=wrong TWILIO_API_KEY=$SK TWILIO_API_SECRET=$TOK \
	    sms-send -d "$ib" --to +15551230001 "key beats token" >/dev/null'
check 'a key without its secret is not used: the token is' \
	'TWILIO_API_KEY=$SK sms-send -d "$ib" --to +15551230001 "token" \
	    >/dev/null'
n0=$(creates A)
check_exit 'a wrong secret: 77' 77 \
	'TWILIO_API_KEY=$SK TWILIO_API_SECRET=wrong \
	    sms-send -d "$ib" --to +15551230002 hi >"$tmp/out"'
check 'failed, auth' \
	'jq -e ".status == \"failed\" and .error.code == \"auth\"" "$tmp/out"'
is 'one request, refused' "$(creates A) $(last A | jq -c '[.auth, .status]')" \
	"$((n0 + 1)) [false,401]"
n0=$(creates A)
check_exit 'a batch with a wrong secret: 77' 77 \
	'printf "{\"to\":\"+1555123001%d\",\"body\":\"x\"}\n" 0 1 2 3 4 |
	 TWILIO_API_KEY=$SK TWILIO_API_SECRET=wrong \
	    sms-send -d "$ib" >"$tmp/out"'
is 'and nothing more is sent after the first refusal' "$(creates A)" \
	$((n0 + 1))
check 'none of them went' \
	'! jq -e "select(.provider_id)" "$tmp/out" >/dev/null'

# --- A Messaging Service -----------------------------------------------------

check '--messaging-service: sent, the service on the record, no from' \
	'sms-send -d "$ib" --messaging-service $MG --to +15551230021 "by service" \
	    >"$tmp/out" && jq -e ".provider_id and .messaging_service_sid == \"$MG\"
	    and .from == null" "$tmp/out"'
is 'MessagingServiceSid in the create, and no From (TWILIO_FROM is set)' \
	"$(last A | jq -c '[.params.MessagingServiceSid, .params.From]')" \
	"[\"$MG\",null]"
# sms-send(1), step 6: the provider's answer settles the status (queued,
# accepted); sms-sim answers "accepted" to a create with a Messaging
# Service, as Twilio does.
is 'the record has the provider'"'"'s status, accepted' \
	"$(jq -r .status "$tmp/out")" accepted
check '-M too' \
	'sms-send -d "$ib" -M $MG --to +15551230022 "by -M" >/dev/null &&
	 [ "$(last A | jq -c "[.params.MessagingServiceSid, .params.From,
	     .params.Body]")" = "[\"$MG\",null,\"by -M\"]" ]'
check 'TWILIO_MESSAGING_SERVICE_SID, with no TWILIO_FROM: sent' \
	'env -u TWILIO_FROM TWILIO_MESSAGING_SERVICE_SID=$MG \
	    sms-send -d "$ib" --to +15551230023 "by env" >/dev/null'
is 'MessagingServiceSid in the create, and no From' \
	"$(last A | jq -c '[.params.MessagingServiceSid, .params.From, .params.Body]')" \
	"[\"$MG\",null,\"by env\"]"
check 'TWILIO_MESSAGING_SERVICE_SID with TWILIO_FROM: the number is the sender' \
	'TWILIO_MESSAGING_SERVICE_SID=$MG \
	    sms-send -d "$ib" --to +15551230024 "number wins" >/dev/null &&
	 [ "$(last A | jq -c "[.params.MessagingServiceSid, .params.From]")" = \
	     "[null,\"$US\"]" ]'

# --- --from -------------------------------------------------------------------

check '--from beats TWILIO_FROM' \
	'sms-send -d "$ib" --from +15550100077 --to +15551230031 "from flag" \
	    >"$tmp/out" && jq -e ".from == \"+15550100077\"" "$tmp/out"'
is 'the create is from the flag'"'"'s number' \
	"$(last A | jq -c '[.params.From, .params.Body]')" \
	'["+15550100077","from flag"]'
check '-f too' \
	'sms-send -d "$ib" -f +15550100078 --to +15551230032 "from -f" \
	    >/dev/null &&
	 [ "$(last A | jq -r .params.From)" = +15550100078 ]'

# --- The configuration file ---------------------------------------------------

# cfg FILE LINE...: a private configuration file of these lines.
cfg() {
	c_f=$1
	shift
	mkdir -p "$(dirname "$c_f")" &&
	printf '%s\n' "$@" >"$c_f" && chmod 600 "$c_f"
}
xdg=$tmp/xdg
cfg "$xdg/smsdesk/config" '# for 0560' "twilio_account_sid = $AC" \
	"twilio_auth_token = \"$TOK\"" 'from = +15550100044'
# byconf CMD...: CMD with XDG_CONFIG_HOME=$xdg and no credentials or
# sender in the environment.
byconf() {
	env -u TWILIO_ACCOUNT_SID -u TWILIO_AUTH_TOKEN -u TWILIO_FROM \
	    XDG_CONFIG_HOME="$xdg" "$@"
}
check 'account, token and from from $XDG_CONFIG_HOME/smsdesk/config: sent' \
	'byconf sms-send -d "$ib" --to +15551230041 "by config" >"$tmp/out" &&
	 jq -e ".provider_id and .from == \"+15550100044\"" "$tmp/out"'
is 'the create is from the file'"'"'s number, authenticated' \
	"$(last A | jq -c '[.auth, .params.From, .params.Body]')" \
	'[true,"+15550100044","by config"]'
check_exit 'without the file: no account, 78' 78 \
	'env -u TWILIO_ACCOUNT_SID -u TWILIO_AUTH_TOKEN -u TWILIO_FROM \
	    sms-send -d "$ib" --to +15551230041 "no config"'
check 'the environment beats the file' \
	'XDG_CONFIG_HOME="$xdg" sms-send -d "$ib" --to +15551230042 env \
	    >/dev/null && [ "$(last A | jq -r .params.From)" = "$US" ]'
cfg "$tmp/xdg-bad/smsdesk/config" "twilio_account_sid = $AC" \
	'twilio_auth_token = wrong' 'from = +15550100044'
n0=$(creates A)
check_exit 'a wrong token in the file: 77 (the file is what is used)' 77 \
	'env -u TWILIO_ACCOUNT_SID -u TWILIO_AUTH_TOKEN -u TWILIO_FROM \
	    XDG_CONFIG_HOME="$tmp/xdg-bad" sms-send -d "$ib" \
	    --to +15551230043 hi >/dev/null'
is 'after one request' "$(creates A)" $((n0 + 1))
cfg "$tmp/xdg-key/smsdesk/config" "twilio_account_sid = $AC" \
	"twilio_api_key = $SK" "twilio_api_secret = $TOK" \
	'twilio_auth_token = wrong' "twilio_messaging_service_sid = $MG"
check 'an API key pair and a Messaging Service from the file' \
	'env -u TWILIO_ACCOUNT_SID -u TWILIO_AUTH_TOKEN -u TWILIO_FROM \
	    XDG_CONFIG_HOME="$tmp/xdg-key" sms-send -d "$ib" \
	    --to +15551230044 "key in config" >/dev/null &&
	 [ "$(last A | jq -c "[.auth, .params.MessagingServiceSid,
	     .params.From]")" = "[true,\"$MG\",null]" ]'
chmod 644 "$xdg/smsdesk/config"
n0=$(creates A)
check_exit 'a file readable by others: 78' 78 \
	'byconf sms-send -d "$ib" --to +15551230045 hi 2>"$tmp/err"'
check 'said so, and nothing sent' \
	'grep -q "readable by group or others" "$tmp/err" &&
	 [ "$(creates A)" = "$n0" ]'
chmod 600 "$xdg/smsdesk/config"

# --- --max-segments defaults to 4 -------------------------------------------

check '4 segments (612 GSM-7 characters): sent, no warning' \
	'sms-send -d "$ib" --to +15551230051 "$(printf "%612s" x)" \
	    2>"$tmp/err" >"$tmp/out" &&
	 jq -e ".segments == 4 and .provider_id" "$tmp/out" && [ ! -s "$tmp/err" ]'
check '5 segments (613): sent, with a warning' \
	'sms-send -d "$ib" --to +15551230051 "$(printf "%613s" x)" \
	    2>"$tmp/err" >"$tmp/out" &&
	 jq -e ".segments == 5 and .provider_id" "$tmp/out" &&
	 grep -q "5 segments (more than 4)" "$tmp/err"'
is 'both reached the provider' \
	"$(jq -r 'select(.method == "POST" and .params.To == "+15551230051")
	    | .status' "$tmp/A.log" | tr '\n' ' ')" '201 201 '

# --- The progress line on a terminal ----------------------------------------

# 40 records; the terminal of script(1) is made 20 rows high, so they are
# more than a screenful.
i=0
: >"$tmp/in40"
while [ "$i" -lt 40 ]; do
	printf '{"to":"+155512302%02d","body":"progress %d"}\n' "$i" "$i" \
	    >>"$tmp/in40"
	i=$((i + 1))
done
head -n 10 "$tmp/in40" | sed s/progress/few/ >"$tmp/in10"
if ! script -qfec true /dev/null >/dev/null 2>&1; then
	skip 'on a terminal, over a screenful: a progress line on stderr' \
	    'no util-linux script(1)'
	skip 'on a terminal, under a screenful: no progress line' \
	    'no util-linux script(1)'
else
	check 'on a terminal, over a screenful: a progress line on stderr' \
	    'script -qfec "stty rows 20 cols 80; sms-send -d \"$ib\" \
		<\"$tmp/in40\" >\"$tmp/p.out\"" /dev/null >"$tmp/p.tty" &&
	     grep -q "sms-send: 40 done: 40 ok, 0 failed, 0 to retry" \
		"$tmp/p.tty" &&
	     [ "$(jq -s "map(select(.provider_id)) | length" "$tmp/p.out")" = 40 ]'
	check 'on a terminal, under a screenful: no progress line' \
	    'script -qfec "stty rows 20 cols 80; sms-send -d \"$ib\" \
		<\"$tmp/in10\" >\"$tmp/p.out\"" /dev/null >"$tmp/p.tty" &&
	     [ "$(jq -s "map(select(.provider_id)) | length" "$tmp/p.out")" = 10 ] &&
	     ! grep -q "done:" "$tmp/p.tty"'
fi
check 'stderr not a terminal: no progress line' \
	'sed s/progress/plain/ "$tmp/in40" | sms-send -d "$ib" >"$tmp/p.out" \
	    2>"$tmp/p.err" &&
	 [ "$(jq -s "map(select(.provider_id)) | length" "$tmp/p.out")" = 40 ] &&
	 ! grep -q "done:" "$tmp/p.err"'
kill "$simpid"

# --- Throttled after the last retry ---------------------------------------

# One create every 100 s: the first passes, every one after it gets 429.
sim T --rate 0.01 || fail 'sms-sim starts'
mkinbox "$tmp/ib-t"
printf '%s\n' '{"to":"+15551230061","body":"first"}' \
	'{"to":"+15551230062","body":"second"}' >"$tmp/in"
check_exit '429 on every try of the second, -R 1: exit 75' 75 \
	'sms-send -d "$tmp/ib-t" -R 1 <"$tmp/in" >"$tmp/out"'
check 'the first was sent' \
	'jq -s -e ".[0].to == \"+15551230061\" and .[0].status == \"queued\" and
	    .[0].provider_id" "$tmp/out"'
check 'the second failed, throttled' \
	'jq -s -e ".[1].to == \"+15551230062\" and .[1].status == \"failed\" and
	    .[1].error.code == \"throttled\" and .[1].provider_id == null" \
	    "$tmp/out"'
is 'one create for the first, 1 + 1 retry for the second, 429 both' \
	"$(jq -c 'select(.method == "POST") | [.params.To, .status]' "$tmp/T.log" |
	    tr '\n' ' ')" \
	'["+15551230061",201] ["+15551230062",429] ["+15551230062",429] '
check 'it is not left in the outbox (the first waits there for its report)' \
	'[ "$(cat $(outbox_files "$tmp/ib-t") | jq -r .to | sort -u)" = +15551230061 ]'
n0=$(creates T)
check_exit '-R 3: exit 75 again' 75 \
	'sms-send -d "$tmp/ib-t" -R 3 --to +15551230063 third >"$tmp/out"'
check 'failed, throttled' \
	'jq -e ".status == \"failed\" and .error.code == \"throttled\"" \
	    "$tmp/out"'
is 'after 1 + 3 tries' "$(creates T)" $((n0 + 4))
kill "$simpid"

# --- Every create is valid against Twilio's OpenAPI description -----------

cat "$tmp"/*.log | jq -c 'select(.method == "POST")' >"$tmp/posts"
check 'the sims logged the creates of this file (at least 100)' \
	'[ "$(wc -l <"$tmp/posts")" -ge 100 ]'
: >"$tmp/invalid"
while IFS= read -r r; do
	printf '%s\n' "$r" | is_valid_create || printf '%s\n' "$r" >>"$tmp/invalid"
done <"$tmp/posts"
check 'each is a valid create request (To, From or MessagingServiceSid, Body)' \
	'[ ! -s "$tmp/invalid" ] || { cat "$tmp/invalid"; exit 1; }'

# --- sms-recv: one acknowledgement for a webhook delivered twice ----------

if [ ! -x "$tools/twilio-sign" ]; then
	for d in 'a webhook delivered twice: acknowledged once' \
	    'five at once: acknowledged once'; do
		skip "$d" "no $tools/twilio-sign"
	done
	done_testing
fi
aib=$tmp/ack
mkdir -p "$aib" && chmod 700 "$aib"
cfg "$aib/config" 'ack_text = Thanks, an agent will answer shortly.'
serve "$tmp/R.out" "$tmp/R.err" sms-recv -d "$aib" ||
	{ fail 'sms-recv starts'; done_testing; }
rpid=$server
hook=http://127.0.0.1:$port/twilio

# inbound NUMBER SID BODY: the form of an inbound message.
inbound() {
	printf 'ToCountry=US&SmsMessageSid=%s&NumMedia=0&SmsSid=%s&SmsStatus=received&Body=%s&To=%%2B15550100000&NumSegments=1&MessageSid=%s&AccountSid=%s&From=%%2B%s&ApiVersion=2010-04-01' \
	    "$2" "$2" "$3" "$2" "$AC" "${1#+}"
}

# post BODY OUT: POST the form BODY to the listener, signed; the answer's
# body in OUT, its status printed.
post() {
	p_sig=$(printf '%s' "$1" | "$tools/twilio-sign" "$hook")
	curl -s -o "$2" -w '%{http_code}' -H "X-Twilio-Signature: $p_sig" \
	    --data-binary "$1" "$hook"
}

# acks NUMBER: how many acknowledgements its thread holds.
acks() {
	cat "$aib/msg/$1"/* | jq -s 'map(select(.direction == "out" and
	    .auto == "ack")) | length'
}

first=$(inbound +15551230071 SMack05600000000000000000000000071 hello)
is 'a first message: 200, acknowledged in TwiML' \
	"$(post "$first" "$tmp/r1") $(grep -c '<Message>Thanks, an agent will answer shortly.</Message>' "$tmp/r1")" \
	'200 1'
is 'the same webhook again (the same MessageSid): 200, no second answer' \
	"$(post "$first" "$tmp/r2") $(grep -c '<Message>' "$tmp/r2")" '200 0'
is 'one acknowledgement in the thread, next to the one message' \
	"$(acks +15551230071) $(ls "$aib/msg/+15551230071" | wc -l | tr -d ' ')" \
	'1 2'
five=$(inbound +15551230072 SMack05600000000000000000000000072 hi)
cpids=
for i in 1 2 3 4 5; do
	{ post "$five" "$tmp/c.$i"; echo; } >"$tmp/c.$i.code" &
	cpids="$cpids $!"
done
wait $cpids
is 'five at once: 200 each' "$(cat "$tmp"/c.?.code | tr '\n' ' ')" \
	'200 200 200 200 200 '
is 'one of them answered with the acknowledgement, once stored' \
	"$(cat "$tmp"/c.? | grep -o '<Message>' | wc -l | tr -d ' ') $(acks +15551230072)" \
	'1 1'
kill "$rpid"

done_testing
