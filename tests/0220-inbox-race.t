#!/bin/sh
# inbox-mark(1) and inbox-ls(1) racing: state changes from several
# processes at once on the same conversations, and listings taken
# meanwhile (smsdesk(7), GUARANTEES: listings are whole, no lost update).
#
# 50 conversations come in through sms-recv's file mode. Then, at once:
# 4 processes each add their own tag to conversation T 100 times
# (SMSDESK_RACE_ROUNDS), removing it in between (the last operation is an
# add), and check after every operation that their tag is there (or gone)
# as they left it; 2 processes flip the other 49 between resolved and
# open; and a loop takes listings,
# `inbox-ls --all --json` (every one must hold each of the 50 exactly once)
# and the working set (T, never resolved, exactly once, nothing twice).
# At the end T carries all 4 tags.
. "$(dirname "$0")/lib.sh"

unset SMSDESK_INBOX SMSDESK_PUBLIC_URL SMSDESK_PROVIDER
XDG_CONFIG_HOME=$tmp/config HOME=$tmp/home
export XDG_CONFIG_HOME HOME

if [ ! -x "$bin/inbox-mark" ] || [ ! -x "$bin/inbox-ls" ]; then
	skip 'concurrent marks and listings' \
	    "needs inbox-mark and inbox-ls in $bin"
	done_testing
fi

bg=
trap 'touch "$tmp/done"; for p in $bg; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

ib=$tmp/inbox
mark() { "$bin/inbox-mark" -d "$ib" "$@" </dev/null >/dev/null 2>>"$tmp/mark.err"; }

# --- 50 conversations ------------------------------------------------------

i=0
while [ $i -lt 50 ]; do
	printf '{"type":"message","from":"+1555800%04d","to":"+15550000000","body":"hello %d","provider_id":"SMrace%04d"}\n' $i $i $i
	i=$((i + 1))
done >"$tmp/in"
"$bin/sms-recv" -d "$ib" <"$tmp/in" >/dev/null
is '50 conversations through sms-recv' "$?:$(ls "$ib/conv" | wc -l | tr -d ' ')" 0:50
jq -r .from "$tmp/in" | sort >"$tmp/expected"
T=+15558000000
others=$(grep -v "^$T\$" "$tmp/expected" | tr '\n' ' ')

# --- Racing ------------------------------------------------------------------

steps=$(rounds SMSDESK_RACE_ROUNDS 100)

# tagger K: add tag tK to T $steps times, removing it in between; after each
# step T's record (conv/T, smsdesk-inbox(5)) must show the step, else an
# update was lost. The quoted "tK" appears in the record only as a tag.
tagger() {
	g_lost=0 g_failed=0 g_i=1
	while :; do
		mark --tag "t$1" "$T" || g_failed=$((g_failed + 1))
		tail -n 1 "$ib/conv/$T" | grep -q "\"t$1\"" || g_lost=$((g_lost + 1))
		[ $g_i -eq "$steps" ] && break
		mark --untag "t$1" "$T" || g_failed=$((g_failed + 1))
		tail -n 1 "$ib/conv/$T" | grep -q "\"t$1\"" && g_lost=$((g_lost + 1))
		g_i=$((g_i + 1))
	done
	echo "$g_lost $g_failed" >"$tmp/tagger.$1"
}

# flipper FIRST SECOND: set the 49 others to FIRST then SECOND, until done.
flipper() {
	f_n=0 f_failed=0
	while [ ! -e "$tmp/done" ]; do
		mark "--$1" $others || f_failed=$((f_failed + 1))
		mark "--$2" $others || f_failed=$((f_failed + 1))
		f_n=$((f_n + 2))
	done
	echo "$f_n $f_failed" >"$tmp/flipper.$1"
}

for k in 1 2 3 4; do
	tagger $k &
	bg="$bg $!"
done
taggers=$bg
flipper resolve reopen &
bg="$bg $!"
flipper reopen resolve &
bg="$bg $!"

# lister N: listings until the taggers are done, the whole inbox and the
# working set by turns; counts what each got wrong. (The thread is read
# from the compact NDJSON with awk: a process less per listing.)
lister() {
	l_all=0 l_missing=0 l_dup=0 l_extra=0 l_work=0 l_wmiss=0 l_wdup=0 l_failed=0
	while [ ! -e "$tmp/taggers-done" ]; do
		"$bin/inbox-ls" -d "$ib" --all --json >"$tmp/ls.$1" 2>>"$tmp/ls.err" ||
		    l_failed=$((l_failed + 1))
		set -- "$1" $(awk -v wantf="$tmp/expected" '
			BEGIN { while ((getline t <wantf) > 0) want[t] = 1 }
			/^{"type":"conversation"/ && match($0, /"thread":"[^"]*"/) {
				seen[substr($0, RSTART + 10, RLENGTH - 11)]++
			}
			END {
				for (t in want) if (!(t in seen)) m = 1
				for (t in seen) { if (seen[t] > 1) d = 1; if (!(t in want)) x = 1 }
				print m + 0, d + 0, x + 0
			}' "$tmp/ls.$1")
		l_all=$((l_all + 1)) l_missing=$((l_missing + $2))
		l_dup=$((l_dup + $3)) l_extra=$((l_extra + $4))
		"$bin/inbox-ls" -d "$ib" --json >"$tmp/ls.$1" 2>>"$tmp/ls.err" ||
		    l_failed=$((l_failed + 1))
		set -- "$1" $(awk -v t="$T" '
			/^{"type":"conversation"/ && match($0, /"thread":"[^"]*"/) {
				seen[substr($0, RSTART + 10, RLENGTH - 11)]++
			}
			END {
				for (k in seen) if (seen[k] > 1) d = 1
				print (seen[t] == 1 ? 0 : 1), d + 0
			}' "$tmp/ls.$1")
		l_work=$((l_work + 1)) l_wmiss=$((l_wmiss + $2)) l_wdup=$((l_wdup + $3))
	done
	echo "$l_all $l_missing $l_dup $l_extra $l_work $l_wmiss $l_wdup $l_failed" >"$tmp/lister.$1"
}
lister 1 &
bg="$bg $!"
lister 2 &
bg="$bg $!"
wait $taggers
touch "$tmp/taggers-done" "$tmp/done"
wait $bg
bg=
set -- $(cat "$tmp"/lister.? | awk '{ for (i = 1; i <= NF; i++) s[i] += $i }
	END { for (i = 1; i <= 8; i++) printf "%d ", s[i] }')
n_all=$1 missing=$2 dup=$3 extra=$4 n_work=$5 work_missing=$6 work_dup=$7 ls_failed=$8

lost=$(cat "$tmp"/tagger.? | awk '{ s += $1 } END { print s + 0 }')
failed=$(cat "$tmp"/tagger.? "$tmp"/flipper.* | awk '{ s += $2 } END { print s + 0 }')
flips=$(cat "$tmp"/flipper.* | awk '{ s += $1 } END { print s + 0 }')
final=$("$bin/inbox-ls" -d "$ib" --all --json |
    jq -c --arg t "$T" 'select(.thread == $t) | .tags | sort')
final_missing=$(printf '%s\n' "$final" | jq '["t1","t2","t3","t4"] - . | length')
lost=$((lost + final_missing))

diag "tag_ops=$((4 * 199)) flips=$flips mark_failures=$failed lost_updates=$lost"
diag "listings=$n_all listings_missing=$missing listings_dup=$dup listings_extra=$extra working_set_listings=$n_work working_set_missing_T=$work_missing working_set_dup=$work_dup"

is 'no inbox-mark failed' "$failed" 0
is 'lost_updates=0: every tag and untag stuck, all 4 tags at the end' "$lost:$final" '0:["t1","t2","t3","t4"]'
is 'listings_missing=0: every listing had all 50' "$missing" 0
is 'listings_dup=0: and none twice' "$dup:$extra" 0:0
is 'the working set: T every time, nothing twice' "$work_missing:$work_dup" 0:0
is 'every listing ran cleanly' "$ls_failed:$(cat "$tmp/ls.err" "$tmp/mark.err" 2>/dev/null)" 0:
check 'listings were taken while it raced' "[ $n_all -ge 20 ]"
is 'T is still open, with its one message unread' \
	"$(tail -n 1 "$ib/conv/$T" | jq -c '[.status,.messages,.unread]')" '["open",1,1]'
is 'the others are each open or resolved, with their message' \
	"$("$bin/inbox-ls" -d "$ib" --all --json | jq -s -c --arg t "$T" \
	    'map(select(.thread != $t)) | [length, (map(.status) | unique | . - ["open","resolved"] | length), (map(.messages) | unique)]')" \
	'[49,0,[1]]'
is 'the working set is exactly the open ones' \
	"$("$bin/inbox-ls" -d "$ib" --json | jq -r .thread | sort | tr '\n' ' ')" \
	"$("$bin/inbox-ls" -d "$ib" --all --json | jq -r 'select(.status != "resolved") | .thread' | sort | tr '\n' ' ')"

done_testing
