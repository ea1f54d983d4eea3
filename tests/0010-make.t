#!/bin/sh
# The Makefile: a quiet build by default, one line a step ("CC lib/buf.c"),
# every command in full with V=1, and a compiler's error shown either way.
# One small file is compiled into a scratch BUILD, never into the tree's.
. "$(dirname "$0")/lib.sh"

command -v make >/dev/null && command -v cc >/dev/null ||
	{ skip 'the build' 'no make or cc'; done_testing; }
b=$tmp/build
# A make of its own: not the jobserver, flags or V of a make that runs us.
unset MAKEFLAGS MFLAGS MAKELEVEL V

check 'quiet: one line, "CC lib/buf.c"' \
	'make --no-print-directory -C "$top" BUILD="$b" V=0 "$b/lib/buf.o" \
	    >"$tmp/q" 2>&1 &&
	 test -f "$b/lib/buf.o" && grep -Eqx " +CC +lib/buf.c" "$tmp/q" &&
	 test "$(wc -l <"$tmp/q")" = 1'
rm -f "$b/lib/buf.o"
check 'V=1: the command in full, and no short line' \
	'make --no-print-directory -C "$top" BUILD="$b" V=1 "$b/lib/buf.o" >"$tmp/v" 2>&1 &&
	 grep -q -- "-c -o $b/lib/buf.o lib/buf.c" "$tmp/v" &&
	 ! grep -Eq "^ +CC " "$tmp/v"'
rm -f "$b/lib/buf.o"
check_fail 'a file that does not compile: make fails' \
	'make --no-print-directory -C "$top" BUILD="$b" CFLAGS="-include $tmp/none.h" \
	    "$b/lib/buf.o" >"$tmp/e" 2>&1'
check 'quiet, its line, then the compiler'"'"'s error' \
	'grep -Eqx " +CC +lib/buf.c" "$tmp/e" &&
	 grep -q "none.h: No such file" "$tmp/e" && ! test -f "$b/lib/buf.o"'

done_testing
