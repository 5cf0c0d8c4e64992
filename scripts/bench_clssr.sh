#!/usr/bin/env bash
# Fig. 3 of the CLSSR paper (experiments/clssr_fig3.yaml, every method, antenna set and tau) with two
# builds of semsec, timed in turn over REPS rounds, one thread each, figures off; checks that both
# write byte-identical summary.csv, episodes.csv and codec.csv, and writes the raw timings with the
# medians and their ratio to OUT (default docs/results/bench_clssr.txt).
#   BEFORE=/path/to/old/semsec [AFTER=build/cli/semsec] [CODEC=RUN/codec.ckpt] [REPS=3] \
#     [BEFORE_LABEL="(commit X)"] [AFTER_LABEL=...] bash scripts/bench_clssr.sh [OUT]
# Both builds load the same codec (CODEC, or one this script trains first with AFTER), so what is
# timed is the agents and the AO baselines, as in scripts/clssr_results.sh's fig3 stage.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/docs/results/bench_clssr.txt}"
AFTER="${AFTER:-$ROOT/build/cli/semsec}"
REPS="${REPS:-3}"
: "${BEFORE:?set BEFORE to the semsec binary to compare against (e.g. a build of the previous commit)}"
for b in "$BEFORE" "$AFTER"; do
  [[ -x "$b" ]] || { echo "bench_clssr: $b is not an executable semsec" >&2; exit 2; }
done
FIG3="$ROOT/experiments/clssr_fig3.yaml"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1
if [[ -z "${CODEC:-}" ]]; then
  "$AFTER" clssr "$FIG3" clssr.methods=[ao] clssr.tau=[1] --device cpu --python /nonexistent \
    --out "$work/codec" >"$work/codec.log" 2>&1 || { cat "$work/codec.log" >&2; exit 1; }
  CODEC="$work/codec/codec.ckpt"
fi
[[ -f "$CODEC" ]] || { echo "bench_clssr: CODEC=$CODEC: no such file" >&2; exit 2; }
RUN=(clssr "$FIG3" "codec.init_from=$CODEC" --device cpu --python /nonexistent)
tmp="$OUT.tmp.$$"
{
  echo "# bash scripts/bench_clssr.sh, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc --all) cores, OMP_NUM_THREADS=1"
  echo "# before: $BEFORE ${BEFORE_LABEL:-}"
  echo "# after: $AFTER ${AFTER_LABEL:-}"
  echo "# command: semsec clssr experiments/clssr_fig3.yaml codec.init_from=CODEC --device cpu (figures off)"
  echo "case,round,wall_s"
} >"$tmp"
for r in $(seq 1 "$REPS"); do
  for side in before after; do
    bin="$BEFORE"
    [[ "$side" == after ]] && bin="$AFTER"
    t0=$(date +%s%N)
    "$bin" "${RUN[@]}" --out "$work/${side}_$r" >"$work/${side}_$r.log" 2>&1 || { cat "$work/${side}_$r.log" >&2; exit 1; }
    t1=$(date +%s%N)
    echo "$side,$r,$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')" >>"$tmp"
  done
  for f in summary.csv episodes.csv codec.csv; do
    cmp -s "$work/before_$r/$f" "$work/after_$r/$f" || { echo "bench_clssr: $f differs in round $r" >&2; exit 1; }
  done
done
python3 - "$tmp" <<'PY' >>"$tmp"
import csv, statistics, sys
rows = [r for r in csv.DictReader(l for l in open(sys.argv[1]) if not l.startswith("#"))]
med = {c: statistics.median(float(r["wall_s"]) for r in rows if r["case"] == c) for c in ("before", "after")}
print(f"# median wall s: before {med['before']:.1f}, after {med['after']:.1f}; "
      f"after / before {med['after'] / med['before']:.2f} ({med['before'] / med['after']:.2f}x faster); "
      "summary.csv, episodes.csv and codec.csv byte-identical in every round")
PY
mv "$tmp" "$OUT"
tail -1 "$OUT"
