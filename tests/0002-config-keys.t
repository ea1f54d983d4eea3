#!/bin/sh
# smsdesk-config(5) lists exactly the keys the programs read: every key a
# program asks the configuration for (config_pick() in cmd/ and lib/, folders included, each
# provider's secret_key, the price.* keys of lib/price.c and the route.* keys of cmd/assign/route.c, the rule.* keys of lib/rules.c) has an entry in KEYS, and every entry
# is a key some program reads.
. "$(dirname "$0")/lib.sh"

page=$top/man/smsdesk-config.5
# The keys of the source: config_pick(cfg, flag, ENV, "key", default).
perl -0777 -ne 'while (/config_pick\(\s*[^,()]+,\s*[^,()]+,\s*(?:"[A-Z_]+"|NULL),\s*"([a-z_.]+)"/g) { print "$1\n" }' \
	"$top"/cmd/*.c "$top"/cmd/*/*.c "$top"/lib/*.c "$top"/lib/*/*.c | sort -u >"$tmp/code"
# A provider's signing secret (and signature method), read by sms-recv
# through its table.
sed -n 's/^[[:space:]]*\.\(secret\|sig_method\)_key = "\([a-z_]*\)",$/\2/p' \
	"$top"/lib/provider/*.c >>"$tmp/code"
grep -q '"price\."' "$top/lib/price.c" && echo price. >>"$tmp/code"
grep -q '"route\."' "$top/cmd/assign/route.c" && echo route. >>"$tmp/code"
grep -q '"rule\."' "$top/lib/rules.c" && echo rule. >>"$tmp/code"
sort -u -o "$tmp/code" "$tmp/code"
# The keys of the page: the .It entries of the KEYS list.
sed -n '/^\.Ss Keys/,/^\.Sh /p' "$page" | grep '^\.It Cm' |
	grep -o 'Cm [a-z_.]*' | sed 's/^Cm //' | sort -u >"$tmp/doc"

check 'the source reads some keys (the extraction works)' \
	'grep -qx twilio_account_sid "$tmp/code" && grep -qx price "$tmp/code"'
is 'every key read is documented, and every documented key is read' \
	"$(diff "$tmp/doc" "$tmp/code" | grep '^[<>]')" ''
check 'no program is promised for later ("not yet shipped")' \
	'! grep -qi "not yet shipped\|still being written" "$page"'

done_testing
