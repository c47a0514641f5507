#!/usr/bin/env python3
"""Turns a Transformer Program trained by the paper's own code (princeton-nlp/TransformerPrograms,
run with --save, as bench/tp_official.sh does: OUT/args.json and OUT/model.pt) into a glassbox run
folder, so that glassbox's tools read it like one of its own runs:

    /usr/bin/python3 bench/tp_official_import.py OUT RUN
    glassbox compile RUN -o RUN/program.py --verify   # the paper's model as a faithful program
    glassbox eval RUN                                 # scored on glassbox's split of the task and seed

The weights are copied unchanged (tests/models/test_transformer_programs.cpp checks that both codes
compute the same model from them). Needs Debian's python3-torch.
"""
import argparse
import json
import os
import sys

import torch

from _safetensors import save_f32
from _tp_official import parameter_names


def glassbox_config(args):
    """The glassbox configuration of the paper's run (its flags, as in examples/configs/tp_*.cfg)."""
    config = {
        "task": args["dataset"], "seed": args["seed"], "dataset_size": args["dataset_size"],
        "layers": args["n_layers"], "cat_heads": args["n_heads_cat"], "num_heads": args["n_heads_num"],
        "cat_mlps": args["n_cat_mlps"], "num_mlps": args["n_num_mlps"], "d_mlp": args["d_mlp"],
        "epochs": args["n_epochs"], "batch_size": args["batch_size"], "lr": args["lr"],
        "tau_start": args["tau_init"], "tau_end": args["tau_end"], "unembed_mask": bool(args["unembed_mask"]),
    }
    if args["dataset"] != "induction":  # induction's lengths and vocabulary are the task's own
        config["max_length"] = args["max_length"]
    if args["dataset"] not in ("induction", "dyck1", "dyck2"):
        config["vocab_size"] = args["vocab_size"]
    return config


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("official", help="the paper's code's output folder (args.json, model.pt)")
    parser.add_argument("run", help="the glassbox run folder to write (must not exist)")
    a = parser.parse_args()
    with open(os.path.join(a.official, "args.json")) as f:
        args = json.load(f)
    if not os.path.exists(os.path.join(a.official, "model.pt")):
        raise SystemExit(f"{a.official}/model.pt: missing (the paper's code writes it with --save)")
    if os.path.exists(a.run):
        raise SystemExit(f"{a.run}: exists; give a new folder")
    config = glassbox_config(args)
    state = torch.load(os.path.join(a.official, "model.pt"), map_location="cpu")
    tensors = {}
    for theirs, mine, transposed in parameter_names(config):
        if theirs not in state:
            raise SystemExit(f"{a.official}/model.pt: no {theirs} (not a model of this configuration?)")
        value = state[theirs].numpy()
        tensors["model." + mine] = value.T if transposed else value
    os.makedirs(os.path.join(a.run, "checkpoints"))
    save_f32(os.path.join(a.run, "checkpoints", "latest.safetensors"), tensors,
             {"model": "transformer_program", "epoch": config["epochs"], "imported_from": os.path.abspath(a.official)})
    sidecar = {"model": "transformer_program", "config": config, "epoch": config["epochs"], "step": 0, "batch": 0,
               "seed": config["seed"], "imported_from": os.path.abspath(a.official)}
    with open(os.path.join(a.run, "checkpoints", "latest.json"), "w") as f:
        json.dump(sidecar, f, indent=2)
    with open(os.path.join(a.run, "run.json"), "w") as f:
        json.dump({"model": "transformer_program", "config": config}, f, indent=2)
    with open(os.path.join(a.run, "config.cfg"), "w") as f:
        f.write(f"# glassbox run configuration (model transformer_program), imported from {os.path.abspath(a.official)}\n")
        for key, value in config.items():
            f.write(f"{key} = {str(value).lower() if isinstance(value, bool) else value}\n")
    print(f"{a.run}: the paper's {args['dataset']} model (seed {args['seed']}) as a glassbox run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
