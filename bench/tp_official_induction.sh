#!/usr/bin/env bash
# Runs the paper's own code (princeton-nlp/TransformerPrograms, a checkout given as CODE) on the
# induction task with the arguments of its scripts/induction.sh, on this CPU, for comparison with
# `glassbox train transformer_program --config examples/configs/tp_induction.cfg`.
#   bench/tp_official_induction.sh CODE [SEED] [EPOCHS] [OUT]
# Needs Debian's python3-torch, python3-pandas, python3-tqdm and python3-sklearn. Modules the code
# imports but never calls for this task (einops' two rearranges aside) are replaced by small
# stand-ins written to a temporary folder; the code itself runs unchanged.
set -euo pipefail
CODE="$(cd "${1:?usage: bench/tp_official_induction.sh CODE [SEED] [EPOCHS] [OUT]}" && pwd)"
SEED="${2:-6}"
EPOCHS="${3:-500}"
OUT="${4:-$PWD/tp-official-induction-s$SEED}"
[ -f "$CODE/src/run.py" ] || { echo "$CODE: no src/run.py (expected a TransformerPrograms checkout)" >&2; exit 2; }
stubs="$(mktemp -d)"
trap 'rm -rf "$stubs"' EXIT
mkdir -p "$stubs/gensim" "$stubs/nltk" "$stubs/datasets" "$stubs/seqeval"
cat > "$stubs/einops.py" <<'PY'
def rearrange(t, pattern):  # the two patterns src/models/programs.py uses
    if pattern == "a b c d -> a d (b c)":
        a, b, c, d = t.shape
        return t.permute(0, 3, 1, 2).reshape(a, d, b * c)
    if pattern == "b i q h -> b q (i h)":
        b, i, q, h = t.shape
        return t.permute(0, 2, 1, 3).reshape(b, q, i * h)
    raise NotImplementedError(pattern)
PY
touch "$stubs/gensim/__init__.py" "$stubs/gensim/downloader.py" "$stubs/nltk/__init__.py" "$stubs/datasets/__init__.py" \
  "$stubs/seqeval/__init__.py"
echo "def word_tokenize(s): return s.split()" > "$stubs/nltk/tokenize.py"
printf 'def _unused(*a, **k): raise NotImplementedError\nprecision_score = recall_score = f1_score = _unused\n' > "$stubs/seqeval/metrics.py"
echo "IOB2 = None" > "$stubs/seqeval/scheme.py"
printf 'class FileMode:\n    def __init__(self, **k): pass\ndef format_str(s, mode=None): return s\n' > "$stubs/black.py"
cd "$CODE"
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" PYTHONPATH="$CODE:$stubs" /usr/bin/python3 src/run.py --dataset induction \
  --vocab_size 10 --dataset_size 20000 --min_length 9 --max_length 9 --n_epochs "$EPOCHS" --batch_size 512 --lr 5e-2 \
  --gumbel_samples 1 --sample_fn gumbel_soft --tau_init 3.0 --tau_end 0.01 --tau_schedule geomspace --n_vars_cat 1 \
  --n_vars_num 1 --n_layers 2 --n_heads_cat 1 --n_heads_num 0 --n_cat_mlps 0 --n_num_mlps 0 --attention_type cat \
  --rel_pos_bias fixed --one_hot_embed --count_only --selector_width 0 --seed "$SEED" --unique 1 --unembed_mask 0 \
  --autoregressive --device cpu --output_dir "$OUT"
