#!/bin/sh
# The fuzz harnesses of tests/fuzz/ over their committed corpora: each
# input, a seed or a crash `make fuzz` once found, must keep every promise
# the harness checks (under `make asan`, with no leak and no undefined
# behaviour too). The drivers are $SMSDESK_TOOLS/fuzz-NAME (driver.c).
. "$(dirname "$0")/lib.sh"

tools=${SMSDESK_TOOLS:-$top/build/tools}
corpus=$top/tests/fuzz/corpus

for src in "$top"/tests/fuzz/*.c; do
	name=${src##*/}
	name=${name%.c}
	[ "$name" = driver ] && continue
	n=$(ls "$corpus/$name" 2>/dev/null | wc -l)
	check "fuzz harness $name has a seed corpus" "[ $n -gt 0 ]"
	# The config harness writes its file under TMPDIR.
	is "fuzz corpus $name: $n inputs, every promise kept" \
		"$(TMPDIR=$tmp "$tools/fuzz-$name" "$corpus/$name" 2>&1)" \
		"fuzz-$name: $n inputs"
done
for dir in "$corpus"/*; do
	name=${dir##*/}
	check "fuzz corpus $name has a harness" \
		"[ -f \"$top/tests/fuzz/$name.c\" ]"
done
check 'no file left in TMPDIR' '[ -z "$(ls "$tmp")" ]'

done_testing
