#!/usr/bin/env bash
# ProtoNet on Fashion-MNIST, glassbox vs PyTorch (bench/protonet_epoch_torch.py, Debian's
# python3-torch) on this machine, in this invocation, at 1 and 2 threads:
#   epoch  wall time of one training epoch (55,000 images, batch 250, Adam, elastic deformation
#          sigma 4 alpha 20), batch preparation and deformation included; validation excluded.
#          glassbox: epoch_seconds in the run's metrics.jsonl (the trainer's batch loop);
#          PyTorch: the batch loop timed with perf_counter.
#   eval   images/s of the forward pass over the 10,000 test images in batches of 1000.
#          glassbox: `glassbox eval RUN --split test --json` on the run just trained, its
#          images_per_second (the evaluation loop only); the same command's wall time, which also loads the data
#          set and the checkpoint, is shown in brackets. PyTorch: the loop timed in-process.
#   rss    peak resident memory (max RSS, MB = 2^20 bytes) of the whole one-epoch training process
#          (data, model, epoch, validation, test evaluation; glassbox also writes its exports).
# Ratios are glassbox / PyTorch: below 1 is better for glassbox for time and memory, above 1
# for throughput. Both run one after the other, so load from other processes skews either.
#
# usage: bench/protonet_epoch_compare.sh [--threads "1 2"] [--train-subset N] [--keep]
#   --threads LIST     thread counts to compare (default "1 2")
#   --train-subset N   train on N images only (a quick check; default all 55,000)
#   --keep             keep the temporary run folders and logs (their path is printed)
# Environment: GLASSBOX (default build/glassbox), PYTHON (default /usr/bin/python3, which has
# Debian's torch), FMNIST_DIR (default /usr/share/datasets/fashion-mnist).
set -euo pipefail

cd "$(dirname "$0")/.."
GLASSBOX="${GLASSBOX:-build/glassbox}"
PYTHON="${PYTHON:-/usr/bin/python3}"
FMNIST_DIR="${FMNIST_DIR:-/usr/share/datasets/fashion-mnist}"
CONFIG=examples/configs/protonet_fmnist.cfg
threads_list="1 2"
subset=0
keep=0

die() {
  echo "protonet_epoch_compare: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    --threads) [ $# -ge 2 ] || die "--threads needs a value"; threads_list="$2"; shift 2 ;;
    --train-subset) [ $# -ge 2 ] || die "--train-subset needs a value"; subset="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
case "$subset" in '' | *[!0-9]*) die "--train-subset must be a non-negative integer, got '$subset'" ;; esac
for t in $threads_list; do
  case "$t" in '' | *[!0-9]* | 0) die "--threads must list positive integers, got '$threads_list'" ;; esac
done

[ -x "$GLASSBOX" ] || die "$GLASSBOX is missing or not executable: build glassbox first (./run build)"
[ -f "$CONFIG" ] || die "$CONFIG is missing"
[ -f bench/protonet_epoch_torch.py ] || die "bench/protonet_epoch_torch.py is missing"
[ -d "$FMNIST_DIR" ] || die "no Fashion-MNIST in $FMNIST_DIR (apt-get install dataset-fashion-mnist, or set FMNIST_DIR)"
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found (set PYTHON to a python3 with torch)"
"$PYTHON" -c 'import torch' 2>/dev/null || die "$PYTHON cannot import torch (apt-get install python3-torch)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/protonet_epoch_compare.XXXXXX")"
if [ "$keep" = 1 ]; then
  echo "protonet_epoch_compare: keeping runs and logs in $tmp" >&2
else
  trap 'rm -rf "$tmp"' EXIT
fi
trap 'exit 130' INT TERM

# peak_rss OUTFILE CMD...: runs CMD and writes "Maximum resident set size (kbytes): N" into
# OUTFILE, with GNU time when it is installed, else with the ru_maxrss of python's children.
peak_rss() {
  local out="$1"
  shift
  if [ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1; then
    /usr/bin/time -v -o "$out" "$@"
  else
    "$PYTHON" -c '
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    f.write("Maximum resident set size (kbytes): %d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)' "$out" "$@"
  fi
}

# show_failure WHAT LOG: the end of LOG, then exit.
show_failure() {
  echo "protonet_epoch_compare: $1 failed; the end of its log (kept with --keep: $2):" >&2
  tail -n 20 "$2" >&2 || true
  exit 1
}

now() { date +%s.%N; }

for t in $threads_list; do
  run="$tmp/glassbox-t$t"
  gb_args=(train protonet --config "$CONFIG" --epochs 1 --threads "$t" --validation_size 5000 --eval_every 1000
    --data-dir "$FMNIST_DIR" --out "$run")
  if [ "$subset" -gt 0 ]; then gb_args+=(--train_subset "$subset"); fi
  echo "protonet_epoch_compare: $t thread(s): glassbox training one epoch ..." >&2
  peak_rss "$tmp/gb-train-t$t.rss" "$GLASSBOX" "${gb_args[@]}" >"$tmp/gb-train-t$t.out" 2>"$tmp/gb-train-t$t.err" ||
    show_failure "glassbox ${gb_args[*]}" "$tmp/gb-train-t$t.err"

  echo "protonet_epoch_compare: $t thread(s): glassbox evaluating the test set ..." >&2
  start="$(now)"
  "$GLASSBOX" eval "$run" --split test --json >"$tmp/gb-eval-t$t.out" 2>"$tmp/gb-eval-t$t.err" ||
    show_failure "glassbox eval $run --split test" "$tmp/gb-eval-t$t.err"
  end="$(now)"

  echo "protonet_epoch_compare: $t thread(s): PyTorch training one epoch ..." >&2
  py_args=(bench/protonet_epoch_torch.py --threads "$t" --epochs 1 --data-dir "$FMNIST_DIR")
  if [ "$subset" -gt 0 ]; then py_args+=(--train-subset "$subset"); fi
  "$PYTHON" "${py_args[@]}" >"$tmp/torch-t$t.json" 2>"$tmp/torch-t$t.err" ||
    show_failure "$PYTHON ${py_args[*]}" "$tmp/torch-t$t.err"

  "$PYTHON" - "$tmp" "$t" "$start" "$end" <<'PY'
import json, re, sys

tmp, t, start, end = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
read = lambda name: open(f"{tmp}/{name}").read()


def fail(msg):
    sys.exit(f"protonet_epoch_compare: {msg}")


def max_rss_mb(name):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", read(name))
    if not m:
        fail(f"no peak RSS in {tmp}/{name}")
    return int(m.group(1)) / 1024.0


# glassbox epoch: the batch loop's wall time that the trainer records in metrics.jsonl.
train_err, train_out = read(f"gb-train-t{t}.err"), read(f"gb-train-t{t}.out")
epochs = [r for r in map(json.loads, open(f"{tmp}/glassbox-t{t}/metrics.jsonl")) if "epoch_seconds" in r]
if not epochs:
    fail(f"no epoch_seconds in {tmp}/glassbox-t{t}/metrics.jsonl")
gb_epoch = epochs[-1]["epoch_seconds"]
m = re.search(r"(\d+) training / (\d+) validation images", train_err)
train_images = int(m.group(1)) if m else None

gb = json.loads(read(f"gb-eval-t{t}.out").strip().splitlines()[-1])
eval_images = gb["samples"]
gb_eval = gb["images_per_second"]
gb_eval_wall = eval_images / (end - start)
lines = read(f"torch-t{t}.json").strip().splitlines()
if not lines:
    fail(f"no JSON from bench/protonet_epoch_torch.py ({tmp}/torch-t{t}.err)")
pt = json.loads(lines[-1])
if train_images is not None and pt["train_images"] != train_images:
    fail(f"glassbox trained on {train_images} images, PyTorch on {pt['train_images']}")
if pt["eval_images"] != eval_images:
    fail(f"glassbox evaluated {eval_images} images, PyTorch {pt['eval_images']}")

gb_rss = max_rss_mb(f"gb-train-t{t}.rss")
th = f"{t} thread" + ("s" if t != 1 else "")
n = f"{train_images:,}" if train_images is not None else "?"
print(f"protonet epoch ({n} images, batch 250, elastic), {th}: glassbox {gb_epoch:.1f} s, "
      f"PyTorch {pt['epoch_s']:.1f} s, ratio {gb_epoch / pt['epoch_s']:.2f}")
print(f"protonet eval ({eval_images:,} test images, batch 1000), {th}: glassbox {gb_eval:,.0f} images/s, "
      f"PyTorch {pt['eval_images_per_s']:,.0f} images/s, ratio {gb_eval / pt['eval_images_per_s']:.2f} "
      f"(glassbox eval command incl. loading data and checkpoint: {gb_eval_wall:,.0f} images/s)")
print(f"protonet training max RSS (one epoch), {th}: glassbox {gb_rss:.0f} MB, PyTorch {pt['max_rss_mb']:.0f} MB, "
      f"ratio {gb_rss / pt['max_rss_mb']:.2f}")
m = re.search(r"test accuracy: ([0-9.]+)%", train_out)
print(f"  (test accuracy after the epoch: glassbox {m.group(1) + '%' if m else '?'}, "
      f"PyTorch {100 * pt['test_accuracy']:.2f}%; {pt['framework']})")
sys.stdout.flush()
PY
done
