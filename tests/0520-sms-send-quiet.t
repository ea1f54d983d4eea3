#!/bin/sh
# sms-send(1) --quiet-hours: no message starts between 21:00 and 08:00 in
# any time zone the recipient's number may be in (smsdesk(7), GUARANTEES:
# quiet hours).
# Deferred or refused, such a message makes no request to the provider
# and is not stored; a number with no known zone is refused.
#
# The clock is pinned with SMSDESK_NOW. 2026-11-23T03:30Z is 22:30 in New
# York, 21:30 in Chicago, 17:30 in Honolulu. The provider is sms-sim on
# 127.0.0.1, which logs every request it gets.
. "$(dirname "$0")/lib.sh"

twilio_env 0520
unset SMSDESK_NOW
ib=$tmp/inbox
mkinbox "$ib"
NIGHT=2026-11-23T03:30:00Z

# send TIME ARG...: sms-send at TIME into $ib, the record in $tmp/out.
send() {
	s_at=$1
	shift
	SMSDESK_NOW=$s_at sms-send -d "$ib" "$@" >"$tmp/out"
}

# --- Usage and configuration ---------------------------------------------------

check_exit 'a bad mode: usage error' 2 \
	'sms-send -n --quiet-hours=later --to +13125550100 hi'
check_exit 'a mode is attached, as in -Qrefuse' 0 \
	'SMSDESK_NOW=2026-11-23T15:00:00Z sms-send -n -Qrefuse --to +13125550100 hi'
mkdir -p "$tmp/config/smsdesk"
printf 'quiet_hours = 9pm-8am\n' >"$tmp/config/smsdesk/config"
chmod 600 "$tmp/config/smsdesk/config"
check_exit 'a quiet_hours window that does not parse: 78' 78 \
	'sms-send -n -Q --to +13125550100 hi'
printf 'quiet_hours_mode = sometimes\n' >"$tmp/config/smsdesk/config"
check_exit 'a bad quiet_hours_mode: 78' 78 \
	'sms-send -n --to +13125550100 hi'
rm "$tmp/config/smsdesk/config"
check_exit 'an SMSDESK_NOW that does not parse: 78' 78 \
	'SMSDESK_NOW=tonight sms-send -n -Q --to +13125550100 hi'

sim || { fail 'sms-sim starts'; done_testing; }

# --- Refused ------------------------------------------------------------------------

check_exit '21:30 in Chicago, --quiet-hours=refuse: exit 1' 1 \
	'send $NIGHT --quiet-hours=refuse --to +13125550100 "Your order shipped"'
check 'failed, quiet_hours, saying where and what time it is there' \
	'jq -e ".status == \"failed\" and .error.code == \"quiet_hours\" and
	    (.error.message | test(\"21:30 in America/Chicago\"))" "$tmp/out"'
is 'no request reached the provider' "$(creates)" 0
check 'and nothing was stored' '[ ! -e "$ib/msg/+13125550100" ]'

# --- Deferred ------------------------------------------------------------------------

check_exit 'the default mode defers: exit 75 (try again later)' 75 \
	'send $NIGHT --quiet-hours --to +13125550100 "Your order shipped"'
check 'status deferred, not_before 08:00 in Chicago' \
	'jq -e ".status == \"deferred\" and .error.code == \"quiet_hours\" and
	    .not_before == \"2026-11-23T14:00:00Z\" and
	    .body == \"Your order shipped\"" "$tmp/out"'
is 'no request' "$(creates)" 0
check 'nothing stored: a deferral keeps no place in the outbox' \
	'[ ! -e "$ib/msg/+13125550100" ] && [ -z "$(outbox_ids "$ib")" ]'
check_exit 'a dry run says the same' 75 \
	'send $NIGHT -n -Q --to +13125550100 hi'
check 'as a deferred record' \
	'jq -e ".status == \"deferred\" and .dry_run == null" "$tmp/out"'
check_exit 'at not_before, the deferred record sends' 0 \
	'jq -c "select(.status == \"deferred\")" "$tmp/out" |
	 SMSDESK_NOW=2026-11-23T14:00:00Z sms-send -d "$ib" -Q >"$tmp/out2"'
check 'with the provider'"'"'s status' \
	'jq -e ".status == \"queued\" and (.provider_id | startswith(\"SM\"))" "$tmp/out2"'
is 'one request' "$(creates)" 1
check 'a minute before, it would have been deferred again' \
	'send 2026-11-23T13:59:00Z -n -Q --to +13125550100 hi;
	 [ $? -eq 75 ] && jq -e ".not_before == \"2026-11-23T14:00:00Z\"" "$tmp/out"'

# --- Off by default ----------------------------------------------------------------

check_exit 'without --quiet-hours a message goes at any hour' 0 \
	'send $NIGHT --to +13125550100 "at night"'
is 'a second request' "$(creates)" 2

# --- Several zones -------------------------------------------------------------------

# Area code 928: Arizona (no DST) and the Navajo Nation (Mountain, DST).
check_exit '+1 928 at 08:30 MDT / 07:30 MST: deferred' 75 \
	'send 2026-07-01T14:30:00Z -n -Q --to +19285550100 hi'
check 'quiet in Phoenix; open when it is 08:00 there' \
	'jq -e "(.error.message | test(\"07:30 in America/Phoenix\")) and
	    .not_before == \"2026-07-01T15:00:00Z\"" "$tmp/out"'
check_exit 'the same number at 15:00Z goes' 0 \
	'send 2026-07-01T15:00:00Z -n -Q --to +19285550100 hi'
# +7 9 (a Russian mobile): Kaliningrad (UTC+2) to Kamchatka (UTC+12).
check_exit 'Russia at 11:59 in Moscow: 20:59 in Kamchatka is fine' 0 \
	'send 2026-11-23T08:59:00Z -n -Q --to +79161234567 hi'
check_exit 'at 12:00 in Moscow it is 21:00 in Kamchatka: deferred' 75 \
	'send 2026-11-23T09:00:00Z -n -Q --to +79161234567 hi'
check 'until 08:00 in Kaliningrad, 06:00Z the next day' \
	'jq -e ".not_before == \"2026-11-24T06:00:00Z\" and
	    (.error.message | test(\"Asia/Kamchatka\"))" "$tmp/out"'
# An area code not in the table: every zone from Newfoundland to Hawaii.
check_exit '+1 555 (no such area) at 20:00 in St. John'"'"'s: goes' 0 \
	'send 2026-11-23T23:30:00Z -n -Q --to +15555550100 hi'
check_exit 'at 21:00 there: deferred' 75 \
	'send 2026-11-24T00:30:00Z -n -Q --to +15555550100 hi'
check 'until 08:00 in Honolulu' \
	'jq -e ".not_before == \"2026-11-24T18:00:00Z\"" "$tmp/out"'

# --- Unknown zones ----------------------------------------------------------------

check_exit 'a number with no known zone (+800): refused, exit 1' 1 \
	'send 2026-11-23T15:00:00Z -Q --to +80012345678 hi'
check 'failed, unknown_zone, in daytime too' \
	'jq -e ".status == \"failed\" and .error.code == \"unknown_zone\"" "$tmp/out"'
is 'no request' "$(creates)" 2
check_exit 'without --quiet-hours it is not asked' 0 \
	'send 2026-11-23T15:00:00Z -n --to +80012345678 hi'

# --- A zone the business knows --------------------------------------------------

check_exit 'a record'"'"'s timezone beats the number'"'"'s: 19:30 in LA goes' 0 \
	'echo "{\"to\":\"+12125550100\",\"body\":\"hi\",\"timezone\":\"America/Los_Angeles\"}" |
	 SMSDESK_NOW=$NIGHT sms-send -d "$ib" -n -Q >"$tmp/out"'
check 'and the record keeps it' \
	'jq -e ".timezone == \"America/Los_Angeles\"" "$tmp/out"'
check_exit 'a timezone that is no zone: refused' 1 \
	'echo "{\"to\":\"+12125550100\",\"body\":\"hi\",\"timezone\":\"Mars/Base\"}" |
	 SMSDESK_NOW=2026-11-23T15:00:00Z sms-send -d "$ib" -n -Q >"$tmp/out"'
check 'as unknown_zone' \
	'jq -e ".error.code == \"unknown_zone\" and
	    (.error.message | test(\"Mars/Base\"))" "$tmp/out"'
check_exit 'an empty one is no timezone: New York at 22:30 defers' 75 \
	'echo "{\"to\":\"+12125550100\",\"body\":\"hi\",\"timezone\":\"\"}" |
	 SMSDESK_NOW=$NIGHT sms-send -d "$ib" -n -Q >/dev/null'

# --- DST ------------------------------------------------------------------------------

check_exit 'New York, 12:30Z on the day DST begins is 08:30 EDT: goes' 0 \
	'send 2026-03-08T12:30:00Z -n -Q --to +12125550100 hi'
check_exit '11:59Z is 07:59 EDT: deferred' 75 \
	'send 2026-03-08T11:59:00Z -n -Q --to +12125550100 hi'
check 'to 12:00Z, not 13:00Z as EST would say' \
	'jq -e ".not_before == \"2026-03-08T12:00:00Z\"" "$tmp/out"'

# --- A batch ------------------------------------------------------------------------

printf '%s\n' '{"to":"+18085550100","body":"aloha"}' \
	'{"to":"+12125550100","body":"good night"}' \
	'{"to":"+80012345678","body":"free"}' >"$tmp/batch"
check_exit 'a batch with a refusal: exit 1' 1 \
	'SMSDESK_NOW=$NIGHT sms-send -d "$ib" -Q <"$tmp/batch" >"$tmp/out"'
is 'Honolulu (17:30) sent, New York (22:30) deferred, +800 refused' \
	"$(jq -sc 'map([.to, .status, .error.code])' "$tmp/out")" \
	'[["+18085550100","queued",null],["+12125550100","deferred","quiet_hours"],["+80012345678","failed","unknown_zone"]]'
is 'one request for the three' "$(creates)" 3
check_exit 'deferrals alone: exit 75' 75 \
	'sed -n 2p "$tmp/batch" | SMSDESK_NOW=$NIGHT sms-send -d "$ib" -n -Q >/dev/null'

# --- Quiet hours that begin while a message waits --------------------------------

# The clock starts at 20:59:51 in New York and runs (SMSDESK_NOW ending
# in +); one request every 5 s: 20:59:51, 20:59:56, then 21:00:01. The
# third message passes the check when it is taken up (before 21:00) but
# its rate slot falls in the night: it must not go. The second has 4 s to
# spare for a slow start (a sanitizer build on a loaded machine took more
# than the 1 s an earlier version of this test left).
n0=$(creates)
for i in 1 2 3; do
	printf '{"to":"+1212555020%d","body":"edge %d"}\n' "$i" "$i"
done >"$tmp/edge"
SMSDESK_NOW=2026-11-24T01:59:51Z+ sms-send -d "$ib" -Q --jobs 1 -r 12/m \
    <"$tmp/edge" >"$tmp/out" 2>"$tmp/err"
rc=$?
is 'a window that begins during a rate wait: exit 75' "$rc" 75
is 'two sent before 21:00, the third not' \
	"$(jq -sc 'map([.to, .status, .error.code])' "$tmp/out")" \
	'[["+12125550201","queued",null],["+12125550202","queued",null],["+12125550203","failed","quiet_hours"]]'
check 'and it says it waited' 'jq -se ".[2].waited == true" "$tmp/out"'
is 'two requests, not three' "$(($(creates) - n0))" 2
check 'the thread records it as not sent' \
	'inbox-ls -d "$ib" --no-mark +12125550203 | jq -se ".[0].status == \"failed\" and .[0].error.code == \"quiet_hours\""'

# --- The configuration ---------------------------------------------------------------

printf 'quiet_hours_mode = refuse\nquiet_hours = 20:00-09:00\n' \
	>"$tmp/config/smsdesk/config"
chmod 600 "$tmp/config/smsdesk/config"
check_exit 'quiet_hours_mode in the config turns it on: 08:30 refused' 1 \
	'send 2026-11-23T14:30:00Z -n --to +13125550100 hi'
check 'in the configured window' \
	'jq -e ".error.message | test(\"quiet hours \\\\(20:00-09:00\\\\)\")" "$tmp/out"'
check_exit '--quiet-hours=off turns it off for one run' 0 \
	'send 2026-11-23T14:30:00Z -n --quiet-hours=off --to +13125550100 hi'
check_exit '--quiet-hours=defer beats the config'"'"'s refuse' 75 \
	'send 2026-11-23T14:30:00Z -n --quiet-hours=defer --to +13125550100 hi'
check '09:00 in Chicago' \
	'jq -e ".not_before == \"2026-11-23T15:00:00Z\"" "$tmp/out"'

done_testing
