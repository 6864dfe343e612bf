# SPDX-License-Identifier: GPL-2.0
#
# trace_syms.h from lists.h: the classes' and COW outcomes' names as the
# trace events print them (trace.h).  __print_symbolic() takes its
# { value, "name" } pairs as text, which must then be one macro's; the
# entries of lists.h expand where the file is included, into no macro.
#
#   awk -f trace_syms.awk lists.h > trace_syms.h

BEGIN { FS = "[(,)][ \t]*" }

function add(list, id, name) {
	enums[++nenums] = "TRACE_DEFINE_ENUM(CS_" id ");"
	syms[list] = syms[list] (syms[list] == "" ? "" : ", \\\n") "\t{ CS_" id ", " name " }"
}

/^CS_CLASS\(/ { add("CLASSES", $2, $3) }
/^CS_COW_OUTCOME\(/ && $4 != "NULL" { add("COW_OUTCOMES", $2, $4) }

END {
	print "/* Generated from lists.h by trace_syms.awk. */"
	print "#define CS_TRACE_ENUMS \\"
	for (i = 1; i <= nenums; i++)
		print "\t" enums[i] (i < nenums ? " \\" : "")
	print "#define CS_TRACE_CLASSES \\"
	print syms["CLASSES"]
	print "#define CS_TRACE_COW_OUTCOMES \\"
	print syms["COW_OUTCOMES"]
}
