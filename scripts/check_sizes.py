#!/usr/bin/env python3
"""The size rules of docs/architecture.md: no C++ or CUDA source file over 500 lines, and no function
over 80 lines outside the declarative tables (the configuration schemas). Tests are held to the
file rule only. Prints every offender and exits 1; run by CTest (script_sizes).

    python3 scripts/check_sizes.py [ROOT]
"""
import os
import re
import subprocess
import sys

MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80
# Declarative tables: one call per key, long by nature.
TABLES = {("trainers/ss_isac/schema.cpp", "isac_schema"), ("trainers/clssr/schema.cpp", "clssr_schema")}
SOURCE = re.compile(r"\.(cpp|h|cu|cuh)$")


def strip(text):
    """Comments, string and character literals blanked out (newlines kept), so braces in them do
    not count."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == 'R' and text.startswith('R"', i):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(text):
    """(name, first body line, body lines) of every function defined at namespace scope or in a
    class body, lambdas and nested blocks counted in their function."""
    code = strip(text)
    found, stack, head_start = [], [], 0
    line = 1
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
        elif c in ";":
            head_start = i + 1
        elif c == "{":
            head = code[head_start:i]
            in_function = any(kind == "function" for kind, _, _ in stack)
            if in_function:
                kind = "block"
            elif re.search(r"\bnamespace\b|extern\s*\"\"", head):
                kind = "namespace"
            elif re.search(r"\b(struct|class|enum|union)\b[^()]*$", head):
                kind = "type"
            elif ")" in head and not re.search(r"=\s*$", head.strip()):
                kind = "function"
            else:
                kind = "block"
            name = ""
            if kind == "function":
                m = re.search(r"([~\w:]+)\s*\((?:[^()]|\([^()]*\))*\)[^()]*$", head)
                name = m.group(1) if m else head.strip().split("\n")[-1][:60]
            stack.append((kind, line, name))
            head_start = i + 1
        elif c == "}":
            if stack:
                kind, start, name = stack.pop()
                if kind == "function":
                    found.append((name, start, line - start - 1))
            head_start = i + 1
    return found


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    files = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout.split()
    bad = []
    for path in sorted(f for f in files if SOURCE.search(f)):
        with open(os.path.join(root, path), encoding="utf-8") as f:
            text = f.read()
        lines = text.count("\n")
        if lines > MAX_FILE_LINES:
            bad.append(f"{path}: {lines} lines (at most {MAX_FILE_LINES})")
        if path.startswith("tests/"):
            continue
        for name, start, length in functions(text):
            if length > MAX_FUNCTION_LINES and (path, name.split("::")[-1]) not in TABLES:
                bad.append(f"{path}:{start}: function {name} has {length} lines (at most {MAX_FUNCTION_LINES})")
    for b in bad:
        print(b)
    print(f"check_sizes: {len(bad)} offender(s)" if bad else "check_sizes: every file and function within the limits")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
