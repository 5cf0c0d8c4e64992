#!/usr/bin/env bash
# Scale-out benchmark on the CPU: one 8-ensemble sweep as 1 process and as 2 torchrun ranks (one
# thread each, timed in turn, REPS rounds), then the store's claim rate (semsec bench --only store).
# Writes the raw timings and the medians to OUT (default docs/results/distributed_cpu.txt).
#   bash scripts/bench_distributed.sh [OUT]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/docs/results/distributed_cpu.txt}"
SEMSEC="${SEMSEC:-$ROOT/build/cli/semsec}"
VENV="${SEMSEC_VENV:-$HOME/.cache/semsec/venv}"
REPS="${REPS:-3}"
SWEEP=(sweep "$ROOT/experiments/gs_isac.yaml" model.ue_hidden=8,16 seed=0,1,2,3 sweep.max_grid=1
       train.steps=2000 train.batch_size=64 eval.test_snr_db=[0,15] data.test_limit=2000 output.tensorboard=false)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cores="$(nproc)"
export OMP_NUM_THREADS=1
tmp="$OUT.tmp.$$"
{
  echo "# bash scripts/bench_distributed.sh, $(date -u +%Y-%m-%dT%H:%MZ), ${cores} cores, OMP_NUM_THREADS=1 per process"
  echo "# sweep: semsec ${SWEEP[*]//$ROOT\//}"
  echo "case,round,wall_s"
} >"$tmp"
for r in $(seq 1 "$REPS"); do
  t0=$(date +%s%N)
  "$SEMSEC" "${SWEEP[@]}" --out "$work/one_$r" >/dev/null 2>&1
  t1=$(date +%s%N)
  "$VENV/bin/torchrun" --standalone --nproc-per-node=2 --no-python "$SEMSEC" "${SWEEP[@]}" --out "$work/two_$r" \
    >/dev/null 2>&1
  t2=$(date +%s%N)
  cmp -s "$work/one_$r/summary.csv" "$work/two_$r/summary.csv" || { echo "summaries differ in round $r" >&2; exit 1; }
  echo "1_process,$r,$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')" >>"$tmp"
  echo "2_ranks_torchrun,$r,$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')" >>"$tmp"
done
python3 - "$tmp" <<'PY' >>"$tmp"
import csv, statistics, sys
rows = [r for r in csv.DictReader(l for l in open(sys.argv[1]) if not l.startswith("#"))]
med = {c: statistics.median(float(r["wall_s"]) for r in rows if r["case"] == c) for c in ("1_process", "2_ranks_torchrun")}
print(f"# median wall s: 1 process {med['1_process']:.1f}, 2 ranks {med['2_ranks_torchrun']:.1f}; "
      f"speed-up {med['1_process'] / med['2_ranks_torchrun']:.2f}x, parallel efficiency "
      f"{med['1_process'] / (2 * med['2_ranks_torchrun']):.0%}; summaries byte-identical in every round")
PY
echo "# semsec bench --only store" >>"$tmp"
"$SEMSEC" bench --only store --out "$work/bench" >/dev/null 2>&1
sed 's/^/# /' "$work/bench/bench.csv" >>"$tmp"
mv "$tmp" "$OUT"
cat "$OUT"
