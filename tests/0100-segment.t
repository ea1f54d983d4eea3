#!/bin/sh
# segment(1): what a user of the command relies on.
. tests/lib.sh

seg() { "$bin/segment" "$@"; }

# One message per argument, NDJSON in a pipe.
out=$(seg 'Hello world' | jq -c '[.type,.body,.encoding,.segments,.units,.unit,.units_left,.per_segment]')
is 'an argument becomes a message record' "$out" \
	'["message","Hello world","GSM-7",1,11,"septet",149,160]'
out=$(seg one two | wc -l)
is 'one record per argument' "$out" 2

out=$(seg 'It’s 😀' | jq -c '[.encoding,.units,.code_points,.non_gsm[].code_point,.non_gsm[].index,.non_gsm[].byte]')
is 'UCS-2 names the characters that forced it, with positions' "$out" \
	'["UCS-2",7,6,"U+2019","U+1F600",2,5,2,7]'

# Boundaries a user can check by hand.
a160=$(printf 'a%.0s' $(seq 160))
is '160 septets: 1 segment' "$(seg "$a160" | jq .segments)" 1
is '161 septets: 2 segments' "$(seg "${a160}a" | jq -c '[.segments,.per_segment,.units_left,.udh_octets]')" '[2,153,145,6]'
br=$(printf ']%.0s' $(seq 153))
is '153 x ] is 3 segments: escape pairs are never split' \
	"$(seg --split "$br" | jq -c '[.segments,(.parts|map(length))]')" '[3,[76,76,1]]'
is 'empty body: 1 segment of 0, flagged' "$(seg '' | jq -c '[.segments,.units,.flags]')" '[1,0,["empty"]]'
is 'CRLF costs two septets' "$(printf '{"body":"a\\r\\nb"}\n' | seg | jq -c '[.units,.graphemes]')" '[4,3]'

# NDJSON in: annotate records with a body, pass the rest through as they are.
printf '%s\n' '{"type":"conversation","thread":"+15551234567","x":[1,{"y":2}]}' \
	'{"type":"message","z":1,"body":"hi","a":2}' \
	'{"type":"message","body":"hi","segments":99,"encoding":"x"}' \
	'{"type":"message","body":null}' >"$tmp/in"
seg <"$tmp/in" >"$tmp/out"
is 'records without a body pass through byte for byte' \
	"$(sed -n 1p "$tmp/out")" "$(sed -n 1p "$tmp/in")"
is 'fields keep their order; figures are appended' \
	"$(sed -n 2p "$tmp/out" | jq -c 'keys_unsorted[0:5]')" '["type","z","body","a","encoding"]'
is 'stale figures in a record are replaced, not duplicated' \
	"$(sed -n 3p "$tmp/out" | jq -c '[.segments,.encoding]')" '[1,"GSM-7"]'
is 'a null body passes through' "$(sed -n 4p "$tmp/out")" '{"type":"message","body":null}'

# Bad input: reported with where and what, the rest processed, exit 1.
printf '%s\n' '{"body":"one"}' 'not json' '{"body":5}' '{"body":"two"}' >"$tmp/in"
printf '{"body":"\377"}\n' >>"$tmp/in"
seg <"$tmp/in" >"$tmp/out" 2>"$tmp/err"; rc=$?
is 'bad lines give exit 1' "$rc" 1
is 'good records around bad lines all come out' "$(jq -r .body "$tmp/out" | tr '\n' ' ')" 'one 5 two '
check 'a line that is not JSON is named by line' "grep -q '^segment: stdin:2: invalid JSON' $tmp/err"
check 'a body that is not a string is named' "grep -q '^segment: stdin:3: body is not a string' $tmp/err"
check 'invalid UTF-8 is named with its byte offset' "grep -q '^segment: stdin:5: invalid UTF-8 at byte 9' $tmp/err"
printf '{"body":"x"}\n{"body":"cut' | seg >"$tmp/out" 2>"$tmp/err"; rc=$?
is 'a last line without newline is an error' "$rc" 1
check 'and says so' "grep -q 'stdin:2: last line has no newline' $tmp/err"
is 'the lines before it are done' "$(jq -r .body "$tmp/out")" x
seg "$(printf 'ab\377')" >/dev/null 2>"$tmp/err"; rc=$?
is 'an argument that is not UTF-8: exit 1' "$rc" 1
check 'named by argument and byte' "grep -q 'argument 1: invalid UTF-8 at byte 2' $tmp/err"
printf 'abc\377' | seg --raw >/dev/null 2>&1; rc=$?
is '--raw input that is not UTF-8: exit 65' "$rc" 65

# A body that is not a string: reported, and the record goes through as it
# came, even when it holds numbers jansson cannot (a 30-digit integer, 1e400)
# or fields named like ours.
printf '%s\n' '{"body":123456789012345678901234567890,"id":1}' \
	'{"body": 1e400}' '{"body":{"n":-123456789012345678901234567890}}' \
	'{"body":5,"segments":3}' '{"type":"note","n":1e400,"units":3}' \
	'{"body":"ok"}' >"$tmp/in"
seg <"$tmp/in" >"$tmp/out" 2>"$tmp/err"; rc=$?
is 'a body that is not a string: exit 1' "$rc" 1
is 'records that cannot be annotated pass through byte for byte' \
	"$(sed -n 1,5p "$tmp/out")" "$(sed -n 1,5p "$tmp/in")"
is 'and the rest is annotated' "$(sed -n 6p "$tmp/out" | jq -c '[.body,.segments]')" '["ok",1]'
is 'each such body is named by line' \
	"$(sed -n 's/^segment: stdin:\([0-9]*\): body is not a string$/\1/p' "$tmp/err" | tr '\n' ' ')" '1 2 3 4 '
is 'nothing else is said' "$(wc -l <"$tmp/err")" 4
printf '%s\n' '{"body":"hi","n":123456789012345678901234567890,"segments":9}' >"$tmp/in"
seg <"$tmp/in" >"$tmp/out" 2>"$tmp/err"; rc=$?
is 'a string body beside a huge number is annotated: exit 0' "$rc" 0
is 'the number is kept as written, stale figures replaced' \
	"$(cut -c1-66 "$tmp/out")" '{"body":"hi","n":123456789012345678901234567890,"encoding":"GSM-7"'
is 'one segments field' "$(grep -o '"segments":[0-9]*' "$tmp/out")" '"segments":1'

# --raw: all of stdin is one text, nothing trimmed.
is '--raw counts the trailing newline' "$(printf 'hi\n' | seg --raw | jq .units)" 3

# --raw streams: the figures are those of the same text as an argument,
# from stdin a file or a pipe, and memory stays flat whatever its size.
awk 'BEGIN { for (i = 0; i < 600; i++) printf "%s", (i % 7 ? "Ваш заказ отправлен, it’s “ready” e\xcc\x81 " : "word ]]]] 😀👩‍🦰 🇺🇸 \r\n") }' \
	</dev/null >"$tmp/long"
for o in '' --smart '--split=words --smart' '--split --language all' \
    '--table --split=words'; do
	seg --raw $o <"$tmp/long" >"$tmp/out.r"
	seg $o "$(cat "$tmp/long")" >"$tmp/out.a"
	check "--raw $o: the line of the same text given as an argument" \
		"cmp '$tmp/out.r' '$tmp/out.a'"
	check "--raw $o: and from a pipe" \
		"cat '$tmp/long' | seg --raw $o | cmp - '$tmp/out.a'"
done
check_exit '--raw from a pipe with no room for its copy: exit 74' 74 \
	"printf hi | TMPDIR=$tmp/none seg --raw"
check '--raw names the temporary file it could not make' \
	"printf hi | TMPDIR=$tmp/none seg --raw 2>&1 | grep -q '^segment: $tmp/none/segment\..*: No such file'"
if [ -x /usr/bin/time ]; then
	# 20 MB of ASCII from a file, and 20 MB that forces UCS-2 from a pipe.
	yes 'Your order has shipped, track it at example.com/t/48213.' |
		head -c 20000000 >"$tmp/big"
	/usr/bin/time -f %M -o "$tmp/rss" "$bin/segment" --raw --split <"$tmp/big" >/dev/null
	rss=$(tail -n 1 "$tmp/rss")
	check "--raw --split on 20 MB of ASCII peaks under 64 MB ($rss KiB)" "[ '$rss' -lt 65536 ]"
	yes 'Ваш заказ отправлен 📦 e'"$(printf '\314\201')" | head -n 500000 |
		/usr/bin/time -f %M -o "$tmp/rss" "$bin/segment" --raw --split=words >/dev/null
	rss=$(tail -n 1 "$tmp/rss")
	check "--raw --split=words on 20 MB of UCS-2 from a pipe peaks under 64 MB ($rss KiB)" "[ '$rss' -lt 65536 ]"
	rm -f "$tmp/big"
else
	skip '--raw memory on 20 MB of ASCII' 'no /usr/bin/time (Debian package time)'
	skip '--raw memory on 20 MB of UCS-2' 'no /usr/bin/time (Debian package time)'
fi

# Options.
is '--smart rewrites look-alikes and says what it changed' \
	"$(seg --smart 'It’s' | jq -c '[.encoding,.smart_changes[0].code_point,.smart_changes[0].to,.smart_changes[0].index]')" \
	'["GSM-7","U+2019","'"'"'",2]'
tr151='Merhaba Ayşe, siparişiniz bugün kargoya verildi. Teslimat için lütfen kapıda bulunun. Sorularınız için bize yazın. Teşekkürler, iyi günler dileriz!!'
is 'a Turkish text without tables is UCS-2' "$(seg "$tr151" | jq -c '[.encoding,.segments]')" '["UCS-2",3]'
is '--language tr: one segment with the Turkish table' \
	"$(seg --language tr "$tr151" | jq -c '[.encoding,.segments,.shift_tables.locking,.udh_octets,.per_segment]')" \
	'["GSM-7",1,"turkish",4,155]'
is '--price multiplies exactly' "$(seg --price 0.0079 "${a160}a" | jq -r .price)" 0.0158
words=$(printf 'word %.0s' $(seq 40))
is '--split=words ends parts after a space at no extra cost' \
	"$(seg --split=words "$words" | jq -c '[.segments,(.parts[0]|endswith(" "))]')" '[2,true]'
check '--table gives a summary in a pipe' "seg --table 'Hi' | grep -q '^GSM-7, 1 segment: 2 septets'"

# WhatsApp (--channel whatsapp): no segments, one message of up to 4096
# characters (UTF-16 units), priced by the message.
a500=$(printf 'a%.0s' $(seq 500))
is '--channel whatsapp: 500 characters, no segments, 3596 left' \
	"$(seg --channel whatsapp "$a500" | jq -c '[.channel,.segments,.utf16_units,.max_chars,.chars_left,.flags]')" \
	'["whatsapp",0,500,4096,3596,null]'
is '--channel whatsapp --price: the price of one message' \
	"$(seg --channel whatsapp --price 0.0050 "$a500" | jq -r .price)" 0.0050
is 'an emoji counts two characters, as the provider counts' \
	"$(seg --channel whatsapp 'ok 😀' | jq -c '[.code_points,.utf16_units,.chars_left]')" \
	'[4,5,4091]'
a4097=$(printf 'a%.0s' $(seq 4097))
is 'over 4096 characters: too_long' \
	"$(seg --channel whatsapp "$a4097" | jq -c '[.flags,.chars_left]')" \
	'[["too_long"],0]'
is 'a record'"'"'s own channel and segments give way' \
	"$(printf '%s\n' '{"body":"Hola","channel":"sms","segments":3,"to":"+15551234567"}' |
	    seg --channel whatsapp | jq -c '[.to,.channel,.segments]')" \
	'["+15551234567","whatsapp",0]'
is '--channel sms is the default' \
	"$(seg --channel sms "$a500" | jq -c '[.channel,.segments]')" '[null,4]'
check '--table on WhatsApp says no segments' \
	"seg --table --channel whatsapp Hola | grep -q '^WhatsApp, no segments: 4 characters, 4092 left of 4096 a message'"
for o in --raw --split --smart '--language tr'; do
	seg --channel whatsapp $o x </dev/null >/dev/null 2>&1
	is "--channel whatsapp with $o: exit 2" "$?" 2
done
seg --channel rcs x >/dev/null 2>&1; is '--channel rcs: exit 2' "$?" 2

# Usage and I/O errors, by exit code.
seg --bogus >/dev/null 2>&1; is 'an unknown option: exit 2' "$?" 2
seg --price abc x >/dev/null 2>&1; is 'a bad price: exit 2' "$?" 2
seg --language xx x >/dev/null 2>&1; is 'an unknown language: exit 2' "$?" 2
seg --json --table x >/dev/null 2>&1; is '--json with --table: exit 2' "$?" 2
seg --raw x >/dev/null 2>&1; is '--raw with TEXT: exit 2' "$?" 2
if [ -w /dev/full ]; then
	seg x >/dev/full 2>/dev/null; is 'a full disk on stdout: exit 74' "$?" 74
fi
check '--help prints usage on stdout' "seg --help | grep -q '^usage: segment'"
check '--version' "seg --version | grep -q '^segment (smsdesk) '"

done_testing
