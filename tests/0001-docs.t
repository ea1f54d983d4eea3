#!/bin/sh
# 0001-docs.t: the documentation says what the programs do.
#
# For every program in $SMSDESK_BIN: --help exits 0 and prints the usage;
# the man page's SYNOPSIS is that usage; every option of the usage line and
# every long option of --help appears in the man page (as rendered) and in
# both completions (as written); its short options are those of the table
# in smsdesk(7), Options (one meaning per letter in every program); and the
# EXAMPLES of its man page, run, exit 0 and print what the page shows. For
# every man page: groff lints it clean and it has the sections it must
# have, in order. The completions parse.

. "$(dirname "$0")/lib.sh"
cd "$top" || exit 1

# Render a man page as plain text, for reading the way a user does.
render() {
	groff -mdoc -Tascii -P-c -P-b -P-u "$1" 2>/dev/null
}

# The short options of the usage lines on stdin, one letter a line: each
# letter of a [-abc] cluster, and each -x that takes an argument or stands
# alone, as in [-l LANG], [-S[words]] or -t TO.
usage_shorts() {
	awk -F '[ |]+' '{
		for (i = 1; i <= NF; i++) {
			t = $i
			sub(/^[[(]+/, "", t)
			if (t ~ /^-[A-Za-z0-9]+[])]*$/) {
				gsub(/[^A-Za-z0-9]/, "", t)
				for (j = 1; j <= length(t); j++)
					print substr(t, j, 1)
			} else if (t ~ /^-[A-Za-z0-9][^A-Za-z0-9-]/) {
				print substr(t, 2, 1)
			}
		}
	}' | sort -u
}

# has_short FILE X: FILE has -X as a word of its own (not inside --x...).
has_short() {
	grep -qE -e "(^|[^A-Za-z0-9-])-$2([^A-Za-z0-9]|\$)" "$1"
}

# has_long FILE --opt: FILE has --opt, not as the start of --opt-more.
has_long() {
	grep -qE -e "(^|[^A-Za-z0-9-])$2([^A-Za-z0-9-]|\$)" "$1"
}

# The table of option letters of smsdesk(7), Options, from its source, one
# line a row: "LETTER KIND LONG PROGRAMS", KIND being none, required or
# optional (the argument), PROGRAMS the programs the row names,
# comma-separated, or * for every program.
letter_table() {
	awk '
	function flush() {
		if (row != "")
			print row, (progs == "" ? "-" : progs)
		row = progs = ""
	}
	/^\.Ss "?Options"?$/ { on = 1; next }
	on && /^\.(Ss|Sh|El)/ { flush(); on = 0 }
	!on { next }
	/^\.It Fl [A-Za-z0-9]/ {
		flush()
		if (!(i = index($0, " , Fl \\-"))) {
			print "! " $0
			next
		}
		left = substr($0, 1, i - 1)
		long = substr($0, i + 8)
		sub(/[ \t].*/, "", long)
		kind = "none"
		if (left ~ /^\.It Fl . Ns O[op] /)
			kind = "optional"
		else if (left ~ / Ar /)
			kind = "required"
		row = substr(left, 8, 1) " " kind " " long
		head = 1
		next
	}
	head && /^\.Xr [^ ]+ 1( [,:])?$/ {
		progs = progs (progs == "" ? "" : ",") $2
		next
	}
	head && /^Every program/ { progs = "*" }
	{ head = 0 }
	END { flush() }' man/smsdesk.7
}

# The short options of a --help on stdin, from its "  -x, --long ARG"
# lines, one a line: "LETTER KIND LONG", as letter_table has them.
help_letters() {
	awk 'match($0, /^ +-[A-Za-z0-9], --[a-z0-9-]+/) {
		l = substr($0, RSTART, RLENGTH)
		rest = substr($0, RSTART + RLENGTH)
		sub(/^ +-/, "", l)
		kind = "none"
		if (rest ~ /^\[=/)
			kind = "optional"
		else if (rest ~ /^ [^ ]/)
			kind = "required"
		print substr(l, 1, 1), kind, substr(l, 6)
	}'
}

# The letters of the getopt_long option strings in the source of program
# $1 (cmd/$1.c and cmd/$1/*.c), one a line.
source_letters() {
	cat "cmd/$1.c" "cmd/$1"/*.c 2>/dev/null | tr '\n' ' ' |
	    grep -o 'getopt_long([^;]*' |
	    sed -n 's/^[^"]*"\([^"]*\)".*/\1/p' | tr -d ':+\n-' |
	    fold -w 1 | sort -u
}

# check_letters PROG: PROG's short options (its --help in $tmp/help, the
# letters of its usage in $tmp/opts) against the table in $tmp/letters.
check_letters() {
	bad=
	help_letters <"$tmp/help" >"$tmp/hl"
	# Every letter the program takes has its "-x, --long" line.
	{ sed -n 's/^-\(.\)$/\1/p' "$tmp/opts"; source_letters "$1"; } |
	    sort -u >"$tmp/taken"
	while IFS= read -r x; do
		grep -q "^$x " "$tmp/hl" ||
		    bad="$bad; -$x has no \"-$x, --long\" line in --help"
	done <"$tmp/taken"
	# Every letter it has is the table's, for what the table says.
	while read -r x kind long; do
		rows=$(grep "^$x " "$tmp/letters")
		if [ -z "$rows" ]; then
			bad="$bad; -$x (--$long) is not in the table"
			continue
		fi
		row=$(printf '%s\n' "$rows" | grep "^$x $kind $long ")
		if [ -z "$row" ]; then
			bad="$bad; -$x is --$long ($kind argument) here, but in"
			bad="$bad the table -$x is $(printf '%s\n' "$rows" |
			    awk '{ printf "%s--%s (%s argument)", \
			    (NR > 1 ? " or " : ""), $3, $2 }')"
			continue
		fi
		case ,${row##* }, in
		,\*,|*,"$1",*) ;;
		*)	bad="$bad; the table does not name $1 for -$x"
			bad="$bad --$long" ;;
		esac
	done <"$tmp/hl"
	# Every row that names it is an option it has.
	while read -r x kind long progs; do
		case ,$progs, in
		,\*,|*,"$1",*) ;;
		*)	continue ;;
		esac
		grep -q "^$x $kind $long\$" "$tmp/hl" && continue
		bad="$bad; the table names $1 for -$x --$long ($kind argument),"
		bad="$bad which it does not have"
	done <"$tmp/letters"
	if [ -z "$bad" ]; then
		pass "$1: its short options mean what smsdesk(7) says (Options)"
	else
		fail "$1: its short options mean what smsdesk(7) says (Options)"
		diag "${bad#; }"
	fi
}

# The EXAMPLES of a man page source as a script for run_examples: lines
# "C text" (a command line: "$ " dropped, continued after a trailing \ or
# |), "O text" (a line of expected output) and "R" (run the command just
# read), with the roff escapes examples use undone. An escape it does not
# know becomes "! escape", which fails the page.
examples() {
	LC_ALL=C awk '
	function utf8(hex,   cp, i, b1, b2, b3) {
		cp = 0
		for (i = 1; i <= length(hex); i++)
			cp = cp * 16 + index("0123456789ABCDEF",
			    toupper(substr(hex, i, 1))) - 1
		if (cp < 128)
			return sprintf("%c", cp)
		if (cp < 2048)
			return sprintf("%c%c", 192 + int(cp / 64), 128 + cp % 64)
		if (cp < 65536)
			return sprintf("%c%c%c", 224 + int(cp / 4096),
			    128 + int(cp / 64) % 64, 128 + cp % 64)
		return sprintf("%c%c%c%c", 240 + int(cp / 262144),
		    128 + int(cp / 4096) % 64, 128 + int(cp / 64) % 64,
		    128 + cp % 64)
	}
	function unroff(s,   out, i, j, c) {
		out = ""
		while ((i = index(s, "\\")) > 0) {
			out = out substr(s, 1, i - 1)
			s = substr(s, i + 1)
			c = substr(s, 1, 1)
			if (c == "e") {
				out = out "\\"; s = substr(s, 2)
			} else if (c == "-") {
				out = out "-"; s = substr(s, 2)
			} else if (c == "&") {
				s = substr(s, 2)
			} else if (substr(s, 1, 3) == "(aq") {
				out = out "\047"; s = substr(s, 4)
			} else if (substr(s, 1, 3) == "(dq") {
				out = out "\""; s = substr(s, 4)
			} else if (substr(s, 1, 2) == "[u" &&
			    (j = index(s, "]")) > 0) {
				out = out utf8(substr(s, 3, j - 3))
				s = substr(s, j + 1)
			} else {
				print "! \\" substr(s, 1, 4)
				out = out "\\"
			}
		}
		return out s
	}
	/^\.Sh/ { inex = ($0 ~ /^\.Sh "?EXAMPLES"?$/); next }
	!inex { next }
	/^\.Bd -literal/ { inbd = 1; next }
	/^\.Ed/ { if (incmd || out) print "R"; inbd = incmd = out = more = 0
		next }
	!inbd { next }
	{
		line = unroff($0)
		if (more) {
			print "C " line
		} else if (substr(line, 1, 2) == "$ ") {
			if (incmd || out)
				print "R"
			print "C " substr(line, 3)
			incmd = 1; out = 0
		} else if (incmd) {
			print "O " line
			out = 1
		}
		more = incmd && !out && line ~ /(\\|[|])[ \t]*$/
	}' "$1"
}

# run_examples PAGE: run the commands of PAGE's EXAMPLES in a scratch
# directory, one test each.
run_examples() {
	exdir=$tmp/examples.$(basename "$1")
	mkdir -p "$exdir" || return
	cmd= nwant=0
	: >"$tmp/ex.want"
	examples "$1" >"$tmp/ex.script"
	while IFS= read -r line; do
		case $line in
		C\ *)	cmd=${cmd:+$cmd
}${line#C }
			;;
		O\ *)	printf '%s\n' "${line#O }" >>"$tmp/ex.want"
			nwant=$((nwant + 1))
			;;
		R)	run_example "$1"
			cmd= nwant=0
			: >"$tmp/ex.want"
			;;
		!*)	fail "$1: example escape ${line#! } is supported"
			;;
		esac
	done <"$tmp/ex.script"
}

run_example() {
	desc="$1 example: $(printf '%s\n' "$cmd" | sed 1q)"
	(cd "$exdir" && eval "$cmd") >"$tmp/ex.out" 2>"$tmp/ex.err" </dev/null
	rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "$desc"
		diag "exit status $rc"
		sed 's/^/# /' "$tmp/ex.err" >&2
		return
	fi
	if [ "$nwant" -eq 0 ]; then
		pass "$desc"
		return
	fi
	if cmp -s "$tmp/ex.want" "$tmp/ex.out"; then
		pass "$desc"
	else
		fail "$desc"
		diff -u "$tmp/ex.want" "$tmp/ex.out" |
		    sed '1s/.*/--- page/; 2s/.*/+++ program/; s/^/# /' >&2
		sed 's/^/# /' "$tmp/ex.err" >&2
	fi
}

# The table of option letters: each row well formed, no letter with two
# rows of one long name.
letter_table >"$tmp/letters"
if [ ! -s "$tmp/letters" ]; then
	fail 'smsdesk(7) has the table of option letters (Options)'
elif grep -q '^!' "$tmp/letters"; then
	fail 'smsdesk(7) has the table of option letters (Options)'
	diag "rows not read as \".It Fl x ... , Fl \\-long ...\":"
	sed -n 's/^! /# /p' "$tmp/letters" >&2
else
	pass 'smsdesk(7) has the table of option letters (Options)'
fi
is 'no letter has two rows of one long name in smsdesk(7)' \
	"$(awk '{ print $1, $3 }' "$tmp/letters" | sort | uniq -d)" ''

# Every program: --help, SYNOPSIS, options, letters, examples.
nprogs=0
for p in "$bin"/*; do
	[ -f "$p" ] && [ -x "$p" ] || continue
	nprogs=$((nprogs + 1))
	prog=${p##*/}
	man=man/$prog.1

	"$p" --help >"$tmp/help" 2>"$tmp/help.err" </dev/null
	rc=$?
	if [ "$rc" -ne 0 ] || ! grep -q '^usage:' "$tmp/help"; then
		fail "$prog --help exits 0 and prints a usage line"
		diag "exit status $rc"
		sed 's/^/# /' "$tmp/help" "$tmp/help.err" >&2
		continue
	fi
	pass "$prog --help exits 0 and prints a usage line"

	# The usage: the "usage:" line and the indented lines after it.
	awk '/^usage:/ { on = 1; print; next }
	    on && /^[ \t]/ { print; next } { on = 0 }' "$tmp/help" \
	    >"$tmp/usage"
	usage_shorts <"$tmp/usage" | sed 's/^/-/' >"$tmp/opts"
	grep -oE -e '--[a-z][a-z0-9-]*' "$tmp/help" | sort -u >>"$tmp/opts"

	if [ ! -f "$man" ]; then
		fail "$prog has a man page, $man"
	else
		render "$man" >"$tmp/man.txt"
		awk '/^SYNOPSIS$/ { on = 1; next } /^[^ \t]/ { on = 0 } on' \
		    "$tmp/man.txt" | tr -s ' \t\n' '   ' |
		    sed 's/^ //; s/ $//' >"$tmp/synopsis"
		sed 's/^usage://' "$tmp/usage" | tr -s ' \t\n' '   ' |
		    sed 's/^ //; s/ $//' >"$tmp/usage.flat"
		is "$man: SYNOPSIS is the usage of $prog --help" \
		    "$(cat "$tmp/synopsis")" "$(cat "$tmp/usage.flat")"
	fi

	check_letters "$prog"

	for f in "$man" "completions/bash/$prog" "completions/zsh/_$prog"; do
		if [ ! -f "$f" ]; then
			[ "$f" = "$man" ] ||
			    fail "$prog has a completion file, $f"
			continue
		fi
		hay=$f
		[ "$f" = "$man" ] && hay=$tmp/man.txt
		missing=
		while IFS= read -r o; do
			case $o in
			--*)	has_long "$hay" "$o" ;;
			*)	has_short "$hay" "${o#-}" ;;
			esac || missing="$missing $o"
		done <"$tmp/opts"
		if [ -z "$missing" ]; then
			pass "$f has every option of $prog"
		else
			fail "$f has every option of $prog"
			diag "missing:$missing"
		fi
	done

	if [ ! -f "$man" ]; then
		:
	elif ! command -v jq >/dev/null 2>&1; then
		skip "$man examples" 'jq is not installed'
	else
		run_examples "$man"
	fi
done
[ "$nprogs" -gt 0 ] || skip 'programs documented' "no programs in $bin"

# Every man page: lint and sections.
for m in man/*.[1-9]; do
	[ -f "$m" ] || continue
	out=$(groff -mdoc -ww -z "$m" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
		pass "$m: groff -mdoc -ww -z is silent"
	else
		fail "$m: groff -mdoc -ww -z is silent"
		diag "$out"
	fi

	case $m in
	*.1|*.8) need='NAME:SYNOPSIS:DESCRIPTION:EXIT STATUS:EXAMPLES:SEE ALSO' ;;
	*)	need='NAME:DESCRIPTION:SEE ALSO' ;;
	esac
	sed -n 's/^\.Sh[ \t]*//p' "$m" | tr -d '"' >"$tmp/sections"
	last=0 bad=
	old_ifs=$IFS
	IFS=:
	for s in $need; do
		n=$(grep -nxF -e "$s" "$tmp/sections" | sed 's/:.*//; 1q')
		if [ -z "$n" ]; then
			bad="$bad; no $s"
		elif [ "$n" -lt "$last" ]; then
			bad="$bad; $s out of order"
		else
			last=$n
		fi
	done
	IFS=$old_ifs
	if [ -z "$bad" ]; then
		pass "$m has its sections in order"
	else
		fail "$m has its sections in order"
		diag "${bad#; }"
	fi
done

# Completions parse.
for c in completions/bash/*; do
	[ -f "$c" ] || continue
	check "$c parses (bash -n)" "bash -n '$c'"
done
for c in completions/zsh/_*; do
	[ -f "$c" ] || continue
	if command -v zsh >/dev/null 2>&1; then
		check "$c parses (zsh -n)" "zsh -n '$c'"
	else
		skip "$c parses (zsh -n)" 'zsh is not installed'
	fi
done

done_testing
