#!/bin/sh
# An inbox made before the ledgers were files (smsdesk-inbox(5), Ledgers)
# holds a symbolic link per entry: ids/KEY for a provider id or a client
# key, outbox/ID for a message not yet settled. The programs of today
# read those links and lose nothing of such an inbox: a provider's retry
# of an old id is a duplicate, an old client key stops a second send, a
# delivery report for an old id is applied, and --reconcile settles the
# old outbox; and they make no link.
. "$(dirname "$0")/lib.sh"

twilio_env 0580
ib=$tmp/inbox
C=+15551230081	# a customer who wrote in, and was answered
D=+15551230082	# another, whose answer is reported on

# legacy IB: the ledgers of IB as an older version made them: each entry
# of the index a link ids/KEY, each message of the outbox a link
# outbox/ID; the index files and the outbox log gone.
# (Both read whole before a link is made: the readers list links too.)
legacy() {
	ledger_entries "$1" >"$tmp/entries" &&
	outbox_files "$1" >"$tmp/outbox" &&
	while read -r key to; do
		ln -s "$to" "$1/ids/$key" || return 1
	done <"$tmp/entries" &&
	while read -r f; do
		t=${f#"$1"/msg/}
		ln -s "../msg/$t" "$1/outbox/${t#*/}" || return 1
	done <"$tmp/outbox" &&
	rm -f "$1"/ids/[0-9a-f][0-9a-f] "$1/outbox/.log"
}

sim || { fail 'sms-sim starts'; done_testing; }
printf 'MessageSid=SM0580in&From=%s&To=%s&Body=Where+is+it\n' \
	"$(printf %s "$C" | sed 's/+/%2B/')" "$(printf %s "$US" | sed 's/+/%2B/')" \
	>"$tmp/in"
sms-recv -d "$ib" "$tmp/in" >/dev/null ||
	fail 'sms-recv stores a message'
for to in $C $D; do
	printf '{"to":"%s","body":"On its way","key":"k0580-%s"}\n' "$to" "$to"
done | sms-send -d "$ib" >"$tmp/sent" || fail 'sms-send sends two'
sidD=$(jq -r "select(.thread == \"$D\") | .provider_id" "$tmp/sent")
is 'both wait in the outbox for a final status' "$(outbox_ids "$ib" | wc -l)" 2

legacy "$ib" || fail 'the ledgers made links, as an older inbox has them'
check 'an older inbox: links in ids/ and outbox/, no ledger files' \
	'[ "$(find "$ib/ids" "$ib/outbox" -type l | wc -l)" = 7 ] &&
	 [ -z "$(find "$ib/ids" "$ib/outbox" -type f)" ]'

# The provider retries the message that came in.
sms-recv -d "$ib" "$tmp/in" >"$tmp/out" 2>"$tmp/err"
is 'a retry of an id of the older inbox: exit 0' $? 0
is 'it is a duplicate: stored once, not announced again' \
	"$(grep -l SM0580in "$ib/msg/$C"/* | wc -l) $(wc -c <"$tmp/out")" '1 0'

# The same batch again: the client keys say it was sent.
n0=$(creates)
for to in $C $D; do
	printf '{"to":"%s","body":"On its way","key":"k0580-%s"}\n' "$to" "$to"
done | sms-send -d "$ib" >"$tmp/out" 2>"$tmp/err"
is 'the batch again, keys of the older inbox: exit 0' $? 0
is 'nothing is sent again' "$(($(creates) - n0))" 0
is 'each found as sent' "$(jq -s 'map(select(.provider_id)) | length' \
	"$tmp/out")" 2

# A delivery report for an id of the older inbox.
printf '%s\n' "MessageSid=$sidD&MessageStatus=delivered" >"$tmp/dlr"
sms-recv -d "$ib" <"$tmp/dlr" >/dev/null 2>"$tmp/err"
is 'a delivery report for it: exit 0' $? 0
check 'applied to its message' \
	"inbox-ls -d '$ib' $D | jq -e 'select(.direction == \"out\") |
	    .status == \"delivered\"'"
check 'which leaves the outbox, its link gone' \
	"[ \"\$(outbox_ids '$ib' | wc -l)\" = 1 ] &&
	 [ ! -L '$ib/outbox/$(jq -r "select(.thread == \"$D\") | .id" \
	     "$tmp/sent")' ]"

# --reconcile: the other message of the older outbox (asked about once
# it is older than the grace of 0 s: within a second of its sending, a
# run leaves it alone and prints nothing).
check '--reconcile over the older outbox: exit 0' \
	'poll "SMSDESK_RECONCILE_GRACE=0 sms-send -d \"\$ib\" --reconcile \
	    >\"\$tmp/out\" 2>\"\$tmp/err\" && [ -s \"\$tmp/out\" ]"'
check 'it settles the message the link names' \
	"jq -e '.thread == \"$C\" and .status == \"delivered\"' '$tmp/out'"
check 'the outbox is empty, its links gone' \
	"[ -z \"\$(outbox_ids '$ib')\" ] && [ -z \"\$(ls '$ib/outbox')\" ]"
is 'and nothing was sent again' "$(($(creates) - n0))" 0

# What the programs write now goes into the ledger files, never a link.
printf 'MessageSid=SM0580new&From=%s&To=%s&Body=Thanks\n' \
	"$(printf %s "$C" | sed 's/+/%2B/')" "$(printf %s "$US" | sed 's/+/%2B/')" |
	sms-recv -d "$ib" >/dev/null
check 'a new id: in the index, no link made' \
	"ledger_keys '$ib' | grep -qx twilio-SM0580new &&
	 [ ! -e '$ib/ids/twilio-SM0580new' ] && [ ! -L '$ib/ids/twilio-SM0580new' ]"
check 'and the links of the older inbox are still read' \
	"[ \"\$(ledger_target '$ib' twilio-SM0580in)\" = \
	    \"\$(readlink '$ib/ids/twilio-SM0580in')\" ]"

done_testing
