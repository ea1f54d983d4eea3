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
# For each provider of $PROVIDERS (lib.sh) that carries pictures on
# inbound, its webhook made by tests/tools/hook: Twilio, Telnyx and Plivo
# (their media servers as tests/0290 has them: Basic auth with Twilio's
# and Plivo's credentials, Telnyx's signed links without); Vonage's SMS
# API carries none, and is left out.
. "$(dirname "$0")/lib.sh"

carriers_env 0292

A=+15551230001

# A photo big enough to come in several reads: a JPEG's first bytes, then
# 200 KiB of noise.
mkdir "$tmp/files"
{ printf '\377\330\377\340\000\020JFIF\000'
  head -c 204800 /dev/urandom; } >"$tmp/files/photo.jpg"
size=$(wc -c <"$tmp/files/photo.jpg" | tr -d ' ')
sum=$(sha256sum <"$tmp/files/photo.jpg" | cut -c 1-64)

# media: $P's media server (tests/tools/media-files); its first GET
# /half/NAME stops half way and holds the connection.
media() {
	m_creds=$(api_creds "$P")
	[ "$P" = telnyx ] && m_creds=-
	serve "$tmp/F.out" "$tmp/F.err" "$tools/media-files" "$tmp/files" \
	    "$m_creds" || { fail "$P: the media server starts"; done_testing; }
	F=http://127.0.0.1:$port fpid=$server
	api_url "$P" "$F"	# the provider's API host, where its media are
}

# mms ID: an MMS from $A with one picture, /half/photo.jpg, in P's
# format; prints the status.
mms() {
	port=$lport hook_post "$P" inbound id="$1" from="$A" \
	    to=+15550100000 body=look media="$F/half/photo.jpg|image/jpeg"
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

for P in $providers; do
[ "$P" = vonage ] && continue	# no media in Vonage's SMS API
ib=$tmp/inbox-$P
# P's ids: Twilio's SIDs (MM for a picture message), the others' UUIDs.
case $P in
twilio)	id() { printf 'MM%032d' "$1"; } ;;
*)	id() { printf '%08d-0292-4000-8000-%012d' "$1" "$1"; } ;;
esac

media
serve "$tmp/L.out" "$tmp/L.err" "$bin/sms-recv" -d "$ib" \
    --provider "$P" || { fail "$P: the listener starts"; done_testing; }
lpid=$server lport=$port
S1=$(id 1)
is "$P: an MMS: 200 at once" "$(mms $S1)" 200
check "$P: the fetch stops half way, half the bytes in tmp/" \
	"poll 'grep -q \"^HALF /half/photo.jpg\" \"$tmp/F.out\" && partial'"
kill -KILL "$lpid"
wait "$lpid" 2>/dev/null
check "$P: killed (-9) in the middle: nothing in media/, nothing on the record" \
	"nothing_visible $S1 0"
check "$P: the half-written bytes are only tmp/ debris" partial

"$bin/sms-recv" -d "$ib" --fetch-media >"$tmp/out" 2>"$tmp/err"
is "$P: sms-recv --fetch-media: exit 0" "$?" 0
check "$P: the fetch starts over and gets the whole picture, checksum right" \
	"whole $S1"
is "$P: one message.media event for it" \
	"$(jq -r 'select(.event == "message.media") | .message.provider_id' \
	    "$tmp/out")" $S1
is "$P: asked twice in all: the killed fetch and the one that finished" \
	"$(grep -c '^GET /half/photo.jpg 200' "$tmp/F.out")" 2

# The debris goes with the sweep any sms-recv run makes (files of tmp/
# older than a day and a half: INBOX_SWEEP_AGE).
for f in "$ib"/tmp/*; do [ -f "$f" ] && touch -d '2 days ago' "$f"; done
"$bin/sms-recv" -d "$ib" --fetch-media >/dev/null 2>&1
is "$P: the sweep removes the debris" "$(ls -A "$ib/tmp" | wc -l | tr -d ' ')" 0
check "$P: the picture stays" "whole $S1"

# --- sms-recv --fetch-media, killed ---------------------------------------

kill "$fpid"
wait "$fpid" 2>/dev/null
media	# a new server: its first /half stops half way again
S2=$(id 2)
jq -cn --arg a "$A" --arg s $S2 --arg u "$F/half/photo.jpg" \
    --arg at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg p "$P" '{type: "message", thread: $a,
    direction: "in", from: $a, to: "+15550100000", body: "look",
    provider: $p, provider_id: $s, at: $at,
    media: [{url: $u, content_type: "image/jpeg"}]}' |
    "$bin/sms-recv" -d "$ib" >/dev/null 2>"$tmp/err"
is "$P: an MMS record read from stdin, stored unfetched" \
	"$(last $S2 | jq -c '.media[0] | [.url, has("file")]')" \
	"[\"$F/half/photo.jpg\",false]"
"$bin/sms-recv" -d "$ib" --fetch-media >"$tmp/out" 2>"$tmp/err" &
cron=$!
check "$P: --fetch-media stops half way" \
	"poll 'grep -q \"^HALF /half/photo.jpg\" \"$tmp/F.out\" && partial'"
kill -KILL "$cron"
wait "$cron" 2>/dev/null
check "$P: killed (-9): nothing in media/ for it, nothing on the record" \
	"nothing_visible $S2 1"
"$bin/sms-recv" -d "$ib" --fetch-media >"$tmp/out" 2>"$tmp/err"
is "$P: the next run: exit 0" "$?" 0
check "$P: it fetches the whole picture, checksum right" "whole $S2"
is "$P: two pictures in media/, one per message" \
	"$(find "$ib/media" -type f | wc -l | tr -d ' ')" 2
kill "$fpid"
wait "$fpid" 2>/dev/null
inbox_check "$ib"
done

done_testing
