"""How many files of a tree each rule's pre-filter words keep, and which words keep the most.

    python bench/prefilter_report.py DIR [--select CODES]

Use it to sharpen a rule's `words=`: a word that alone keeps many files is a candidate to
replace by sharper ones (then run tests/test_prefilter.py, which proves the words still sound).
Files kept only by the second look (named configuration modules, handlers naming a task) are not
counted here.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from pathlib import Path

from joblint import prefilter
from joblint.rules import all_rules


def python_files(root: Path) -> list[Path]:
    found = []
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = [d for d in subdirs if not d.startswith(".") and d not in ("node_modules", "__pycache__")]
        found.extend(Path(directory) / n for n in names if n.endswith((".py", ".pyi")))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--select", help="comma-separated rule codes (default: every rule that is on by default)")
    args = parser.parse_args()
    rules = all_rules()
    codes = args.select.split(",") if args.select else [c for c, r in rules.items() if not r.meta.opt_in]
    texts = [p.read_bytes() for p in python_files(args.root)]
    total = len(texts)
    every = prefilter.words(frozenset(codes))
    kept_all = sum(1 for t in texts if prefilter.keeps(t, every))
    print(f"{total} files; all selected rules keep {kept_all} ({100 * kept_all / max(total, 1):.1f}%)\n")
    print(f"{'rule':8} {'kept':>6}  words")
    for code in sorted(codes):
        words = prefilter.words(frozenset({code}))
        kept = sum(1 for t in texts if prefilter.keeps(t, words))
        print(f"{code:8} {kept:>6}  {', '.join(_shown(w) for w in words or ())}")
    print(f"\n{'word':24} {'files':>6}  {'only this word':>14}")
    counts: Counter[tuple[bytes, ...]] = Counter()
    alone: Counter[tuple[bytes, ...]] = Counter()
    for text in texts:
        present = [w for w in every or () if prefilter.keeps(text, (w,))]
        counts.update(present)
        if len(present) == 1:
            alone[present[0]] += 1
    for word, count in counts.most_common():
        print(f"{_shown(word):24} {count:>6}  {alone[word]:>14}")


def _shown(word: tuple[bytes, ...]) -> str:
    return "&".join(part.decode() for part in word)


if __name__ == "__main__":
    main()
