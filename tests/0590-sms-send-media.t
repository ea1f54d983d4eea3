#!/bin/sh
# sms-send --media (sms-send(1), Media): a picture sent as an MMS. A local
# file is copied into the conversation's media/ and linked in serve/ with
# an expiry; the provider is given the listener's public URL of the link
# (MediaUrl), which sms-recv --listen serves (GET /media/NAME) until it
# expires, and removes after. The provider's limits are checked before
# any request; without a public URL nothing is sent.
#
# The provider is sms-sim (which fetches each media URL, as the carrier
# does), the listener sms-recv, both on 127.0.0.1; expiry is seen by
# starting the listener again with its clock (SMSDESK_NOW) past it, on the
# port it had. For each carrier that carries pictures ($PROVIDERS, by
# default twilio telnyx plivo), each checked by its own limits: Twilio's
# 5 MB in all and 500 KB for a PDF, Telnyx's less than 1 MB in all,
# Plivo's 5 MB.
#
# And on WhatsApp, as Twilio carries it (issue 22), the case "whatsapp"
# after the carriers when Twilio is one of them: WhatsApp's own limits,
# not MMS's, checked before any request (one medium a message, images up
# to 5 MB, no GIF, but a PDF over MMS's 500 KB); sent to whatsapp:+E164
# through sms-sim, which fetches the MediaUrl by WhatsApp's rules (a type
# it does not take fails the message with 63021); recorded with channel
# whatsapp.
. "$(dirname "$0")/lib.sh"

twilio_env 0590
C=+15551235901

# Files of the types the bytes say.
printf '\377\330\377\340\000\020JFIF\000' >"$tmp/pic.jpg"
head -c 20000 /dev/urandom >>"$tmp/pic.jpg"
printf '\211PNG\r\n\032\n' >"$tmp/pic.png"
head -c 300 /dev/urandom >>"$tmp/pic.png"
printf '%%PDF-1.4\n' >"$tmp/big.pdf"
head -c 600000 /dev/urandom >>"$tmp/big.pdf"
printf '\000\001\002\003' >"$tmp/blob"
head -c 6000000 /dev/zero >"$tmp/huge.jpg.body"
{ printf '\377\330\377\340'; cat "$tmp/huge.jpg.body"; } >"$tmp/huge.jpg"
{ printf '\377\330\377\340'; head -c 3000000 /dev/zero; } >"$tmp/three.jpg"
{ printf '\377\330\377\340'; head -c 600000 /dev/zero; } >"$tmp/six.jpg"
printf 'RIFF\044\000\000\000WEBPVP8 \030\000\000\000' >"$tmp/pic.webp"
printf 'Order 1234: two boxes, one opened.\n' >"$tmp/note.txt"
printf 'GIF89a\001\000\001\000\000\000\000;' >"$tmp/pic.gif"

# listen [TIME]: the listener, its clock at TIME if given, on the port it
# had before if it had one.
listen() {
	[ -n "${rpid-}" ] && { kill "$rpid"; wait "$rpid" 2>/dev/null; }
	serve_port=${recv_port-}
	if [ -n "${1-}" ]; then
		SMSDESK_NOW=$1 serve "$tmp/recv.out" "$tmp/recv.err" \
		    sms-recv -d "$ib" --provider "$P" || return 1
	else
		serve "$tmp/recv.out" "$tmp/recv.err" sms-recv -d "$ib" \
		    --provider "$P" || return 1
	fi
	rpid=$server recv_port=$port
	unset serve_port
}

# creates_p: how many creates the sim of this carrier logged.
creates_p() {
	case $P in
	twilio) c_path=/Messages.json ;;
	telnyx) c_path=/v2/messages ;;
	plivo) c_path=/Message/ ;;
	esac
	jq -s --arg p "$c_path" '[.[] | select(.method == "POST" and
	    (.path | endswith($p)))] | length' "$alog"
}

# run: the whole of it for the carrier P.
run() {
	sim "A-$P" --provider "$P" || { fail 'sms-sim starts'; return; }
	provider_api "$P" "$TWILIO_API_URL"
	[ "$P" = twilio ] || unset TWILIO_API_URL
	alog=$tmp/A-$P.log
	listen || { fail 'sms-recv starts'; return; }
	PUB=http://127.0.0.1:$recv_port

	# --- Refused before any request ---------------------------------------------

	check_exit 'no public URL: refused (1), nothing sent' 1 \
		'sms-send -d "$ib" --to $C --media "$tmp/pic.jpg" hi >"$tmp/o" 2>"$tmp/e"'
	check 'it says to set public_url' 'grep -q "public_url" "$tmp/e"'
	check 'its record says why' \
		'jq -e ".status == \"failed\" and .error.code == \"no_public_url\"" \
		    "$tmp/o"'
	is 'no request' "$(creates_p)" 0
	check 'nothing copied, nothing linked' \
		'[ -z "$(find "$ib/media" "$ib/serve" -mindepth 1 2>/dev/null)" ]'

	SMSDESK_PUBLIC_URL=$PUB
	export SMSDESK_PUBLIC_URL
	check_exit 'a type the provider does not take: refused (1)' 1 \
		'sms-send -d "$ib" --to $C --media "$tmp/blob" hi 2>"$tmp/e"'
	check 'it says the type is not taken' \
		'grep -q "not a type $P takes (image/jpeg, image/png" "$tmp/e"'
	# The types differ: Telnyx takes WebP and no plain text, Twilio and
	# Plivo the other way round.
	if [ "$P" = telnyx ]; then
		check 'a WebP: taken' \
		    'sms-send -n -d "$ib" --to $C --media "$tmp/pic.webp" hi >/dev/null'
		check_exit 'a text file: refused (1)' 1 \
		    'sms-send -d "$ib" --to $C --media "$tmp/note.txt" hi 2>"$tmp/e"'
		check 'as text/plain' 'grep -q "text/plain is not a type telnyx" "$tmp/e"'
	else
		check_exit 'a WebP: refused (1)' 1 \
		    'sms-send -d "$ib" --to $C --media "$tmp/pic.webp" hi 2>"$tmp/e"'
		check 'as image/webp' 'grep -q "image/webp is not a type $P" "$tmp/e"'
		check 'a text file: taken' \
		    'sms-send -n -d "$ib" --to $C --media "$tmp/note.txt" hi >/dev/null'
	fi
	if [ "$P" = twilio ]; then
		check_exit 'a PDF over 500 KB: refused (1)' 1 \
		    'sms-send -d "$ib" --to $C --media "$tmp/big.pdf" hi 2>"$tmp/e"'
		check 'it says the cap for that type' \
		    'grep -q "application/pdf up to 512000" "$tmp/e"'
	else
		check 'a PDF over 500 KB: taken, the carrier has no cap for a type' \
		    'sms-send -n -d "$ib" --to $C --media "$tmp/big.pdf" hi >/dev/null'
	fi
	check_exit 'a JPEG over 5 MB: refused (1)' 1 \
		'sms-send -d "$ib" --to $C --media "$tmp/huge.jpg" hi 2>/dev/null'
	if [ "$P" = telnyx ]; then
		check_exit 'a JPEG of 3 MB: over 1 MB, refused (1)' 1 \
		    'sms-send -d "$ib" --to $C --media "$tmp/three.jpg" hi 2>"$tmp/e"'
		check 'it says the cap' 'grep -q "image/jpeg up to 1048575" "$tmp/e"'
		check_exit 'two JPEGs of 600 KB: 1 MB or more in all, refused (1)' 1 \
		    'sms-send -d "$ib" --to $C --media "$tmp/six.jpg" \
			--media "$tmp/six.jpg" hi 2>"$tmp/e"'
	else
		check_exit 'two JPEGs of 3 MB: over 5 MB in all, refused (1)' 1 \
		    'sms-send -d "$ib" --to $C --media "$tmp/three.jpg" \
			--media "$tmp/three.jpg" hi 2>"$tmp/e"'
	fi
	check 'it says the total' 'grep -q "bytes in all" "$tmp/e"'
	eleven=
	for i in 1 2 3 4 5 6 7 8 9 10 11; do eleven="$eleven --media $tmp/pic.png"; done
	check_exit 'eleven media: refused (1)' 1 \
		'sms-send -d "$ib" --to $C $eleven hi 2>"$tmp/e"'
	check 'it says at most 10' 'grep -q "at most 10" "$tmp/e"'
	check_exit 'a file that is not there: refused (1)' 1 \
		'sms-send -d "$ib" --to $C --media "$tmp/nothing.jpg" hi 2>/dev/null'
	is 'still no request' "$(creates_p)" 0
	check 'still nothing linked' '[ -z "$(ls -A "$ib/serve")" ]'

	# --- Dry run: an MMS is one message, at mms_price ---------------------------

	check '--dry-run: an MMS is priced at mms_price' \
		'SMSDESK_MMS_PRICE=0.0200 sms-send -n -d "$ib" --to $C \
		    --media "$tmp/pic.jpg" "a long text that would be one SMS" |
		 jq -e ".price == \"0.0200\" and (.media | length) == 1 and
		     .media[0].type == \"image/jpeg\""'
	check '--dry-run: no mms_price, unpriced' \
		'SMSDESK_PRICE=0.0079 sms-send -n -d "$ib" --to $C \
		    --media "$tmp/pic.jpg" hi | jq -e ".price == null"'
	printf '{"to":"%s","body":"a"}\n{"to":"%s","body":"b","media":["%s"]}\n' \
	    $C $C "$tmp/pic.jpg" |
	    SMSDESK_PRICE=0.0079 sms-send -n -d "$ib" >/dev/null 2>"$tmp/e"
	check '--dry-run: its total counts an MMS as a message, no segment' \
		'grep -q "dry run: 2 messages (1 MMS), 1 segment, 0.0079 USD for the 1 priced; no price for 1 MMS (set mms_price" "$tmp/e"'
	is '--dry-run sends nothing' "$(creates_p)" 0

	# --- Sent --------------------------------------------------------------------

	# A URL of the user's: one the listener serves, as the simulator fetches
	# every MediaUrl (only 127.0.0.1 here).
	sms-send -d "$ib" --to $C --media "$tmp/pic.png" first >"$tmp/first"
	is 'a picture: exit 0' $? 0
	u1=$(jq -r '.media[0].url' "$tmp/first")
	sms-send -d "$ib" --to $C --media "$tmp/pic.jpg" --media "$u1" \
	    'Your receipt' >"$tmp/out"
	is 'a picture and a URL: exit 0' $? 0
	check 'the record: two media, ours first, with our public URL' \
		'jq -e --arg p "$PUB/media/" "(.media | length) == 2 and
		    (.media[0].url | startswith(\$p)) and
		    .media[0].type == \"image/jpeg\" and
		    .media[0].size == $(wc -c <"$tmp/pic.jpg") and
		    (.media[0].sha256 | test(\"^[0-9a-f]{64}$\")) and
		    (.media[0].file | startswith(\"media/$C/\")) and
		    .media[1].url == \"$u1\" and (.media[1] | has(\"file\") | not)" \
		    "$tmp/out"'
	url=$(jq -r '.media[0].url' "$tmp/out")
	file=$(jq -r '.media[0].file' "$tmp/out")
	name=${url##*/}
	check 'the serve name: EXPIRES-TOKEN.jpg, 32 random bytes in hex' \
		'printf %s "$name" | grep -Eq "^[0-9]+-[0-9a-f]{64}\.jpg$"'
	exp=${name%%-*}
	now=$(date +%s)
	check 'it expires in about 4 hours (media_ttl)' \
		'[ $((exp - now)) -gt 14000 ] && [ $((exp - now)) -le 14400 ]'
	check 'the file in the conversation is the picture' \
		'cmp -s "$tmp/pic.jpg" "$ib/$file"'
	check 'its name is the message id, the index and the type' \
		'[ "${file##*/}" = "$(jq -r .id "$tmp/out").0.jpg" ]'
	check 'and serve/ links it' 'cmp -s "$tmp/pic.jpg" "$ib/serve/$name"'
	check 'the sha256 is the picture'"'"'s' \
		'[ "$(jq -r ".media[0].sha256" "$tmp/out")" = \
		   "$(sha256sum <"$tmp/pic.jpg" | cut -d" " -f1)" ]'
	is 'two requests' "$(creates_p)" 2
	if [ "$P" = twilio ]; then
		check 'it carried both as MediaUrl, in order' \
		    'jq -s -e --arg u "$url" --arg u1 "$u1" "[.[] |
			select(.method == \"POST\")] | last |
			.params.MediaUrl == [\$u, \$u1]" "$alog"'
	else
		check 'it carried both as media_urls, in order' \
		    'jq -s -e --arg u "$url" --arg u1 "$u1" "[.[] |
			select(.method == \"POST\")] | last |
			(.media | map(.url)) == [\$u, \$u1]" "$alog"'
	fi
	check 'the thread keeps the media' \
		'inbox-ls -d "$ib" $C | jq -e "select(.type == \"message\") |
		    .media[0].file == \"$file\""'

	check 'the provider fetched both from the listener: 200, their types' \
		'jq -s -e "[.[] | select(.method == \"POST\")] | last | .media |
		    map(.http) == [200, 200] and
		    map(.content_type) == [\"image/jpeg\", \"image/png\"] and
		    map(.size) == [$(wc -c <"$tmp/pic.jpg"), $(wc -c <"$tmp/pic.png")]" \
		    "$alog"'
	check 'the listener logged both GETs' \
		'[ "$(grep -c "GET /media/.* 200 .*media" "$tmp/recv.err")" -ge 2 ]'

	# The fetcher of inbound media (sms-recv --fetch-media) leaves ours alone:
	# a URL of the user's has no file, and is not ours to fetch.
	sms-recv -d "$ib" --fetch-media >/dev/null 2>"$tmp/fm.err"
	check 'sms-recv --fetch-media does not fetch what we sent' \
		'inbox-ls -d "$ib" $C | jq -e --arg u1 "$u1" "select(.type ==
		    \"message\" and .media[1].url == \$u1) |
		    (.media[1] | has(\"file\") or has(\"tries\") or has(\"error\")) |
		    not"'

	# --- The listener serves the link --------------------------------------------

	code=$(curl -s -o "$tmp/got" -D "$tmp/got.h" -w '%{http_code}' "$url")
	is 'GET /media/NAME: 200' "$code" 200
	check 'the bytes are the picture' 'cmp -s "$tmp/pic.jpg" "$tmp/got"'
	check 'with its type' 'grep -qi "^content-type: image/jpeg" "$tmp/got.h"'
	check 'HEAD: 200, its length, no body' \
		'curl -s -I "$url" >"$tmp/head.h" &&
		 grep -q "^HTTP/1.1 200" "$tmp/head.h" &&
		 grep -qi "^content-length: $(wc -c <"$tmp/pic.jpg")" "$tmp/head.h"'
	is 'a name of another shape: 404' \
		"$(curl -s -o /dev/null -w '%{http_code}' "$PUB/media/..%2Fconfig")" 404
	is 'a name that is not there: 404' \
		"$(curl -s -o /dev/null -w '%{http_code}' \
		    "$PUB/media/${exp}-$(printf '%064d' 0).jpg")" 404
	is 'a path outside serve/: 404' \
		"$(curl -s -o /dev/null -w '%{http_code}' --path-as-is \
		    "$PUB/media/../msg")" 404
	ln -s "$ib/$file" "$ib/serve/$((exp + 1))-$(printf '%064d' 1).jpg"
	is 'a symbolic link in serve/: 404' \
		"$(curl -s -o /dev/null -w '%{http_code}' \
		    "$PUB/media/$((exp + 1))-$(printf '%064d' 1).jpg")" 404
	rm -f "$ib/serve/$((exp + 1))-$(printf '%064d' 1).jpg"
	is 'a POST to it: 405' \
		"$(curl -s -o /dev/null -w '%{http_code}' -d x "$url")" 405

	# --- A record's "media" -----------------------------------------------------

	printf '{"to":"%s","body":"two","media":["%s"]}\n' "$C" "$tmp/pic.png" |
	    sms-send -d "$ib" >"$tmp/out2"
	is 'a record with "media": exit 0' $? 0
	check 'its media is the PNG, served as one' \
		'u=$(jq -r ".media[0].url" "$tmp/out2") &&
		 curl -s -D "$tmp/h2" -o "$tmp/got2" "$u" &&
		 cmp -s "$tmp/pic.png" "$tmp/got2" &&
		 grep -qi "^content-type: image/png" "$tmp/h2"'
	printf '{"to":"%s","body":"x","media":"%s"}\n' "$C" "$tmp/pic.png" |
	    sms-send -d "$ib" >/dev/null 2>"$tmp/e"
	is 'a "media" that is no array: 1' $? 1
	check 'said' 'grep -q "\"media\" is not an array" "$tmp/e"'

	# Expired before the provider comes for it (sent an hour ago, as the
	# sender's clock says, for a second): refused, and the provider fails the
	# message.
	hour_ago=$(jq -nr 'now - 3600 | floor | todate')
	SMSDESK_NOW=$hour_ago SMSDESK_MEDIA_TTL=1s sms-send -d "$ib" --to $C \
	    --media "$tmp/pic.png" late >"$tmp/late"
	check 'the provider was refused the expired link (404)' \
		'jq -s -e --arg u "$(jq -r ".media[0].url" "$tmp/late")" \
		    "[.[] | select(.method == \"POST\")] | last |
		    .media[0].url == \$u and .media[0].http == 404" "$alog"'
	check 'the listener said why' 'grep -q "GET /media/.* 404 .*media expired" \
		"$tmp/recv.err"'
	case $P in
	twilio) late_code=11200 ;;
	telnyx) late_code=40008 ;;
	plivo) late_code=140 ;;
	esac
	late_id=$(jq -r .id "$tmp/late")
	check "the message failed by the provider's callback, code $late_code" \
		'poll "tail -qn 1 \"$ib\"/msg/$C/$late_id |
		    jq -s -e \"any(.[]; .status == \\\"failed\\\" and
		    .error.provider_code == $late_code)\" >/dev/null"'

	# A message record printed before its file was copied (a dry run's, a
	# deferred one's) keeps the file's path, and is sent again with it.
	sms-send -n -d "$ib" --to $C --media "$tmp/pic.png" again >"$tmp/dry"
	check 'a dry run keeps the path of a file not copied' \
		'jq -e --arg p "$tmp/pic.png" ".media[0].path == \$p and
		    .media[0].url == null" "$tmp/dry"'
	sms-send -d "$ib" <"$tmp/dry" >"$tmp/again"
	is 'that record sent: exit 0' $? 0
	check 'with its picture, copied and linked; the path is not kept' \
		'jq -e --arg p "$PUB/media/" "(.media[0].url | startswith(\$p)) and
		    (.media[0] | has(\"path\") | not) and .media[0].file != null" \
		    "$tmp/again"'

	# --- A key sends once, and copies once --------------------------------------

	sms-send -d "$ib" --to $C --key pic-1 --media "$tmp/pic.png" k >/dev/null
	is 'with a key: exit 0' $? 0
	nfiles=$(find "$ib/media" "$ib/serve" -type f | wc -l)
	ncreates=$(creates_p)
	sms-send -d "$ib" --to $C --key pic-1 --media "$tmp/pic.png" k >"$tmp/dup"
	check 'the same key again: a duplicate' 'jq -e .duplicate "$tmp/dup"'
	is 'no request' "$(creates_p)" "$ncreates"
	is 'and no copy or link left behind' \
		"$(find "$ib/media" "$ib/serve" -type f | wc -l)" "$nfiles"

	# --- Expired: refused, then removed -------------------------------------------

	# The listener's clock 20 s before the expiry, and running: served, then
	# refused once the second comes, while the link is still there (the sweep
	# comes a minute after the start).
	before=$(jq -nr --argjson e "$exp" '$e - 20 | todate')
	listen "${before%Z}Z+" || { fail 'sms-recv starts again'; return; }
	is 'before its expiry, GET: 200' \
		"$(curl -s -o /dev/null -w '%{http_code}' "$url")" 200
	check 'at its expiry, GET: 404' \
		'poll "[ \"\$(curl -s -o /dev/null -w %{http_code} \"$url\")\" = 404 ]"'
	check 'refused by its expiry, not for want of the link' \
		'[ -e "$ib/serve/$name" ] && grep -q "media expired" "$tmp/recv.err"'

	later=$(jq -nr --argjson e "$exp" '$e + 60 | todate')
	listen "${later%Z}Z+" || { fail 'sms-recv starts again'; return; }
	is 'past its expiry, GET: 404' \
		"$(curl -s -o /dev/null -w '%{http_code}' "$url")" 404
	check 'the listener removed the expired links at its start' \
		'poll "[ ! -e \"$ib/serve/$name\" ]"'
	check 'the conversation keeps its copy' 'cmp -s "$tmp/pic.jpg" "$ib/$file"'
}

# run_whatsapp: the case whatsapp, Twilio's (the header says what).
run_whatsapp() {
	P=twilio
	listen || { fail 'sms-recv starts'; return; }
	PUB=http://127.0.0.1:$recv_port
	SMSDESK_PUBLIC_URL=$PUB
	export SMSDESK_PUBLIC_URL
	# Again on its port, with the public URL its signatures are over.
	listen || { fail 'sms-recv starts again'; return; }
	sim W --webhook "$PUB/twilio" || { fail 'sms-sim starts'; return; }
	alog=$tmp/W.log
	check 'the customer writes on WhatsApp (the window opens)' \
		'sms-sim text --url "$TWILIO_API_URL" --whatsapp $C "hola" >/dev/null'

	check_exit 'two media on WhatsApp: refused (1)' 1 \
		'sms-send -d "$ib" -c $C --media "$tmp/pic.jpg" \
		    --media "$tmp/pic.png" hi >"$tmp/o" 2>"$tmp/e"'
	check 'it says WhatsApp takes one' \
		'grep -q "2 media: twilio'"'"'s WhatsApp takes at most 1 a message" "$tmp/e"'
	check 'its record: channel whatsapp, too_many_media' \
		'jq -e ".channel == \"whatsapp\" and .error.code == \"too_many_media\"" "$tmp/o"'
	check_exit 'a GIF (MMS takes it, WhatsApp not): refused (1)' 1 \
		'sms-send -d "$ib" -c $C --media "$tmp/pic.gif" hi 2>"$tmp/e"'
	check 'it names WhatsApp'"'"'s types' \
		'grep -q "image/gif is not a type twilio'"'"'s WhatsApp takes (image/jpeg, image/png, image/webp, audio/ogg" "$tmp/e"'
	check_exit 'a JPEG over 5 MB: refused (1)' 1 \
		'sms-send -d "$ib" -c $C --media "$tmp/huge.jpg" hi 2>"$tmp/e"'
	check 'it says the cap for images' \
		'grep -q "WhatsApp takes image/jpeg up to 5242880" "$tmp/e"'
	check '--dry-run: a WebP on WhatsApp (MMS takes none)' \
		'sms-send -n -d "$ib" -c $C --media "$tmp/pic.webp" hi |
		 jq -e ".channel == \"whatsapp\" and .media[0].type == \"image/webp\""'
	printf 'OggS\000\002' >"$tmp/voice.ogg"
	head -c 3000 /dev/urandom >>"$tmp/voice.ogg"
	check '--dry-run: a voice note (OGG) on WhatsApp, known by its bytes' \
		'sms-send -n -d "$ib" -c $C --media "$tmp/voice.ogg" "" |
		 jq -e ".media[0].type == \"audio/ogg\""'
	is 'no request' "$(creates_p)" 0

	sms-send -d "$ib" -c $C --media "$tmp/big.pdf" 'Your invoice' \
	    >"$tmp/wa" 2>"$tmp/e"
	is 'a PDF of 600 KB (over MMS'"'"'s 500 KB): sent, exit 0' $? 0
	url=$(jq -r '.media[0].url' "$tmp/wa")
	check 'its record: channel whatsapp, the PDF, our public URL' \
		'jq -e --arg p "$PUB/media/" ".channel == \"whatsapp\" and
		    (.media | length) == 1 and
		    .media[0].type == \"application/pdf\" and
		    (.media[0].url | startswith(\$p))" "$tmp/wa"'
	check 'to whatsapp:+E164, the text its caption, one MediaUrl' \
		'jq -s -e --arg u "$url" "[.[] | select(.method == \"POST\" and
		    (.path | endswith(\"/Messages.json\")))] | last | .params |
		    .To == \"whatsapp:$C\" and .From == \"whatsapp:$US\" and
		    .Body == \"Your invoice\" and .MediaUrl == \$u" "$alog"'
	check 'the sim fetched it from the listener: 200, application/pdf' \
		'jq -s -e "[.[] | select(.method == \"POST\" and
		    (.path | endswith(\"/Messages.json\")))] | last | .media |
		    map([.http, .content_type]) == [[200, \"application/pdf\"]]" \
		    "$alog"'
	wa_id=$(jq -r .id "$tmp/wa")
	check 'it is delivered, on WhatsApp, in the one conversation' \
		'poll "tail -qn 1 \"$ib\"/msg/$C/$wa_id | jq -e \"(.status ==
		    \\\"delivered\\\" or .status == \\\"read\\\") and
		    .channel == \\\"whatsapp\\\"\" >/dev/null"'

	# A URL is the provider's to check: a GIF's URL (served for an MMS)
	# sent on WhatsApp goes, and the sim fails it as Twilio would.
	sms-send -d "$ib" -c $C --channel sms --media "$tmp/pic.gif" gif \
	    >"$tmp/gif" 2>"$tmp/e"
	is 'a GIF as an MMS: exit 0' $? 0
	sms-send -d "$ib" -c $C --channel whatsapp \
	    --media "$(jq -r '.media[0].url' "$tmp/gif")" gif >"$tmp/wgif" \
	    2>"$tmp/e"
	is 'its URL on WhatsApp: taken (exit 0)' $? 0
	gif_id=$(jq -r .id "$tmp/wgif")
	check 'then failed by the provider: 63021, a type WhatsApp does not take' \
		'poll "tail -qn 1 \"$ib\"/msg/$C/$gif_id | jq -e \".status ==
		    \\\"failed\\\" and .error.provider_code == 63021\" >/dev/null"'
}

for P in ${PROVIDERS:-twilio telnyx plivo}; do
	diag "provider $P"
	provider_env "$P"
	tap_prefix="$P: "
	ib=$tmp/inbox-$P
	mkinbox "$ib"
	unset SMSDESK_PUBLIC_URL rpid recv_port
	run
	[ -n "${rpid-}" ] && kill "$rpid"
	tap_prefix=
done
case " ${PROVIDERS:-twilio} " in
*" twilio "*)
	diag 'case whatsapp'
	provider_env twilio
	tap_prefix='whatsapp: '
	ib=$tmp/inbox-whatsapp
	mkinbox "$ib"
	unset SMSDESK_PUBLIC_URL rpid recv_port
	run_whatsapp
	[ -n "${rpid-}" ] && kill "$rpid"
	tap_prefix=
	;;
esac

done_testing
