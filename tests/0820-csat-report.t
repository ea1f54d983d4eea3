#!/bin/sh
# csat-survey report: the figures of a period from history/ (written here
# by hand, one event a line, as smsdesk-inbox(5) says the writers append
# them) and the working set; every expected number worked out by hand
# below. The clock is pinned (SMSDESK_NOW) at 2026-12-06T12:00:00Z; the
# period is 2026-11-30 (a Monday) to 2026-12-05T23:59:59Z, unless a check
# says otherwise.
. "$(dirname "$0")/lib.sh"

SMSDESK_NOW=2026-12-06T12:00:00Z
export SMSDESK_NOW
unset SMSDESK_INBOX
ib=$tmp/inbox
mkinbox "$ib"
mkdir -m 700 "$ib/history"

# ev JSON: append the event to the day file of its "at".
ev() {
	ev_d=$(printf '%s\n' "$1" | sed 's/.*"at": *"\([0-9-]*\)T.*/\1/')
	printf '%s\n' "$1" >>"$ib/history/$ev_d"
}
# msg AT THREAD ID DIR [EXTRA]: a "message" event of one segment.
msg() {
	ev "{\"event\":\"message\",\"at\":\"$1\",\"thread\":\"$2\",\"msg\":\"$3\",\"direction\":\"$4\",\"segments\":1${5:+,$5}}"
}
A=+15550000001 B=+15550000002 C=+15550000003 D=+15550000004
E=+15550000005 F=+15550000006 G=+15550000007

# D: a survey sent before the period (bo's), answered in it (1): counts
# nowhere in the period, in week 48 with --since 2026-11-25.
msg 2026-11-28T10:00:00Z $D d0 out '"purpose":"notification","status":"sent"'
ev '{"event":"surveyed","at":"2026-11-28T10:00:00Z","thread":"'$D'","survey":"d0","scale":"1-5","agent":"bo","until":"2026-12-01T10:00:00Z","resolved_at":"2026-11-28T09:59:00Z"}'
msg 2026-11-30T10:00:00Z $D d2 in '"csat":1'
ev '{"event":"answered","at":"2026-11-30T10:00:00Z","thread":"'$D'","survey":"d0","scale":"1-5","score":1,"comment":null,"agent":"bo","msg":"d2"}'

# B: an episode opened before the period (11-29 22:00), answered (ana,
# 7800 s) and resolved (10800 s) in it: not the period's episode; its
# survey, sent in the period, is never answered.
msg 2026-11-29T22:00:00Z $B b1 in
ev '{"event":"opened","at":"2026-11-29T22:00:00Z","thread":"'$B'","msg":"b1"}'
msg 2026-11-30T00:10:00Z $B b2 out '"purpose":"reply","agent":"ana","status":"delivered"'
ev '{"event":"first_response","at":"2026-11-30T00:10:00Z","thread":"'$B'","opened_at":"2026-11-29T22:00:00Z","seconds":7800,"agent":"ana","msg":"b2"}'
ev '{"event":"resolved","at":"2026-11-30T01:00:00Z","thread":"'$B'","opened_at":"2026-11-29T22:00:00Z","first_response_at":"2026-11-30T00:10:00Z","seconds":10800,"agent":"ana","by":{"user":"u","agent":"ana"}}'
msg 2026-11-30T01:05:00Z $B b3 out '"purpose":"notification","status":"sent"'
ev '{"event":"surveyed","at":"2026-11-30T01:05:00Z","thread":"'$B'","survey":"b3","scale":"1-5","agent":"ana","until":"2026-12-03T01:05:00Z","resolved_at":"2026-11-30T01:00:00Z"}'

# G: opened in the period, never answered, resolved after until (12-06):
# in every backlog of the period; resolved with no reply, so not due an
# answer; its resolution takes 6 days (518400 s), nobody's.
msg 2026-11-30T08:00:00Z $G g1 in
ev '{"event":"opened","at":"2026-11-30T08:00:00Z","thread":"'$G'","msg":"g1"}'

# A: opened, reopened twice, reassigned (ana, then bo).
msg 2026-12-01T09:00:00Z $A a1 in
ev '{"event":"opened","at":"2026-12-01T09:00:00Z","thread":"'$A'","msg":"a1"}'
# an automatic reply: a message, never a first response
msg 2026-12-01T09:00:02Z $A a2 out '"purpose":"notification","auto":"ack","status":"sent"'
ev '{"event":"assigned","at":"2026-12-01T09:02:00Z","thread":"'$A'","agent":"ana","was":null,"by":{"user":"u","agent":"ana"}}'
ev '{"event":"message","at":"2026-12-01T09:20:00Z","thread":"'$A'","msg":"a3","direction":"out","purpose":"reply","segments":2,"agent":"ana","status":"delivered"}'
ev '{"event":"first_response","at":"2026-12-01T09:20:00Z","thread":"'$A'","opened_at":"2026-12-01T09:00:00Z","seconds":1200,"agent":"ana","msg":"a3"}'
ev '{"event":"resolved","at":"2026-12-01T10:00:00Z","thread":"'$A'","opened_at":"2026-12-01T09:00:00Z","first_response_at":"2026-12-01T09:20:00Z","seconds":3600,"agent":"ana","by":{"user":"u","agent":"ana"}}'
msg 2026-12-01T10:05:00Z $A a4 out '"purpose":"notification","status":"sent"'
ev '{"event":"surveyed","at":"2026-12-01T10:05:00Z","thread":"'$A'","survey":"a4","scale":"1-5","agent":"ana","until":"2026-12-04T10:05:00Z","resolved_at":"2026-12-01T10:00:00Z"}'
msg 2026-12-01T10:06:00Z $A a5 in '"csat":5'
ev '{"event":"answered","at":"2026-12-01T10:06:00Z","thread":"'$A'","survey":"a4","scale":"1-5","score":5,"comment":null,"agent":"ana","msg":"a5"}'
msg 2026-12-02T08:00:00Z $A a6 in
ev '{"event":"reopened","at":"2026-12-02T08:00:00Z","thread":"'$A'","msg":"a6"}'
ev '{"event":"assigned","at":"2026-12-02T08:30:00Z","thread":"'$A'","agent":"bo","was":"ana","by":{"user":"u","agent":"bo"}}'
msg 2026-12-02T10:30:00Z $A a7 out '"purpose":"reply","agent":"bo","status":"delivered"'
ev '{"event":"first_response","at":"2026-12-02T10:30:00Z","thread":"'$A'","opened_at":"2026-12-02T08:00:00Z","seconds":9000,"agent":"bo","msg":"a7"}'
ev '{"event":"resolved","at":"2026-12-02T11:00:00Z","thread":"'$A'","opened_at":"2026-12-02T08:00:00Z","first_response_at":"2026-12-02T10:30:00Z","seconds":10800,"agent":"bo","by":{"user":"u","agent":"bo"}}'
msg 2026-12-02T11:05:00Z $A a8 out '"purpose":"notification","status":"sent"'
ev '{"event":"surveyed","at":"2026-12-02T11:05:00Z","thread":"'$A'","survey":"a8","scale":"1-5","agent":"bo","until":"2026-12-05T11:05:00Z","resolved_at":"2026-12-02T11:00:00Z"}'
msg 2026-12-02T11:10:00Z $A a10 in '"csat":3'
ev '{"event":"answered","at":"2026-12-02T11:10:00Z","thread":"'$A'","survey":"a8","scale":"1-5","score":3,"comment":null,"agent":"bo","msg":"a10"}'
# a torn line (a crash mid-append); the next writer starts a new line
printf '%s\n' '{"event":"message","at":"2026-12-02T2' >>"$ib/history/2026-12-02"
# a message with no direction: skipped and counted, as a torn line
ev '{"event":"message","at":"2026-12-02T11:11:00Z","thread":"'$A'","msg":"a10b","segments":1}'
# the comment: another "answered", the last one wins (2, not 3)
msg 2026-12-02T11:12:00Z $A a11 in
ev '{"event":"answered","at":"2026-12-02T11:12:00Z","thread":"'$A'","survey":"a8","scale":"1-5","score":2,"comment":"slow","agent":"bo","msg":"a11"}'

# C: opened late on 12-02, answered (ana, 4800 s) and resolved (10800 s)
# on 12-03: in the backlog at the end of 12-02. Its survey is answered
# after until (12-06: 4), and counts. Two lines written twice (a journal
# replay) count once.
msg 2026-12-02T23:00:00Z $C c1 in
ev '{"event":"opened","at":"2026-12-02T23:00:00Z","thread":"'$C'","msg":"c1"}'
ev '{"event":"opened","at":"2026-12-02T23:00:00Z","thread":"'$C'","msg":"c1"}'
msg 2026-12-03T00:20:00Z $C c2 out '"purpose":"reply","agent":"ana","status":"sent"'
ev '{"event":"first_response","at":"2026-12-03T00:20:00Z","thread":"'$C'","opened_at":"2026-12-02T23:00:00Z","seconds":4800,"agent":"ana","msg":"c2"}'
ev '{"event":"resolved","at":"2026-12-03T02:00:00Z","thread":"'$C'","opened_at":"2026-12-02T23:00:00Z","first_response_at":"2026-12-03T00:20:00Z","seconds":10800,"agent":"ana","by":{"user":"u","agent":"ana"}}'
msg 2026-12-03T02:05:00Z $C c4 out '"purpose":"notification","status":"sent"'
ev '{"event":"surveyed","at":"2026-12-03T02:05:00Z","thread":"'$C'","survey":"c4","scale":"1-5","agent":"ana","until":"2026-12-06T02:05:00Z","resolved_at":"2026-12-03T02:00:00Z"}'
ev '{"event":"surveyed","at":"2026-12-03T02:05:00Z","thread":"'$C'","survey":"c4","scale":"1-5","agent":"ana","until":"2026-12-06T02:05:00Z","resolved_at":"2026-12-03T02:00:00Z"}'

# F: a "thanks" resolved in 5 minutes with no reply, by nobody: not due
# an answer. Its lines are written with spaces (not as record_write()
# writes): read all the same.
ev '{"event": "message", "at": "2026-12-03T12:00:00Z", "thread": "'$F'", "msg": "f1", "direction": "in", "segments": 1}'
ev '{"event": "opened", "at": "2026-12-03T12:00:00Z", "thread": "'$F'", "msg": "f1"}'
ev '{"event":"resolved","at":"2026-12-03T12:05:00Z","thread":"'$F'","opened_at":"2026-12-03T12:00:00Z","first_response_at":null,"seconds":300,"agent":null,"by":{"user":"u","agent":null}}'

# A again: reopened on 12-04 23:30, answered by bo after until (12-06
# 00:30, 3600 s: within the hour), open now.
msg 2026-12-04T23:30:00Z $A a9 in
ev '{"event":"reopened","at":"2026-12-04T23:30:00Z","thread":"'$A'","msg":"a9"}'

# E: opened 12-05 20:00, an automatic away reply, never answered: due,
# missed (16 hours by now), open now.
msg 2026-12-05T20:00:00Z $E e1 in
ev '{"event":"opened","at":"2026-12-05T20:00:00Z","thread":"'$E'","msg":"e1"}'
msg 2026-12-05T20:00:01Z $E e2 out '"purpose":"notification","auto":"away","status":"sent"'
# the file's last line torn: no newline
printf '%s' '{"event":"resolved","at":"2026-12-05T21:0' >>"$ib/history/2026-12-05"

# After until (12-06): read for what became of the period's episodes and
# surveys, never counted as the period's own.
msg 2026-12-06T00:30:00Z $A a12 out '"purpose":"reply","agent":"bo","status":"sent"'
ev '{"event":"first_response","at":"2026-12-06T00:30:00Z","thread":"'$A'","opened_at":"2026-12-04T23:30:00Z","seconds":3600,"agent":"bo","msg":"a12"}'
ev '{"event":"resolved","at":"2026-12-06T08:00:00Z","thread":"'$G'","opened_at":"2026-11-30T08:00:00Z","first_response_at":null,"seconds":518400,"agent":null,"by":{"user":"u","agent":null}}'
msg 2026-12-06T09:00:00Z $C c5 in '"csat":4'
ev '{"event":"answered","at":"2026-12-06T09:00:00Z","thread":"'$C'","survey":"c4","scale":"1-5","score":4,"comment":null,"agent":"ana","msg":"c5"}'

# The working set now: A (reopened 12-04 23:30, bo's) and E.
mkconv "$ib" $A '{"assignee":"bo","opened_at":"2026-12-04T23:30:00Z"}'
mkconv "$ib" $E '{"opened_at":"2026-12-05T20:00:00Z"}'
chmod 600 "$ib"/history/*

period='--since 2026-11-30 --until 2026-12-05T23:59:59Z'
# rep ARGS...: the report of the period, NDJSON.
rep() { csat-survey report --dir "$ib" $period "$@"; }

# --- The total ----------------------------------------------------------
#
# Surveys sent in the period: b3 (unanswered), a4 (5), a8 (3 then 2: 2),
# c4 (4, answered after until); d0 was sent before. 3 of 4: 75.0 %;
# CSAT: 4 and 5 of 3 answers, 66.7 %; mean 11/3.
# Messages of the period: in d2 g1 a1 a5 a6 a10 a11 c1 f1 a9
# e1 = 11), out 10 (b2 b3 a2 a3 a4 a7 a8 c2 c4 e2), segments 22 (a3 has
# 2), conversations 7 (A-G).
# Episodes opened in it: G, A1, A2, C, F, A3, E = 7. First responses:
# A1 1200, A2 9000, C 4800, A3 3600: sorted 1200 3600 4800 9000, median
# (nearest rank 2) 3600, p90 (rank 4) 9000. Due an answer in the hour:
# those four and E (missed); G and F were resolved with no reply: 2 of 5
# (A1, A3 at exactly 3600) = 40.0 %. Resolutions: A1 3600, A2 10800,
# C 10800, F 300, G 518400: sorted 300 3600 10800 10800 518400, median
# (rank 3) 10800, p90 (rank 5) 518400. Backlog at until: G (resolved
# after it), A (open, from 12-04), E = 3. Skipped: the torn line of
# 12-02 and the message there with no direction; the last line of 12-05, with no newline, is never handed over
# (inbox_history_each(): an append may be under way).

check 'exit 0, nothing said on stderr, one record (the total)' \
	'rep >"$tmp/total" 2>"$tmp/err" && [ ! -s "$tmp/err" ] &&
	 [ "$(wc -l <"$tmp/total")" = 1 ]'
check 'the total: its period' \
	'jq -e ".type == \"report\" and .group == \"total\" and .key == null
	     and .since == \"2026-11-30T00:00:00Z\"
	     and .until == \"2026-12-05T23:59:59Z\"" "$tmp/total"'
check 'surveys 4, answers 3 (the last of a survey wins), rate 75.0' \
	'jq -e ".surveys == 4 and .answers == 3 and .response_rate == 75
	     and .scale == \"1-5\"" "$tmp/total"'
check 'CSAT 66.7, no NPS, mean 3.67, the distribution' \
	'grep -q "\"csat\":66.7,\"nps\":null,\"mean\":3.67,\"distribution\":{\"1\":0,\"2\":1,\"3\":0,\"4\":1,\"5\":1}," "$tmp/total"'
check 'volume: 7 conversations, 11 in, 10 out, 22 segments' \
	'jq -e ".conversations == 7 and .messages_in == 11 and
	     .messages_out == 10 and .segments == 22" "$tmp/total"'
check 'episodes 7 (a conversation reopened twice is three)' \
	'jq -e ".episodes == 7" "$tmp/total"'
check 'first responses: 4, median 3600, p90 9000, 40.0 % within the hour' \
	'jq -e ".first_responses == 4 and .first_response_median == 3600
	     and .first_response_p90 == 9000 and .within_1h == 40" \
	     "$tmp/total"'
check 'resolutions: 5, median 10800, p90 518400' \
	'jq -e ".resolutions == 5 and .resolution_median == 10800 and
	     .resolution_p90 == 518400" "$tmp/total"'
check 'backlog 3 at until; skipped: the torn line, the directionless one' \
	'jq -e ".backlog == 3 and .skipped == 2" "$tmp/total"'

# --- By day ---------------------------------------------------------------
#
#           surveys answers csat  mean  convs in out segs  episodes
# 11-30     1 (b3)  0       null  null  3     2  2   4     1 (G)
# 12-01     1 (a4)  1       100   5.00  1     2  3   6     1 (A1)
# 12-02     1 (a8)  1       0     2.00  2     4  2   6     2 (A2, C)
# 12-03     1 (c4)  1       100   4.00  2     1  2   3     1 (F)
# 12-04     0                           1     1  0   1     1 (A3)
# 12-05     0                           1     1  1   2     1 (E)
# First responses by the day the episode opened: 12-01 [1200], 12-02
# [4800 9000] (median 4800, p90 9000, none within the hour), 12-04 [3600];
# 12-05: E due and missed (0.0), 12-03: F not due (null).
# Backlog at each day's end: G on every day; C at the end of 12-02; A
# from 12-04; E on 12-05: 1 1 2 1 2 3.

check '--by day: six days and the total' \
	'rep --by day >"$tmp/day" &&
	 jq -se "[.[].key] == [\"2026-11-30\",\"2026-12-01\",\"2026-12-02\",
	     \"2026-12-03\",\"2026-12-04\",\"2026-12-05\",null] and
	     [.[].group] == [\"day\",\"day\",\"day\",\"day\",\"day\",\"day\",
	     \"total\"]" "$tmp/day"'
check '--by day: each day its own part of the period' \
	'jq -se ".[0].since == \"2026-11-30T00:00:00Z\" and
	     .[0].until == \"2026-11-30T23:59:59Z\" and
	     .[5].since == \"2026-12-05T00:00:00Z\" and
	     .[5].until == \"2026-12-05T23:59:59Z\"" "$tmp/day"'
check '--by day: surveys, answers, CSAT and mean by the day sent' \
	'jq -sce "[.[] | [.surveys, .answers, .csat, .mean]]" "$tmp/day" |
	 grep -qx "\[\[1,0,null,null\],\[1,1,100,5\],\[1,1,0,2\],\[1,1,100,4\],\[0,0,null,null\],\[0,0,null,null\],\[4,3,66.7,3.67\]\]"'
check '--by day: volume' \
	'jq -sce "[.[] | [.conversations, .messages_in, .messages_out,
	     .segments]]" "$tmp/day" |
	 grep -qx "\[\[3,2,2,4\],\[1,2,3,6\],\[2,4,2,6\],\[2,1,2,3\],\[1,1,0,1\],\[1,1,1,2\],\[7,11,10,22\]\]"'
check '--by day: episodes, first responses (the auto reply is none)' \
	'jq -sce "[.[] | [.episodes, .first_response_median,
	     .first_response_p90, .within_1h]]" "$tmp/day" |
	 grep -qx "\[\[1,null,null,null\],\[1,1200,1200,100\],\[2,4800,9000,0\],\[1,null,null,null\],\[1,3600,3600,100\],\[1,null,null,0\],\[7,3600,9000,40\]\]"'
check '--by day: resolutions by the day the episode opened' \
	'jq -sce "[.[] | [.resolutions, .resolution_median]]" "$tmp/day" |
	 grep -qx "\[\[1,518400\],\[1,3600\],\[2,10800\],\[1,300\],\[0,null\],\[0,null\],\[5,10800\]\]"'
check '--by day: the backlog at the end of each day' \
	'jq -sce "[.[].backlog]" "$tmp/day" | grep -qx "\[1,1,2,1,2,3,3\]"'

# --- By week --------------------------------------------------------------
#
# From 11-25: week 48 (to Sunday 11-29) holds D's survey (bo's, 1) and
# B's episode (answered in 7800 s, resolved in 10800 s, in the backlog at
# the week's end); d0 out and b1 in, on two threads. Week 49 is the
# period above.

check '--by week: weeks 48 and 49, and the total' \
	'csat-survey report --dir "$ib" --since 2026-11-25 \
	     --until 2026-12-05T23:59:59Z --by week >"$tmp/week" &&
	 jq -se "[.[].key] == [\"2026-W48\",\"2026-W49\",null] and
	     .[0].since == \"2026-11-25T00:00:00Z\" and
	     .[0].until == \"2026-11-29T23:59:59Z\" and
	     .[1].since == \"2026-11-30T00:00:00Z\"" "$tmp/week"'
check '--by week: week 48' \
	'jq -se ".[0] | .surveys == 1 and .answers == 1 and .mean == 1 and
	     .csat == 0 and .episodes == 1 and .first_response_median == 7800
	     and .resolution_median == 10800 and .conversations == 2 and
	     .messages_in == 1 and .messages_out == 1 and .backlog == 1" \
	     "$tmp/week"'
check '--by week: week 49 is the period of the total above' \
	'jq -se ".[1] | del(.group, .key)" "$tmp/week" >"$tmp/w49" &&
	 jq -e "del(.group, .key, .skipped)" "$tmp/total" >"$tmp/t49" &&
	 cmp "$tmp/w49" "$tmp/t49"'

# --- By day in the business's zone --------------------------------------
#
# New York is 5 hours behind UTC in winter: its 11-30 runs from
# 2026-11-30T05:00:00Z to 2026-12-01T04:59:59Z. So B's b2 and b3 (00:10Z
# and 01:05Z on 11-30) fall on its 11-29, before the period; its 11-30
# holds g1 and d2 (in 2, out 0); its 12-02 holds C's c2 and c4 (19:20 and
# 21:05 there) as well as a6 a7 a8 a10 a11 c1 (in 4, out 4).

check '--timezone America/New_York --since 2026-11-30: from its midnight' \
	'csat-survey report --dir "$ib" --timezone America/New_York \
	     --since 2026-11-30 --until 2026-12-05T23:59:59Z --by day \
	     >"$tmp/ny" &&
	 jq -se "[.[].key] == [\"2026-11-30\",\"2026-12-01\",\"2026-12-02\",
	     \"2026-12-03\",\"2026-12-04\",\"2026-12-05\",null] and
	     .[0].since == \"2026-11-30T05:00:00Z\" and
	     .[0].until == \"2026-12-01T04:59:59Z\" and
	     .[5].since == \"2026-12-05T05:00:00Z\" and
	     .[5].until == \"2026-12-05T23:59:59Z\"" "$tmp/ny"'
check '--timezone: each message on its local day' \
	'jq -sce "[.[0], .[2] | [.messages_in, .messages_out]]" "$tmp/ny" |
	 grep -qx "\[\[2,0\],\[4,4\]\]"'
check_exit '--timezone Mars/Olympus: a usage error (2)' 2 \
	'csat-survey report --dir "$ib" --timezone Mars/Olympus 2>"$tmp/err"'
check 'saying which zone' 'grep -q "^csat-survey: --timezone: .*Mars/Olympus" "$tmp/err"'

# --- By agent -------------------------------------------------------------
#
# ana: surveys b3 a4 c4, answered 5 and 4: 66.7 %, CSAT 100, mean 4.50;
#      out b2 a3 c2 (4 segments) on B, A, C; first responses A1 1200 and
#      C 4800 (1 of 2 within the hour); resolved A1 3600, C 10800.
# bo:  survey a8 (2): CSAT 0; out a7; first responses A2 9000, A3 3600;
#      resolved A2 10800.
# nobody: the automatic replies and the surveys (out 6 on A B C E);
#      resolved F 300 and G 518400.

check '--by agent: ana, bo, nobody (last), the total' \
	'rep --by agent >"$tmp/agent" &&
	 jq -se "[.[].key] == [\"ana\",\"bo\",null,null] and
	     [.[].group] == [\"agent\",\"agent\",\"agent\",\"total\"]" \
	     "$tmp/agent"'
check '--by agent: surveys by the survey'\''s agent' \
	'jq -sce "[.[] | [.surveys, .answers, .response_rate, .csat,
	     .mean]]" "$tmp/agent" |
	 grep -qx "\[\[3,2,66.7,100,4.5\],\[1,1,100,0,2\],\[0,0,null,null,null\],\[4,3,75,66.7,3.67\]\]"'
check '--by agent: outbound volume by the sender; inbound not kept' \
	'jq -sce "[.[] | [.conversations, .messages_in, .messages_out,
	     .segments]]" "$tmp/agent" |
	 grep -qx "\[\[3,null,3,4\],\[1,null,1,1\],\[4,null,6,6\],\[7,11,10,22\]\]"'
check '--by agent: first responses and resolutions by the event'\''s agent' \
	'jq -sce "[.[] | [.episodes, .first_response_median,
	     .first_response_p90, .within_1h, .resolution_median,
	     .resolution_p90, .backlog]]" "$tmp/agent" |
	 grep -qx "\[\[2,1200,4800,50,3600,10800,null\],\[2,3600,9000,50,10800,10800,null\],\[0,null,null,null,300,518400,null\],\[7,3600,9000,40,10800,518400,3\]\]"'

# --- CSV and the table ----------------------------------------------------

check '--csv: a header, a row per day, the total' \
	'rep --by day --csv >"$tmp/csv" && [ "$(wc -l <"$tmp/csv")" = 8 ] &&
	 head -n 1 "$tmp/csv" | grep -qx "group,key,since,until,surveys,answers,response_rate,scale,csat,nps,mean,conversations,messages_in,messages_out,segments,episodes,first_responses,first_response_median,first_response_p90,within_1h,resolutions,resolution_median,resolution_p90,backlog" &&
	 sed -n 2p "$tmp/csv" | grep -qx "day,2026-11-30,2026-11-30T00:00:00Z,2026-11-30T23:59:59Z,1,0,0.0,1-5,,,,3,2,2,4,1,0,,,,1,518400,518400,1" &&
	 tail -n 1 "$tmp/csv" | grep -qx "total,,2026-11-30T00:00:00Z,2026-12-05T23:59:59Z,4,3,75.0,1-5,66.7,,3.67,7,11,10,22,7,4,3600,9000,40.0,5,10800,518400,3"'
check '--csv --by agent: nobody'\''s key empty, inbound empty' \
	'rep --by agent --csv | sed -n 4p |
	 grep -q "^agent,,2026-11-30T00:00:00Z,2026-12-05T23:59:59Z,0,0,,,,,,4,,6,6,"'
check '--table in UTF-8: rows, and bars of block elements' \
	'LC_ALL=C.UTF-8 rep --by day --table >"$tmp/tab" &&
	 grep -q "^2026-12-02         1       1 100.0%   0.0%      -  2.00$" \
	     "$tmp/tab" &&
	 grep -q "^2026-12-02      2     4     2     6        2   1h20m 2h30m   0.0%   3h00m 3h00m        2$" \
	     "$tmp/tab" &&
	 grep -q "^total           7    11    10    22        7   1h00m 2h30m  40.0%   3h00m 6d00h        3$" \
	     "$tmp/tab" &&
	 grep -q "^Scores on 1-5, 3 answers$" "$tmp/tab" &&
	 grep -q "^  5     ████████████████████████████████████████ 1$" \
	     "$tmp/tab" && grep -q "^  3      0$" "$tmp/tab" &&
	 grep -q "^First replies (time to the first, at most), 4 episodes$" \
	     "$tmp/tab" &&
	 grep -q "^  ≤1h   ████████████████████████████████████████ 2$" \
	     "$tmp/tab" && grep -q "^  ≤5m    0$" "$tmp/tab" &&
	 grep -q "^2 history lines skipped" "$tmp/tab"'
check '--table in ASCII: # bars, nothing but ASCII' \
	'LC_ALL=C rep --table >"$tmp/tab" &&
	 grep -q "^  <=4h  ######################################## 2$" \
	     "$tmp/tab" && ! LC_ALL=C grep -q "[^ -~]" "$tmp/tab"'

# --- The period -------------------------------------------------------------

check 'by default the 7 days up to now' \
	'csat-survey report --dir "$ib" | jq -e ".since ==
	     \"2026-11-29T12:00:00Z\" and .until == \"2026-12-06T12:00:00Z\""'
check '--since DURATION: back from now' \
	'csat-survey report --dir "$ib" --since 1d | jq -e ".since ==
	     \"2026-12-05T12:00:00Z\" and .surveys == 0 and
	     .messages_in == 2 and .messages_out == 2"'
# A day file before --since's day is never opened: a FIFO there would
# fail the report that reads it.
mkfifo -m 600 "$ib/history/2026-11-20"
check 'only the days from --since on are read' \
	'rep >/dev/null && csat-survey report --dir "$ib" --since 2026-11-21 \
	     >/dev/null'
check_exit 'a day file that is no file: an error, naming it' 74 \
	'csat-survey report --dir "$ib" --since 2026-11-20 2>"$tmp/err"'
check 'its message' \
	'grep -qx "csat-survey: report: $ib/history/2026-11-20: not a regular file" \
	     "$tmp/err"'
rm -f "$ib/history/2026-11-20"

# --- Reopened by hand; NPS and mixed scales --------------------------------
#
# H: opened 12-01 12:00, answered in 600 s, resolved at 12:20; reopened by
# hand on 12-03 09:00 (its opened_at kept: the same episode goes on),
# resolved again 12-04 10:00: one episode, resolved in 252000 s (the last
# resolution), in the backlog at the end of 12-03 only. Surveys: four on
# 0-10 (10, 9, 7, 3: NPS (2 - 1) / 4 = 25.0) and one on 1-3 (3: CSAT 100),
# so the scale is "mixed", with no mean nor distribution.

ib2=$tmp/inbox2
mkinbox "$ib2"
mkdir -m 700 "$ib2/history"
H=+15550000008
ib_saved=$ib
ib=$ib2
msg 2026-12-01T12:00:00Z $H h1 in
ev '{"event":"opened","at":"2026-12-01T12:00:00Z","thread":"'$H'","msg":"h1"}'
ev '{"event":"first_response","at":"2026-12-01T12:10:00Z","thread":"'$H'","opened_at":"2026-12-01T12:00:00Z","seconds":600,"agent":"ana","msg":"h2"}'
ev '{"event":"resolved","at":"2026-12-01T12:20:00Z","thread":"'$H'","opened_at":"2026-12-01T12:00:00Z","first_response_at":"2026-12-01T12:10:00Z","seconds":1200,"agent":"ana","by":{"user":"u","agent":"ana"}}'
ev '{"event":"reopened","at":"2026-12-03T09:00:00Z","thread":"'$H'","by":{"user":"u","agent":"ana"}}'
ev '{"event":"resolved","at":"2026-12-04T10:00:00Z","thread":"'$H'","opened_at":"2026-12-01T12:00:00Z","first_response_at":"2026-12-01T12:10:00Z","seconds":252000,"agent":"ana","by":{"user":"u","agent":"ana"}}'
n=0
for sc in 10 9 7 3; do
	n=$((n + 1))
	ev '{"event":"surveyed","at":"2026-12-02T10:0'$n':00Z","thread":"+1555000010'$n'","survey":"s'$n'","scale":"0-10","agent":"bo","until":"2026-12-05T10:00:00Z","resolved_at":"2026-12-02T10:00:00Z"}'
	ev '{"event":"answered","at":"2026-12-02T11:0'$n':00Z","thread":"+1555000010'$n'","survey":"s'$n'","scale":"0-10","score":'$sc',"comment":null,"agent":"bo","msg":"x'$n'"}'
done
ev '{"event":"surveyed","at":"2026-12-02T10:09:00Z","thread":"+15550000109","survey":"s9","scale":"1-3","agent":"bo","until":"2026-12-05T10:00:00Z","resolved_at":"2026-12-02T10:00:00Z"}'
ev '{"event":"answered","at":"2026-12-02T11:09:00Z","thread":"+15550000109","survey":"s9","scale":"1-3","score":3,"comment":null,"agent":"bo","msg":"x9"}'
# after the period: an agent with a long name, not ASCII, with a comma
ev '{"event":"surveyed","at":"2026-12-06T01:00:00Z","thread":"+15550000110","survey":"s10","scale":"1-5","agent":"Zoë Ångström, Lindqvist","until":"2026-12-09T01:00:00Z","resolved_at":"2026-12-06T00:59:00Z"}'
chmod 600 "$ib2"/history/*
ib=$ib_saved

check 'reopened by hand: one episode, its last resolution' \
	'csat-survey report --dir "$ib2" $period >"$tmp/h" &&
	 jq -e ".episodes == 1 and .resolutions == 1 and
	     .resolution_median == 252000 and .first_response_median == 600" \
	     "$tmp/h"'
check 'reopened by hand: in the backlog from the reopening on' \
	'csat-survey report --dir "$ib2" $period --by day |
	 jq -sce "[.[].backlog]" | grep -qx "\[0,0,0,1,0,0,0\]"'
check 'NPS 25.0 on 0-10, CSAT 100.0 on 1-3: scale mixed' \
	'jq -e ".surveys == 5 and .answers == 5 and .nps == 25 and
	     .csat == 100 and .scale == \"mixed\" and .mean == null and
	     .distribution == null" "$tmp/h"'
check 'on 0-10 alone: its mean and distribution' \
	'csat-survey report --dir "$ib2" --since 2026-12-02T10:00:00Z \
	     --until 2026-12-02T10:05:00Z | grep -q "\"scale\":\"0-10\",\"csat\":null,\"nps\":25.0,\"mean\":7.25,\"distribution\":{\"0\":0,\"1\":0,\"2\":0,\"3\":1,\"4\":0,\"5\":0,\"6\":0,\"7\":1,\"8\":0,\"9\":1,\"10\":1},"'
check 'the table draws each scale' \
	'LC_ALL=C csat-survey report --dir "$ib2" $period --table >"$tmp/tab" &&
	 grep -q "^Scores on 0-10, 4 answers$" "$tmp/tab" &&
	 grep -q "^Scores on 1-3, 1 answer$" "$tmp/tab" &&
	 grep -q "^  10    ######################################## 1$" \
	     "$tmp/tab"'
check 'a long name in the table: cut at 12 characters, still UTF-8' \
	'LC_ALL=C.UTF-8 csat-survey report --dir "$ib2" --since 2026-12-06 \
	     --by agent --table >"$tmp/tab" &&
	 iconv -f UTF-8 -t UTF-8 "$tmp/tab" >/dev/null &&
	 grep -q "^Zoë Ångström       1       0 " "$tmp/tab"'
check 'and in CSV, quoted' \
	'csat-survey report --dir "$ib2" --since 2026-12-06 --by agent --csv |
	 grep -q "^agent,\"Zoë Ångström, Lindqvist\",2026-12-06T00:00:00Z,"'

# --- No history, bad input --------------------------------------------------

mkinbox "$tmp/empty"
check 'no history/: all zeros, exit 0' \
	'csat-survey report --dir "$tmp/empty" 2>"$tmp/err" |
	 jq -e ".surveys == 0 and .messages_in == 0 and .episodes == 0 and
	     .csat == null and .backlog == 0 and .skipped == 0" &&
	 [ ! -s "$tmp/err" ]'
check_exit 'no inbox: 66' 66 \
	'csat-survey report --dir "$tmp/none" 2>/dev/null'
check_exit 'stdout full: 74' 74 \
	'rep >/dev/full 2>/dev/null'
check_exit '--by year: usage error' 2 \
	'rep --by year 2>"$tmp/err"'
check 'says what --by takes' \
	'grep -qx "csat-survey: --by: '\''year'\'' is not agent, day, week or month" "$tmp/err"'
check_exit '--since that is no time: usage error' 2 \
	'csat-survey report --dir "$ib" --since yesterday 2>"$tmp/err" &&
	 grep -q "^csat-survey: --since: '\''yesterday'\'': " "$tmp/err"'
check_exit '--since after --until: usage error' 2 \
	'csat-survey report --dir "$ib" --since 1d --until 2d 2>/dev/null'
check_exit '--until after now: usage error' 2 \
	'csat-survey report --dir "$ib" --until 2026-12-07 2>/dev/null'
check_exit '--json and --csv: usage error' 2 \
	'rep --json --csv 2>"$tmp/err"'
check 'says which' \
	'grep -qx "csat-survey: --json and --csv exclude each other" "$tmp/err"'
check_exit 'an operand: usage error' 2 'rep extra 2>/dev/null'
check '--help: the options, exit 0' \
	'csat-survey report --help | grep -q -- "--by GROUP"'

done_testing
