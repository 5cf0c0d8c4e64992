#!/usr/bin/env bash
# The measured CLSSR comparisons of docs/experiments/clssr.md, on the CPU, every run a function of
# its config and seed. Runs go to RUNS (default runs/clssr_results; a run whose summary.csv exists
# is kept, so an interrupted script resumes), merged raw files to docs/results/clssr_*.csv
# (scripts/merge_csv.py: a `variant` column, then the runs' own `seed` columns).
#   bash scripts/clssr_results.sh [RUNS]          STAGES="fig2 fig3 ..." picks stages (default all)
# JOBS=N runs N commands at once, each with OMP_NUM_THREADS=1 (default 2 on 2 or more cores: the
# agents' small tensor operations gain little from a second thread). The runs are the same either way.
# Stages, each over SEEDS (default 0-4; SENS_SEEDS, MAP_SEEDS, NOISE_SEEDS 0-2 for the costliest):
#   fig2    experiments/clssr_fig2.yaml (on-policy, 100 episodes; trains each seed's codec), and
#           the full-information ablation rl.experience=all_actions         -> clssr_fig2_*.csv
#   fig3    experiments/clssr_fig3.yaml with clssr.omega=monotone and =literal -> clssr_fig3_*.csv
#   gain0   Fig. 3's RL methods (MIMO) with rl.gain_weight=0                    -> clssr_gain0_*.csv
#   sens    Fig. 2 at task.images K in {1, 4} x task.epsilon in {0.01, 0.03, 0.06} -> clssr_sens_*.csv
#   noise   Fig. 2 with input-dependent semantic noise (codec.noise=input: its own codec per seed),
#           at epsilon 0.01 and 0.06                                            -> clssr_noise_*.csv
#   eps06   Fig. 3's MIMO methods at the former thresholds task.epsilon=0.06, task.images=4, where
#           the codec's mean distortions let AO tell the b apart (SENS_SEEDS) -> clssr_eps06_*.csv
#   map     CL-SS and PL-SS (MIMO, tau 1 and 5) over path-loss exponents 2, 3, 4 x three positions
#           of Eve 1, in one process per seed                                   -> clssr_map_*.csv
# Later stages reuse the codec that stage fig2 trained for the seed (codec.init_from).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUNS="${1:-$ROOT/runs/clssr_results}"
SEMSEC="${SEMSEC:-$ROOT/build/cli/semsec}"
RESULTS="${RESULTS:-$ROOT/docs/results}"
SEEDS="${SEEDS:-0 1 2 3 4}"
SENS_SEEDS="${SENS_SEEDS:-0 1 2}"
MAP_SEEDS="${MAP_SEEDS:-0 1 2}"
NOISE_SEEDS="${NOISE_SEEDS:-0 1 2}"
STAGES="${STAGES:-fig2 fig3 gain0 sens noise map eps06}"
MERGE=(python3 "$ROOT/scripts/merge_csv.py")
FIG2="$ROOT/experiments/clssr_fig2.yaml"
FIG3="$ROOT/experiments/clssr_fig3.yaml"
MAP_ETAS="[2,3,4]"
if [[ -z "${JOBS:-}" ]]; then JOBS=$(( $(nproc) >= 2 ? 2 : 1 )); fi
MAP_EVES="[400,450,683,183,612,-354]"  # the paper's; 707 m from the BS like the user, at 15 and -30 degrees
mkdir -p "$RUNS"

# run NAME ARGS...: semsec clssr ARGS --out RUNS/NAME unless RUNS/NAME/summary.csv exists.
run() {
  local name="$1"
  shift
  if [[ -f "$RUNS/$name/summary.csv" ]]; then return 0; fi
  rm -rf "$RUNS/$name"
  echo "[clssr_results] $(date -u +%H:%M:%S) semsec clssr ${*//$ROOT\//} --out $name"
  "$SEMSEC" clssr "$@" --device cpu --python none --out "$RUNS/$name" >"$RUNS/$name.log" 2>&1 ||
    { tail -5 "$RUNS/$name.log"; exit 1; }
}
# spawn NAME ARGS...: run, up to JOBS at once (one thread each); drain waits for all of them.
pending=0
spawn() {
  if ((JOBS <= 1)); then run "$@"; return; fi
  (OMP_NUM_THREADS=1 run "$@") &
  pending=$((pending + 1))
  if ((pending >= JOBS)); then
    wait -n || exit 1
    pending=$((pending - 1))
  fi
}
drain() {
  while ((pending > 0)); do
    wait -n || exit 1
    pending=$((pending - 1))
  done
}
codec() { echo "codec.init_from=$RUNS/fig2_s$1/codec.ckpt"; }
# merge OUT_STEM FILE VARIANT=RUN_PREFIX...: OUT_STEM_FILE.csv from RUN_PREFIX$seed/FILE.csv over SEEDS.
merge() {
  local stem="$1" file="$2" seeds="$3"
  shift 3
  local args=()
  for spec in "$@"; do
    for s in $seeds; do args+=("${spec%%=*}=$RUNS/${spec#*=}$s/$file.csv"); done
  done
  "${MERGE[@]}" "$RESULTS/${stem}_$file.csv" "${args[@]}"
}

for stage in $STAGES; do
  case "$stage" in
    fig2)
      for s in $SEEDS; do spawn "fig2_s$s" "$FIG2" seed="$s"; done
      drain
      for s in $SEEDS; do spawn "fig2_full_s$s" "$FIG2" seed="$s" rl.experience=all_actions "$(codec "$s")"; done
      drain
      for f in summary episodes codec; do merge clssr_fig2 "$f" "$SEEDS" on_policy=fig2_s; done
      for f in summary episodes; do merge clssr_fig2_full "$f" "$SEEDS" all_actions=fig2_full_s; done
      ;;
    fig3)
      for s in $SEEDS; do
        spawn "fig3_s$s" "$FIG3" seed="$s" "$(codec "$s")"
        spawn "fig3_literal_s$s" "$FIG3" seed="$s" clssr.omega=literal "$(codec "$s")"
      done
      drain
      merge clssr_fig3 summary "$SEEDS" monotone=fig3_s literal=fig3_literal_s
      ;;
    gain0)
      for s in $SEEDS; do
        spawn "gain0_s$s" "$FIG3" seed="$s" rl.gain_weight=0 "clssr.methods=[cl_ss,pl_ss]" "clssr.antennas=[mimo]" \
          "$(codec "$s")"
      done
      drain
      merge clssr_gain0 summary "$SEEDS" gain_weight_0=gain0_s
      ;;
    sens)
      specs=()
      for k in 1 4; do
        for e in 0.01 0.03 0.06; do
          for s in $SENS_SEEDS; do
            spawn "sens_k${k}_e${e}_s$s" "$FIG2" seed="$s" task.images="$k" task.epsilon="$e" "$(codec "$s")"
          done
          specs+=("K${k}_eps${e}=sens_k${k}_e${e}_s")
        done
      done
      drain
      merge clssr_sens summary "$SENS_SEEDS" "${specs[@]}"
      ;;
    noise)
      for s in $NOISE_SEEDS; do spawn "noise_s$s" "$FIG2" seed="$s" codec.noise=input; done
      drain  # the runs below reuse these codecs
      for s in $NOISE_SEEDS; do
        spawn "noise_e0.06_s$s" "$FIG2" seed="$s" codec.noise=input task.epsilon=0.06 \
          "codec.init_from=$RUNS/noise_s$s/codec.ckpt"
        spawn "const_e0.06_s$s" "$FIG2" seed="$s" task.epsilon=0.06 "$(codec "$s")"
      done
      drain
      merge clssr_noise summary "$NOISE_SEEDS" input_eps0.01=noise_s input_eps0.06=noise_e0.06_s \
        constant_eps0.01=fig2_s constant_eps0.06=const_e0.06_s
      merge clssr_noise codec "$NOISE_SEEDS" input=noise_s constant=fig2_s
      ;;
    eps06)
      for s in $SENS_SEEDS; do
        spawn "eps06_s$s" "$FIG3" seed="$s" task.epsilon=0.06 task.images=4 "clssr.antennas=[mimo]" "$(codec "$s")"
      done
      drain
      merge clssr_eps06 summary "$SENS_SEEDS" eps0.06_K4=eps06_s
      ;;
    map)
      for s in $MAP_SEEDS; do
        spawn "map_s$s" "$FIG3" seed="$s" "clssr.methods=[cl_ss,pl_ss]" "clssr.antennas=[mimo]" "clssr.tau=[1,5]" \
          "clssr.path_loss_exponents=$MAP_ETAS" "clssr.eve1_xy=$MAP_EVES" "$(codec "$s")"
      done
      drain
      merge clssr_map summary "$MAP_SEEDS" map=map_s
      ;;
    *) echo "clssr_results: unknown stage '$stage' (fig2 fig3 gain0 sens noise map eps06)" >&2; exit 2 ;;
  esac
done
echo "[clssr_results] $(date -u +%H:%M:%S) done"
