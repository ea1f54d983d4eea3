#!/bin/sh
# sms-sim(1): the carrier simulator speaks Twilio's Messages API.
#
# Simulators and the sms-recv that takes their callbacks bind 127.0.0.1 on
# random free ports and are killed, by PID, on exit. The credentials are
# in the environment, never on a command line other than curl's -u (which
# is what a client of Twilio's API sends). The shapes are checked against
# an extract of Twilio's OpenAPI description (twilio_oas in lib.sh;
# re-derived below from the vendor's file and compared, when that file is
# at hand).
. "$(dirname "$0")/lib.sh"

twilio_env 0400
unset SMSDESK_SIM_URL TWILIO_FROM
ib=$tmp/inbox

# Twilio's OpenAPI description, as far as the Messages API goes, is
# twilio_oas in lib.sh (with is_valid_create); it was made with
# `jq -S -c -f` of the program oas_extract, and is compared below.
oas_extract='.components.schemas as $c
| def res: if .["$ref"] then $c[.["$ref"] | ltrimstr("#/components/schemas/")] else . end;
  def shape: res | {type, format, pattern, enum} | with_entries(select(.value != null));
  .paths["/2010-04-01/Accounts/{AccountSid}/Messages.json"] as $p
| {message: ($c["api.v2010.account.message"].properties | map_values(shape)),
   create: ($p.post.requestBody.content["application/x-www-form-urlencoded"].schema
	| {required, properties: (.properties | map_values(shape))}),
   list: ($p.get.responses["200"].content["application/json"].schema.properties | keys)}'

# is_message < JSON: the object is a message resource: every key of the
# schema and no other, each value null or of its type, pattern, enum and
# date format.
is_message() {
	jq -e --argjson oas "$twilio_oas" '$oas.message as $s
	| (keys == ($s | keys)) and (to_entries | all(.[];
	    . as $e | $s[$e.key] as $t | $e.value == null or (
	    (if $t.type == "string" then ($e.value | type) == "string"
	     elif $t.type == "integer" then ($e.value | type) == "number"
		and ($e.value | floor) == $e.value
	     elif $t.type == "object" then ($e.value | type) == "object"
	     else false end)
	    and (if $t.pattern then ($e.value | test($t.pattern)) else true end)
	    and (if $t.enum then any($t.enum[]; . == $e.value) else true end)
	    and (if $t.format == "date-time-rfc-2822" then ($e.value |
		test("^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-2][0-9]:[0-5][0-9]:[0-6][0-9] \\+0000$"))
	     else true end))))' >/dev/null
}

# start NAME PROGRAM ARG...: start PROGRAM ARG... on a port of 127.0.0.1
# (serve in lib.sh) with stdout in $tmp/NAME.out and stderr in
# $tmp/NAME.err. Sets port and pid.
start() {
	s_name=$1 s_prog=$2
	shift 2
	serve "$tmp/$s_name.out" "$tmp/$s_name.err" "$bin/$s_prog" "$@" ||
	    return
	pid=$server
}

# api METHOD PATH [CURL-ARG...]: a request to the simulator at $sim, with
# the account's credentials unless CURL-ARG has others. Prints the HTTP
# status; the body is in $tmp/resp, the headers in $tmp/resp.h.
api() {
	a_method=$1 a_path=$2
	shift 2
	curl -s -o "$tmp/resp" -D "$tmp/resp.h" -w '%{http_code}' \
	    -X "$a_method" -u "$AC:$TOK" "$@" "$sim$a_path"
}

M=/2010-04-01/Accounts/$AC/Messages

# create TO BODY [CURL-ARG...]: POST Messages.json from our number.
create() {
	c_to=$1 c_body=$2
	shift 2
	api POST "$M.json" --data-urlencode "To=$c_to" \
	    --data-urlencode "From=$US" --data-urlencode "Body=$c_body" "$@"
}

# error: the Twilio error in $tmp/resp as "HTTP CODE", checking its shape.
error() {
	jq -r 'if (keys == ["code","message","more_info","status"]) and
	    (.code | type) == "number" and (.message | type) == "string" and
	    .more_info == "https://www.twilio.com/docs/errors/\(.code)"
	    then "\(.status) \(.code)" else "not a Twilio error: \(.)" end' \
	    "$tmp/resp"
}

# --- The OpenAPI extract is Twilio's -------------------------------------

spec=$top/../shared/vendor-specs/twilio_api_v2010.json
if [ -f "$spec" ]; then
	is 'the OpenAPI extract is what the vendor file says' \
		"$(jq -S -c "$oas_extract" "$spec")" "$twilio_oas"
else
	skip 'the OpenAPI extract is what the vendor file says' \
		"no $spec here"
fi

# --- Usage -----------------------------------------------------------------

check_exit 'a rate of 0: usage error' 2 'sms-sim --rate 0'
for l in 70000 1.2.3:8080 ::1:8080 '[::1:8080' 127.0.0.1: ''; do
	check_exit "--listen '$l': usage error, said so" 2 \
	    "sms-sim --listen '$l' 2>&1 | grep -q 'is not \[ADDR:\]PORT' && exit 2"
done
check_exit 'a share over 100 %: usage error' 2 'sms-sim --errors 101'
check_exit '--fail with an unknown status: usage error' 2 \
	'sms-sim --fail +15551230000:teleported'
check_exit '--optout with no number: usage error' 2 'sms-sim --optout hello'
check_exit 'an argument: usage error' 2 'sms-sim extra'
check_exit 'sms-sim text without BODY: usage error' 2 'sms-sim text +15551230000'
check_exit 'sms-sim text from no number: usage error' 2 'sms-sim text nobody hi'

# --- Without credentials: the simulator's own, said on stderr ---------------

unset TWILIO_ACCOUNT_SID TWILIO_AUTH_TOKEN
start D sms-sim || fail 'a simulator without credentials starts'
dpid=$pid
TWILIO_ACCOUNT_SID=$AC TWILIO_AUTH_TOKEN=$TOK
export TWILIO_ACCOUNT_SID TWILIO_AUTH_TOKEN
check 'it says which account and token it uses' \
	"grep -q 'AC00000000000000000000000000000000' '$tmp/D.err' &&
	 grep -q 'TWILIO_AUTH_TOKEN is not set' '$tmp/D.err'"
is 'and takes them' "$(curl -s -o /dev/null -w '%{http_code}' \
	-u AC00000000000000000000000000000000:sms-sim-token \
	"http://127.0.0.1:$port/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json")" 200
kill "$dpid"

# --- The receiver of webhooks and callbacks, and the simulator -------------

start R sms-recv -d "$ib" || { fail 'sms-recv starts'; done_testing; }
rpid=$pid rport=$port
hook=http://127.0.0.1:$rport/twilio
start S sms-sim --log "$tmp/S.log" --number "$US" --webhook "$hook" \
	--optout +15550000009 --optout '+1 555 000 0019' \
	--fail +15550000008 --fail +15550000018:undelivered:30005 \
	--seed 400 || { fail 'sms-sim starts'; done_testing; }
spid=$pid
sim=http://127.0.0.1:$port
pass 'sms-sim starts'

# --- Create ------------------------------------------------------------

is 'create: 201' "$(create +15551230001 'Your order has shipped')" 201
check 'the answer is a message resource, every key typed as the schema says' \
	"is_message <'$tmp/resp'"
check 'as JSON' "grep -qi '^content-type: application/json' '$tmp/resp.h'"
sid=$(jq -r .sid "$tmp/resp")
check 'sid is SM and 32 hex digits' "printf %s '$sid' | grep -Eq '^SM[0-9a-f]{32}\$'"
is 'queued, outbound-api, from our number, to the recipient' \
	"$(jq -c '[.status, .direction, .from, .to, .body, .account_sid]' "$tmp/resp")" \
	"[\"queued\",\"outbound-api\",\"$US\",\"+15551230001\",\"Your order has shipped\",\"$AC\"]"
is 'num_segments and num_media are strings; price null until sent' \
	"$(jq -c '[.num_segments, .num_media, .price, .error_code, .date_sent]' "$tmp/resp")" \
	'["1","0",null,null,null]'
is 'uri is the relative URI of the message' "$(jq -r .uri "$tmp/resp")" "$M/$sid.json"
check 'date_created is RFC 2822 in GMT' \
	"jq -r .date_created '$tmp/resp' | grep -Eq '^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} \\+0000\$'"
check 'the create request it accepted is valid against the OpenAPI description' \
	"jq -c 'select(.status == 201)' '$tmp/S.log' | tail -n 1 | is_valid_create"
check 'so is one with typed parameters (MediaUrl twice, booleans, integer)' \
	"create +15551230001 'See the pictures' --data-urlencode MediaUrl=https://example.com/a.jpg \
	    --data-urlencode MediaUrl=https://example.com/b.jpg -d ProvideFeedback=true \
	    -d ValidityPeriod=600 -d SmartEncoded=false >/dev/null &&
	 jq -c 'select(.status == 201)' '$tmp/S.log' | tail -n 1 | is_valid_create"
is 'with media: an MM sid and num_media "2"' \
	"$(jq -c '[(.sid | .[0:2]), .num_media, .num_segments]' "$tmp/resp")" '["MM","2","1"]'
is 'a validator that refuses an undeclared parameter' \
	"$(echo '{"params":{"To":"+15551230001","Colour":"red"}}' | is_valid_create; echo $?)" 1
is 'and a boolean that is not one' \
	"$(echo '{"params":{"To":"+15551230001","SendAsMms":"yes"}}' | is_valid_create; echo $?)" 1

# Segments as Twilio bills them.
long=$(printf '%01600d' 0)
is '1,600 GSM-7 characters: 201, 11 segments' \
	"$(create +15551230001 "$long") $(jq -r .num_segments "$tmp/resp")" '201 11'
is '71 UCS-2 characters: 2 segments' \
	"$(create +15551230001 "$(printf '%071d' 0 | sed 's/0/你/g')" >/dev/null; jq -r .num_segments "$tmp/resp")" 2
curly=$(printf 'It\342\200\231s ready %0149d' 0)
is 'a curly apostrophe in 160 characters: UCS-2, 3 segments' \
	"$(create +15551230001 "$curly" >/dev/null; jq -r .num_segments "$tmp/resp")" 3
is 'with SmartEncoded=true: replaced, 1 segment' \
	"$(create +15551230001 "$curly" -d SmartEncoded=true >/dev/null; jq -r '[.num_segments, .body[0:4]] | join(" ")' "$tmp/resp")" "1 It's"

is 'with a MessagingServiceSid and no From: 201, accepted, from our number' \
	"$(api POST "$M.json" --data-urlencode To=+15551230001 -d Body=hi \
	    -d MessagingServiceSid=MG0400aaaaaaaaaaaaaaaaaaaaaaaaaaaa >/dev/null;
	   jq -c '[.status, .from, .messaging_service_sid]' "$tmp/resp")" \
	"[\"accepted\",\"$US\",\"MG0400aaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]"

# --- Every error class -------------------------------------------------

# How many messages the sim holds, from its API (its log lines come after
# the answers, so a count of them may lag).
held() { api GET "$M.json?PageSize=1000" >/dev/null; jq '.messages | length' "$tmp/resp"; }
created=$(held)

is 'no To: 400 21604' "$(api POST "$M.json" -d From=%2B15550100000 -d Body=hi >/dev/null; error)" '400 21604'
is 'a To not in E.164: 400 21211' "$(create 5551230001 hi >/dev/null; error)" '400 21211'
is 'a To with letters: 400 21211' "$(create +1555CALLNOW hi >/dev/null; error)" '400 21211'
is 'neither From nor MessagingServiceSid: 400 21603' \
	"$(api POST "$M.json" -d To=%2B15551230001 -d Body=hi >/dev/null; error)" '400 21603'
is 'no Body and no MediaUrl: 400 21602' \
	"$(api POST "$M.json" -d To=%2B15551230001 -d From=%2B15550100000 >/dev/null; error)" '400 21602'
is 'an empty Body: 400 21602' "$(create +15551230001 '' >/dev/null; error)" '400 21602'
is '1,601 characters: 400 21617' "$(create +15551230001 "${long}0" >/dev/null; error)" '400 21617'
is 'a StatusCallback with an underscore in its host: 400 21609' \
	"$(create +15551230001 hi --data-urlencode StatusCallback=http://my_host/cb >/dev/null; error)" '400 21609'
is 'an opted-out recipient: 400 21610' "$(create +15550000009 hi >/dev/null; error)" '400 21610'
is 'another, given in national spacing: 400 21610' "$(create +15550000019 hi >/dev/null; error)" '400 21610'
is 'the error message' "$(jq -r .message "$tmp/resp")" 'Attempt to send to unsubscribed recipient'
is 'a JSON body has no parameters: 400 21604' \
	"$(api POST "$M.json" -H 'Content-Type: application/json' -d '{"To":"+15551230001"}' >/dev/null; error)" '400 21604'
is 'a bad percent escape: 400' "$(api POST "$M.json" -d 'To=%2G' >/dev/null; error)" '400 20001'
is 'none of them created a message' "$(held)" "$created"

# --- Auth ------------------------------------------------------------------

is 'no credentials: 401 20003' \
	"$(curl -s -o "$tmp/resp" -D "$tmp/resp.h" -w '%{http_code}' "$sim$M.json" >/dev/null; error)" '401 20003'
check 'with a Basic challenge' "grep -qi '^www-authenticate: basic' '$tmp/resp.h'"
is 'a wrong token: 401 20003' "$(create +15551230001 hi -u "$AC:nope" >/dev/null; error)" '401 20003'
is 'another account as user: 401 20003' \
	"$(create +15551230001 hi -u "AC0400bbbbbbbbbbbbbbbbbbbbbbbbbbbb:$TOK" >/dev/null; error)" '401 20003'
is 'an API key SID with the token as secret: 200' \
	"$(api GET "$M.json?PageSize=1" -u "SK0400aaaaaaaaaaaaaaaaaaaaaaaaaaaa:$TOK")" 200
is "another account's path: 404 20404" \
	"$(api POST /2010-04-01/Accounts/AC0400bbbbbbbbbbbbbbbbbbbbbbbbbbbb/Messages.json \
	    -d To=%2B15551230001 -d From=%2B15550100000 -d Body=hi >/dev/null; error)" '404 20404'
is 'an unknown path: 404 20404' "$(api GET /2010-04-01/Accounts/$AC/Calls.json >/dev/null; error)" '404 20404'
is 'a path without .json: 404' "$(api GET "$M" >/dev/null; error)" '404 20404'
is 'another path altogether: 404' "$(api GET /index.html >/dev/null; error)" '404 20404'
is 'PUT: 405 20004' "$(api PUT "$M.json" >/dev/null; error)" '405 20004'

# --- Fetch, redact, delete ---------------------------------------------------

is 'fetch: 200' "$(api GET "$M/$sid.json")" 200
check 'the same message, a message resource' \
	"jq -e '.sid == \"$sid\"' '$tmp/resp' && is_message <'$tmp/resp'"
is 'fetch of an unknown sid: 404 20404' \
	"$(api GET "$M/SM0400ffffffffffffffffffffffffffff.json" >/dev/null; error)" '404 20404'
check 'its status moves on to delivered, priced' \
	"poll \"api GET '$M/$sid.json' >/dev/null && jq -e '.status == \\\"delivered\\\"' '$tmp/resp'\" &&
	 jq -e '.price == \"-0.00790\" and .price_unit == \"USD\" and .date_sent != null' '$tmp/resp'"
create +15551230002 'to be deleted' >/dev/null
gone=$(jq -r .sid "$tmp/resp")
is 'redact (POST Body=): 200 with an empty body' \
	"$(api POST "$M/$gone.json" -d Body= >/dev/null; jq -r '.sid + " [" + .body + "]"' "$tmp/resp")" "$gone []"
is 'delete: 204' "$(api DELETE "$M/$gone.json")" 204
is 'then fetch: 404' "$(api GET "$M/$gone.json")" 404

# --- List and paging -----------------------------------------------------------

L=+15551239000
for i in 1 2 3 4 5 6 7; do create $L "list $i" >/dev/null; done
create +15551239001 'not in the list' >/dev/null
is 'list: 200' "$(api GET "$M.json?To=%2B15551239000")" 200
is 'the envelope has the keys of the schema' "$(jq -c 'keys' "$tmp/resp")" "$(printf %s "$twilio_oas" | jq -c .list)"
is 'newest first, filtered by To' \
	"$(jq -c '[.messages[].body]' "$tmp/resp")" \
	'["list 7","list 6","list 5","list 4","list 3","list 2","list 1"]'
check 'each a message resource' "jq -c '.messages[]' '$tmp/resp' | while read -r m; do printf '%s' \"\$m\" | is_message || exit 1; done"
is 'PageSize defaults to 50; one page: next_page_uri null' \
	"$(jq -c '[.page_size, .page, .start, .end, .next_page_uri, .previous_page_uri]' "$tmp/resp")" \
	'[50,0,0,6,null,null]'
# Follow next_page_uri verbatim, as a client must.
next="$M.json?To=%2B15551239000&PageSize=3"
: >"$tmp/pages"
n=0
while [ "$next" != null ] && [ "$n" -lt 10 ]; do
	api GET "$next" >/dev/null
	jq -c '[.page, .start, .end, [.messages[].body], (.next_page_uri // "" | startswith("/2010-04-01/"))]' "$tmp/resp" >>"$tmp/pages"
	prev=$(jq -r .previous_page_uri "$tmp/resp")
	next=$(jq -r .next_page_uri "$tmp/resp")
	n=$((n + 1))
done
is 'PageSize=3: three pages by next_page_uri (relative), then null' "$(cat "$tmp/pages")" \
'[0,0,2,["list 7","list 6","list 5"],true]
[1,3,5,["list 4","list 3","list 2"],true]
[2,6,6,["list 1"],false]'
is 'previous_page_uri of the last page leads back to the middle one' \
	"$(api GET "$prev" >/dev/null; jq -c '[.page, [.messages[].body]]' "$tmp/resp")" \
	'[1,["list 4","list 3","list 2"]]'
is 'a page token keeps its filters' \
	"$(jq -r .uri "$tmp/resp" | grep -c '^/2010-04-01/.*To=%2B15551239000&PageSize=3&Page=1&PageToken=PB')" 1
today=$(date -u +%Y-%m-%d)
yesterday=$(date -u -d yesterday +%Y-%m-%d 2>/dev/null || echo 2000-01-01)
tomorrow=$(date -u -d tomorrow +%Y-%m-%d 2>/dev/null || echo 2999-01-01)
count() { api GET "$M.json?$1" >/dev/null; jq '.messages | length' "$tmp/resp"; }
is 'DateSent=today' "$(count "To=%2B15551239000&DateSent=$today")" 7
is 'DateSent%3E=today (on or after)' "$(count "To=%2B15551239000&DateSent%3E=$today")" 7
is 'DateSent%3C=today (on or before)' "$(count "To=%2B15551239000&DateSent%3C=$today")" 7
is 'DateSent%3C=yesterday' "$(count "To=%2B15551239000&DateSent%3C=$yesterday")" 0
is 'DateSent%3E=tomorrow' "$(count "To=%2B15551239000&DateSent%3E=$tomorrow")" 0
is 'the URI keeps DateSent> encoded' \
	"$(count "DateSent%3E=$today&To=%2B15551239000" >/dev/null; jq -r .uri "$tmp/resp")" \
	"$M.json?To=%2B15551239000&DateSent%3E=$today&PageSize=50&Page=0"
is 'From filters too' "$(count "From=%2B15550100001")" 0
is 'PageSize=1000 is fine' "$(api GET "$M.json?PageSize=1000")" 200
is 'PageSize=1001: 400' "$(api GET "$M.json?PageSize=1001")" 400
is 'PageSize=0: 400' "$(api GET "$M.json?PageSize=0")" 400
is 'a made-up PageToken: 400' "$(api GET "$M.json?PageToken=PAnothing")" 400
is 'a bad date: 400' "$(api GET "$M.json?DateSent=yesterday")" 400

# --- Status callbacks, signed, in order --------------------------------------

create +15551230003 'Where are you?' --data-urlencode "StatusCallback=$hook" >/dev/null
cb=$(jq -r .sid "$tmp/resp")
check 'sms-recv gets the callbacks (its signature check passes) and parks the last' \
	"poll \"jq -e '.status == \\\"delivered\\\"' '$ib/status/twilio-$cb'\""
# Each program logs a callback once it is answered, which may be after
# sms-recv stored it: the logs are waited for, not assumed.
poll "grep -q 'POST /twilio 200 [0-9.]*ms delivered $cb' '$tmp/R.err'"
is 'sent, then delivered, each answered 200' \
	"$(grep -o "POST /twilio 200 [0-9.]*ms [a-z]* $cb" "$tmp/R.err" | awk '{print $5}' | tr '\n' ' ')" \
	'sent delivered '
is 'no callback was refused' "$(grep -c 'POST /twilio 403' "$tmp/R.err")" 0
check 'the simulator logged each one' \
	"poll \"grep -q 'callback $cb sent -> $hook: 200' '$tmp/S.err' &&
	 grep -q 'callback $cb delivered -> $hook: 200' '$tmp/S.err'\""
create +15550000008 'You will not get this' --data-urlencode "StatusCallback=$hook" >/dev/null
fl=$(jq -r .sid "$tmp/resp")
check 'a --fail number: failed with ErrorCode 30003' \
	"poll \"jq -e '.status == \\\"failed\\\" and .error_code == \\\"30003\\\"' '$ib/status/twilio-$fl'\""
poll "grep -q 'callback $fl failed' '$tmp/S.err'"
is 'never sent: one callback' "$(grep -c "callback $fl" "$tmp/S.err")" 1
is 'fetch says failed, with the error' \
	"$(api GET "$M/$fl.json" >/dev/null; jq -c '[.status, .error_code, .error_message]' "$tmp/resp")" \
	'["failed",30003,"Unreachable destination handset"]'
create +15550000018 'Nor this' --data-urlencode "StatusCallback=$hook" >/dev/null
ud=$(jq -r .sid "$tmp/resp")
check 'NUMBER:undelivered:CODE: sent, then undelivered with that code' \
	"poll \"jq -e '.status == \\\"undelivered\\\" and .error_code == \\\"30005\\\"' '$ib/status/twilio-$ud'\" &&
	 grep -q \"callback $ud sent\" '$tmp/S.err'"

# --- Customers text in ---------------------------------------------------------

is 'POST /sim/text: the webhook answered 200' \
	"$(curl -s -o "$tmp/resp" -w '%{http_code}' --data-urlencode From=+15551230004 \
	    --data-urlencode 'Body=Is my order on its way?' "$sim/sim/text")" 200
check 'and sms-recv stored it, as Twilio sent it' \
	"jq -e '.direction == \"in\" and .body == \"Is my order on its way?\" and .to == \"$US\"' '$ib'/msg/+15551230004/*"
is 'the answer is the inbound message resource' \
	"$(jq -c '[.direction, .status, .from, .to]' "$tmp/resp")" "[\"inbound\",\"received\",\"+15551230004\",\"$US\"]"
is 'with the same sid' "$(jq -r '.provider_id' "$ib"/msg/+15551230004/*)" "$(jq -r .sid "$tmp/resp")"
check 'sms-sim text: exit 0, printing the message' \
	"sms-sim text --url '$sim' '+1 555 123 0005' 'Hello from the shell' >'$tmp/text.out' &&
	 jq -e '.direction == \"inbound\" and .from == \"+15551230005\"' '$tmp/text.out'"
check 'stored by sms-recv' "jq -e '.body == \"Hello from the shell\"' '$ib'/msg/+15551230005/*"
check 'SMSDESK_SIM_URL names the simulator' \
	"SMSDESK_SIM_URL='$sim/' sms-sim text +15551230006 'STOP' >/dev/null &&
	 test -n \"\$(ls '$ib/consent/+15551230006')\""
is 'the inbound messages are in the list too' \
	"$(count "From=%2B15551230005" >/dev/null; jq -r '.messages[0].direction' "$tmp/resp")" inbound
check_exit 'sms-sim text to no simulator: exit 75' 75 \
	"sms-sim text --url http://127.0.0.1:1 +15551230007 hi"
is 'POST /sim/text from no number: 400' \
	"$(curl -s -o "$tmp/resp" -w '%{http_code}' -d From=nobody -d Body=hi "$sim/sim/text")" 400

# --- Keywords: Twilio's default opt-out --------------------------------------

UNSUB='You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe.'
RESUB='You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe.'
# replies TO: the sim's messages to TO, newest first, as [direction, from,
# body] a line.
replies() {
	count "To=$(printf %s "$1" | sed 's/+/%2B/')" >/dev/null &&
	    jq -c '.messages[] | [.direction, .from, .body]' "$tmp/resp"
}
hooks() { grep -c "webhook SM[0-9a-f]* from " "$tmp/S.err"; }
K=+15551230020
nhooks=$(hooks)
check 'a customer texts STOP: exit 0' "sms-sim text --url '$sim' $K STOP >/dev/null"
check 'the webhook gets it: sms-recv stores it as the keyword STOP' \
	"jq -e '.body == \"STOP\" and .keyword == \"STOP\"' '$ib'/msg/$K/*"
is 'and records the opt-out' \
	"$(cat "$ib/consent/$K"/* | jq -c '[.state, .keyword]')" '["out","STOP"]'
is 'the sim sends one confirmation, from our number, outbound-reply' \
	"$(replies $K)" "[\"outbound-reply\",\"$US\",\"$UNSUB\"]"
check 'which is delivered' \
	"poll \"count 'To=%2B15551230020' >/dev/null && jq -e '.messages[0].status == \\\"delivered\\\"' '$tmp/resp'\""
is 'and is not posted to the webhook: one post, the STOP' "$(hooks)" $((nhooks + 1))
is 'nor stored by sms-recv' "$(ls "$ib/msg/$K" | wc -l | tr -d ' ')" 1
check 'the confirmation is said on stderr' \
	"grep -q 'STOP confirmation SM[0-9a-f]* to $K' '$tmp/S.err'"
is 'a create to the customer from our number: 400 21610' \
	"$(create $K 'Our sale starts today' >/dev/null; error)" '400 21610'
is 'with a MessagingServiceSid and no From, from our number: 400 21610' \
	"$(api POST "$M.json" --data-urlencode To=$K -d Body=hi \
	    -d MessagingServiceSid=MG0400aaaaaaaaaaaaaaaaaaaaaaaaaaaa >/dev/null; error)" '400 21610'
is 'from another number of ours: 201 (the opt-out is per sender)' \
	"$(api POST "$M.json" --data-urlencode To=$K --data-urlencode From=+15550100001 -d Body=hi)" 201
check 'the customer texts START: exit 0' "sms-sim text --url '$sim' $K START >/dev/null"
is 'sms-recv records the opt-in' \
	"$(cat "$ib/consent/$K"/* | jq -sc 'map(.state) | sort')" '["in","out"]'
is 'the sim confirms it: the newest message to the customer' \
	"$(replies $K | sed -n 1p)" "[\"outbound-reply\",\"$US\",\"$RESUB\"]"
is 'a create from our number works again: 201' "$(create $K 'Welcome back')" 201
is 'a stop with white space and in lower case is one too' \
	"$(sms-sim text --url "$sim" +15551230021 '  quit ' >/dev/null; create +15551230021 hi >/dev/null; error)" '400 21610'
is '"stop please" is no keyword: no confirmation' \
	"$(sms-sim text --url "$sim" +15551230022 'stop please' >/dev/null; replies +15551230022)" ''
is 'and a create to that customer: 201' "$(create +15551230022 'Sorry to hear')" 201
is 'an --optout number that texts START: confirmed' \
	"$(sms-sim text --url "$sim" +15550000009 start >/dev/null; replies +15550000009)" \
	"[\"outbound-reply\",\"$US\",\"$RESUB\"]"
is 'and a create to it works: 201' "$(create +15550000009 'Hello again')" 201

# --- The log ---------------------------------------------------------------

# (Both are written once a request is answered: waited for, not assumed.)
logs_agree() {
	[ "$(grep -c '^sms-sim: 127.0.0.1 ' "$tmp/S.err")" -eq \
	    "$(jq -c 'select(.type == "request")' "$tmp/S.log" | wc -l)" ]
}
check 'one NDJSON record per request, as many as the log lines on stderr' \
	'poll logs_agree'
is 'a refusal: method, path, auth, status, code' \
	"$(jq -c 'select(.status == 401) | [.method, .path, .auth, .code]' "$tmp/S.log" | sed -n 2p)" \
	"[\"POST\",\"$M.json\",false,20003]"
is 'a create: its form parameters, decoded, and the sid' \
	"$(jq -c "select(.sid == \"$cb\") | [.params.To, .params.Body, .params.StatusCallback, .status, .auth]" "$tmp/S.log")" \
	"[\"+15551230003\",\"Where are you?\",\"$hook\",201,true]"
is 'repeated parameters as an array' \
	"$(jq -c 'select(.params.MediaUrl) | .params.MediaUrl | length' "$tmp/S.log")" 2
is 'a list: its query as sent' \
	"$(jq -r 'select(.query | startswith("DateSent%3E")) | .query' "$tmp/S.log")" \
	"DateSent%3E=$today&To=%2B15551239000"
check 'a simulated text' "jq -s -e 'any(.[]; .path == \"/sim/text\" and .auth == null and .status == 200)' '$tmp/S.log'"
is 'no record holds the token' "$(grep -c "$TOK" "$tmp/S.log")" 0
is 'nor does stderr' "$(grep -c "$TOK" "$tmp/S.err")" 0

kill "$spid"
wait "$spid"
is 'SIGTERM: the simulator exits 0' "$?" 0
check 'saying so' "grep -q 'SIGTERM: finishing' '$tmp/S.err'"

# --- Faults on demand ------------------------------------------------------

# One create every 100 s: the four after the first come within that on any
# machine, however busy. Then a simulator that takes one every 0.5 s takes
# another once that time has passed (a busy machine only waits longer).
start F1 sms-sim --rate 0.01 || fail 'sms-sim --rate starts'
sim=http://127.0.0.1:$port
codes=
for i in 1 2 3 4 5; do codes="$codes$(create +15551230010 "rate $i") "; done
is '--rate 0.01: one create, then 429' "$codes" '201 429 429 429 429 '
is 'the 429 is Twilio error 20429' "$(error)" '429 20429'
is 'reads are not limited' "$(api GET "$M.json")" 200
kill "$pid"
start F1b sms-sim --rate 2 || fail 'sms-sim --rate 2 starts'
sim=http://127.0.0.1:$port
is '--rate 2: a create' "$(create +15551230010 first)" 201
sleep 0.6
is 'and 0.5 s later, another' "$(create +15551230010 later)" 201
kill "$pid"

start F2 sms-sim --errors 100 --seed 7 || fail 'sms-sim --errors starts'
sim=http://127.0.0.1:$port
codes=
for i in 1 2 3 4 5 6; do
	create +15551230011 "err $i" >/dev/null
	codes="$codes$(error | cut -c1) "
done
is '--errors 100: every create gets 5xx' "$codes" '5 5 5 5 5 5 '
check 'a Twilio error body, 500 20500 or 503 20503' "error | grep -Eq '^(500 20500|503 20503)\$'"
is 'and nothing was created' "$(count 'To=%2B15551230011')" 0
kill "$pid"

start F3 sms-sim --drop 100 || fail 'sms-sim --drop starts'
sim=http://127.0.0.1:$port
create +15551230012 'did it go?' >/dev/null
is '--drop 100: the connection closes with no answer (curl exit 52)' "$?" 52
is 'yet the message was created, as a later list shows' \
	"$(count 'To=%2B15551230012' >/dev/null; jq -r '.messages[0].body' "$tmp/resp")" 'did it go?'
kill "$pid"

# /sim/text is no API: a text goes in while an API request waits out a
# latency of 60 s (the check holds on a machine however busy, short of
# a minute's stall).
start F4a sms-sim --latency 60000 || fail 'sms-sim --latency 60000 starts'
sim=http://127.0.0.1:$port
curl -s -o /dev/null -u "$AC:$TOK" "$sim$M.json" &
slowapi=$!
pids="$pids $slowapi"
curl -s -o /dev/null --data-urlencode From=+15551230013 -d Body=x \
    "$sim/sim/text"
check 'and /sim/text is no API: not delayed' "kill -0 $slowapi"
kill "$slowapi" "$pid" 2>/dev/null
start F4 sms-sim --latency 300 || fail 'sms-sim --latency starts'
sim=http://127.0.0.1:$port
is '--latency 300: an answer takes 300 ms or more' \
	"$(curl -s -o /dev/null -w '%{time_total}' -u "$AC:$TOK" "$sim$M.json" | awk '{ print ($1 >= 0.3) }')" 1
check_exit 'sms-sim text to a simulator with no webhook: exit 75' 75 \
	"sms-sim text --url '$sim' +15551230013 hi"
kill "$pid"

# --- Scripted replies: --reply, and TwiML ------------------------------------

start F5 sms-sim --webhook "$hook" --reply 'Thanks!' || fail 'sms-sim --reply starts'
sim=http://127.0.0.1:$port
create +15551230014 'Your parcel is here' >/dev/null
check '--reply: the recipient of a delivered message texts back' \
	"poll \"jq -e '.body == \\\"Thanks!\\\"' '$ib'/msg/+15551230014/*\""
is 'once' "$(ls "$ib/msg/+15551230014" | wc -l | tr -d ' ')" 1
kill "$pid"

# A webhook that answers TwiML with a <Message>, once, on a port the
# kernel picks (it says which on stderr).
twiml() {
	perl -MIO::Socket::INET -e '
	    my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
		LocalPort => 0, Listen => 5) or exit 1;
	    print STDERR "listening on ", $s->sockport, "\n";
	    my $c = $s->accept or exit 1;
	    my ($len, $line) = (0, "");
	    while (defined($line = <$c>) && $line ne "\r\n") {
		$len = $1 if $line =~ /^content-length:\s*(\d+)/i;
	    }
	    read($c, my $body, $len);
	    my $x = q{<?xml version="1.0" encoding="UTF-8"?><Response><Message>Got it &amp; thanks &#x1F600;<Media>https://example.com/a.png</Media></Message></Response>};
	    print $c "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: "
		. length($x) . "\r\nConnection: close\r\n\r\n$x";
	    close $c;'
}
twiml 2>"$tmp/twiml.err" &
pids="$pids $!"
poll "grep -qs listening '$tmp/twiml.err'" || fail 'the TwiML webhook starts'
tport=$(sed -n 's/^listening on //p' "$tmp/twiml.err")
start F6 sms-sim --webhook "http://127.0.0.1:$tport/sms" || fail 'sms-sim for TwiML starts'
sim=http://127.0.0.1:$port
check 'a customer texts; the webhook answers TwiML' \
	"sms-sim text --url '$sim' +15551230015 HELP >/dev/null"
is 'its <Message> is sent back to the customer as outbound-reply' \
	"$(count 'To=%2B15551230015' >/dev/null; jq -c '.messages[] | [.direction, .from, .body]' "$tmp/resp")" \
	"[\"outbound-reply\",\"$US\",\"Got it & thanks 😀\"]"
check 'and is delivered' \
	"poll \"count 'To=%2B15551230015' >/dev/null && jq -e '.messages[0].status == \\\"delivered\\\"' '$tmp/resp'\""
kill "$pid"

# capture FILE: a webhook that keeps the body of every post in FILE, a
# line each, and answers empty TwiML, on a port the kernel picks (it
# says which on stderr). exec: $! is the server's own PID, for the exit
# trap.
capture() {
	exec perl -MIO::Socket::INET -e '
	    my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
		LocalPort => 0, Listen => 5) or exit 1;
	    print STDERR "listening on ", $s->sockport, "\n";
	    while (my $c = $s->accept) {
		my ($len, $line) = (0, "");
		while (defined($line = <$c>) && $line ne "\r\n") {
		    $len = $1 if $line =~ /^content-length:\s*(\d+)/i;
		}
		read($c, my $body, $len);
		open(my $f, ">>", $ARGV[0]) or exit 1;
		print $f "$body\n";
		close $f;
		my $x = q{<?xml version="1.0" encoding="UTF-8"?><Response/>};
		print $c "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
		    . "Content-Length: " . length($x)
		    . "\r\nConnection: close\r\n\r\n$x";
		close $c;
	    }' "$1"
}
capture "$tmp/posts" 2>"$tmp/capture.err" &
pids="$pids $!"
poll "grep -qs listening '$tmp/capture.err'" ||
	fail 'the capturing webhook starts'
cport=$(sed -n 's/^listening on //p' "$tmp/capture.err")
start F7 sms-sim --webhook "http://127.0.0.1:$cport/sms" || fail 'sms-sim for OptOutType starts'
sim=http://127.0.0.1:$port
for b in Stop 'stop please' unstop hello; do
	sms-sim text --url "$sim" +15551230023 "$b" >/dev/null
done
is 'the webhook gets OptOutType=STOP and START with the keywords, none else' \
	"$(sed 's/.*OptOutType=\([A-Z]*\).*/\1/; t; s/.*/none/' "$tmp/posts" | tr '\n' ' ')" \
	'STOP none START none '
is 'the confirmations are not posted to it' "$(grep -c 'successfully' "$tmp/posts")" 0
kill "$pid"

kill "$rpid"
wait "$rpid"
is 'sms-recv stops cleanly too' "$?" 0

done_testing
