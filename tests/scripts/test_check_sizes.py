#!/usr/bin/env python3
"""scripts/check_sizes.py: the tree keeps the size rules of docs/architecture.md (no source file over
500 lines, no function over 80 lines outside the schemas, tests held to the file rule); on a made-up
repository a long function, a long file and a long test file are each named, while a long schema
table, long namespaces and structs, a long lambda inside a short function's caller and braces inside
strings and comments are not counted as functions."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SCRIPT = os.path.join(ROOT, "scripts", "check_sizes.py")


def check(root):
    p = subprocess.run([sys.executable, SCRIPT, root], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def body(n):
    return "".join(f"  x += {i};\n" for i in range(n))


class CheckSizes(unittest.TestCase):
    def test_the_tree_keeps_the_rules(self):
        rc, out = check(ROOT)
        self.assertEqual(rc, 0, out)

    def test_offenders_are_named_and_tables_types_and_strings_are_not(self):
        with tempfile.TemporaryDirectory() as d:
            files = {
                "core/long.cpp": "namespace a {\nnamespace {\n\nint f(int x,\n      int y) {\n" + body(81) + "  return x;\n}\n"
                                 "\nint g(int x) {\n" + body(79) + "  return x;\n}\n}  // namespace\n}  // namespace a\n",
                "core/strings.cpp": "struct S {\n" + body(90).replace("x +=", "int v") + "};\n"
                                    "int h() {\n  const char* s = \"{{{{\";  // }}}}\n  /* { */\n  return 1;\n}\n",
                "trainers/ss_isac/schema.cpp": "int isac_schema() {\n" + body(120) + "  return 0;\n}\n",
                "core/big.h": "// x\n" * 501,
                "tests/big_test.cpp": "void t() {\n" + body(600) + "}\n",
            }
            for path, text in files.items():
                os.makedirs(os.path.join(d, os.path.dirname(path)), exist_ok=True)
                with open(os.path.join(d, path), "w") as f:
                    f.write(text)
            subprocess.run(["git", "init", "-q", d], check=True)
            subprocess.run(["git", "-C", d, "add", "."], check=True)
            rc, out = check(d)
            self.assertEqual(rc, 1, out)
            self.assertIn("core/long.cpp:5: function f has 82 lines (at most 80)", out)
            self.assertIn("core/big.h: 501 lines (at most 500)", out)
            self.assertIn("tests/big_test.cpp: 602 lines (at most 500)", out)
            self.assertIn("check_sizes: 3 offender(s)", out)
            for name in ("function g ", "function h ", "isac_schema", "strings.cpp", "function t "):
                self.assertNotIn(name, out)


if __name__ == "__main__":
    unittest.main()
