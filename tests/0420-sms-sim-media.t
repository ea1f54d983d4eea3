#!/bin/sh
# sms-sim(1) and pictures (issues 17 and 19), for each carrier the sim
# plays that carries them ($PROVIDERS, by default twilio telnyx plivo).
#
# Twilio: a customer's MMS comes in with its media served at Twilio's URLs
# (Basic auth, then a redirect to a CDN path that wants none); a create's
# MediaUrl is fetched as Twilio fetches it, and a fetch that fails fails
# the message with Twilio's code. The faults (--media-fail) are what other
# tests use to make a fetch of theirs fail.
#
# Twilio's WhatsApp (issue 22): a create to whatsapp:+E164 has its
# MediaUrl fetched by WhatsApp's rules instead: one a message (21623),
# images up to 5 MB and the rest up to 16 MB (11751 over), WhatsApp's
# types only (63021 for a GIF); a customer's WhatsApp text carries one.
#
# Telnyx: a customer's MMS is message.received with payload.media (url,
# content_type, sha256, size), at URLs that want no credentials; a
# create's media_urls are fetched by Telnyx's rules (10, less than 1 MB in
# all, its types), an MMS one part at the MMS price.
#
# Plivo: a customer's MMS is Type=mms with Body, MediaCount and
# Media1..N, at Plivo's own URLs behind the account's Basic auth; a
# create's media_urls go with type mms only and are fetched by Plivo's
# rules (10, 5 MB in all, its types, a Content-Length), failing with
# Plivo's codes 120, 130 and 140; an MMS is one unit at the MMS rate.
#
# Everything talks to 127.0.0.1 only. The webhook is tests/tools/catch,
# which keeps each body posted to it, one a line; the pictures the
# creates fetch are the Twilio sim's own, at their /cdn/ URLs.
. "$(dirname "$0")/lib.sh"

twilio_env 0420
unset SMSDESK_SIM_URL
PROVIDERS=" ${PROVIDERS:-twilio telnyx plivo} "

# A picture of each kind: a PNG's and a vCard's first bytes, a PDF over
# Twilio's 500 KB for types other than JPEG, PNG and GIF, and one under.
printf '\211PNG\r\n\032\n\000\000\000\rIHDRpicture' >"$tmp/pic.png"
printf 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ana\r\nEND:VCARD\r\n' \
	>"$tmp/ana.vcf"
{ printf '%%PDF-1.4\n'; head -c 600000 /dev/zero; } >"$tmp/big.pdf"
{ printf '%%PDF-1.4\n'; head -c 400000 /dev/zero; } >"$tmp/small.pdf"
printf 'GIF89a' >"$tmp/tiny.gif"

# --- Usage -------------------------------------------------------------

check_exit '--media-fail of no such fault: usage error' 2 \
	'sms-sim --media-fail sometimes'
check_exit '--media-max 0: usage error' 2 'sms-sim --media-max 0'
check_exit '--media-timeout 0: usage error' 2 'sms-sim --media-timeout 0'
check_exit 'text --media-type before any --media: usage error' 2 \
	'sms-sim text --media-type image/png +15551230000 hi'
check_exit 'text --media-fail of no such fault: usage error' 2 \
	"sms-sim text --media '$tmp/pic.png' --media-fail often +15551230000 hi"
check_exit 'text --media-type that is no type: usage error' 2 \
	"sms-sim text --media '$tmp/pic.png' --media-type png +15551230000 hi"

# --- The webhook and the simulator --------------------------------------

serve "$tmp/W.out" "$tmp/W.err" "$tools/catch" "$tmp/hook" ||
	{ fail 'the webhook catcher starts'; done_testing; }
hook=http://127.0.0.1:$port/twilio
serve "$tmp/S.out" "$tmp/S.err" "$bin/sms-sim" --log "$tmp/S.log" \
	--number "$US" --webhook "$hook" --media-timeout 1500 ||
	{ fail 'sms-sim starts'; done_testing; }
sim=http://127.0.0.1:$port
M=$sim/2010-04-01/Accounts/$AC/Messages
pass 'sms-sim starts'

check_exit 'text --media of a file that is not there: data error, said' 65 \
	"sms-sim text --url '$sim' --media '$tmp/none.png' +15551230000 hi \
	 2>&1 >/dev/null | grep -q 'none.png' && exit 65"

# hook N NAME: the value of NAME in the Nth body the webhook got (1 the
# first), form-decoded.
hook() {
	sed -n "${1}p" "$tmp/hook" | tr '&' '\n' | sed -n "s/^$2=//p" |
	    perl -pe 's/\+/ /g; s/%([0-9A-Fa-f]{2})/chr hex $1/ge; chomp'
}

# get URL [CURL-ARG...]: GET URL; prints the status, the body in
# $tmp/body, the headers in $tmp/head.
get() {
	g_url=$1
	shift
	curl -s -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' "$@" "$g_url"
}

# location: the Location of the last get, made absolute.
location() {
	sed -n 's/^[Ll]ocation: *\([^[:space:]]*\).*/\1/p' "$tmp/head" |
	    sed "s|^/|$sim/|"
}

# upload FILE [TEXT-ARG...]: a customer's picture, its /cdn/ URL printed.
upload() {
	up_n=$(($(wc -l <"$tmp/hook") + 1))
	sms-sim text --url "$sim" --media "$@" +15551239999 pic \
	    >/dev/null 2>&1 || return
	get "$(hook "$up_n" MediaUrl0)" -u "$AC:$TOK" >/dev/null
	location
}

# --- Twilio ----------------------------------------------------------------

# The Twilio sim runs for every carrier: the others' creates fetch its
# customers' pictures, at their /cdn/ URLs.
case $PROVIDERS in *" twilio "*) twilio=1 ;; *) twilio= ;; esac

twilio_part() {
	tap_prefix='twilio: '
	# --- A customer's MMS ---------------------------------------------

	sms-sim text --url "$sim" --media "$tmp/pic.png" --media "$tmp/ana.vcf" \
		+15551230001 'Here is the damage' >"$tmp/text.json" 2>"$tmp/text.err"
	is 'text with two --media: exit 0' "$?" 0
	mm=$(jq -r .sid "$tmp/text.json")
	check 'the message is an MM..., inbound, with two media' \
		"jq -e '(.sid | test(\"^MM[0-9a-f]{32}\$\")) and
		    .direction == \"inbound\" and .num_media == \"2\"' '$tmp/text.json'"
	is 'the webhook has NumMedia 2' "$(hook 1 NumMedia)" 2
	is 'and each type in order' "$(hook 1 MediaContentType0) $(hook 1 MediaContentType1)" \
		'image/png text/vcard'
	u0=$(hook 1 MediaUrl0) u1=$(hook 1 MediaUrl1)
	check 'each MediaUrl is Twilio'"'"'s: .../Messages/MM.../Media/ME...' \
		"printf '%s\n%s\n' '$u0' '$u1' | grep -Ec \
		 '^$M/$mm/Media/ME[0-9a-f]{32}\$' | grep -qx 2"
	is 'the body and the SID are the webhook'"'"'s too' \
		"$(hook 1 Body) $(hook 1 MessageSid)" "Here is the damage $mm"

	is 'a MediaUrl without credentials: 401' "$(get "$u0")" 401
	check 'asking for Basic auth' "grep -qi '^www-authenticate: Basic' '$tmp/head'"
	is 'with the wrong token: 401' "$(get "$u0" -u "$AC:wrong")" 401
	is 'with the credentials: a redirect' "$(get "$u0" -u "$AC:$TOK")" 302
	cdn=$(location)
	check 'to a /cdn/ path of 64 hex digits' \
		"printf %s '$cdn' | grep -Eq '^$sim/cdn/[0-9a-f]{64}\$'"
	is 'which answers without credentials' "$(get "$cdn")" 200
	check 'the bytes sent' "cmp -s '$tmp/body' '$tmp/pic.png'"
	check 'as the type said' "grep -qi '^content-type: image/png' '$tmp/head'"
	is 'followed with the credentials (curl -L): 200' \
		"$(get "$u1" -L -u "$AC:$TOK")" 200
	check 'the vCard' "cmp -s '$tmp/body' '$tmp/ana.vcf'"
	is 'another path under /cdn/: 404' "$(get "$sim/cdn/$(printf %064d 0)")" 404

	# The Media resource, as Twilio's OpenAPI has it.
	media_keys='["account_sid","content_type","date_created","date_updated","parent_sid","sid","uri"]'
	spec=$top/../shared/vendor-specs/twilio_api_v2010.json
	if [ -f "$spec" ]; then
		is 'the Media resource'"'"'s keys are the vendor file'"'"'s' \
			"$(jq -c '.components.schemas["api.v2010.account.message.media"]
			    .properties | keys' "$spec")" "$media_keys"
	else
		skip 'the Media resource'"'"'s keys are the vendor file'"'"'s' \
			"no $spec here"
	fi
	is 'MediaUrl0.json: 200' "$(get "$u0.json" -u "$AC:$TOK")" 200
	check 'the Media resource: its keys, ME..., its message, its type' \
		"jq -e --argjson k '$media_keys' --arg mm '$mm' --arg u '$u0' '
		    (keys == \$k) and (.sid | test(\"^ME[0-9a-f]{32}\$\")) and
		    .parent_sid == \$mm and .content_type == \"image/png\" and
		    (.uri as \$r | \$u | endswith(\$r | rtrimstr(\".json\")))' '$tmp/body'"
	is 'Media.json lists both, in order' \
		"$(get "$M/$mm/Media.json" -u "$AC:$TOK")$(jq -r \
		    '[.media_list[].content_type] | join(" ")' "$tmp/body")" \
		'200image/png text/vcard'
	is 'the media of no such message: 404' \
		"$(get "$M/MM$(printf %032d 0)/Media.json" -u "$AC:$TOK")" 404
	other=$(printf %s "$u0" | sed 's|/Media/ME.*|/Media/ME00000000000000000000000000000000|')
	is 'no such media: 404' "$(get "$other" -u "$AC:$TOK")" 404

	# --media-type: what the phone said, not what the bytes are.
	sms-sim text --url "$sim" --media "$tmp/pic.png" --media-type image/jpeg \
		+15551230001 '' >/dev/null 2>&1
	is 'a --media-type is the webhook'"'"'s type' "$(hook 2 MediaContentType0)" \
		image/jpeg
	is 'and the CDN'"'"'s' "$(get "$(hook 2 MediaUrl0)" -L -u "$AC:$TOK") $(
		sed -n 's/^[Cc]ontent-[Tt]ype: *\([^[:space:];]*\).*/\1/p' \
		"$tmp/head" | tail -n 1)" '200 image/jpeg'
	is 'an MMS with no text: Body empty' "$(hook 2 Body)" ''

	# /sim/media and /sim/text by hand: a picture goes with one text only.
	me=$(curl -s -H 'Content-Type: image/png' --data-binary @"$tmp/pic.png" \
		"$sim/sim/media" | jq -r .sid)
	check 'an upload is answered with its ME... SID' \
		"printf %s '$me' | grep -Eq '^ME[0-9a-f]{32}\$'"
	simtext() {
		curl -s -o "$tmp/body" -w '%{http_code}' --data-urlencode \
		    From=+15551230001 --data-urlencode Body=x "$@" "$sim/sim/text"
	}
	is 'the same MediaSid twice in a text: 400' \
		"$(simtext -d "MediaSid=$me" -d "MediaSid=$me")" 400
	is 'a MediaSid never uploaded: 400' \
		"$(simtext -d MediaSid=ME00000000000000000000000000000000)" 400
	is 'a MediaSid once: 200' "$(simtext -d "MediaSid=$me")" 200
	is 'the same again, in another text: 400' \
		"$(simtext -d "MediaSid=$me")" 400

	# --- Faults, for the tests of whoever fetches -----------------------------

	fn=$(($(wc -l <"$tmp/hook") + 1))
	sms-sim text --url "$sim" --media "$tmp/pic.png" --media-fail 404 \
		--media "$tmp/pic.png" --media-fail large \
		--media "$tmp/pic.png" --media-fail timeout \
		--media "$tmp/pic.png" +15551230002 'faults' >/dev/null 2>&1
	is '--media-fail 404: the CDN answers 404' \
		"$(get "$(hook $fn MediaUrl0)" -L -u "$AC:$TOK")" 404
	is '--media-fail large: more than 5 MiB' \
		"$(curl -s -L -o /dev/null -w '%{http_code} %{size_download}' \
		    -u "$AC:$TOK" "$(hook $fn MediaUrl1)")" '200 8388608'
	curl -s -L -o /dev/null -m 2 -u "$AC:$TOK" "$(hook $fn MediaUrl2)"
	is '--media-fail timeout: the body never comes (curl: 28, timed out)' \
		"$?" 28
	is 'a piece without a fault is served' \
		"$(get "$(hook $fn MediaUrl3)" -L -u "$AC:$TOK")" 200

	# --- MediaUrl on a create ---------------------------------------------------

	# create URL...: POST Messages.json with these MediaUrl, the catcher its
	# StatusCallback; prints the HTTP status, the answer in $tmp/resp.
	create() {
		c_args=
		for c_u; do
			c_args="$c_args --data-urlencode MediaUrl=$c_u"
		done
		# shellcheck disable=SC2086
		curl -s -o "$tmp/resp" -w '%{http_code}' -u "$AC:$TOK" \
		    --data-urlencode "To=${wa-}+15551230003" \
		    --data-urlencode "From=${wa-}$US" \
		    --data-urlencode "StatusCallback=$hook" $c_args "$M.json"
	}

	# final SID: poll until the message SID is delivered (or read, as a
	# WhatsApp message goes on to be) or failed; print its status and
	# error code, read said as delivered.
	final() {
		poll "get '$M/$1.json' -u '$AC:$TOK' >/dev/null &&
		    jq -e '.status == \"delivered\" or .status == \"read\" or
		    .status == \"failed\"' \
		    '$tmp/body' >/dev/null" || { echo 'never final'; return; }
		jq -r '"\(.status | sub("^read$"; "delivered")) \(.error_code)"' \
		    "$tmp/body"
	}

	# logged SID: the media outcomes the --log record of its create has.
	logged() {
		jq -c --arg sid "$1" 'select(.sid == $sid and .method == "POST")
		    | .media | map({http, content_type, size, code})' "$tmp/S.log"
	}

	png=$(upload "$tmp/pic.png")
	is 'a create with the MediaUrl of a PNG: 201' "$(create "$png")" 201
	out=$(jq -r .sid "$tmp/resp")
	check 'an MM..., queued, num_media 1, no text needed' \
		"jq -e '(.sid | test(\"^MM\")) and .status == \"queued\" and
		    .num_media == \"1\" and .body == \"\"' '$tmp/resp'"
	is 'it is delivered' "$(final "$out")" 'delivered null'
	is 'the log has the fetch: 200, its type and size' "$(logged "$out")" \
		"[{\"http\":200,\"content_type\":\"image/png\",\"size\":$(wc -c \
		<"$tmp/pic.png" | tr -d ' '),\"code\":null}]"
	is 'the sim keeps it as the message'"'"'s Media' \
		"$(get "$M/$out/Media.json" -u "$AC:$TOK")$(jq -r \
		    '.media_list | map(.content_type) | join(" ")' "$tmp/body")" \
		'200image/png'
	is 'with the same bytes' "$(get "$M/$out/Media/$(jq -r \
		'.media_list[0].sid' "$tmp/body")" -L -u "$AC:$TOK")$(cmp -s \
		"$tmp/body" "$tmp/pic.png" && echo ' same')" '200 same'

	# fails CODE DESC URL...: a create with these MediaUrl is answered 201,
	# then fails with CODE, the StatusCallback told.
	fails() {
		f_code=$1 f_desc=$2
		shift 2
		is "$f_desc: 201" "$(create "$@")" 201
		f_sid=$(jq -r .sid "$tmp/resp")
		is "$f_desc: failed, $f_code" "$(final "$f_sid")" "failed $f_code"
		check "$f_desc: the StatusCallback says so" \
		    "poll \"grep -q 'MessageSid=$f_sid&MessageStatus=failed&.*ErrorCode=$f_code' '$tmp/hook'\""
	}

	fails 11200 'a MediaUrl that answers 404' "$(upload "$tmp/pic.png" \
		--media-fail 404)"
	check 'logged as the 404 it got' \
		"logged '$f_sid' | jq -e '.[0].http == 404 and .[0].code == 11200'"
	fails 11200 'a MediaUrl that stalls past --media-timeout' \
		"$(upload "$tmp/pic.png" --media-fail timeout)"
	fails 11200 'a MediaUrl nothing listens at' 'http://127.0.0.1:1/x.png'
	fails 12300 'a type Twilio does not take' "$(upload "$tmp/pic.png" \
		--media-type application/x-msdownload)"
	fails 30019 'a MediaUrl over 5 MiB' "$(upload "$tmp/pic.png" \
		--media-fail large)"
	fails 30019 'a PDF over 500 KB' "$(upload "$tmp/big.pdf")"
	is 'a PDF under 500 KB: 201' "$(create "$(upload "$tmp/small.pdf")")" 201
	is 'and delivered' "$(final "$(jq -r .sid "$tmp/resp")")" 'delivered null'
	fails 11200 'one good MediaUrl and one that fails' "$png" \
		"$(upload "$tmp/pic.png" --media-fail 404)"

	is 'a MediaUrl that is not http(s): 400' "$(create 'ftp://127.0.0.1/x.png')" 400
	is 'code 21620' "$(jq -r .code "$tmp/resp")" 21620
	is 'eleven MediaUrl: 400' "$(create "$png" "$png" "$png" "$png" "$png" \
		"$png" "$png" "$png" "$png" "$png" "$png")" 400
	is 'code 21623' "$(jq -r .code "$tmp/resp")" 21623

	# --- MediaUrl on WhatsApp: WhatsApp's rules, not MMS's -----------------------

	# The same creates with To and From whatsapp:+E164, within the
	# customer service window (the customer wrote on WhatsApp first).
	sms-sim text --url "$sim" --whatsapp +15551230003 hola >/dev/null 2>&1
	wa=whatsapp:
	is 'WhatsApp: a PDF of 600 KB (over MMS'"'"'s 500 KB): 201' \
		"$(create "$(upload "$tmp/big.pdf")")" 201
	is 'WhatsApp: and delivered (or read)' \
		"$(final "$(jq -r .sid "$tmp/resp")")" 'delivered null'
	is 'WhatsApp: a PDF of 8 MiB (under its 16 MB): 201' \
		"$(create "$(upload "$tmp/big.pdf" --media-fail large)")" 201
	is 'WhatsApp: and delivered (or read)' \
		"$(final "$(jq -r .sid "$tmp/resp")")" 'delivered null'
	fails 63021 'WhatsApp: a GIF (MMS takes it, WhatsApp not)' \
		"$(upload "$tmp/tiny.gif")"
	fails 11751 'WhatsApp: an image of 8 MiB (over its 5 MB for images)' \
		"$(upload "$tmp/pic.png" --media-fail large)"
	is 'WhatsApp: two MediaUrl: 400' "$(create "$png" "$png")" 400
	is 'WhatsApp: code 21623, one medium a message' \
		"$(jq -r '"\(.code) \(.message)"' "$tmp/resp")" \
		'21623 Too many media URLs: a WhatsApp message takes 1'
	check_exit 'WhatsApp: text --whatsapp with two --media: usage error' 2 \
		"sms-sim text --url '$sim' --whatsapp --media '$tmp/pic.png' \
		    --media '$tmp/pic.png' +15551230003 two 2>/dev/null"
	# The server's own check, for a client that sends two all the same.
	is 'WhatsApp: /sim/text with two MediaSid: 400, 21623' \
		"$(curl -s -o "$tmp/resp" -w '%{http_code}' \
		    --data-urlencode From=whatsapp:+15551230003 \
		    --data-urlencode Body=two --data-urlencode MediaSid=ME1 \
		    --data-urlencode MediaSid=ME2 "$sim/sim/text") $(jq -r \
		    .code "$tmp/resp")" '400 21623'
	wa=

	# --- The bounds: --media-max, and a sim-wide --media-fail -------------------

	serve "$tmp/T.out" "$tmp/T.err" "$bin/sms-sim" --number "$US" \
		--webhook "$hook" --media-max 20 --media-fail 404 ||
		{ fail 'a sim with --media-max 20 starts'; done_testing; }
	sim2=http://127.0.0.1:$port
	is 'an upload over --media-max: 413' "$(curl -s -o /dev/null -w \
		'%{http_code}' -H 'Content-Type: image/png' --data-binary \
		@"$tmp/small.pdf" "$sim2/sim/media")" 413
	check_exit 'sms-sim text of a file over it: data error' 65 \
		"sms-sim text --url '$sim2' --media '$tmp/small.pdf' +15551230004 x"
	is 'a create whose media is over --media-max: 201' \
		"$(curl -s -o "$tmp/resp" -w '%{http_code}' -u "$AC:$TOK" \
		    --data-urlencode To=+15551230003 --data-urlencode "From=$US" \
		    --data-urlencode "MediaUrl=$png" \
		    "$sim2/2010-04-01/Accounts/$AC/Messages.json")" 201
	M2=$sim2/2010-04-01/Accounts/$AC/Messages
	t_sid=$(jq -r .sid "$tmp/resp")
	check 'then failed, 30019' "poll \"curl -s -u '$AC:$TOK' '$M2/$t_sid.json' |
		jq -e '.status == \\\"failed\\\" and .error_code == 30019'\""
	n=$(($(wc -l <"$tmp/hook") + 1))
	sms-sim text --url "$sim2" --media "$tmp/tiny.gif" +15551230004 hi \
		>/dev/null 2>&1
	is 'a sim-wide --media-fail 404: every piece 404' \
		"$(get "$(hook "$n" MediaUrl0)" -L -u "$AC:$TOK")" 404

	# --- --cdn-host: the CDN as another host, as Twilio's is ------------------

	serve "$tmp/U.out" "$tmp/U.err" "$bin/sms-sim" --number "$US" \
		--webhook "$hook" --cdn-host localhost --log "$tmp/U.log" ||
		{ fail 'a sim with --cdn-host starts'; done_testing; }
	sim3=http://127.0.0.1:$port
	check_exit '--cdn-host that is no host name: usage error' 2 \
		"sms-sim --cdn-host 'a/b'"
	n=$(($(wc -l <"$tmp/hook") + 1))
	sms-sim text --url "$sim3" --media "$tmp/pic.png" +15551230005 hi \
		>/dev/null 2>&1
	u=$(hook "$n" MediaUrl0)
	is 'the MediaUrl is on the host the client asked' "${u%%/2010-04-01/*}" \
		"$sim3"
	is 'its redirect goes to --cdn-host, same port' \
		"$(get "$u" -u "$AC:$TOK") $(location | sed 's|/cdn/.*||')" \
		"302 http://localhost:${sim3##*:}"
	is 'followed (curl -L -u): the bytes' "$(get "$u" -L -u "$AC:$TOK")$(cmp -s \
		"$tmp/body" "$tmp/pic.png" && echo ' same')" '200 same'
	is 'and the CDN was sent no credentials (another host), as its log says' \
		"$(jq -s -c 'map(select(.path | startswith("/cdn/")))
		    | map(.authorization)' "$tmp/U.log")" '[false]'
	get "$u" -L --location-trusted -u "$AC:$TOK" >/dev/null
	is 'a client that sends them anyway (--location-trusted) is seen to' \
		"$(jq -s -c 'map(select(.path | startswith("/cdn/")))
		    | map(.authorization)' "$tmp/U.log")" '[false,true]'
}
[ -n "$twilio" ] && twilio_part
tap_prefix=

# --- Telnyx and Plivo -------------------------------------------------------

# jhook P N: the Nth body (1 the first) the catcher of P got, as JSON;
# fhook P N NAME: the value of NAME in it, a form, decoded.
jhook() { sed -n "${2}p" "$tmp/hook-$1"; }
fhook() {
	sed -n "${2}p" "$tmp/hook-$1" | tr '&' '\n' | sed -n "s/^$3=//p" |
	    perl -pe 's/\+/ /g; s/%([0-9A-Fa-f]{2})/chr hex $1/ge; chomp'
}

# pcreate P URL...: a create at the sim of P with these media URLs
# (Plivo's with its TYPE, mms unless set); prints the HTTP status, the
# answer in $tmp/resp, and the message's id in $tmp/id.
pcreate() {
	pc_p=$1
	shift
	pc_urls=$(jq -nc '$ARGS.positional' --args "$@")
	case $pc_p in
	telnyx)
		curl -s -o "$tmp/resp" -w '%{http_code}' \
		    -H "Authorization: Bearer $TELNYX_API_KEY" \
		    -H 'Content-Type: application/json' \
		    --data-binary "$(jq -nc --arg f "$US" --argjson u "$pc_urls" \
			--arg cb "$phook" '{to: "+15551230003", from: $f,
			text: "photo", media_urls: $u, webhook_url: $cb}')" \
		    "$psim/v2/messages"
		jq -r '.data.id // empty' "$tmp/resp" >"$tmp/id"
		;;
	plivo)
		curl -s -o "$tmp/resp" -w '%{http_code}' \
		    -u "$PLIVO_AUTH_ID:$PLIVO_AUTH_TOKEN" \
		    -H 'Content-Type: application/json' \
		    --data-binary "$(jq -nc --arg f "${US#+}" --argjson u "$pc_urls" \
			--arg cb "$phook" --arg t "${TYPE:-mms}" '{src: $f,
			dst: "15551230003", text: "photo", type: $t,
			url: $cb} + (if $u == [] then {} else
			{media_urls: $u} end)')" \
		    "$psim/v1/Account/$PLIVO_AUTH_ID/Message/"
		jq -r '.message_uuid[0] // empty' "$tmp/resp" >"$tmp/id"
		;;
	esac
}

# pfetch P ID: the message ID at the sim of P, into $tmp/msg.
pfetch() {
	case $1 in
	telnyx)
		curl -s -H "Authorization: Bearer $TELNYX_API_KEY" \
		    "$psim/v2/messages/$2" | jq .data >"$tmp/msg" ;;
	plivo)
		curl -s -u "$PLIVO_AUTH_ID:$PLIVO_AUTH_TOKEN" \
		    "$psim/v1/Account/$PLIVO_AUTH_ID/Message/$2/" >"$tmp/msg" ;;
	esac
}

# pfinal P ID: poll until the message is delivered or failed; print its
# status and error code in the carrier's words.
pfinal() {
	case $1 in
	telnyx) pf_q='"\(.to[0].status) \(.errors[0].code // "none")"'
		pf_done='.to[0].status | test("delivered|failed")' ;;
	plivo) pf_q='"\(.message_state) \(.error_code)"'
		pf_done='.message_state | test("delivered|failed|rejected")' ;;
	esac
	poll "pfetch $1 $2 && jq -e '$pf_done' '$tmp/msg' >/dev/null" ||
	    { echo 'never final'; return; }
	jq -r "$pf_q" "$tmp/msg"
}

# pfails P CODE DESC URL...: a create with these media URLs is taken,
# then fails with the carrier's CODE.
pfails() {
	pff_p=$1 pff_code=$2 pff_desc=$3
	shift 3
	is "$pff_desc: taken" "$(pcreate "$pff_p" "$@")" "$taken"
	is "$pff_desc: failed, $pff_code" "$(pfinal "$pff_p" "$(cat "$tmp/id")")" \
	    "$failed $pff_code"
}

png=$(upload "$tmp/pic.png")
pdf=$(upload "$tmp/small.pdf")
bigpdf=$(upload "$tmp/big.pdf")
for P in telnyx plivo; do
	case $PROVIDERS in *" $P "*) ;; *) continue ;; esac
	diag "provider $P"
	provider_env "$P"
	tap_prefix="$P: "
	serve "$tmp/W$P.out" "$tmp/W$P.err" "$tools/catch" "$tmp/hook-$P" ||
	    { fail 'the webhook catcher starts'; continue; }
	phook=http://127.0.0.1:$port/$P
	serve "$tmp/S$P.out" "$tmp/S$P.err" "$bin/sms-sim" --provider "$P" \
	    --log "$tmp/S$P.log" --number "$US" --webhook "$phook" \
	    --media-timeout 1500 || { fail "sms-sim --provider $P starts"; continue; }
	psim=http://127.0.0.1:$port

	# A customer's MMS.
	sms-sim text --url "$psim" --media "$tmp/pic.png" \
	    --media "$tmp/ana.vcf" +15551230001 'Here is the damage' \
	    >/dev/null 2>"$tmp/$P-text.err"
	is 'text with two --media: exit 0' "$?" 0
	case $P in
	telnyx)
		jhook telnyx 1 >"$tmp/ev"
		check 'message.received, type MMS, its text' \
		    "jq -s -e 'length == 1 and
			(.[0].data | .event_type == \"message.received\" and
			.payload.type == \"MMS\" and
			.payload.text == \"Here is the damage\")' '$tmp/ev'"
		is 'payload.media: each type, size and sha256, in order' \
		    "$(jq -c '[.data.payload.media[] | [.content_type, .size, .sha256]]' "$tmp/ev")" \
		    "[[\"image/png\",$(wc -c <"$tmp/pic.png" | tr -d ' '),\"$(sha256sum <"$tmp/pic.png" | cut -c1-64)\"],[\"text/vcard\",$(wc -c <"$tmp/ana.vcf" | tr -d ' '),\"$(sha256sum <"$tmp/ana.vcf" | cut -c1-64)\"]]"
		u0=$(jq -r '.data.payload.media[0].url' "$tmp/ev")
		u1=$(jq -r '.data.payload.media[1].url' "$tmp/ev")
		check 'each url a /cdn/ path of 64 hex digits' \
		    "printf '%s\n%s\n' '$u0' '$u1' |
			grep -Ec '^$psim/cdn/[0-9a-f]{64}\$' | grep -qx 2"
		is 'which answers without credentials' "$(get "$u0")" 200
		;;
	plivo)
		is 'Type mms, the text in Body, MediaCount 2' \
		    "$(fhook plivo 1 Type) $(fhook plivo 1 Body) $(fhook plivo 1 MediaCount)" \
		    'mms Here is the damage 2'
		is 'no Text, no Media0' \
		    "$(fhook plivo 1 Text)$(fhook plivo 1 Media0)" ''
		u0=$(fhook plivo 1 Media1) u1=$(fhook plivo 1 Media2)
		uuid=$(fhook plivo 1 MessageUUID)
		check 'each MediaN is Plivo'"'"'s: /Account/ID/Media/MEDIA_ID' \
		    "printf '%s\n%s\n' '$u0' '$u1' | grep -Ec \
			'^$psim/Account/$PLIVO_AUTH_ID/Media/[0-9a-f-]{36}\$' |
			grep -qx 2"
		is 'without credentials: 401' "$(get "$u0")" 401
		is 'with the wrong token: 401' \
		    "$(get "$u0" -u "$PLIVO_AUTH_ID:wrong")" 401
		is 'with the credentials: 200' \
		    "$(get "$u0" -u "$PLIVO_AUTH_ID:$PLIVO_AUTH_TOKEN")" 200
		is 'another media id: 404' "$(get "${u0%/Media/*}/Media/00000000-0000-0000-0000-000000000000" \
		    -u "$PLIVO_AUTH_ID:$PLIVO_AUTH_TOKEN")" 404
		auth="-u $PLIVO_AUTH_ID:$PLIVO_AUTH_TOKEN"
		# shellcheck disable=SC2086
		get "$u0" $auth >/dev/null
		;;
	esac
	[ "$P" = telnyx ] && auth=
	check 'the bytes sent' "cmp -s '$tmp/body' '$tmp/pic.png'"
	check 'as the type said' "grep -qi '^content-type: image/png' '$tmp/head'"
	# shellcheck disable=SC2086
	is 'the second: the vCard' "$(get "$u1" $auth)$(cmp -s "$tmp/body" \
	    "$tmp/ana.vcf" && echo ' same')" '200 same'

	# Its faults, as Twilio's.
	n=$(($(wc -l <"$tmp/hook-$P") + 1))
	sms-sim text --url "$psim" --media "$tmp/pic.png" --media-fail 404 \
	    --media "$tmp/pic.png" --media-fail timeout +15551230002 f \
	    >/dev/null 2>&1
	case $P in
	telnyx) f0=$(jhook telnyx $n | jq -r '.data.payload.media[0].url')
		f1=$(jhook telnyx $n | jq -r '.data.payload.media[1].url') ;;
	plivo) f0=$(fhook plivo $n Media1) f1=$(fhook plivo $n Media2) ;;
	esac
	# shellcheck disable=SC2086
	is '--media-fail 404: 404' "$(get "$f0" $auth)" 404
	# shellcheck disable=SC2086
	curl -s -o /dev/null -m 2 $auth "$f1"
	is '--media-fail timeout: the body never comes (curl: 28)' "$?" 28

	# A create with media.
	case $P in
	telnyx) taken=200 failed=sending_failed
		mms_price='"0.0150"' ;;
	plivo) taken=202 failed=failed ;;
	esac
	is 'a create with a PNG'"'"'s URL: taken' "$(pcreate "$P" "$png")" "$taken"
	id=$(cat "$tmp/id")
	is 'it is delivered' "$(pfinal "$P" "$id")" \
	    "delivered $([ "$P" = telnyx ] && echo none || echo 000)"
	case $P in
	telnyx)
		check 'an MMS, one part, at the MMS price, its media the URL given' \
		    "jq -e --arg u '$png' '.type == \"MMS\" and .parts == 1 and
			.cost.amount == $mms_price and .media[0].url == \$u and
			.media[0].content_type == \"image/png\"' '$tmp/msg'"
		;;
	plivo)
		check 'an mms, one unit, at the MMS rate' \
		    "jq -e '.message_type == \"mms\" and .units == 1 and
			.total_rate == \"0.01800\"' '$tmp/msg'"
		;;
	esac
	check 'the log has the fetch: 200, its type and size' \
	    "jq -s -e 'map(select(.method == \"POST\" and .media)) | last |
		.media == [{url: \"$png\", http: 200, content_type: \"image/png\",
		size: $(wc -c <"$tmp/pic.png" | tr -d ' '), sid: .media[0].sid}]' \
		'$tmp/S$P.log'"
	case $P in
	telnyx)
		# Less than 1 MB in all, every type up to it; one code for all.
		is 'a PDF of 600 KB (no cap of its own at Telnyx): taken' \
		    "$(pcreate "$P" "$bigpdf")" 200
		is 'and delivered' "$(pfinal "$P" "$(cat "$tmp/id")")" \
		    'delivered none'
		pfails telnyx 40008 'two of 600 KB, 1 MB or more in all' \
		    "$bigpdf" "$bigpdf"
		pfails telnyx 40008 'a URL that answers 404' \
		    "$(upload "$tmp/pic.png" --media-fail 404)"
		check 'its message.finalized says so: sending_failed, 40008' \
		    "poll \"grep '\\\"message.finalized\\\"' '$tmp/hook-telnyx' |
			jq -s -e 'any(.[]; .data.payload.id == \\\"$(cat "$tmp/id")\\\" and
			.data.payload.to[0].status == \\\"sending_failed\\\" and
			.data.payload.errors[0].code == \\\"40008\\\")' >/dev/null\""
		pfails telnyx 40008 'a type Telnyx does not take' \
		    "$(upload "$tmp/pic.png" --media-type application/x-msdownload)"
		pfails telnyx 40008 'a URL past --media-timeout' \
		    "$(upload "$tmp/pic.png" --media-fail timeout)"
		is 'eleven media_urls: 400' "$(pcreate "$P" "$png" "$png" \
		    "$png" "$png" "$png" "$png" "$png" "$png" "$png" "$png" \
		    "$png")" 400
		is 'code 10015, at /media_urls' \
		    "$(jq -c '.errors[0] | [.code, .source.pointer]' "$tmp/resp")" \
		    '["10015","/media_urls"]'
		is 'a URL that is not http(s): 400' \
		    "$(pcreate "$P" 'ftp://127.0.0.1/x.png')" 400
		;;
	plivo)
		is 'a PDF of 600 KB (no cap of its own at Plivo): taken' \
		    "$(pcreate "$P" "$bigpdf")" 202
		is 'and delivered' "$(pfinal "$P" "$(cat "$tmp/id")")" \
		    'delivered 000'
		pfails plivo 140 'a URL that answers 404' \
		    "$(upload "$tmp/pic.png" --media-fail 404)"
		check 'its status callback says so: failed, ErrorCode 140' \
		    "poll \"grep -q 'MessageUUID=$(cat "$tmp/id")&Status=failed&ErrorCode=140' '$tmp/hook-plivo'\""
		pfails plivo 130 'a type Plivo does not take' \
		    "$(upload "$tmp/pic.png" --media-type application/x-msdownload)"
		pfails plivo 120 'a URL over 5 MB' \
		    "$(upload "$tmp/pic.png" --media-fail large)"
		is 'media_urls with type sms: 400' \
		    "$(TYPE=sms pcreate "$P" "$png")" 400
		is 'type mms without media_urls: 400' "$(pcreate "$P")" 400
		is 'eleven media_urls: 400' "$(pcreate "$P" "$png" "$png" \
		    "$png" "$png" "$png" "$png" "$png" "$png" "$png" "$png" \
		    "$png")" 400
		is 'a URL that is not http(s): 400' \
		    "$(pcreate "$P" 'ftp://127.0.0.1/x.png')" 400
		check 'said in Plivo'"'"'s error body' \
		    "jq -e '.api_id and (.error | test(\"http\"))' '$tmp/resp'"
		;;
	esac
	tap_prefix=
done

done_testing
