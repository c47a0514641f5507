#!/usr/bin/env python3
"""Checks a compiled hist program (`glassbox compile RUN -o program.py`, or RUN/exports/program.py)
on every input in which some token occurs at least --min-count times, and prints, for each such
count, how many of those inputs the program gets right at every position.

Counts of 6 and 7 are rare in hist's 20,000 sampled inputs (about one in 2,000 has a token six
times), so a model trained on them can be exact on the common counts and still wrong on these;
whether a seed then scores 100% on its test split depends on whether that split draws one.

    bench/tp_hist_counts.py RUN/exports/program.py [--vocab 6] [--length 7] [--min-count 5]

--vocab is the number of ordinary tokens ("0", "1", ...; vocab_size 8 less <pad> and <s>) and
--length the longest input without <s> (max_length 8 less one)."""
import argparse
import collections
import importlib.util
import itertools


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("program")
    parser.add_argument("--vocab", type=int, default=6)
    parser.add_argument("--length", type=int, default=7)
    parser.add_argument("--min-count", type=int, default=5)
    args = parser.parse_args()

    spec = importlib.util.spec_from_file_location("program", args.program)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)

    tokens = [str(t) for t in range(args.vocab)]
    right, total = collections.Counter(), collections.Counter()
    for length in range(args.min_count, args.length + 1):
        for seq in itertools.product(tokens, repeat=length):
            counts = collections.Counter(seq)
            top = max(counts.values())
            if top < args.min_count:
                continue
            out = program.run(["<s>", *seq])[1:]
            total[top] += 1
            right[top] += all(str(o) == str(counts[t]) for o, t in zip(out, seq))
    for top in sorted(total):
        print(f"largest count {top}: {right[top]} of {total[top]} inputs right at every position")


if __name__ == "__main__":
    main()
