#!/bin/sh
# Programs know no carrier by name (issue 14): everything about a carrier,
# both directions (its account, requests, answers, webhooks, status words),
# lives in its file under lib/provider/, listed in lib/provider.c's table;
# the sending path (lib/send/) is carrier-neutral too. The one exception
# is sms-sim, the simulator, which plays each carrier on purpose (a part
# of it per carrier).
. "$(dirname "$0")/lib.sh"

cd "$top" || exit 1

carriers='twilio|telnyx|vonage|nexmo|plivo'
# What only a carrier's own wire has: Twilio's API version and form and
# JSON fields, its signature header, TwiML.
wire='2010-04-01|MessagingServiceSid|StatusCallback|MessageSid|SmsSid|'
wire="${wire}X-Twilio|TwiML|<Response>|next_page_uri|date_created|"
wire="${wire}Accounts/|/Messages"

neutral() {
	find cmd lib/send lib/send.h -type f \( -name '*.c' -o -name '*.h' \) |
	    grep -v '^cmd/sms-sim' | sort
}

neutral >"$tmp/files"
check 'there are programs to look at' 'test "$(wc -l <"$tmp/files")" -gt 10'
check 'sms-send and sms-recv among them' \
	'grep -qx cmd/sms-send.c "$tmp/files" && grep -qx cmd/sms-recv.c "$tmp/files"'

# Comments included: a program that says "Twilio" in a comment is one
# that still knows which carrier it talks to.
xargs grep -n -i -E "$carriers" <"$tmp/files" >"$tmp/named"
is 'no program and nothing in the sending path names a carrier' \
	"$(cat "$tmp/named")" ''
xargs grep -n -E "$wire" <"$tmp/files" >"$tmp/wire"
is 'nor builds or reads a carrier'\''s request, answer or webhook' \
	"$(cat "$tmp/wire")" ''

# The test itself can fail: a carrier's name in a program is seen.
printf '/* Twilio */\n' >"$tmp/probe.c"
check 'a name is seen when there is one' \
	"grep -q -i -E '$carriers' '$tmp/probe.c'"

# Every provider file is in the table, and is the one file of its carrier.
for f in lib/provider/*.c; do
	name=$(basename "$f" .c)
	check "lib/provider/$name.c defines provider_$name" \
	    "grep -q '^const struct provider provider_$name = {' '$f'"
	check "lib/provider.c lists provider_$name" \
	    "grep -q '&provider_$name,' lib/provider.c"
	check "lib/provider.h declares provider_$name" \
	    "grep -q 'extern const struct provider provider_$name;' lib/provider.h"
done
check 'no provider file is left outside lib/provider/' \
	'! ls lib/provider-*.c 2>/dev/null | grep -v provider-status'

done_testing
