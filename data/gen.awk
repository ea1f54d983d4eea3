# data/gen.awk: data/rules.tsv and data/areas.tsv as C tables (rules.h),
# compiled into the library, so that no program reads them at run time.
# Usage: awk -f data/gen.awk data/rules.tsv data/areas.tsv > rules-data.c
function q(s) {
	gsub(/\\/, "\\\\", s)
	gsub(/"/, "\\\"", s)
	return "\"" s "\""
}
BEGIN {
	FS = "\t"
	print "/* Made by data/gen.awk from data/rules.tsv, data/areas.tsv. */"
	print "#include <stddef.h>"
	print ""
	print "#include \"rules.h\""
	print ""
}
/^#/ || /^[ \t]*$/ { next }
FILENAME ~ /rules\.tsv$/ {
	if (NF != 6) {
		printf "%s:%d: %d fields, not 6\n", FILENAME, FNR, NF \
		    > "/dev/stderr"
		bad = 1
		exit 1
	}
	rules[nr++] = "\t{ " q($1) ", " q($2) ", " q($3) ", " q($4) ", " \
	    q($5) ",\n\t    " q($6) " },"
	next
}
{
	if (NF != 2) {
		printf "%s:%d: %d fields, not 2\n", FILENAME, FNR, NF \
		    > "/dev/stderr"
		bad = 1
		exit 1
	}
	areas[na++] = "\t{ " q($1) ", " q($2) " },"
}
END {
	if (bad)
		exit 1
	print "const struct rules_row rules_rows[] = {"
	for (i = 0; i < nr; i++)
		print rules[i]
	print "};"
	print "const size_t rules_nrows = " nr ";"
	print ""
	print "const struct rules_area rules_areas[] = {"
	for (i = 0; i < na; i++)
		print areas[i]
	print "};"
	print "const size_t rules_nareas = " na ";"
}
