"""The paper's own Transformer Programs code (princeton-nlp/TransformerPrograms) as the peer that
glassbox's port is checked against: importing it, its data sets and model built as its scripts
build them for a glassbox run's configuration, and the names that glassbox and the paper's code
give to each trained tensor. Used by bench/tp_official_parity.py and
tests/fixtures/make_tp_official_reference.py."""
import os
import sys

import numpy as np


def import_official(code):
    """(src.models.programs, src.utils.data_utils) of the checkout at `code`, with the stand-ins of
    bench/tp_official_stubs for the packages it imports but never calls on these tasks."""
    sys.path[:0] = [os.path.abspath(code), os.path.join(os.path.dirname(os.path.abspath(__file__)), "tp_official_stubs")]
    from src.models import programs
    from src.utils import data_utils
    return programs, data_utils


def data_arguments(config):
    """get_dataset's length and vocabulary arguments and the model's d_var (None: the code's own
    choice), as the paper's scripts pass them (rasp.sh, dyck.sh, induction.sh; run.py forces the
    Dyck vocabularies)."""
    task, n = config["task"], config["max_length"]
    if task == "induction":
        return dict(vocab_size=10, min_length=9, max_length=9), None
    if task in ("dyck1", "dyck2"):
        return dict(vocab_size=int(task[-1]), min_length=n, max_length=n), n
    return dict(vocab_size=config["vocab_size"], min_length=1, max_length=n), n


def is_causal(task):
    return task in ("induction", "dyck1", "dyck2")


def dataset(data_utils, config):
    """(idx_w, w_idx, idx_t, t_idx, X_train, Y_train, X_test, Y_test) for the config's task, size and seed."""
    args, _ = data_arguments(config)
    (_, _, _, idx_w, w_idx, idx_t, t_idx, x_train, y_train, x_test, y_test, _, _) = data_utils.get_dataset(
        name=config["task"], dataset_size=config["dataset_size"], seed=config["seed"], get_val=True, unique=1, **args)
    return idx_w, w_idx, idx_t, t_idx, x_train, y_train, x_test, y_test


def variable_width(config, idx_w, n_ctx):
    """k, the width of every categorical variable: the scripts' --d_var, else run.py's own choice."""
    _, d_var = data_arguments(config)
    return d_var or max(len(idx_w), n_ctx)


def build_model(programs, config, idx_w, idx_t, n_ctx, sample_fn):
    """TransformerProgramModel with the arguments that run.py's run_program gives it for the config."""
    masked = np.array([t in ("<unk>", "<pad>") for t in idx_t]) if config["unembed_mask"] else None
    return programs.TransformerProgramModel(
        d_vocab=len(idx_w), d_vocab_out=len(idx_t), n_vars_cat=1, n_vars_num=1,
        d_var=variable_width(config, idx_w, n_ctx), n_heads_cat=config["cat_heads"], n_heads_num=config["num_heads"],
        d_mlp=config["d_mlp"], n_cat_mlps=config["cat_mlps"], n_num_mlps=config["num_mlps"], mlp_vars_in=2,
        n_layers=config["layers"], n_ctx=n_ctx, sample_fn=sample_fn, attention_type="cat", rel_pos_bias="fixed",
        unembed_mask=masked, one_hot_embed=True, count_only=True, selector_width=0)


def attention_mask(torch, x, pad, causal):
    """The mask run.py gives the model: both positions unpadded, and the key not after the query when causal."""
    keep = (x != pad).float()
    mask = (keep.unsqueeze(-1) @ keep.unsqueeze(-2)).bool()
    return torch.tril(mask) if causal else mask


def parameter_names(config):
    """(the paper's name, glassbox's name, transposed) for every trained tensor. glassbox keeps an MLP's
    weights as [in, out], the paper's code as [out, in]; every other tensor has the same layout."""
    names = []
    for layer in range(config["layers"]):
        for kind in ("cat", "num"):
            if config[f"{kind}_heads"] > 0:
                attn, mine = f"blocks.{layer}.{kind}_attn.", f"layer{layer}_{kind}_attn_"
                names += [(attn + "W_K.W", mine + "k_read", False), (attn + "W_Q.W", mine + "q_read", False),
                          (attn + "W_V.W", mine + "v_read", False), (attn + "W_pred.W", mine + "predicate", False)]
            for j in range(config[f"{kind}_mlps"]):
                mlp, mine = f"blocks.{layer}.{kind}_mlp.mlps.{j}.", f"layer{layer}_{kind}_mlp{j}_"
                names += [(mlp + "W_read.W", mine + "read", False), (mlp + "W_in", mine + "w1", True),
                          (mlp + "b_in", mine + "b1", False), (mlp + "W_out", mine + "w2", True),
                          (mlp + "b_out", mine + "b2", False)]
    return names + [("unembed.W_U", "classifier", False)]


def check_parameters(model, config):
    """Fails unless the model's trained tensors are exactly the ones parameter_names lists."""
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    listed = {theirs for theirs, _, _ in parameter_names(config)}
    if trainable != listed:
        raise SystemExit(f"parameters differ: only the paper's {sorted(trainable - listed)}, "
                         f"only glassbox's {sorted(listed - trainable)}")
