#!/usr/bin/env bash
# The robust-CBC comparison (Saralajew et al., AAAI 2025, shallow table): trains every
# variant {glvq, rbf, robust_rbf, cbc, stable_cbc, robust_stable_cbc} with Euclidean and
# squared distances over several seeds, then writes OUT/comparison.md: clean accuracy
# and certified / empirical (APGD-L2) robust accuracy at each radius, mean +- std. Runs
# finished before are kept (and evaluated again if their attack was not APGD).
#   bench/cbc_compare.sh OUT [CONFIG] [SEEDS] [extra glassbox train options...]
# e.g. bench/cbc_compare.sh runs/cbc-compare examples/configs/cbc_mnist.cfg "0 1 2 3 4"
set -euo pipefail
OUT="${1:?usage: bench/cbc_compare.sh OUT [CONFIG] [SEEDS] [options...]}"
CONFIG="${2:-examples/configs/cbc_mnist.cfg}"
SEEDS="${3:-0 1 2 3 4}"
shift $(( $# < 3 ? $# : 3 ))
GLASSBOX="${GLASSBOX:-./build/glassbox}"
mkdir -p "$OUT"
for variant in glvq rbf robust_rbf cbc stable_cbc robust_stable_cbc; do
  for squared in false true; do
    for seed in $SEEDS; do
      run="$OUT/$variant-$([ "$squared" = true ] && echo squared || echo euclidean)-seed$seed"
      if [ -f "$run/exports/reasoning.json" ]; then  # finished before: keep it
        # ... but evaluate it again when its attack is not the one this glassbox runs by
        # default (runs from before APGD were attacked with PGD-L2 and name no attack).
        if ! grep -q '"method": *"apgd"' "$run/exports/robustness_test.json" 2>/dev/null; then
          echo "== $run (robustness again)" >&2
          "$GLASSBOX" robustness "$run" > "$run.robustness.log" 2>&1 || { echo "failed: see $run.robustness.log" >&2; exit 1; }
        fi
        continue
      fi
      rm -rf "$run"
      echo "== $run" >&2
      "$GLASSBOX" train cbc --config "$CONFIG" --out "$run" --seed "$seed" --variant "$variant" \
        --squared "$squared" "$@" > "$run.log" 2>&1 || { echo "failed: see $run.log" >&2; exit 1; }
    done
  done
done
/usr/bin/python3 - "$OUT" <<'PY'
import glob, json, os, statistics, sys
out = sys.argv[1]
rows = {}
attacks = set()
for path in sorted(glob.glob(os.path.join(out, "*-seed*", "exports", "robustness_test.json"))):
    report = json.load(open(path))
    attack = report.get("attack")
    attacks.add(f"{attack['method'].upper()}-L2, {attack['steps']} steps, {attack['restarts']} restarts" if attack else "none")
    name = os.path.basename(os.path.dirname(os.path.dirname(path))).rsplit("-seed", 1)[0]
    rows.setdefault(name, []).append(report)
if len(attacks) > 1:
    sys.exit(f"cbc_compare: the runs were attacked differently ({sorted(attacks)}); evaluate them again")
def cell(values):
    values = [100 * v for v in values]
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.2f} ± {sd:.2f}"
radii = [c["eps"] for c in next(iter(rows.values()))[0]["certified_accuracy"]]
head = "| method | runs | clean |" + "".join(f" emp. {e} | cert. {e} |" for e in radii)
lines = [f"Test accuracy in % (mean ± std over seeds); empirical: {attacks.pop()} on the first "
         f"{next(iter(rows.values()))[0].get('empirical_samples', 0)} test images; certified: correct with certified radius >= eps.",
         "", head, "|" + "---|" * (3 + 2 * len(radii))]
for name, runs in rows.items():
    line = f"| {name} | {len(runs)} | {cell([r['clean_accuracy'] for r in runs])} |"
    for i in range(len(radii)):
        emp = [r["empirical_accuracy"][i]["accuracy"] for r in runs if "empirical_accuracy" in r]
        line += f" {cell(emp) if emp else '-'} | {cell([r['certified_accuracy'][i]['accuracy'] for r in runs])} |"
    lines.append(line)
open(os.path.join(out, "comparison.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
