#!/usr/bin/env python3
"""Markdown table of trained Transformer Program runs (Friedman et al. 2023, Table 1).

For each run folder (a `--restarts N` run gives its chosen restart, with the spread of all
N test accuracies): the task, L/H/M, the argmax model's val and test accuracy, the
paper's target, training time, the compiled program's length, and (with --verify) the
result of `glassbox compile RUN -o RUN/program.py --verify`.

  bench/transformer_programs_table.py [--verify] [--glassbox build/glassbox] RUN...
"""
import argparse
import json
import pathlib
import subprocess

# Paper Table 1 (test accuracy of the argmax model, best of 5 seeds by validation).
TARGETS = {"reverse": 99.79, "hist": 100.0, "double_hist": 98.40, "sort": 99.83, "most_freq": 75.69,
           "dyck1": 99.30, "dyck2": 99.09, "induction": 100.0}


def read_config(path):
    config = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            config[key] = value
    return config


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=pathlib.Path)
    parser.add_argument("--verify", action="store_true")
    parser.add_argument("--glassbox", default="build/glassbox")
    args = parser.parse_args()
    print("| task | seed | L / H / M | val % | test % | paper % | training s | program.py lines | verify |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for run in args.runs:
        config = read_config(run / "config.cfg")
        final, selection = {}, {}
        for line in (run / "metrics.jsonl").read_text().splitlines():
            record = json.loads(line)
            if record.get("final"):
                final = record
            if "restarts" in record:
                selection = record
        seed = config.get("seed")
        if selection:
            # A `--restarts N` run: the chosen restart's scores (the paper: best validation of 5 seeds),
            # and the spread over all of them.
            rows = selection["restarts"]
            final = rows[selection["chosen_restart"]]
            tests = [100 * r["test_accuracy"] for r in rows]
            seed = f"{final['seed']} (best val. of {len(rows)}; test {min(tests):.2f}-{max(tests):.2f})"
        if not final:
            print(f"| {config.get('task')} | {config.get('seed')} | (not finished) | | | | | | |")
            continue
        layers = config["layers"]
        heads = int(config["cat_heads"]) + int(config["num_heads"])
        mlps = int(config["cat_mlps"]) + int(config["num_mlps"])
        program = json.loads((run / "exports" / "program.json").read_text())
        verify = ""
        if args.verify:
            out = subprocess.run([args.glassbox, "compile", str(run), "-o", str(run / "program.py"), "--verify"],
                                 capture_output=True, text=True)
            verify = out.stdout.strip().splitlines()[-1].split("(")[-1].rstrip(")") if out.returncode == 0 else "FAILED"
        task = config["task"]
        print(f"| {task} | {seed} | {layers} / {heads} / {mlps} | {100 * final['val_accuracy']:.2f} | "
              f"{100 * final['test_accuracy']:.2f} | {TARGETS.get(task, '')} | {final['seconds']:.0f} | "
              f"{program['lines.py']} | {verify} |")


if __name__ == "__main__":
    main()
