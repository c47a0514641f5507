#!/usr/bin/env bash
# Runs the paper's own code (princeton-nlp/TransformerPrograms, a checkout given as CODE) on TASK with
# the arguments of its scripts (rasp.sh, dyck.sh, induction.sh) and the layers, heads and MLPs of
# examples/configs/tp_TASK.cfg, on this CPU: the accuracy and speed peer of
# `glassbox train transformer_program --config examples/configs/tp_TASK.cfg`.
#   bench/tp_official.sh CODE TASK [SEED] [EPOCHS] [OUT]
# (TASK: reverse, hist, double_hist, sort, most_freq, dyck1, dyck2 or induction; EPOCHS defaults to the
# config's.) Needs Debian's python3-torch, python3-pandas, python3-tqdm and python3-sklearn. Modules the
# code imports but never calls here (einops' two rearranges aside) are replaced by the stand-ins in
# bench/tp_official_stubs; the code itself runs unchanged. One thread unless OMP_NUM_THREADS says;
# DEVICE=cuda runs it on a GPU, PYTHON=python3 picks another interpreter than /usr/bin/python3.
# OUT gets the code's results.csv, output.log and, with --save, model.pt: the trained weights, which
# bench/tp_official_import.py OUT RUN turns into a glassbox run (compile, eval, export).
set -euo pipefail
usage="usage: bench/tp_official.sh CODE TASK [SEED] [EPOCHS] [OUT]"
CODE="$(cd "${1:?$usage}" && pwd)"
TASK="${2:?$usage}"
CONFIG="$(cd "$(dirname "$0")/.." && pwd)/examples/configs/tp_$TASK.cfg"
[ -f "$CONFIG" ] || { echo "$CONFIG: no such config (TASK is one of the tp_*.cfg names)" >&2; exit 2; }
[ -f "$CODE/src/run.py" ] || { echo "$CODE: no src/run.py (expected a TransformerPrograms checkout)" >&2; exit 2; }
# KEY's value in the config (the schema default when the file leaves it out).
key() { local v; v="$(sed -n "s/^$1 *= *\([^ #]*\).*/\1/p" "$CONFIG" | tail -1)"; echo "${v:-$2}"; }
SEED="${3:-$(key seed 0)}"
EPOCHS="${4:-$(key epochs 250)}"
OUT="${5:-$PWD/tp-official-$TASK-s$SEED}"
stubs="$(cd "$(dirname "$0")" && pwd)/tp_official_stubs"  # packages the code imports but never calls here
launcher="$(mktemp -d)"
trap 'rm -rf "$launcher"' EXIT
# The launcher times the training steps (the median gap between optimizer steps: forward, backward,
# update and batching; the code's per-epoch scoring of the train and val splits falls between epochs
# and out of the median), for comparison with `glassbox bench transformer_program`.
cat > "$launcher/timed_run.py" <<'PY'
import atexit, runpy, statistics, sys, time
import torch
stamps = []
adam_step = torch.optim.Adam.step
def timed_step(self, *args, **kwargs):
    result = adam_step(self, *args, **kwargs)
    stamps.append(time.perf_counter())
    return result
torch.optim.Adam.step = timed_step
def report():
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    if gaps:
        print(f"official training step: median {1000 * statistics.median(gaps):.1f} ms over {len(gaps)} gaps",
              file=sys.stderr)
atexit.register(report)
sys.argv = ["src/run.py"] + sys.argv[1:]
runpy.run_path("src/run.py", run_name="__main__")
PY
cd "$CODE"
common=(--dataset "$TASK" --dataset_size 20000 --n_epochs "$EPOCHS" --batch_size 512 --lr 5e-2 --gumbel_samples 1
  --sample_fn gumbel_soft --tau_init 3.0 --tau_end 0.01 --tau_schedule geomspace --n_vars_cat 1 --n_vars_num 1
  --n_layers "$(key layers 3)" --n_heads_cat "$(key cat_heads 4)" --n_heads_num "$(key num_heads 4)"
  --n_cat_mlps "$(key cat_mlps 2)" --n_num_mlps "$(key num_mlps 2)" --attention_type cat --rel_pos_bias fixed
  --one_hot_embed --count_only --selector_width 0 --seed "$SEED" --unique 1 --save --device "${DEVICE:-cpu}" --output_dir "$OUT")
case "$TASK" in
  induction) # scripts/induction.sh
    task_args=(--vocab_size 10 --min_length 9 --max_length 9 --unembed_mask 0 --autoregressive) ;;
  dyck1|dyck2) # scripts/dyck.sh (run.py sets the vocabulary and the causal mask itself)
    n="$(key max_length 16)"
    task_args=(--min_length "$n" --max_length "$n" --d_var "$n" --dropout 0.0 --mlp_vars_in 2 --d_mlp 64) ;;
  *) # scripts/rasp.sh
    n="$(key max_length 8)"
    task_args=(--vocab_size "$(key vocab_size 8)" --min_length 1 --max_length "$n" --d_var "$n" --dropout 0.0
      --mlp_vars_in 2 --d_mlp 64) ;;
esac
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" PYTHONPATH="$CODE:$stubs" "${PYTHON:-/usr/bin/python3}" "$launcher/timed_run.py" "${common[@]}" "${task_args[@]}"
