#!/usr/bin/env python3
"""Loads a glassbox Transformer Program's weights into the paper's own model class
(princeton-nlp/TransformerPrograms, src/models/programs.py) and checks that the two are the same
model: the paper's argmax model, run by its own code on its own test split, must predict every
scored test token as glassbox's compiled program (which `glassbox compile --verify` checks against
glassbox's model) does.

    /usr/bin/python3 bench/tp_official_parity.py CODE RUN [--checkpoint epoch-0010 --program P.py]

CODE is a checkout of the paper's code, RUN a finished `glassbox train transformer_program` run.
The test split is the paper's for the run's task and seed (glassbox's generator draws its own).
Needs Debian's python3-torch, python3-pandas and python3-sklearn; exits 1 on any difference.
"""
import argparse
import importlib.util
import json
import os
import sys

import numpy as np
import torch

from _safetensors import load_f32
from _tp_official import attention_mask, build_model, check_parameters, dataset, import_official, is_causal, \
    parameter_names


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("code", help="a checkout of princeton-nlp/TransformerPrograms")
    parser.add_argument("run", help="a finished glassbox transformer_program run folder")
    parser.add_argument("--checkpoint", default="latest",
                        help="the checkpoint's name in RUN/checkpoints (latest, epoch-0010, ...)")
    parser.add_argument("--program", help="the program compiled from that checkpoint (default: "
                        "RUN/exports/program.py, compiled from the latest; for another checkpoint "
                        "`glassbox compile RUN --checkpoint E -o FILE.py`)")
    args = parser.parse_args()
    if args.checkpoint != "latest" and not args.program:
        parser.error("--checkpoint other than latest needs the --program compiled from it")
    programs, data_utils = import_official(args.code)
    with open(os.path.join(args.run, "run.json")) as f:
        config = json.load(f)["config"]
    idx_w, w_idx, idx_t, t_idx, x_train, _, x_test, y_test = dataset(data_utils, config)

    torch.manual_seed(0)  # the initial weights are all replaced
    model = build_model(programs, config, idx_w, idx_t, x_train.shape[1], programs.gumbel_soft)
    check_parameters(model, config)
    ours = load_f32(os.path.join(args.run, "checkpoints", args.checkpoint + ".safetensors"))
    state = model.state_dict()
    for theirs, mine, transposed in parameter_names(config):
        value = ours["model." + mine].T if transposed else ours["model." + mine]
        if tuple(state[theirs].shape) != value.shape:
            raise SystemExit(f"{theirs}: shape {tuple(state[theirs].shape)} in the paper's model, {value.shape} in glassbox's")
        state[theirs] = torch.tensor(value)
    model.load_state_dict(state)
    model.set_temp(config["tau_end"], programs.argmax)
    model.eval()
    x = torch.from_numpy(np.asarray(x_test, dtype=np.int64))
    with torch.no_grad():
        theirs = model(x, mask=attention_mask(torch, x, w_idx["<pad>"], is_causal(config["task"]))).argmax(-1).numpy()

    spec = importlib.util.spec_from_file_location("program", args.program or os.path.join(args.run, "exports", "program.py"))
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    scored = agree = theirs_right = ours_right = 0
    first_difference = None
    for i, row in enumerate(y_test):
        tokens = [idx_w[t] for t in x_test[i] if t != w_idx["<pad>"]]
        ours = program.run(tokens)
        for p, target in enumerate(row):
            if target == t_idx["<pad>"] or p >= len(tokens):
                continue
            scored += 1
            theirs_label, target_label = idx_t[theirs[i][p]], idx_t[target]
            agree += theirs_label == ours[p]
            theirs_right += theirs_label == target_label
            ours_right += ours[p] == target_label
            if theirs_label != ours[p] and first_difference is None:
                first_difference = f"input {i} {' '.join(tokens)}, position {p}: paper's model {theirs_label}, " \
                                   f"glassbox's program {ours[p]}"
    print(f"argmax model with glassbox's weights, paper's code: {100 * theirs_right / scored:.2f}% of {scored} "
          f"scored test tokens; glassbox's program: {100 * ours_right / scored:.2f}%")
    print(f"agreement: {agree} of {scored} tokens ({100 * agree / scored:.2f}%)")
    if first_difference:
        print("first difference: " + first_difference)
    return 0 if agree == scored else 1


if __name__ == "__main__":
    sys.exit(main())
