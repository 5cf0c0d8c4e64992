#!/usr/bin/env python3
"""scripts/doc_tables.py on a copy of the repository's pages: the committed pages pass, and a changed
number, a missing block, a block of an unknown table, or a changed raw file each fail the check;
--write repairs a changed number."""
import contextlib
import io
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "scripts"))
import doc_tables  # noqa: E402

PAGE = "docs/experiments/ss-isac.md"


class DocTables(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="semsec_doc_tables_")
        shutil.copytree(os.path.join(SOURCE, "docs"), os.path.join(self.root, "docs"))
        doc_tables.ROOT = self.root
        doc_tables._raw_cache.clear()

    def tearDown(self):
        shutil.rmtree(self.root)

    def check(self, *args):
        """(exit code, stderr) of doc_tables.main() with these arguments."""
        sys.argv = ["doc_tables.py", *args]
        err = io.StringIO()
        code = 0
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                doc_tables.main()
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
        doc_tables._raw_cache.clear()
        return code, err.getvalue()

    def edit(self, rel, old, new):
        path = os.path.join(self.root, rel)
        with open(path) as f:
            text = f.read()
        self.assertIn(old, text)
        with open(path, "w") as f:
            f.write(text.replace(old, new, 1))

    def test_committed_pages_match(self):
        self.assertEqual(self.check("--check"), (0, ""))

    def test_a_changed_number_fails_and_write_repairs_it(self):
        self.edit(PAGE, "| -20 | 0.571 ± 0.012 |", "| -20 | 0.572 ± 0.012 |")
        code, err = self.check("--check")
        self.assertEqual(code, 1)
        self.assertIn("table 'ss_isac_fig4_pc' differs from its raw file", err)
        self.assertIn("0.572 ± 0.012", err)
        self.assertEqual(self.check("--write")[0], 0)
        self.assertEqual(self.check("--check"), (0, ""))

    def test_a_changed_raw_file_fails(self):
        # seed 0's realised PSR at nominal -20 dB, projection, test SNR 15 dB, white box
        rel = "docs/results/ss_isac_fig34_constraint_cpu.csv"
        with open(os.path.join(self.root, rel)) as f:
            lines = f.read().splitlines(keepends=True)
        i = next(i for i, l in enumerate(lines)
                 if l.startswith("projection,0,") and ",plugged,whitebox,15,15,-20,0," in l)
        cells = lines[i].rstrip("\n").split(",")
        cells[-3] = str(float(cells[-3]) - 1.0)  # psr_real_db
        lines[i] = ",".join(cells) + "\n"
        with open(os.path.join(self.root, rel), "w") as f:
            f.writelines(lines)
        code, err = self.check("--check", "ss_isac_fig4_psr")
        self.assertEqual(code, 1)
        self.assertIn("table 'ss_isac_fig4_psr' differs", err)

    def test_missing_and_unknown_blocks_fail(self):
        self.edit(PAGE, "<!-- doc_tables: ss_isac_fig3 -->", "<!-- doc_tables: ss_isac_fig9 -->")
        code, err = self.check("--check")
        self.assertEqual(code, 1)
        self.assertIn("no '<!-- doc_tables: ss_isac_fig3 -->'", err)
        self.assertIn("block 'ss_isac_fig9' is not a table of scripts/doc_tables.py", err)

    def test_unknown_table_argument_fails(self):
        code, _ = self.check("--check", "nope")
        self.assertEqual(code, 1)

    def test_interval_is_students_t(self):
        m, h = doc_tables.mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])
        self.assertAlmostEqual(m, 3.0)
        self.assertAlmostEqual(h, 2.776 * (2.5 ** 0.5) / (5 ** 0.5))


if __name__ == "__main__":
    unittest.main()
