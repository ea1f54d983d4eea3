#!/bin/sh
# The documents say what the programs do, in the project's own words:
# promises are cited by their name in smsdesk(7), GUARANTEES (never by a
# number from a document outside the repository); the README's layout
# names every manual page; the README and sms-recv(1) say the same about
# what Twilio does with a 503. (Its section 1 pages are named as such.)
. "$(dirname "$0")/lib.sh"

cd "$top" || exit 1
self=tests/$(basename "$0")

# "P8", "P16": a promise by number ("P812Q0" in a unique name is none).
grep -rnE '(^|[^A-Za-z0-9_.])P[0-9]{1,2}([^0-9A-Za-z]|$)' lib cmd man \
	tests README.md Makefile completions | grep -v "^$self:" >"$tmp/p"
is 'no promise is cited by number' "$(cat "$tmp/p")" ''
is 'nor from reliability.md' \
	"$(grep -rln 'reliability\.md' lib cmd man tests README.md |
	    grep -v "^$self\$")" ''

# The names smsdesk(7) gives its guarantees, lowercased.
sed -n '/^\.Sh GUARANTEES/,/^\.Sh /p' man/smsdesk.7 | sed -n 's/^\.It //p' |
	tr 'A-Z' 'a-z' >"$tmp/names"
check 'smsdesk(7) has a GUARANTEES section' 'test -s "$tmp/names"'
# Every name cited just after "GUARANTEES: " is one of them.
# (a comment's lines joined first: a name may be cut by a line break).
find lib cmd tests man README.md -type f ! -path "$self" -exec perl -0777 \
    -ne 's/\n[ \t]*(?:\*|#|\/\/)?[ \t]*/ /g;
	while (/GUARANTEES: ([a-zA-Z -]*[a-zA-Z])/g) { print lc($1), "\n" }' \
    {} + | sort -u >"$tmp/cited"
check 'something cites them by name' 'test -s "$tmp/cited"'
while read -r name; do
	check "cited \"$name\" is a guarantee of smsdesk(7)" \
	    'grep -qxF "$name" "$tmp/names"'
done <"$tmp/cited"

for page in man/*.[57]; do
	name=$(basename "$page")
	ref="${name%.*}(${name##*.})"
	check "the README's layout names $ref" \
	    "sed -n '/^## Layout/,\$p' README.md | tr -s ' \\n' '  ' |
	     grep -qF '$ref'"
done

check 'the README and sms-recv(1) agree: Twilio does not retry a 503 by default' \
	'grep -q "does not retry a 503 by default" README.md &&
	 grep -q "Twilio does not retry a messaging" man/sms-recv.1 &&
	 ! grep -rqi "503 is retried\|so Twilio.s retry" README.md man'

done_testing
