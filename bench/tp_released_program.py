#!/usr/bin/env python3
"""Scores a Transformer Program released with the paper (princeton-nlp/TransformerPrograms,
programs/rasp/TASK/TASK.py) on the test split of the seed it was trained with, using the
paper's own data code. The seed is the one whose val[:10] equals the program's embedded
examples. `select_closest` is replaced by the model-faithful rule (nearest matching key other
than the query, the left one at equal distance; the query itself only when nothing else
matches; else BOS), which is what the trained model computes.

    bench/tp_released_program.py CODE TASK     (TASK: reverse, hist, double_hist, sort, most_freq)

With --exports RUN/exports (a glassbox run of the same task, after `glassbox export`), it scores the
program on that run's test split instead (test_inputs.txt against test_targets.txt): whether
glassbox's generated data is what the released program was trained for. This also takes dyck1
and dyck2, whose programs attend causally (a query sees the keys up to itself).

Needs Debian's python3-numpy, python3-pandas and python3-sklearn; modules the paper's data code
imports but never calls for these tasks are stubbed."""
import argparse
import os
import sys
import tempfile

FAITHFUL_SELECT_CLOSEST = '''
def select_closest(keys, queries, predicate):
    scores = [[False for _ in keys] for _ in queries]
    for i, q in enumerate(queries):
        matches = [j for j, k in enumerate(keys[:VISIBLE(i)]) if predicate(q, k)]
        others = [j for j in matches if j != i]
        j = min(others, key=lambda j: (abs(i - j), j)) if others else (i if matches else 0)
        scores[i][j] = True
    return scores
'''


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("code", help="a checkout of princeton-nlp/TransformerPrograms")
    parser.add_argument("task", choices=["reverse", "hist", "double_hist", "sort", "most_freq", "dyck1", "dyck2"])
    parser.add_argument("--exports", help="a glassbox run's exports folder: score on its test_inputs.txt")
    args = parser.parse_args()
    if args.task.startswith("dyck") and not args.exports:
        parser.error("dyck1 and dyck2 need --exports (the paper's data code is only driven here for the RASP tasks)")
    causal = args.task.startswith("dyck")
    faithful = FAITHFUL_SELECT_CLOSEST.replace("VISIBLE(i)", "i + 1" if causal else "len(keys)")
    program_path = os.path.join(args.code, "programs", "rasp", args.task, args.task + ".py")
    if not os.path.isfile(program_path):
        sys.exit(f"{program_path}: no such file (expected a TransformerPrograms checkout)")

    with tempfile.TemporaryDirectory() as stubs:
        for package in ("gensim", "nltk", "datasets"):
            os.makedirs(os.path.join(stubs, package))
            open(os.path.join(stubs, package, "__init__.py"), "w").close()
        open(os.path.join(stubs, "gensim", "downloader.py"), "w").close()
        with open(os.path.join(stubs, "nltk", "tokenize.py"), "w") as f:
            f.write("def word_tokenize(s): return s.split()\n")
        sys.path[:0] = [stubs, os.path.abspath(args.code)]
        if not args.exports:
            from src.utils.data_utils import get_dataset  # the stubs are only needed while it imports

    source = open(program_path).read()
    # The program reads its classifier weights relative to the checkout, and ends by printing
    # its examples: run it from the checkout, without that loop.
    source = source[: source.index("for x, y in examples:")]
    namespace = {}
    cwd = os.getcwd()
    os.chdir(args.code)
    try:
        exec(compile(source, program_path, "exec"), namespace)
        exec(faithful, namespace)
        if args.exports:
            score_on_exports(namespace["run"], args.task, os.path.join(cwd, args.exports))
            return
        expected = [x for x, _ in namespace["examples"]]
        for seed in range(5):
            _, test, val = get_dataset(args.task, vocab_size=8, dataset_size=20000, min_length=1, max_length=8,
                                           seed=seed, unique=True)[:3]
            if [list(s) for s in val["sent"][:10]] != expected:
                continue
            right = total = 0
            for sent, tags in zip(test["sent"], test["tags"]):
                for predicted, target in zip(namespace["run"](list(sent)), tags):
                    if target != "<pad>":
                        total += 1
                        right += predicted == target
            print(f"{args.task}: released program (seed {seed}), test accuracy {100 * right / total:.2f}% "
                  f"of {total} tokens")
            return
        sys.exit(f"{program_path}: its examples match val[:10] of no seed in 0-4")
    finally:
        os.chdir(cwd)


def score_on_exports(run, task, exports):
    rows = []
    for name in ("test_inputs.txt", "test_targets.txt"):
        path = os.path.join(exports, name)
        if not os.path.isfile(path):
            sys.exit(f"{path}: no such file (run `glassbox export RUN` first)")
        rows.append([line.split() for line in open(path) if line.strip()])
    right = total = 0
    for sent, tags in zip(*rows):
        for predicted, target in zip(run(list(sent)), tags):
            if target != "<pad>":
                total += 1
                right += predicted == target
    print(f"{task}: released program on {exports}'s {len(rows[0])} test inputs, accuracy {100 * right / total:.2f}% "
          f"of {total} tokens")


if __name__ == "__main__":
    main()
