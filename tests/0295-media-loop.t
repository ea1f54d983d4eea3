#!/bin/sh
# Pictures, the whole inbound loop (issues 17 and 19), for each carrier
# that carries them ($PROVIDERS, by default twilio telnyx plivo): a
# customer texts a photo and a receipt through sms-sim, which posts the
# carrier's signed webhook with the media and serves the files as that
# carrier does; the listener answers at once, fetches both into the inbox,
# and a retried webhook fetches nothing twice.
#
# How each carrier hosts them: Twilio behind the account's Basic auth,
# then a redirect to its CDN, another host (--cdn-host localhost), which
# must be sent no credentials; Telnyx at URLs that want none (the sim's
# /cdn/, on --cdn-host); Plivo on its media host (--cdn-host here, not
# its API's), behind the account's Basic auth, which the listener must
# send there (PLIVO_MEDIA_URL).
#
# And WhatsApp as Twilio carries it (issue 22), the case "whatsapp" after
# the carriers when Twilio is one of them: the customer writes on
# WhatsApp (sms-sim text --whatsapp) with one photo, as a WhatsApp message
# carries one medium, its text the caption; the same webhook fields
# (NumMedia, MediaUrl0, MediaContentType0), so the same loop: stored with
# its media in the customer's one conversation, channel whatsapp, and
# fetched. Two media on WhatsApp are refused by the sim's text command.
. "$(dirname "$0")/lib.sh"

twilio_env 0295

printf '\377\330\377\340\000\020JFIF\000photo-of-a-parcel' >"$tmp/parcel.jpg"
{ printf '%%PDF-1.4\n'; head -c 2000 /dev/zero; } >"$tmp/receipt.pdf"
C=+15551239501

cases=${PROVIDERS:-twilio telnyx plivo}
case " $cases " in *" twilio "*) cases="$cases whatsapp" ;; esac
for K in $cases; do
	# K: the carrier, or whatsapp (Twilio's): P the carrier, wa the
	# text's option, n the items a message carries.
	P=$K wa= n=2
	[ "$K" = whatsapp ] && P=twilio wa=--whatsapp n=1
	diag "case $K"
	provider_env "$P"
	unset TWILIO_API_URL PLIVO_MEDIA_URL
	SMSDESK_INBOX=$tmp/inbox-$K
	export SMSDESK_INBOX

	serve "$tmp/$K-recv.out" "$tmp/$K-recv.err" sms-recv --provider "$P" ||
	    { fail "$K: sms-recv starts"; continue; }
	rport=$port hook=http://127.0.0.1:$port/$P server_recv=$server
	dup=
	[ "$P" != twilio ] && dup='--duplicate 100'
	# shellcheck disable=SC2086
	serve "$tmp/$K-sim.out" "$tmp/$K-sim.err" sms-sim --provider "$P" \
	    --number "$US" --webhook "$hook" --cdn-host localhost \
	    --log "$tmp/$K-sim.log" $dup ||
	    { fail "$K: sms-sim starts"; continue; }
	sim=http://127.0.0.1:$port
	# The listener again, on its port, knowing the provider's API (the
	# sim): the one host its credentials go to when it fetches media
	# (lib/media.h).
	kill "$server_recv" 2>/dev/null
	provider_api "$P" "$sim"
	# Plivo's media host is not its API's: the sim's --cdn-host.
	[ "$P" = plivo ] && PLIVO_MEDIA_URL=http://localhost:${sim##*:} &&
	    export PLIVO_MEDIA_URL
	serve_port=$rport serve "$tmp/$K-recv.out" "$tmp/$K-recv.err" \
	    sms-recv --provider "$P" ||
	    { fail "$K: sms-recv starts again"; continue; }
	serve_port=

	if [ "$K" = whatsapp ]; then
		check_exit "$K: two media on WhatsApp: a usage error (2)" 2 \
		    "sms-sim text --url '$sim' --whatsapp --media '$tmp/parcel.jpg' \
			--media '$tmp/receipt.pdf' $C 'two' 2>'$tmp/$K-two.err'"
		check "$K: it says WhatsApp carries one" \
		    "grep -q 'one --media' '$tmp/$K-two.err'"
		check "$K: a customer sends a photo on WhatsApp, with a caption" \
		    "sms-sim text --url '$sim' --whatsapp --media '$tmp/parcel.jpg' \
			$C 'see photo' >'$tmp/$K-text.out'"
	else
		check "$P: a customer texts a photo and a receipt" \
		    "sms-sim text --url '$sim' --media '$tmp/parcel.jpg' \
			--media '$tmp/receipt.pdf' $C 'see photo' >'$tmp/$K-text.out'"
	fi
	# The message's record is its file's last line (a fetch appends one).
	last() { tail -qn 1 "$SMSDESK_INBOX/msg/$C"/* 2>/dev/null; }
	# Plivo's webhook names no types: the listener learns them as it
	# fetches.
	if [ "$P" = plivo ]; then
		is "$P: stored with both items, as the webhook named them" \
		    "$(last | jq -c '[.body, (.media | length)]')" \
		    '["see photo",2]'
	elif [ "$K" = whatsapp ]; then
		is "$K: stored with its one item, the caption its body" \
		    "$(last | jq -c '[.body, (.media | length), .media[0].content_type]')" \
		    '["see photo",1,"image/jpeg"]'
		is "$K: on channel whatsapp, in the customer's one conversation" \
		    "$(last | jq -r '[.channel, .thread, .from] | @tsv') $(ls "$SMSDESK_INBOX/msg")" \
		    "$(printf 'whatsapp\t%s\t%s' $C $C) $C"
		is "$K: the conversation says the customer last wrote on WhatsApp" \
		    "$(tail -n 1 "$SMSDESK_INBOX/conv/$C" | jq -r .last_in_channel)" \
		    whatsapp
	else
		is "$P: stored with both items, in order, as the webhook named them" \
		    "$(last | jq -c '[.body, (.media | length), .media[0].content_type, .media[1].content_type]')" \
		    '["see photo",2,"image/jpeg","application/pdf"]'
	fi
	check "$K: the listener fetches all $n into the inbox" \
	    "poll '[ \"\$(last | jq -r \"[.media[].file // empty] | length\")\" = $n ]'"
	f0=$(last | jq -r '.media[0].file') f1=$(last | jq -r '.media[1].file')
	check "$K: the photo is the customer's bytes" \
	    "cmp -s '$SMSDESK_INBOX/$f0' '$tmp/parcel.jpg'"
	sums="[\"$(sha256sum <"$tmp/parcel.jpg" | cut -c1-64)\",$(wc -c <"$tmp/parcel.jpg" | tr -d ' '),\"image/jpeg\",false]"
	if [ $n = 2 ]; then
		check "$P: the receipt too" \
		    "cmp -s '$SMSDESK_INBOX/$f1' '$tmp/receipt.pdf'"
		sums="$sums,[\"$(sha256sum <"$tmp/receipt.pdf" | cut -c1-64)\",$(wc -c <"$tmp/receipt.pdf" | tr -d ' '),\"application/pdf\",false]"
	fi
	is "$K: checksums, sizes and sniffed types right, nothing flagged" \
	    "$(last | jq -c '[.media[] | [.sha256, .size, .type, .mismatch]]')" \
	    "[$sums]"
	is "$K: the files are named by the inbox, private" \
	    "$(stat -c %a "$SMSDESK_INBOX/$f0") $(basename "$f0" | sed 's/^[^.]*\.[^.]*\.[^.]*\.[^.]*\.//')" \
	    '600 0.jpg'

	# Where the bytes came from, and with what credentials.
	case $P in
	plivo)
		served='startswith("/Account/")'
		is "$P: fetched from Plivo's media host, with the account's credentials" \
		    "$(jq -s -c "map(select(.path | $served)) | map(.auth) | unique" "$tmp/$K-sim.log")" \
		    '[true]'
		;;
	*)
		served='startswith("/cdn/")'
		is "$K: the CDN was sent no credentials" \
		    "$(jq -s -c "map(select(.path | $served)) | map(.authorization) | unique" "$tmp/$K-sim.log")" \
		    '[false]'
		;;
	esac
	[ "$P" = telnyx ] && check "$P: its URLs are the CDN's, on another host" \
	    "last | jq -s -e 'length == 1 and (.[0].media | length) == 2 and
		all(.[0].media[].url; test(\"^http://localhost:[0-9]+/cdn/[0-9a-f]{64}\$\"))' >/dev/null"
	is "$K: each fetched once" \
	    "$(jq -s "map(select(.path | $served)) | length" "$tmp/$K-sim.log")" $n

	# The provider retries the webhook: stored once, nothing fetched
	# again. Telnyx and Plivo: the sim posted it twice (--duplicate 100);
	# Twilio: posted again here, as the sim sent it.
	if [ "$P" = twilio ]; then
		mm=$(jq -r .sid "$tmp/$K-text.out")
		me=$(jq -r 'select(.path == "/sim/text") |
		    .params.MediaSid | if type == "array" then .[] else . end' \
		    "$tmp/$K-sim.log")
		# shellcheck disable=SC2086
		set -- $me
		u=$sim/2010-04-01/Accounts/$AC/Messages/$mm/Media
		if [ "$K" = whatsapp ]; then
			body="MessageSid=$mm&SmsSid=$mm&SmsMessageSid=$mm&AccountSid=$AC&From=whatsapp%3A%2B${C#+}&To=whatsapp%3A%2B${US#+}&Body=see+photo&NumSegments=1&NumMedia=1&MediaUrl0=$u/$1&MediaContentType0=image%2Fjpeg&WaId=${C#+}&SmsStatus=received&ApiVersion=2010-04-01"
		else
			body="MessageSid=$mm&SmsSid=$mm&SmsMessageSid=$mm&AccountSid=$AC&From=%2B${C#+}&To=%2B${US#+}&Body=see+photo&NumSegments=1&NumMedia=2&MediaUrl0=$u/$1&MediaContentType0=image%2Fjpeg&MediaUrl1=$u/$2&MediaContentType1=application%2Fpdf&SmsStatus=received&ApiVersion=2010-04-01"
		fi
		is "$K: the webhook again: 200" \
		    "$(port=$rport webhook "$body")" 200
	else
		is "$P: the webhook came twice" \
		    "$(grep -c "POST /$P 200 .* message " "$tmp/$K-recv.err")" 2
	fi
	is "$K: still one message" \
	    "$(ls "$SMSDESK_INBOX/msg/$C" | wc -l | tr -d ' ')" 1
	is "$K: and nothing fetched twice" \
	    "$(jq -s "map(select(.path | $served)) | length" "$tmp/$K-sim.log")" $n
	is "$K: inbox-ls --media prints every path" \
	    "$(inbox-ls --media $C | wc -l | tr -d ' ')" $n
done
done_testing
