#!/usr/bin/env python3
"""tools/manpage.py NAME SECTION SUMMARY DESCRIPTION_FILE < HELP: a man page (roff) on stdout,
made from a program's own --help text, so that the page and --help cannot disagree.

HELP is what `PROGRAM --help` prints, in either of the two forms our binaries use:
  * the launcher's: "usage: NAME ..." lines, then "  --opt ARG   text" lines;
  * Abseil flags': "NAME: USAGE", then "    --opt (text); default: X;" lines.
An option line is a line whose first non-blank character is '-'; a line indented deeper
continues the one before it. DESCRIPTION_FILE holds the DESCRIPTION (paragraphs separated by
blank lines; a line "SECTION: TITLE" starts another section, e.g. "SECTION: FILES").
Used by tools/package.
"""
import re
import sys


def esc(text):
    """Roff-safe text: backslashes and hyphens escaped, no line starting with '.' or "'"."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return re.sub(r"^([.'])", r"\\&\1", text, flags=re.M)


def parse_help(name, lines):
    synopsis, options, current = [], [], None
    for raw in lines:
        line = raw.rstrip()
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if not stripped or stripped.startswith(("Try --helpfull", "Flags from", "flags which",
                                                "path.")):
            current = None
            continue
        m = re.match(r"usage: *(.*)", stripped) or re.match(re.escape(name) + r": (.*)", stripped)
        if m and not options:
            synopsis.append(m.group(1))
            current = None
            continue
        if synopsis and not options and indent > 0 and not stripped.startswith("-"):
            synopsis[-1] += " " + stripped  # a usage line that wraps
            continue
        if stripped.startswith("-"):
            m = re.match(r"(-\S+(?: [A-Z/|.=\[\]_]+)?)\s{2,}(.*)", stripped)  # launcher form
            if m:
                current = [m.group(1), m.group(2), indent]
            else:
                m = re.match(r"(--\S+) \((.*)", stripped)  # Abseil form: --name (text); default
                current = [m.group(1), m.group(2), indent] if m else [stripped, "", indent]
            options.append(current)
            continue
        if current is not None and indent > current[2]:
            current[1] += " " + stripped
    for opt in options:  # Abseil: "text); default: X;" -> "text. Default: X."
        m = re.match(r"(.*)\); default: (.*);$", opt[1])
        if m:
            opt[1] = "%s. Default: %s." % (m.group(1), m.group(2))
    return synopsis, options


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: manpage.py NAME SECTION SUMMARY DESCRIPTION_FILE < HELP")
    name, section, summary, desc_file = sys.argv[1:]
    synopsis, options = parse_help(name, sys.stdin.read().splitlines())
    if not synopsis:
        sys.exit("manpage.py: %s: no usage line in the --help text" % name)
    out = ['.TH %s %s "" "grpc-bypass" "grpc-bypass"' % (name.upper(), section),
           ".SH NAME", "%s \\- %s" % (esc(name), esc(summary)), ".SH SYNOPSIS"]
    for s in synopsis:
        s = re.sub(r"^" + re.escape(name) + r"\s*", "", s)
        out += [".B %s" % esc(name), esc(s), ".br"]
    with open(desc_file) as f:
        sections = [["DESCRIPTION", []]]
        for line in f.read().splitlines():
            m = re.match(r"SECTION: (.*)", line)
            if m:
                sections.append([m.group(1).upper(), []])
            else:
                sections[-1][1].append(line)
    out += [".SH DESCRIPTION"] + paragraphs(sections[0][1])
    if options:
        out.append(".SH OPTIONS")
        for opt, text, _ in options:
            out += [".TP", ".B %s" % esc(opt), esc(text)]
    for title, body in sections[1:]:
        out += [".SH %s" % esc(title)] + paragraphs(body)
    sys.stdout.write("\n".join(out) + "\n")


def paragraphs(lines):
    out, para = [], []
    for line in lines + [""]:
        if line.strip():
            para.append(line.strip())
        elif para:
            out += [".PP", esc(" ".join(para))]
            para = []
    return out


if __name__ == "__main__":
    main()
