#!/bin/sh
# inbox-check --backup (smsdesk-inbox(5), Backups): a copy of an inbox
# taken while sms-recv receives a burst of texts is consistent: restored
# elsewhere, inbox-check finds nothing wrong in it; it holds every text
# acknowledged before it began; each of its threads is the live thread as
# it was at some moment (its messages a prefix of the live ones, its
# conversation counting exactly those); a copy taken once the burst is
# over lists the same as the inbox; and the restored copy is an inbox
# the programs go on with.
. "$(dirname "$0")/lib.sh"

twilio_env 0335
umask 077
LC_ALL=C
export LC_ALL

ib=$tmp/inbox
sms-recv -d "$ib" </dev/null || fail 'the inbox is made'
serve "$tmp/l.out" "$tmp/l.err" sms-recv -d "$ib" ||
	{ fail 'the listener starts'; done_testing; }
lpid=$server
url=http://127.0.0.1:$port/twilio

# driver N: post texts from 20 customers until $tmp/stop, ids SM<N><i>,
# logging "STATUS SID" a line.
driver() {
	d_i=0
	while ! [ -e "$tmp/stop" ] && [ "$d_i" -lt 3000 ]; do
		d_i=$((d_i + 1))
		d_sid=$(printf 'SM%d%031d' "$1" "$d_i")
		d_from=$(printf '1555123%04d' $((d_i % 20)))
		d_body="ToCountry=US&SmsMessageSid=$d_sid&NumMedia=0&SmsSid=$d_sid&SmsStatus=received&Body=burst+$d_i&To=%2B15550100000&NumSegments=1&MessageSid=$d_sid&AccountSid=$AC&From=%2B$d_from&ApiVersion=2010-04-01"
		d_sig=$(printf '%s' "$d_body" | sign "$url")
		d_code=$(curl -s -o /dev/null -w '%{http_code}' \
		    -H "X-Twilio-Signature: $d_sig" --data-binary "$d_body" \
		    --max-time 30 "$url")
		echo "$d_code $d_sid" >>"$tmp/log.$1"
	done
}
for n in 1 2 3 4; do
	driver "$n" &
	eval "dpid$n=\$!"
	pids="$pids $!"
done

count() { find "$ib/msg" -type f | wc -l | tr -d ' '; }
check 'the burst is under way' 'poll "[ \$(count) -ge 40 ]"'

# --- A check, and a backup, while the burst goes on ------------------------------

inbox-check -d "$ib" >"$tmp/live.out" 2>&1
is 'inbox-check of the inbox in use finds nothing wrong' \
	"$?:$(cat "$tmp/live.out")" '0:'

cat "$tmp"/log.* | awk '$1 == 200 { print $2 }' | sort >"$tmp/acked-before"
inbox-check -d "$ib" --backup "$tmp/bk1" >"$tmp/bk1.out" 2>"$tmp/bk1.err"
rc=$?
before=$(wc -l <"$tmp/acked-before" | tr -d ' ')
at_end=$(count)
alive=0
for n in 1 2 3 4; do eval "kill -0 \$dpid$n" 2>/dev/null && alive=$((alive + 1)); done
is 'inbox-check --backup during the burst: exit 0' "$rc" 0
check 'every finding in the copy was mended' \
	"jq -se 'all(.repaired == true)' '$tmp/bk1.out' >/dev/null"
[ -s "$tmp/bk1.out" ] && diag "mended in the copy: $(jq -r .check "$tmp/bk1.out" | sort | uniq -c | tr '\n' ' ')"
check "the texts kept coming while it copied ($before acknowledged before, $at_end stored by its end, $alive drivers running)" \
	"[ $alive -eq 4 ] && [ $at_end -gt $before ]"
touch "$tmp/stop"
for n in 1 2 3 4; do eval "wait \$dpid$n"; done

cp -a "$tmp/bk1" "$tmp/restored1"
inbox-check -d "$tmp/restored1" >"$tmp/r1.out" 2>"$tmp/r1.err"
is 'restored elsewhere: inbox-check finds nothing wrong' \
	"$?:$(cat "$tmp/r1.out" "$tmp/r1.err")" '0:'

# The messages of every thread, in order, as inbox-ls lists them:
# lines "THREAD ID1 ID2 ...".
threads() {
	inbox-ls -d "$1" --all --messages --json 2>>"$tmp/ls.err" |
	    jq -rs 'group_by(.thread)[] | "\(.[0].thread) \(map(.provider_id) | join(" "))"'
}
threads "$ib" >"$tmp/live"
threads "$tmp/restored1" >"$tmp/copy1"
missing=$(awk 'NR == FNR { for (i = 2; i <= NF; i++) have[$i] = 1; next }
    !($1 in have)' "$tmp/copy1" "$tmp/acked-before" | wc -l | tr -d ' ')
is 'every text acknowledged before the backup began is in it' "$missing" 0
notprefix=$(awk 'NR == FNR { live[$1] = $0; next }
    { l = live[$1]; if (substr(l, 1, length($0)) != $0) print $1 }' \
    "$tmp/live" "$tmp/copy1" | wc -l | tr -d ' ')
is 'each thread of the copy is the live thread at some moment (a prefix)' \
	"$notprefix" 0
check 'and the copy holds texts of several customers' \
	"[ \$(wc -l <'$tmp/copy1') -ge 5 ]"
is 'each conversation of the copy counts its messages' \
	"$(for c in "$tmp"/restored1/conv/*; do
		t=${c##*/}
		[ "$(tail -n 1 "$c" | jq .messages)" = \
		    "$(ls "$tmp/restored1/msg/$t" | wc -l | tr -d ' ')" ] || echo "$t"
	done)" ''
is 'no journal or tmp/ debris copied; queue/ to be rebuilt' \
	"$(ls -A "$tmp/bk1/journal" "$tmp/bk1/tmp" | grep -v ':$' | grep .):$(ls -A "$tmp/bk1/queue" | grep -c '^\.built$')" ':0'
is 'modes kept: directories 0700, files 0600' \
	"$(find "$tmp/restored1" -type d ! -perm 700 | wc -l | tr -d ' '):$(find "$tmp/restored1" -type f ! -perm 600 | wc -l | tr -d ' ')" '0:0'

# --- A backup once the burst is over: the same inbox -----------------------------

inbox-check -d "$ib" --backup "$tmp/bk2" >"$tmp/bk2.out" 2>&1
is 'a backup of the quiet inbox: exit 0, nothing to mend' \
	"$?:$(cat "$tmp/bk2.out")" '0:'
tar -C "$tmp" -czf "$tmp/bk2.tar.gz" bk2 && mkdir "$tmp/restored2" &&
    tar -C "$tmp/restored2" -xzf "$tmp/bk2.tar.gz" || fail 'tar and untar'
r2=$tmp/restored2/bk2
inbox-check -d "$r2" >"$tmp/r2.out" 2>&1
is 'restored from tar: inbox-check finds nothing wrong' "$?:$(cat "$tmp/r2.out")" '0:'
is 'inbox-ls lists the same conversations' \
	"$(inbox-ls -d "$r2" --all --json | sort)" \
	"$(inbox-ls -d "$ib" --all --json | sort)"
is 'and the same messages' \
	"$(inbox-ls -d "$r2" --all --messages --json | sort)" \
	"$(inbox-ls -d "$ib" --all --messages --json | sort)"
is 'and the same consent, ledger and history' \
	"$(cat "$r2"/ids/* "$r2"/history/* | sort | md5sum)" \
	"$(cat "$ib"/ids/* "$ib"/history/* | sort | md5sum)"
kill -TERM "$lpid"
wait "$lpid"

# The restored copy is an inbox: a retry of a text it holds is a
# duplicate, a new one is stored, assign rebuilds its queue.
sid=$(head -n 1 "$tmp/acked-before")
printf '{"from":"+15551230001","to":"%s","provider_id":"%s","body":"again"}\n{"from":"+15551239999","to":"%s","provider_id":"SMnew","body":"new"}\n' \
    "$US" "$sid" "$US" | sms-recv -d "$r2" >"$tmp/r2.recv" 2>&1
is 'the restored inbox takes texts: the retry a duplicate, the new one stored' \
	"$(jq -r 'select(.event == "message.received") | .message.provider_id' "$tmp/r2.recv")" SMnew
check 'assign --next rebuilds its queue and hands out a conversation' \
	'assign -d "$r2" --add ann >/dev/null &&
	 assign -d "$r2" --next --agent ann --json | jq -e .thread >/dev/null &&
	 [ -e "$r2/queue/.built" ]'
inbox_check "$r2"

check_exit 'a backup into a directory that exists: refused, exit 74' 74 \
	'inbox-check -d "$ib" --backup "$tmp/bk2"'
is 'and it is left as it was' "$(ls -A "$tmp/bk2" | wc -l | tr -d ' ')" 20

# A shared inbox (group = users) backed up by a member whose own group is
# another (nobody, of nogroup): the copy is the inbox's group's, and an
# inbox the member's programs accept. Needs root, to be nobody.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
    getent group users >/dev/null; then
	sh_d=$tmp/shared
	chmod 711 "$tmp"	# nobody passes through to its own
	install -d -m 2770 -g users "$sh_d"
	chown nobody "$sh_d"
	install -d -m 755 -o nobody "$tmp/nobody" "$tmp/nobody/xdg" \
	    "$tmp/nobody/xdg/smsdesk"
	printf 'group = users\n' >"$tmp/nobody/xdg/smsdesk/config"
	chown nobody "$tmp/nobody/xdg/smsdesk/config"
	chmod 600 "$tmp/nobody/xdg/smsdesk/config"
	as_member() {
		setpriv --reuid=nobody --regid=nogroup \
		    --groups="$(getent group users | cut -d: -f3)" \
		    env HOME="$tmp/nobody" XDG_CONFIG_HOME="$tmp/nobody/xdg" \
		    "$@"
	}
	printf '{"from":"+15551230007","to":"%s","provider_id":"SMshared","body":"hi"}\n' \
	    "$US" | as_member sms-recv -d "$sh_d" >/dev/null 2>&1
	check 'a member backs up a shared inbox: exit 0' \
		'as_member inbox-check -d "$sh_d" --backup "$tmp/nobody/copy"'
	is 'the copy is the group'"'"'s, setgid' \
		"$(stat -c '%G %a' "$tmp/nobody/copy")" 'users 2770'
	check 'and the member'"'"'s programs take it' \
		'as_member inbox-ls -d "$tmp/nobody/copy" --all --json |
		 jq -se "length == 1"'
	inbox_check_skip="${inbox_check_skip-} $sh_d $tmp/nobody/copy"	# nobody's: root's end check refuses them, as 0950 says
else
	for d in 'a member backs up a shared inbox' 'the copy is the group'"'"'s' \
	    'the member'"'"'s programs take it'; do
		skip "$d" 'not root: a member of a shared inbox cannot be played'
	done
fi

done_testing
