#!/bin/sh
# Reproduce the shipped LMs (models/othello-small, models/chess-small) and their random-init twins.
# Fixed seeds throughout: same code version + same seeds = same datasets, same data order, same
# initial weights (training itself is deterministic on one backend; float sums may differ across
# backends/BLAS builds in the last bits).
#
#   sh scripts/train-shipped-models.sh [othello|chess|all]
#
# Data and runs go to $SAEBOARD_LM_DATA (default .saeboard/lm-data) and $SAEBOARD_LM_RUNS
# (default .saeboard/lm-runs). Training is resumable: rerun the script after a stop or kill.
# Each model trains in stages (Othello two, chess four): a first run, then continued runs from its weights with a fresh
# warm-up + cosine (how the shipped files were made, one session at a time; the shipped config.json
# lists every run under provenance.trainingRuns).
# Wall-clock on the 2-core reference machine (shared with other work): Othello ≈ 4–5 h, chess ≈ 5–6 h.
set -eu
cd "$(dirname "$0")/.."
DATA=${SAEBOARD_LM_DATA:-.saeboard/lm-data}
RUNS=${SAEBOARD_LM_RUNS:-.saeboard/lm-runs}
WHAT=${1:-all}
cli() { node --import tsx src/cli/main.ts "$@"; }
mkdir -p "$DATA" "$RUNS"

if [ "$WHAT" = othello ] || [ "$WHAT" = all ]; then
  [ -d "$DATA/othello-train-1m" ] || cli games generate othello --games 1000000 --seed 101 --bsp none --test-fraction 0.002 --out "$DATA/othello-train-1m" --no-register
  [ -d "$DATA/othello-eval-3k" ] || cli games generate othello --games 3000 --seed 102 --min-moves 59 --bsp mine_yours --test-fraction 0.5 --out "$DATA/othello-eval-3k" --no-register
  cli lm train --game othello --dataset "$DATA/othello-train-1m" --out "$RUNS/othello-small" --name othello-small \
    --layers 4 --d-model 256 --heads 8 --activation gelu_new --steps 4000 --batch-size 64 --lr 1e-3 --min-lr 1e-4 --warmup 200 \
    --eval-interval 250 --eval-rows 512 --checkpoint-interval 250 --seed 1 --no-register
  cli lm train --game othello --dataset "$DATA/othello-train-1m" --out "$RUNS/othello-small-2" --name othello-small --init-from "$RUNS/othello-small" \
    --steps 2000 --batch-size 64 --lr 5e-4 --min-lr 2e-5 --warmup 100 --eval-interval 250 --eval-rows 512 --checkpoint-interval 250 --seed 3 --no-register
  node --import tsx scripts/lm-ship.ts --run "$RUNS/othello-small-2" --name othello-small \
    --heldout "$DATA/othello-train-1m" --eval "$DATA/othello-eval-3k" --twin-seed 7 --legal-games 1000
fi

if [ "$WHAT" = chess ] || [ "$WHAT" = all ]; then
  [ -d "$DATA/chess-train-200k" ] || cli games generate chess --source random --games 200000 --seed 201 --max-plies 60 --max-chars 320 --min-chars 257 --bsp none --test-fraction 0.005 --out "$DATA/chess-train-200k" --no-register
  [ -d "$DATA/chess-eval-2k" ] || cli games generate chess --source random --games 2000 --seed 202 --max-plies 80 --max-chars 400 --min-chars 256 --bsp piece --test-fraction 0.5 --out "$DATA/chess-eval-2k" --no-register
  cli lm train --game chess --dataset "$DATA/chess-train-200k" --out "$RUNS/chess-small" --name chess-small \
    --layers 6 --d-model 192 --heads 6 --ctx 256 --activation gelu_new --steps 1500 --batch-size 24 --lr 1e-3 --min-lr 1e-4 --warmup 200 \
    --eval-interval 250 --eval-rows 256 --checkpoint-interval 250 --seed 2 --no-register
  cli lm train --game chess --dataset "$DATA/chess-train-200k" --out "$RUNS/chess-small-2" --name chess-small --init-from "$RUNS/chess-small" \
    --steps 1500 --batch-size 24 --lr 8e-4 --min-lr 5e-5 --warmup 100 --eval-interval 250 --eval-rows 256 --checkpoint-interval 200 --seed 4 --no-register
  cli lm train --game chess --dataset "$DATA/chess-train-200k" --out "$RUNS/chess-small-3" --name chess-small --init-from "$RUNS/chess-small-2" \
    --steps 700 --batch-size 24 --lr 4e-4 --min-lr 3e-5 --warmup 50 --eval-interval 250 --eval-rows 256 --checkpoint-interval 100 --seed 5 --no-register
  cli lm train --game chess --dataset "$DATA/chess-train-200k" --out "$RUNS/chess-small-4" --name chess-small --init-from "$RUNS/chess-small-3" \
    --steps 2500 --batch-size 24 --lr 4e-4 --min-lr 2e-5 --warmup 50 --eval-interval 250 --eval-rows 256 --checkpoint-interval 100 --seed 6 --no-register
  node --import tsx scripts/lm-ship.ts --run "$RUNS/chess-small-4" --name chess-small \
    --heldout "$DATA/chess-train-200k" --eval "$DATA/chess-eval-2k" --twin-seed 8 --legal-games 100
fi
