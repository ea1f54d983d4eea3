#!/bin/sh
# inbox-contacts(1) and contacts/ (issue 18): a customer's name and
# fields kept in the inbox, imported from CSV (RFC 4180) or NDJSON,
# edited one at a time, shown in the thread header of inbox-ls. Numbers
# are normalised as sms-send normalises them; a bad row is said as
# FILE:LINE and the rest imported. Names are personal data: a contact's
# file has a message's permissions. Long options throughout.
. "$(dirname "$0")/lib.sh"

unset SMSDESK_INBOX SMSDESK_COUNTRY
XDG_CONFIG_HOME=$tmp/config
export XDG_CONFIG_HOME
ib=$tmp/inbox
mkinbox "$ib"
A=+15556700001 B=+15556700002 C=+15556700003 D=+15556700004

# --- import: CSV ----------------------------------------------------------------

# A spreadsheet's export: a byte-order mark, CRLF, a "Phone" column,
# spaces in a header, quoted fields with commas, quotes and a line break,
# a national number (country US), an empty cell, a bad number, a short
# row.
printf '\357\273\277Name,Phone,First Name,Note\r\n' >"$tmp/c.csv"
printf '"Doe, Jane",%s,Jane,"says ""hi"""\r\n' "+1 (555) 670-0001" \
	>>"$tmp/c.csv"
printf 'Bob,555-670-0002,,"two\r\nlines"\r\n' >>"$tmp/c.csv"
printf 'Nobody,12ab,,\r\n' >>"$tmp/c.csv"
printf 'Short,%s\r\n' $C >>"$tmp/c.csv"
printf 'Dee,%s,,\r\n' $D >>"$tmp/c.csv"
check_exit 'a CSV with two bad rows: 1, the rest imported' 1 \
	'SMSDESK_COUNTRY=US inbox-contacts import --dir "$ib" "$tmp/c.csv" \
	    2>"$tmp/err"'
is 'each bad row said once, as FILE:LINE (a quoted line break counted)' \
	"$(cat "$tmp/err")" \
	"inbox-contacts: $tmp/c.csv:5: '12ab': not a phone number: letters
inbox-contacts: $tmp/c.csv:6: 2 fields, the header has 4"
is 'three contacts, by number' \
	"$(inbox-contacts ls --dir "$ib" | jq -r .number | tr '\n' ' ')" \
	"$A $B $D "
is 'fields as the file has them: quotes undone, headers as names' \
	"$(inbox-contacts show --dir "$ib" $A | jq -c '{type, number, name,
	    first_name, note}')" \
	"{\"type\":\"contact\",\"number\":\"$A\",\"name\":\"Doe, Jane\",\"first_name\":\"Jane\",\"note\":\"says \\\"hi\\\"\"}"
is 'a line break kept inside quotes; an empty cell sets nothing' \
	"$(inbox-contacts show --dir "$ib" $B | jq -c '[.note, .first_name]')" \
	'["two\r\nlines",null]'
check 'updated_at, a time' \
	'inbox-contacts show --dir "$ib" $A |
	 jq -e ".updated_at | test(\"^[0-9-]+T[0-9:]+Z$\")"'
check 'a file each, with a message'"'"'s permissions' \
	'[ "$(stat -c %a "$ib/contacts/$A")" = 600 ] &&
	 [ "$(stat -c %a "$ib/contacts")" = 700 ] &&
	 [ -z "$(ls -A "$ib/tmp")" ]'
check 'importing it again changes nothing' \
	'before=$(cat "$ib/contacts/$A") &&
	 SMSDESK_COUNTRY=US inbox-contacts import --dir "$ib" "$tmp/c.csv" \
	    2>/dev/null; [ "$(cat "$ib/contacts/$A")" = "$before" ]'
printf 'name,email\nX,x@example.com\n' >"$tmp/nonum.csv"
check_exit 'a CSV with no number column: 65, nothing imported' 65 \
	'inbox-contacts import --dir "$ib" "$tmp/nonum.csv" 2>"$tmp/err"'
check 'said' "grep -q 'nonum.csv:1: no \"number\" (or \"phone\") column' \
	'$tmp/err'"
printf 'number,e-mail!\n%s,x\n' $A >"$tmp/badhead.csv"
check_exit 'a header that is no field name: 65' 65 \
	'inbox-contacts import --dir "$ib" "$tmp/badhead.csv" 2>/dev/null'
printf 'number,name\n%s,"open\n' $A >"$tmp/open.csv"
check_exit 'a quote left open: that row refused, 1' 1 \
	'inbox-contacts import --dir "$ib" "$tmp/open.csv" 2>"$tmp/err"'
check 'said' "grep -q 'open.csv:2: a quote left open' '$tmp/err'"

# --- import: NDJSON, from stdin ----------------------------------------------------

printf '%s\n' "{\"number\":\"$C\",\"name\":\"Cy\",\"visits\":3,\"vip\":true}" \
	'{"number":"nope","name":"X"}' \
	"{\"phone\":\"$B\",\"name\":\"Bob B.\",\"note\":null}" \
	'not json' \
	"{\"number\":\"$A\",\"tags\":[\"x\"]}" >"$tmp/c.ndjson"
check_exit 'NDJSON on stdin, by its first byte: bad lines refused, 1' 1 \
	'inbox-contacts import --dir "$ib" <"$tmp/c.ndjson" 2>"$tmp/err"'
is 'three bad lines said with stdin:LINE' \
	"$(sed 's/:[^:]*$//' "$tmp/err" | cut -d: -f1-3)" \
	"inbox-contacts: stdin:2
inbox-contacts: stdin:4
inbox-contacts: stdin:5"
is 'numbers and truths kept as text; null removes' \
	"$(inbox-contacts show --dir "$ib" $C | jq -c '[.name, .visits, .vip]') \
$(inbox-contacts show --dir "$ib" $B | jq -c '[.name, .note]')" \
	'["Cy","3","true"] ["Bob B.",null]'
check 'ls | import round-trips' \
	'inbox-contacts ls --dir "$ib" >"$tmp/all" &&
	 inbox-contacts import --dir "$ib" "$tmp/all" &&
	 inbox-contacts ls --dir "$ib" | cmp -s - "$tmp/all"'

# --- set, show, ls ------------------------------------------------------------

check 'set: a field set, one removed, the contact printed' \
	'inbox-contacts set --dir "$ib" $A company=ACME first_name= |
	 jq -e ".company == \"ACME\" and (has(\"first_name\") | not) and
	    .name == \"Doe, Jane\""'
check 'set makes a contact' \
	'inbox-contacts set --dir "$ib" +15556700009 name=New >/dev/null &&
	 [ -f "$ib/contacts/+15556700009" ]'
check 'removing its last field removes it' \
	'inbox-contacts set --dir "$ib" +15556700009 name= &&
	 [ ! -e "$ib/contacts/+15556700009" ]'
check_exit 'set: a bad field name: 2' 2 \
	'inbox-contacts set --dir "$ib" $A Name=x 2>/dev/null'
check_exit 'set: the number is the contact'"'"'s own: 2' 2 \
	'inbox-contacts set --dir "$ib" $A number=+15550000000 2>/dev/null'
check_exit 'set: not FIELD=VALUE: 2' 2 \
	'inbox-contacts set --dir "$ib" $A name 2>/dev/null'
check_exit 'set: a bad number: 2' 2 \
	'inbox-contacts set --dir "$ib" 12ab name=x 2>/dev/null'
check_exit 'show: no such contact: 1' 1 \
	'inbox-contacts show --dir "$ib" +15556700099 2>"$tmp/err"'
check 'said' "grep -q '+15556700099: no such contact' '$tmp/err'"
check 'show --table: a field a line' \
	'inbox-contacts show --dir "$ib" --table $A | grep -qx "name  *Doe, Jane"'
check 'ls --table: NUMBER, NAME, the rest' \
	'inbox-contacts ls --dir "$ib" --table >"$tmp/t" &&
	 head -n 1 "$tmp/t" | grep -q "^NUMBER  *NAME  *FIELDS$" &&
	 grep -q "^$A  *Doe, Jane  *note=says \"hi\", company=ACME$" "$tmp/t"'
check 'options before the command too' \
	'inbox-contacts --dir "$ib" show $A >/dev/null'
check_exit 'no command: 2' 2 'inbox-contacts --dir "$ib" 2>/dev/null'
check_exit 'an unknown command: 2' 2 'inbox-contacts --dir "$ib" rm $A 2>/dev/null'
check_exit 'a missing inbox: 66' 66 \
	'inbox-contacts ls --dir "$tmp/none" 2>/dev/null'
check_exit 'a missing file: 66' 66 \
	'inbox-contacts import --dir "$ib" "$tmp/none.csv" 2>/dev/null'
check_exit 'stdout full: 74' 74 'inbox-contacts ls --dir "$ib" >/dev/full'
check 'an empty input imports nothing, and is no error' \
	'inbox-contacts import --dir "$ib" </dev/null'

# --- The thread header ----------------------------------------------------------

inbox_check_skip=$ib	# hand-made messages (mkmsg): no ledger entry, no history event
mkconv "$ib" $A '{"status":"open"}'
mkmsg "$ib" $A m1 in 2026-11-01T09:00:00Z 'Hello'
mkconv "$ib" $D '{"status":"open"}'
mkmsg "$ib" $D m1 in 2026-11-01T09:00:00Z 'Hi'
inbox-contacts set --dir "$ib" $D name= >/dev/null
check 'inbox-ls NUMBER on a terminal: the contact'"'"'s name in the header' \
	'inbox-ls --dir "$ib" --table --no-mark $A >"$tmp/t" &&
	 sed -n 2p "$tmp/t" | grep -qx "name      Doe, Jane"'
check 'no contact, no name line' \
	'inbox-ls --dir "$ib" --table --no-mark $D >"$tmp/t" &&
	 ! grep -q "^name " "$tmp/t" && sed -n 2p "$tmp/t" | grep -q "^status "'
check 'a name with control characters is shown safe' \
	'inbox-contacts set --dir "$ib" $A "name=$(printf "Eve\033[2Jx")" &&
	 inbox-ls --dir "$ib" --table --no-mark $A | sed -n 2p |
	 grep -qx "name      Eve \[2Jx"'

done_testing
