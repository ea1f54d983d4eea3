#!/bin/sh
# Inbound media killed in the middle (issue 17; smsdesk-inbox(5), Media):
# a picture is written in tmp/ and named into media/THREAD only whole and
# synced, and the message's record says "file" only after that. So a
# kill -9 while the bytes come in leaves nothing visible (no file in
# media/, nothing on the record), only tmp/ debris that the sweep
# removes, and the next fetch starts over and gets the whole picture,
# checksum and all. Tried twice: the listener's own fetcher killed, then
# sms-recv --fetch-media (the cron way) killed.
#
# PROVIDER names the carrier whose webhooks are posted ("twilio" for now;
# the issue "Any carrier" runs this file for each).
. "$(dirname "$0")/lib.sh"

PROVIDER=${PROVIDER:-twilio}
twilio_env 0292

ib=$tmp/inbox
A=+15551230001

# A photo big enough to come in several reads: a JPEG's first bytes, then
# 200 KiB of noise.
mkdir "$tmp/files"
{ printf '\377\330\377\340\000\020JFIF\000'
  head -c 204800 /dev/urandom; } >"$tmp/files/photo.jpg"
size=$(wc -c <"$tmp/files/photo.jpg" | tr -d ' ')
sum=$(sha256sum <"$tmp/files/photo.jpg" | cut -c 1-64)

# media: the provider's media server (tests/tools/media-files); its first
# GET /half/NAME stops half way and holds the connection.
media() {
	serve "$tmp/F.out" "$tmp/F.err" "$tools/media-files" "$tmp/files" \
	    "$AC:$TOK" || { fail 'the media server starts'; done_testing; }
	F=http://127.0.0.1:$port fpid=$server
	TWILIO_API_URL=$F	# the provider's API host, where its media are
	export TWILIO_API_URL
}

# mms SID: the form of an MMS from $A with one picture, /half/photo.jpg.
mms() {
	printf 'MessageSid=%s&AccountSid=%s&From=%%2B%s&To=%%2B15550100000&Body=look&NumMedia=1&MediaUrl0=%s&MediaContentType0=image%%2Fjpeg' \
	    "$1" "$AC" "${A#+}" "$(printf '%s' "$F/half/photo.jpg" | jq -sRr @uri)"
}

# last SID: the record of that message (its file's last line).
last() {
	for f in "$ib"/msg/$A/*; do
		tail -n 1 "$f" | jq -c --arg s "$1" 'select(.provider_id == $s)'
	done
}

# partial: tmp/ holds a file with some of the bytes, not all.
partial() {
	for f in "$ib"/tmp/*; do
		[ -f "$f" ] || continue
		n=$(wc -c <"$f" | tr -d ' ')
		[ "$n" -gt 0 ] && [ "$n" -lt "$size" ] && return 0
	done
	return 1
}

# nothing_visible SID N: media/ holds N files (those of other messages),
# and the record of SID says nothing of a file.
nothing_visible() {
	[ "$(find "$ib/media" -type f | wc -l | tr -d ' ')" = "$2" ] &&
	    [ "$(last "$1" | jq -c '.media[0] | [has("file"), has("sha256"),
		has("error")]')" = '[false,false,false]' ]
}

# whole SID: the record names the file, whose bytes and checksum are the
# provider's.
whole() {
	w_file=$(last "$1" | jq -r '.media[0].file // empty')
	[ -n "$w_file" ] && cmp -s "$ib/$w_file" "$tmp/files/photo.jpg" &&
	    [ "$(last "$1" | jq -r '.media[0] | "\(.sha256) \(.size)"')" = \
		"$sum $size" ]
}

# --- The listener's fetcher, killed ---------------------------------------

media
serve "$tmp/L.out" "$tmp/L.err" "$bin/sms-recv" -d "$ib" \
    --provider "$PROVIDER" || { fail 'the listener starts'; done_testing; }
lpid=$server
S1=MM00000000000000000000000000000001
is 'an MMS: 200 at once' "$(webhook "$(mms $S1)")" 200
check 'the fetch stops half way, half the bytes in tmp/' \
	"poll 'grep -q \"^HALF /half/photo.jpg\" \"$tmp/F.out\" && partial'"
kill -KILL "$lpid"
wait "$lpid" 2>/dev/null
check 'killed (-9) in the middle: nothing in media/, nothing on the record' \
	"nothing_visible $S1 0"
check 'the half-written bytes are only tmp/ debris' partial

"$bin/sms-recv" -d "$ib" --fetch-media >"$tmp/out" 2>"$tmp/err"
is 'sms-recv --fetch-media: exit 0' "$?" 0
check 'the fetch starts over and gets the whole picture, checksum right' \
	"whole $S1"
is 'one message.media event for it' \
	"$(jq -r 'select(.event == "message.media") | .message.provider_id' \
	    "$tmp/out")" $S1
is 'asked twice in all: the killed fetch and the one that finished' \
	"$(grep -c '^GET /half/photo.jpg 200' "$tmp/F.out")" 2

# The debris goes with the sweep any sms-recv run makes (files of tmp/
# older than a day and a half: INBOX_SWEEP_AGE).
for f in "$ib"/tmp/*; do [ -f "$f" ] && touch -d '2 days ago' "$f"; done
"$bin/sms-recv" -d "$ib" --fetch-media >/dev/null 2>&1
is 'the sweep removes the debris' "$(ls -A "$ib/tmp" | wc -l | tr -d ' ')" 0
check 'the picture stays' "whole $S1"

# --- sms-recv --fetch-media, killed ---------------------------------------

kill "$fpid"
wait "$fpid" 2>/dev/null
media	# a new server: its first /half stops half way again
S2=MM00000000000000000000000000000002
jq -cn --arg a "$A" --arg s $S2 --arg u "$F/half/photo.jpg" \
    --arg at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '{type: "message", thread: $a,
    direction: "in", from: $a, to: "+15550100000", body: "look",
    provider: "twilio", provider_id: $s, at: $at,
    media: [{url: $u, content_type: "image/jpeg"}]}' |
    "$bin/sms-recv" -d "$ib" >/dev/null 2>"$tmp/err"
is 'an MMS record read from stdin, stored unfetched' \
	"$(last $S2 | jq -c '.media[0] | [.url, has("file")]')" \
	"[\"$F/half/photo.jpg\",false]"
"$bin/sms-recv" -d "$ib" --fetch-media >"$tmp/out" 2>"$tmp/err" &
cron=$!
check '--fetch-media stops half way' \
	"poll 'grep -q \"^HALF /half/photo.jpg\" \"$tmp/F.out\" && partial'"
kill -KILL "$cron"
wait "$cron" 2>/dev/null
check 'killed (-9): nothing in media/ for it, nothing on the record' \
	"nothing_visible $S2 1"
"$bin/sms-recv" -d "$ib" --fetch-media >"$tmp/out" 2>"$tmp/err"
is 'the next run: exit 0' "$?" 0
check 'it fetches the whole picture, checksum right' "whole $S2"
is 'two pictures in media/, one per message' \
	"$(find "$ib/media" -type f | wc -l | tr -d ' ')" 2

done_testing
