#!/bin/sh
# 0001-docs.t: the documentation says what the programs do.
#
# For every program in $SMSDESK_BIN: --help exits 0 and prints the usage;
# the man page's SYNOPSIS is that usage; every option of the usage line and
# every long option of --help appears in the man page (as rendered) and in
# both completions (as written); and the EXAMPLES of its man page, run, exit
# 0 and print what the page shows. For every man page: groff lints it clean
# and it has the sections it must have, in order. The completions parse.

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

# Every program: --help, SYNOPSIS, options, examples.
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
