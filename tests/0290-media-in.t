#!/bin/sh
# Inbound media (issue 17): every item a webhook names is kept on the
# message record (sms-record(5) "media"), in the provider's order.
#
# PROVIDER names the carrier whose webhooks are posted ("twilio" for now;
# the issue "Any carrier" runs this file for each).
. "$(dirname "$0")/lib.sh"

PROVIDER=twilio
twilio_env 0290

ib=$tmp/inbox
A=+15551230001

serve "$tmp/L.out" "$tmp/L.err" "$bin/sms-recv" -d "$ib" \
    --provider "$PROVIDER" || { fail 'the listener starts'; done_testing; }

# mms SID NUM [ITEM...]: the form of an MMS from $A with NumMedia=NUM and,
# for each ITEM "URL|TYPE" (TYPE may be empty), MediaUrlI and
# MediaContentTypeI (only when TYPE is given).
mms() {
	m_sid=$1 m_n=$2
	shift 2
	printf 'MessageSid=%s&AccountSid=%s&From=%%2B%s&To=%%2B15550100000&Body=look&NumMedia=%s' \
	    "$m_sid" "$AC" "${A#+}" "$m_n"
	m_i=0
	for m_item in "$@"; do
		printf '&MediaUrl%d=%s' "$m_i" "$(printf '%s' "${m_item%%|*}" |
		    jq -sRr @uri)"
		[ -n "${m_item#*|}" ] && printf '&MediaContentType%d=%s' \
		    "$m_i" "$(printf '%s' "${m_item#*|}" | jq -sRr @uri)"
		m_i=$((m_i + 1))
	done
}

M=https://api.twilio.com/2010-04-01/Accounts/$AC/Messages/MM1/Media
is 'an MMS with NumMedia=3: 200' \
	"$(webhook "$(mms MM00000000000000000000000000000001 3 \
	    "$M/ME0|image/jpeg" "$M/ME1|" "$M/ME2|application/pdf")")" 200
is 'all three items are on the record, in order, unfetched' \
	"$(jq -c '.media' "$ib"/msg/$A/*)" \
	"[{\"url\":\"$M/ME0\",\"content_type\":\"image/jpeg\"},{\"url\":\"$M/ME1\",\"content_type\":null},{\"url\":\"$M/ME2\",\"content_type\":\"application/pdf\"}]"
is 'the body is kept with them' "$(jq -r '.body' "$ib"/msg/$A/*)" look

is 'NumMedia=0: 200' \
	"$(webhook "$(mms SM00000000000000000000000000000002 0)")" 200
is 'a message without media has no "media"' \
	"$(jq -c 'select(.provider_id == "SM00000000000000000000000000000002") |
	    has("media")' "$ib"/msg/$A/*)" false

is 'NumMedia=2 with one MediaUrl: refused (400)' \
	"$(webhook "$(mms MM00000000000000000000000000000003 2 "$M/ME0|image/png")")" 400
check 'the listener says which field is missing' \
	"poll 'grep -q \"missing MediaUrl1\" \"$tmp/L.err\"'"
is 'and nothing is stored for it' \
	"$(cat "$ib"/msg/$A/* | jq -c 'select(.provider_id ==
	    "MM00000000000000000000000000000003")' | wc -l | tr -d ' ')" 0

done_testing
