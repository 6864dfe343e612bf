# SPDX-License-Identifier: GPL-2.0
#
# md2man.awk: clonestat(5), the /proc/clonestat format, written from
# README.md's sections about it, so that the manual page and the README
# are one text.  Handles what those sections use: headings, paragraphs,
# indented code, "- " lists, tables (each row a tagged paragraph) and
# `code`/**bold**/*italic* spans.  Paragraphs that start "Tests:" are the
# README's own and are left out.
#
# usage: awk -v version=V -v date=D -f md2man.awk README.md > clonestat.5

function esc(s) {
	gsub(/\\/, "\\e", s)
	return s
}

function inline(s,    out, i, c) {
	s = esc(s)
	while (match(s, /`[^`]*`/)) {
		out = out substr(s, 1, RSTART - 1) "\\fB\\%" substr(s, RSTART + 1, RLENGTH - 2) "\\fR"
		s = substr(s, RSTART + RLENGTH)
	}
	s = out s
	out = ""
	while (match(s, /\*\*[^*]+\*\*/)) {
		out = out substr(s, 1, RSTART - 1) "\\fB" substr(s, RSTART + 2, RLENGTH - 4) "\\fR"
		s = substr(s, RSTART + RLENGTH)
	}
	s = out s
	out = ""
	while (match(s, /\*[^* ][^*]*\*/)) {
		out = out substr(s, 1, RSTART - 1) "\\fI" substr(s, RSTART + 1, RLENGTH - 2) "\\fR"
		s = substr(s, RSTART + RLENGTH)
	}
	s = out s
	# Minus signs and options: \- where a hyphen starts a word.
	gsub(/(^|[ (])-/, "&\001", s)
	gsub(/-\001/, "\\-", s)
	return s
}

function cells(s, a,    n, i) {
	sub(/^\| */, "", s)
	sub(/ *\| *$/, "", s)
	n = split(s, a, / *\| */)
	for (i = 1; i <= n; i++)
		a[i] = inline(a[i])
	return n
}

function endcode() {
	if (incode) {
		out(".fi")
		out(".RE")
		incode = 0
	}
}

# The page's sections are kept apart and printed in END: the format
# first, then what readers see (the control section's subsections), then
# the control words, whatever the README's order.
function out(s) {
	buf[sec] = buf[sec] s "\n"
}

# A text line that troff would read as a request is guarded.
function oline(s) {
	if (s ~ /^[.']/)
		s = "\\&" s
	out(s)
}

BEGIN {
	print ".\\\" SPDX-License-Identifier: GPL-2.0"
	print ".\\\" Written from README.md by tools/man/md2man.awk: edit the README."
	printf ".TH CLONESTAT 5 \"%s\" \"clonestat %s\" \"File Formats\"\n", date, version
	print ".SH NAME"
	print "clonestat \\- the /proc/clonestat file: what the clonestat module counts, and its control words"
	print ".SH SYNOPSIS"
	print "\\fBcat /proc/clonestat\\fR"
	print ".br"
	print "\\fBecho\\fR \\fIword\\fR \\fB> /proc/clonestat\\fR"
}

/^## / {
	endcode()
	keep = ($0 ~ /^## \/proc\/clonestat, format/ || $0 ~ /^## Control: writing/)
	if (keep) {
		t = $0
		sub(/^## /, "", t)
		sub(/,.*/, "", t)
		sub(/:.*/, "", t)
		sec = (t == "/proc/clonestat" ? "format" : "control")
		out(".SH " toupper(sec == "format" ? "description" : t))
	}
	next
}
!keep { next }
/^### / {
	endcode()
	# The control section's subsections (pid namespaces, limits) are
	# about reading the file: they follow the format's.
	if (sec == "control")
		sec = "readers"
	t = $0
	sub(/^### /, "", t)
	out(".SS " inline(t))
	next
}
/^    / && (incode || blank) {
	if (!incode) {
		out(".PP")
		out(".RS 4")
		out(".nf")
		incode = 1
	}
	else if (blank)
		out(".sp")
	s = substr($0, 5)
	oline(esc(s))
	blank = 0
	next
}
/^$/ {
	blank = 1
	skipping = 0
	next
}
skipping { next }
/^Tests: / && blank { skipping = 1; next }
/^\| *-/ { next }
/^\|/ {
	endcode()
	n = cells($0, c)
	if (!inhead) {
		# The header row: its names label the second and later columns.
		for (i = 1; i <= n; i++)
			head[i] = c[i]
		inhead = 1
		blank = 0
		next
	}
	out(".TP")
	oline("\\fB" c[1] "\\fR")
	for (i = 2; i <= n; i++) {
		if (i > 2)
			out(".br")
		oline((n > 2 ? head[i] ": " : "") c[i])
	}
	blank = 0
	next
}
/^- / {
	endcode()
	out(".IP \\(bu 2")
	oline(inline(substr($0, 3)))
	blank = 0
	next
}
{
	endcode()
	inhead = 0
	if (blank)
		out(".PP")
	oline(inline($0))
	blank = 0
}
END {
	endcode()
	printf "%s%s%s", buf["format"], buf["readers"], buf["control"]
	print ".SH SEE ALSO"
	print "\\fBclonestat\\fR(8), \\fBclonestat\\-exporter\\fR(8), \\fBmodprobe\\fR(8)"
	print ".PP"
	print "README.md.gz in /usr/share/doc/clonestat, where this page comes from, tells what is measured and how, and what it costs."
}
