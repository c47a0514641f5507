#!/usr/bin/env python3
"""Markdown table of a run's kept checkpoints: accuracy on each split at every kept epoch.

A long run (ProtoNet's 1500 epochs) keeps a checkpoint every `checkpoint_every` epochs; its
accuracy moves by tenths of a point from one kept epoch to the next. This evaluates each kept
checkpoint with `glassbox eval RUN --checkpoint E --split S --json` and prints one row per epoch,
then the range over the rows and the epoch that `--checkpoint best` picks (the highest
validation accuracy logged in metrics.jsonl, so the choice never looks at the test set).

  bench/checkpoint_table.py [--glassbox build/glassbox] [--splits val,test] [--from E] [--to E]
                            [--threads T] RUN
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys


def kept_epochs(run):
    epochs = []
    for path in (run / "checkpoints").glob("epoch-*.safetensors"):
        match = re.fullmatch(r"epoch-(\d+)", path.stem)
        if match:
            epochs.append(int(match.group(1)))
    return sorted(epochs)


def evaluate(glassbox, run, epoch, split, threads):
    command = [glassbox, "eval", str(run), "--checkpoint", str(epoch), "--split", split, "--json",
               "--threads", str(threads)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
    record = json.loads(result.stdout[result.stdout.index("{"):])
    if record["checkpoint"]["epoch"] != epoch:
        sys.exit(f"{run}: asked for epoch {epoch}, eval loaded {record['checkpoint']}")
    return record["accuracy"]


def best_epoch(glassbox, run):
    """The epoch `--checkpoint best` picks, or None when the run logged no validation."""
    result = subprocess.run([glassbox, "eval", str(run), "--checkpoint", "best", "--split", "val", "--json",
                             "--threads", "1"], capture_output=True, text=True)
    if result.returncode != 0:
        return None
    return json.loads(result.stdout[result.stdout.index("{"):])["checkpoint"]["epoch"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=pathlib.Path)
    parser.add_argument("--glassbox", default="build/glassbox")
    parser.add_argument("--splits", default="val,test")
    parser.add_argument("--from", dest="first", type=int, default=0)
    parser.add_argument("--to", dest="last", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    splits = [s for s in args.splits.split(",") if s]
    epochs = [e for e in kept_epochs(args.run) if e >= args.first and (args.last is None or e <= args.last)]
    if not epochs:
        sys.exit(f"{args.run}: no kept checkpoint (checkpoints/epoch-NNNN) in the range asked for")
    chosen = best_epoch(args.glassbox, args.run)

    print("| epoch | " + " | ".join(f"{s} %" for s in splits) + " |")
    print("| --- |" + " --- |" * len(splits))
    columns = {s: [] for s in splits}
    for epoch in epochs:
        row = []
        for split in splits:
            accuracy = 100.0 * evaluate(args.glassbox, args.run, epoch, split, args.threads)
            columns[split].append(accuracy)
            row.append(f"{accuracy:.2f}")
        mark = " (best by validation)" if epoch == chosen else ""
        print(f"| {epoch}{mark} | " + " | ".join(row) + " |")
    print()
    for split in splits:
        values = columns[split]
        print(f"{split}: {min(values):.2f} - {max(values):.2f} over {len(values)} kept epochs "
              f"({epochs[0]}-{epochs[-1]})")
    if chosen is not None:
        print(f"--checkpoint best (highest logged validation accuracy over all kept epochs): epoch {chosen}")


if __name__ == "__main__":
    main()
