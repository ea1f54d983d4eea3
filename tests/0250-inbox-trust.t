#!/bin/sh
# The inbox is a tree others may touch (smsdesk-inbox(5), Trust): a
# symbolic link or a FIFO planted anywhere in it is never followed and
# never blocks a program; a directory others may write is refused, unless
# the group is the one the configuration trusts; every change records who
# made it.
#
# The table of what each program did with each plant is printed as TAP
# comment lines (prove -v shows them).
. "$(dirname "$0")/lib.sh"

twilio_env 0250
unset SMSDESK_AGENT
umask 022

T=+15551234567
me=$(id -un)

# rec BODY PID: an inbound message record from T, for sms-recv on stdin.
rec() {
	printf '{"from":"%s","to":"%s","body":"%s","provider_id":"%s"}\n' \
	    "$T" "$US" "$1" "$2"
}

# A template inbox: one message from T, its conversation, its ledger entry.
tpl=$tmp/tpl
rec hello SMtpl1 | sms-recv -d "$tpl" >/dev/null 2>"$tmp/err"
ok $? 'a template inbox' || sed 's/^/# /' "$tmp/err" >&2
name=$(ls "$tpl/msg/$T" | head -n 1)

# What lies outside the inbox, to be left as it is: a file that holds a
# record (T's conversation), which a program that followed a link to it
# would take for its own and append to.
out=$tmp/outside
tail -n 1 "$tpl/conv/$T" >"$tmp/record"
outside() {
	rm -rf "$out"
	mkdir "$out" "$out/dir" && cp "$tmp/record" "$out/file"
}
outside

# plant KIND PATH: put at PATH a symbolic link to a file outside, to a
# directory outside, to nothing, or a FIFO.
plant() {
	rm -rf "$2"
	mkdir -p "${2%/*}"
	case $1 in
	file) ln -s "$out/file" "$2" ;;
	dir) ln -s "$out/dir" "$2" ;;
	dangling) ln -s "$out/none" "$2" ;;
	fifo) mkfifo "$2" ;;
	esac
}

# untouched: the outside is as it was.
untouched() {
	cmp -s "$out/file" "$tmp/record" &&
	[ -z "$(ls -A "$out/dir")" ] &&
	[ ! -e "$out/none" ] && [ ! -L "$out/none" ]
}

# what RC ERRFILE: a table cell: the exit status, and what was said.
what() {
	w=
	grep -q 'symbolic link' "$2" && w=link
	grep -q 'not a regular file' "$2" && w=${w:+$w,}notreg
	grep -q 'Not a directory' "$2" && w=${w:+$w,}notdir
	grep -q 'Is a directory' "$2" && w=${w:+$w,}isdir
	grep -q 'not a link to a message' "$2" && w=${w:+$w,}notmsg
	[ "$1" -eq 124 ] && w=HUNG
	printf '%s%s' "$1" "${w:+:$w}"
}

sim A || { fail 'sms-sim starts'; done_testing; }

# The entries of the layout, as planted: a directory of the inbox, a
# thread's directory, a file, a ledger link; lock/key-* is all 256 key
# locks, with a parked report so that the new message takes its key's lock;
# ids/* all 256 files of the id index, outbox/.log the outbox's log.
entries="tmp msg conv work ids consent status lock quarantine outbox journal
msg/$T msg/$T/$name conv/$T work/$T ids/twilio-SMtpl1 ids/twilio-SMnew
consent/$T status/twilio-SMnew outbox/planted lock/$T lock/key-*
journal/dead.0 tmp/planted quarantine/planted rate rate/$US ids/*
outbox/.log lock/outbox"

table="entry kind recv ls thread mark send"
n=0
for entry in $entries; do
	for kind in file dir dangling fifo; do
		n=$((n + 1))
		ib=$tmp/ib$n
		cp -a "$tpl" "$ib"
		if [ "$entry" = 'lock/key-*' ]; then
			i=0
			while [ $i -lt 256 ]; do
				plant $kind "$ib/lock/key-$(printf %02x $i)"
				i=$((i + 1))
			done
			jq -cn '{type:"status",provider:"twilio",
			    provider_id:"SMnew",status:"delivered",
			    error_code:null,at:"2026-11-22T09:00:00Z"}' \
			    >"$ib/status/twilio-SMnew"
		elif [ "$entry" = 'ids/*' ]; then
			i=0
			while [ $i -lt 256 ]; do
				plant $kind "$ib/ids/$(printf %02x $i)"
				i=$((i + 1))
			done
		else
			plant $kind "$ib/$entry"
		fi
		row="$entry $kind"
		bad=
		for p in recv ls thread mark send; do
			case $p in
			recv) rec new SMnew | timeout 20 sms-recv -d "$ib" ;;
			ls) timeout 20 inbox-ls -d "$ib" --all ;;
			thread) timeout 20 inbox-ls -d "$ib" "$T" ;;
			mark) timeout 20 inbox-mark -d "$ib" --resolve "$T" ;;
			send) timeout 20 sms-send -d "$ib" --rate 1000/s \
			    --thread "$T" hi ;;
			esac >"$tmp/out" 2>"$tmp/err" </dev/null
			rc=$?
			row="$row $(what $rc "$tmp/err")"
			[ $rc -eq 124 ] && bad="$bad $p:hung"
			untouched || bad="$bad $p:wrote-outside"
			# A refusal names what it refused.
			stem=${entry%%\**}
			if [ $rc -ne 0 ] && ! grep -qF "$stem" "$tmp/err"; then
				bad="$bad $p:unclear($(head -c 200 "$tmp/err"))"
			fi
			untouched || outside
		done
		table="$table
$row"
		is "$entry, $kind: nothing outside written, nothing hung, \
every refusal names it" "$bad" ''
		rm -rf "$ib"
	done
done
printf '%s\n' "$table" | column -t | sed 's/^/# /'

# A journal that is not a regular file was planted (no writer makes one):
# a replay moves it to quarantine/ and says so once, and every writer goes
# on, rather than each stopping at it until someone removes it.
for kind in file dir dangling fifo directory; do
	ib=$tmp/jplant
	rm -rf "$ib"
	cp -a "$tpl" "$ib"
	if [ $kind = directory ]; then
		mkdir "$ib/journal/dead.0"
	else
		plant $kind "$ib/journal/dead.0"
	fi
	rec "after $kind" SMj$kind | timeout 20 sms-recv -d "$ib" \
	    >/dev/null 2>"$tmp/err"
	is "journal/dead.0, $kind: sms-recv stores the message, exit 1" \
	    "$? $(inbox-ls -d "$ib" $T | jq -r .body | grep -c "after $kind")" \
	    '1 1'
	check "said once, naming it and where it went" \
	    "grep -q 'journal/dead.0: .*; moved to quarantine/.*_dead.0' \
	    '$tmp/err'"
	check "moved aside" \
	    "[ ! -e '$ib/journal/dead.0' ] && [ ! -L '$ib/journal/dead.0' ] &&
	    ls '$ib/quarantine' | grep -q '_dead.0\$'"
	rec "again $kind" SMk$kind | timeout 20 sms-recv -d "$ib" \
	    >/dev/null 2>"$tmp/err"
	is "the next writer: exit 0, nothing said" "$? $(wc -c <"$tmp/err")" \
	    '0 0'
	untouched || { fail "journal/dead.0, $kind: outside written"; outside; }
done
ib=$tmp/jplant
mkfifo "$ib/journal/dead.1"
timeout 20 inbox-mark -d "$ib" --resolve $T >/dev/null 2>"$tmp/err"
is 'inbox-mark goes on past a planted journal (exit 1, said)' \
	"$? $(grep -c 'journal/dead.1' "$tmp/err") \
$(inbox-ls -d "$ib" --all | jq -r .status)" '1 1 resolved'
ln -s "$out/file" "$ib/journal/dead.0"
timeout 20 sms-send -d "$ib" --rate 1000/s --thread $T hi >/dev/null \
    2>"$tmp/err"
is 'and so does sms-send (its warnings leave its exit status)' "$? $(grep -c 'journal/dead.0' "$tmp/err") \
$(inbox-ls -d "$ib" $T | jq -r .body | grep -c '^hi$')" '0 1 1'

# A ledger entry that is not a link to a message (a file, a FIFO, a
# directory, a link to anywhere else) was planted: left there, it would
# keep the message stored from its entry, and every replay of that
# provider id or client key would store or send it again. It is moved to
# quarantine/ and the entry made; a replay is a duplicate.
for kind in regular fifo directory file dangling; do
	ib=$tmp/idplant
	rm -rf "$ib"
	cp -a "$tpl" "$ib"
	case $kind in
	regular) echo planted >"$ib/ids/twilio-SMdup" ;;
	directory) mkdir "$ib/ids/twilio-SMdup" ;;
	*) plant $kind "$ib/ids/twilio-SMdup" ;;
	esac
	for i in 1 2 3; do
		rec "dup $kind" SMdup | timeout 20 sms-recv -d "$ib" \
		    >/dev/null 2>>"$tmp/err.$kind"
	done
	# Files, not inbox-ls: readers fold messages with one provider id.
	is "ids/twilio-SMdup, $kind: three deliveries of one id store it once" \
	    "$(grep -l SMdup "$ib/msg/$T"/* | wc -l)" 1
	check "the entry is the message's link" \
	    "[ \"\$(ledger_target '$ib' twilio-SMdup)\" = \
	    \"../msg/$T/\$(grep -l SMdup '$ib/msg/$T'/* | xargs basename)\" ]"
	is "what was planted: moved aside, said once" \
	    "$(ls "$ib/quarantine" | grep -c '_twilio-SMdup$') \
$(grep -c 'ids/twilio-SMdup: not a link to a message; moved to quarantine/' \
	    "$tmp/err.$kind")" '1 1'
	untouched || { fail "ids/twilio-SMdup, $kind: outside written"; outside; }
done
# A client key: sms-send sends a message once per key, however often run.
ib=$tmp/idplant
mkfifo "$ib/ids/key-k0250"
c0=$(creates A)
for i in 1 2; do
	echo "{\"to\":\"$T\",\"body\":\"keyed\",\"key\":\"k0250\"}" |
	    timeout 20 sms-send -d "$ib" --rate 1000/s >/dev/null 2>>"$tmp/err"
done
is 'ids/key-k0250 planted (a FIFO): two runs with one key send once' \
	"$(($(creates A) - c0)) $(inbox-ls -d "$ib" $T | jq -r .body |
	grep -c '^keyed$')" '1 1'

# Directories others may write are refused, and say what to run.
ib=$tmp/perm
cp -a "$tpl" "$ib"
inbox_check_skip="${inbox_check_skip-} $ib"	# refused on purpose (modes)
chmod o+w "$ib/conv"
check_fail 'conv/ writable by others: refused' \
	'rec x SMp1 | sms-recv -d "$ib"'
check 'and said so' \
	"rec x SMp1 | sms-recv -d '$ib' 2>&1 | grep -F '$ib/conv: writable by others; refused (chmod o-w)'"
check_fail 'by inbox-ls too' 'inbox-ls -d "$ib"'
check_fail 'and inbox-mark' 'inbox-mark -d "$ib" --resolve $T'
chmod o-w "$ib/conv"
chmod g+w "$ib/lock"
check 'lock/ writable by the group: refused, unless trusted' \
	"inbox-ls -d '$ib' 2>&1 >/dev/null | grep -F '$ib/lock: writable by group'"
chmod g-w "$ib/lock"
chmod 777 "$ib/msg/$T"
check 'a thread directory writable by others: refused when opened' \
	"inbox-ls -d '$ib' $T 2>&1 >/dev/null | grep -F 'msg/$T: writable by others'"
check_fail 'and nothing is delivered into it' \
	'rec x SMp2 | sms-recv -d "$ib"'
chmod 755 "$ib/msg/$T"
chmod 777 "$ib"
check_fail 'the inbox itself writable by others: refused' 'inbox-ls -d "$ib"'
chmod 755 "$ib"
if [ "$(id -u)" -eq 0 ]; then
	chown nobody "$ib/status"
	check 'a directory owned by another user: refused' \
		"inbox-ls -d '$ib' 2>&1 | grep -F '$ib/status: owned by uid'"
	chown 0 "$ib/status"
else
	skip 'a directory owned by another user: refused' 'needs root'
fi
check 'all put back: accepted' 'inbox-ls -d "$ib" --all >/dev/null'

# A trusted group: group-writable directories of that group are taken,
# world-writable never; what is made is made for the group.
grp=$(id -gn)
mkdir -p "$XDG_CONFIG_HOME/smsdesk"
printf 'group = %s\n' "$grp" >"$XDG_CONFIG_HOME/smsdesk/config"
chmod 600 "$XDG_CONFIG_HOME/smsdesk/config"
chmod g+w "$ib/lock"
check 'the trusted group may write lock/' 'inbox-ls -d "$ib" --all >/dev/null'
chmod o+w "$ib/lock"
check_fail 'others never' 'inbox-ls -d "$ib" --all'
chmod o-w "$ib/lock"
gib=$tmp/group
mkdir "$gib"
inbox_check_skip="${inbox_check_skip-} $gib"	# a group not trusted, on purpose
chmod 2770 "$gib"
rec shared SMg1 | sms-recv -d "$gib" >/dev/null 2>"$tmp/err"
ok $? 'a group inbox takes a message' || sed 's/^/# /' "$tmp/err" >&2
is 'its directories: 2770, of the group' \
	"$(stat -c '%a %G' "$gib/conv" "$gib/msg/$T" | sort -u)" "2770 $grp"
is 'its files: 0660' \
	"$(stat -c %a "$gib/conv/$T" "$gib/msg/$T"/* "$gib/lock/$T" | sort -u)" 660
printf 'group = no-such-group-0250\n' >"$XDG_CONFIG_HOME/smsdesk/config"
check 'a group that does not exist: refused, named' \
	"inbox-ls -d '$gib' 2>&1 | grep -F \"group 'no-such-group-0250': no such group\""
rm "$XDG_CONFIG_HOME/smsdesk/config"

# The configuration says whom to trust: a FIFO in its place (here the
# inbox's own config, read when the user has none) is refused, not waited
# on, and so is a file another user owns.
ib=$tmp/cfgfifo
cp -a "$tpl" "$ib"
inbox_check_skip="${inbox_check_skip-} $ib"	# its config refused, on purpose
mkfifo "$ib/config"
check_exit 'a FIFO for a configuration file: refused, nothing waits' 78 \
	'timeout 20 inbox-ls -d "$ib" $T'
check 'said so' \
	"timeout 20 inbox-ls -d '$ib' 2>&1 | grep -F '$ib/config: not a regular file'"
rm "$ib/config"
if [ "$(id -u)" -eq 0 ]; then
	printf 'country = US\n' >"$ib/config"
	chmod 600 "$ib/config"
	chown nobody "$ib/config"
	check 'a configuration file another user owns: refused' \
		"inbox-ls -d '$ib' 2>&1 | grep -F '$ib/config: owned by uid'"
else
	skip 'a configuration file another user owns: refused' 'needs root'
fi

# Who did what: the Unix user, and the agent given.
ib=$tmp/audit
rec hi SMa1 | sms-recv -d "$ib" >/dev/null
is 'a delivery records its user on the message' \
	"$(jq -c .by "$ib/msg/$T"/*)" "{\"user\":\"$me\"}"
is 'and on the conversation' "$(tail -n 1 "$ib/conv/$T" | jq -c .by)" \
	"{\"user\":\"$me\"}"
SMSDESK_AGENT=ann inbox-mark -d "$ib" --assign ann $T >/dev/null
is 'inbox-mark records the user and the agent' \
	"$(tail -n 1 "$ib/conv/$T" | jq -c .by)" \
	"{\"user\":\"$me\",\"agent\":\"ann\"}"
is 'each version keeps its own' \
	"$(jq -c .by.agent "$ib/conv/$T" | tr '\n' ' ')" 'null "ann" '
SMSDESK_AGENT=bo sms-send -d "$ib" --thread $T 'on its way' >"$tmp/out"
is 'sms-send records them on the message it sends' \
	"$(jq -c .by "$tmp/out")" "{\"user\":\"$me\",\"agent\":\"bo\"}"
is 'and on the conversation' "$(tail -n 1 "$ib/conv/$T" | jq -c .by)" \
	"{\"user\":\"$me\",\"agent\":\"bo\"}"

done_testing
