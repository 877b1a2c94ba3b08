#!/usr/bin/env bash
# The runs behind README "Results at paper scale" (issue 18, point 4): the five analyses on one
# model at the full budget, on the real benchmarks of ../shared/benchmarks and seeded generated
# data. Every step is one reasonscope command; each resumes (--resume) or is skipped when its
# summary.json exists, so running the script again finishes what is missing.
#
#   scripts/paper_scale.sh MODEL [STEP...]
#     MODEL: an installed model's name (`reasonscope models`): smollm2-135m, qwen2.5-coder-0.5b, ...
#     STEP:  s1 s1-cot s1-bf16 s1-cot-bf16 s1-first s1-bf16-first s2 s2q s2q-bf16 s2q-mcq s2q-chat s2-chat s2-mcq s3 s4 s5 s5-bf16
#            (default: s1 s1-cot s2 s2-mcq s3 s4 s5)
#
# Environment: RUNS (work folder, default ../runs/paper next to the repository: large outputs stay
# out of git), THREADS (1), NICE (15), BENCH (../shared/benchmarks), S3_TASKS / S4_SETS (a
# space-separated subset of s3's tasks / s4's data sets, to finish part of a step), DTYPE (f32;
# bf16 runs every model command of the steps s2 s2-mcq s3 s4 s5 with --dtype bf16, into
# RUNS/MODEL/bf16 and results/MODEL/<step>-bf16: the 1.5B column's setting). Only each run's
# summary.json (and the small detector / heads files) are copied to results/MODEL/<step>/;
# /usr/bin/time -v of each command goes to RUNS/MODEL/<step>.time and its wall time and peak RSS
# to results/MODEL/<step>/time.txt.
set -euo pipefail

MODEL=${1:?usage: scripts/paper_scale.sh MODEL [STEP...]}
shift
STEPS=("$@")
[ ${#STEPS[@]} -gt 0 ] || STEPS=(s1 s1-cot s2 s2-mcq s3 s4 s5)

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${REASONSCOPE_BIN:-$ROOT/build/release/bin/reasonscope}
BENCH=${BENCH:-$ROOT/../shared/benchmarks}
RUNS=${RUNS:-$ROOT/../runs/paper}
THREADS=${THREADS:-1}
NICE=${NICE:-15}
DTYPE=${DTYPE:-f32}
W=$RUNS/$MODEL        # this model's outputs
DT=()                 # extra model options of DTYPE
SFX=""                # results/ suffix of DTYPE
case $DTYPE in
  f32) ;;
  bf16) DT=(--dtype bf16); SFX=-bf16; W=$RUNS/$MODEL/bf16 ;;
  *) echo "paper_scale.sh: DTYPE must be f32 or bf16, not '$DTYPE'" >&2; exit 2 ;;
esac
DATA=$RUNS/data       # generated and derived data, shared by all models (same seeds, same bytes)
RES=$ROOT/results/$MODEL
mkdir -p "$W" "$DATA" "$RES"
cd "$ROOT"

rs() { "$BIN" "$@"; }

# run STEP OUTDIR CMD...: the model command under nice and /usr/bin/time -v, skipped when
# OUTDIR/summary.json exists; then copies the small files into results/.
run() {
  local step=$1 out=$2
  shift 2
  if [ ! -f "$out/summary.json" ]; then
    echo "== $MODEL $step: $*" >&2
    /usr/bin/time -v -o "$W/$step.time" nice -n "$NICE" "$BIN" "$@" --model "$MODEL" --threads "$THREADS" "${DT[@]}"
  fi
  keep "$step" "$out"
}

keep() {
  local step=$1 out=$2
  mkdir -p "$RES/$step$SFX"
  cp "$out/summary.json" "$RES/$step$SFX/summary.json"
  if [ -f "$W/$step.time" ]; then
    grep -E 'Elapsed \(wall clock\)|Maximum resident set size|Command being timed' "$W/$step.time" > "$RES/$step$SFX/time.txt"
  fi
}

# ---------------------------------------------------------------- data (model-independent)
make_data() {
  [ -f "$DATA/pq_every4.jsonl" ] || awk 'NR % 4 == 1' "$BENCH/prontoqa/dev.jsonl" > "$DATA/pq_every4.jsonl"
  [ -f "$DATA/cot_pairs.jsonl" ] || rs data make cot-pairs --from "$DATA/pq_every4.jsonl" --seed 1 --out "$DATA/cot_pairs.jsonl"
  # The mcq form of the same 600 ProntoQA questions: the two candidate conclusions as options
  # (the statement and its negation), answer = the one that follows.
  [ -f "$DATA/prontoqa_mcq.jsonl" ] || python3 - "$BENCH/prontoqa/dev.jsonl" "$DATA/prontoqa_mcq.jsonl" <<'EOF'
import json, sys
out = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    s = r["query"].split(":", 1)[1].strip()
    neg = s.replace(" is not ", " is ", 1) if " is not " in s else s.replace(" is ", " is not ", 1)
    assert neg != s, s
    out.append({"id": r["id"], "hops": r["hops"], "context": r["context"],
                "question": "Which statement is true?", "options": [s, neg],
                "answer_index": 0 if r["answer"] == "True" else 1})
with open(sys.argv[2] + ".tmp", "w") as f:
    for o in out: f.write(json.dumps(o) + "\n")
import os; os.replace(sys.argv[2] + ".tmp", sys.argv[2])
EOF
  # steer: generated train / eval sets (seeds as README "steer"), ProntoQA dev rows split in two
  # disjoint halves of 150 (train = lines 2, 6, ..., eval = lines 3, 7, ...: every hop count in both).
  for t in babi15 ioi; do
    [ -f "$DATA/${t}_train.jsonl" ] || rs data make $t --n 150 --seed 11 --out "$DATA/${t}_train.jsonl"
    [ -f "$DATA/${t}_pairs.jsonl" ] || rs data make pairs --from "$DATA/${t}_train.jsonl" --seed 11 --out "$DATA/${t}_pairs.jsonl"
    [ -f "$DATA/${t}_eval.jsonl" ] || rs data make $t --n 150 --seed 12 --out "$DATA/${t}_eval.jsonl"
  done
  [ -f "$DATA/prontoqa_train.jsonl" ] || awk 'NR % 4 == 2' "$BENCH/prontoqa/dev.jsonl" > "$DATA/prontoqa_train.jsonl"
  [ -f "$DATA/prontoqa_pairs.jsonl" ] || rs data make pairs --from "$DATA/prontoqa_train.jsonl" --seed 11 --out "$DATA/prontoqa_pairs.jsonl"
  [ -f "$DATA/prontoqa_eval.jsonl" ] || awk 'NR % 4 == 3' "$BENCH/prontoqa/dev.jsonl" > "$DATA/prontoqa_eval.jsonl"
  [ -f "$DATA/twohop.jsonl" ] || rs data make twohop --n 300 --seed 1 --out "$DATA/twohop.jsonl"
  [ -f "$DATA/instructions.jsonl" ] || rs data make instructions --n 800 --seed 1 --tasks 8 --distributions 4 --out "$DATA/instructions.jsonl"
}

n_layer() { rs info --model "$MODEL" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["n_layer"])'; }

# ---------------------------------------------------------------- S1: spectral
s1() {
  run s1 "$W/s1_minif2f" verify spectral --data "$BENCH/minif2f-lean/dev.jsonl" \
    --save-calibration "$W/s1_cal.json" --resume --out "$W/s1_minif2f"
  cp "$W/s1_cal.json" "$RES/s1/calibration.json"
}
# The detector frozen on miniF2F dev, applied to the ProntoQA cot-pairs (labelled: the summary
# puts token count and log-prob beside it on the same rows).
s1_cot() {
  run s1-cot "$W/s1_cot_frozen" verify spectral --data "$DATA/cot_pairs.jsonl" \
    --calibration "$W/s1_cal.json" --resume --out "$W/s1_cot_frozen"
}
# The bf16 detector (s1-bf16) frozen and applied in bf16: the 1.5B model's S1 row runs in bf16.
s1_cot_bf16() {
  run s1-cot-bf16 "$W/s1_cot_frozen_bf16" verify spectral --data "$DATA/cot_pairs.jsonl" --dtype bf16 \
    --calibration "$W/s1_cal_bf16.json" --resume --out "$W/s1_cot_frozen_bf16"
}
# Point 3: the same as s1 with bf16 weights and compute.
s1_bf16() {
  run s1-bf16 "$W/s1_minif2f_bf16" verify spectral --data "$BENCH/minif2f-lean/dev.jsonl" --dtype bf16 \
    --save-calibration "$W/s1_cal_bf16.json" --resume --out "$W/s1_minif2f_bf16"
  cp "$W/s1_cal_bf16.json" "$RES/s1-bf16/calibration.json"
}
# The first N rows of miniF2F dev (the file's order is shuffled: both labels throughout), for a
# machine too busy to finish all 300: s1-first analyses the rows the s1 run has checkpointed so far
# (--limit is not part of the checkpoint's settings, so a copy of its checkpoint is reused as is);
# s1-bf16-first runs the same rows in bf16 for the f32 / bf16 comparison.
s1_first() {
  local n=${S1_LIMIT:?set S1_LIMIT=N}
  if [ ! -f "$W/s1_minif2f_first$n/summary.json" ]; then
    mkdir -p "$W/s1_minif2f_first$n"
    [ -d "$W/s1_minif2f/resume" ] && cp -r "$W/s1_minif2f/resume" "$W/s1_minif2f_first$n/"
  fi
  run "s1-first$n" "$W/s1_minif2f_first$n" verify spectral --data "$BENCH/minif2f-lean/dev.jsonl" --limit "$n" \
    --save-calibration "$W/s1_cal_first$n.json" --resume --out "$W/s1_minif2f_first$n"
}
s1_bf16_first() {
  local n=${S1_BF16_LIMIT:-40}
  run "s1-bf16-first$n" "$W/s1_minif2f_bf16_first$n" verify spectral --data "$BENCH/minif2f-lean/dev.jsonl" \
    --dtype bf16 --limit "$n" --resume --out "$W/s1_minif2f_bf16_first$n"
}

# ---------------------------------------------------------------- S2: QK heads
s2() {
  run s2 "$W/s2_qk" verify qk --data "$BENCH/prontoqa/dev.jsonl" --resume --out "$W/s2_qk"
  cp "$W/s2_qk/heads.json" "$RES/s2$SFX/heads.json"
}
# A stratified quarter of ProntoQA dev (lines 1, 5, 9, ...: 50 questions per hop count), 60 for
# calibration: the sample README "verify qk" first measured SmolLM2-135M on.
s2q() {
  run s2q "$W/s2q_qk" verify qk --data "$DATA/pq_every4.jsonl" --calib 60 --resume --out "$W/s2q_qk"
  cp "$W/s2q_qk/heads.json" "$RES/s2q/heads.json"
}
s2q_bf16() {
  run s2q-bf16 "$W/s2q_qk_bf16" verify qk --data "$DATA/pq_every4.jsonl" --calib 60 --dtype bf16 --resume --out "$W/s2q_qk_bf16"
  cp "$W/s2q_qk_bf16/heads.json" "$RES/s2q-bf16/heads.json"
}
# The quarter again, with the default prompt inside one ChatML user turn (both Qwen models and
# SmolLM2 are chat-tuned with ChatML): does the model's own answer, or a head, judge validity when
# the question comes as a chat turn rather than raw text? (At 0.5B and 1.5B the raw prompt makes
# the model answer by option position.)
CHATML_TEMPLATE='<|im_start|>user\n{context}\n{question}\n{options}<|im_end|>\n<|im_start|>assistant\nAnswer:'
s2q_chat() {
  run s2q-chat "$W/s2q_qk_chat" verify qk --data "$DATA/pq_every4.jsonl" --calib 60 --template "$CHATML_TEMPLATE" \
    --resume --out "$W/s2q_qk_chat"
  cp "$W/s2q_qk_chat/heads.json" "$RES/s2q-chat$SFX/heads.json"
}
s2_chat() {
  run s2-chat "$W/s2_qk_chat" verify qk --data "$BENCH/prontoqa/dev.jsonl" --template "$CHATML_TEMPLATE" \
    --resume --out "$W/s2_qk_chat"
  cp "$W/s2_qk_chat/heads.json" "$RES/s2-chat$SFX/heads.json"
}
s2q_mcq() {
  [ -f "$DATA/pq_every4_mcq.jsonl" ] || awk 'NR % 4 == 1' "$DATA/prontoqa_mcq.jsonl" > "$DATA/pq_every4_mcq.jsonl"
  run s2q-mcq "$W/s2q_qk_mcq" verify qk --format mcq --data "$DATA/pq_every4_mcq.jsonl" --calib 60 --resume --out "$W/s2q_qk_mcq"
}
s2_mcq() {
  run s2-mcq "$W/s2_qk_mcq" verify qk --format mcq --data "$DATA/prontoqa_mcq.jsonl" --resume --out "$W/s2_qk_mcq"
}

# ---------------------------------------------------------------- S3: steering
# As the audit's full budget: methods r, r-c, pca-c read at L/3, L/2, 2L/3; alphas +-1, 2, 4 in
# units of |mean difference| at the middle layer (r rescaled so all three add vectors of one
# length); 50 calibration items choose layer and alpha, the other 100 are the test split.
s3() {
  local L mid layers
  L=$(n_layer)
  mid=$((L / 2))
  layers="$((L / 3)),$mid,$((2 * L / 3))"
  for t in ${S3_TASKS:-babi15 ioi prontoqa}; do
    mkdir -p "$W/s3_$t"
    local vec="$W/s3_$t/vec-{method}.gguf"
    if [ ! -f "$W/s3_$t/vec-pca-c.summary.json" ]; then
      /usr/bin/time -v -o "$W/s3-$t-train.time" nice -n "$NICE" "$BIN" steer train --data "$DATA/${t}_pairs.jsonl" \
        --method r,r-c,pca-c --layers "$layers" --resume --out "$vec" --model "$MODEL" --threads "$THREADS" "${DT[@]}"
    fi
    mkdir -p "$RES/s3-$t$SFX"
    for m in r r-c pca-c; do cp "$W/s3_$t/vec-$m.summary.json" "$RES/s3-$t$SFX/vec-$m.summary.json"; done
    local scale
    scale=$(python3 -c 'import json,sys
def norm(p, l):
    return [x["norm"] for x in json.load(open(p))["layers"] if x["layer"] == l][0]
print(norm(sys.argv[1], int(sys.argv[3])) / norm(sys.argv[2], int(sys.argv[3])))' \
      "$W/s3_$t/vec-r-c.summary.json" "$W/s3_$t/vec-r.summary.json" "$mid")
    for m in r r-c pca-c; do
      local alphas="-4,-2,-1,1,2,4"
      [ "$m" = r ] && alphas=$(python3 -c "import sys; s=float(sys.argv[1]); print(','.join('%.6g' % (a * s) for a in (-4,-2,-1,1,2,4)))" "$scale")
      run "s3-$t-$m" "$W/s3_$t/eval-$m" steer eval --vector "$W/s3_$t/vec-$m.gguf" --layers "$layers" --alpha="$alphas" \
        --data "$DATA/${t}_eval.jsonl" --calib 50 --seed 1 --resume --out "$W/s3_$t/eval-$m"
    done
  done
}

# ---------------------------------------------------------------- S4: two-hop
# Categories on all of MQuAKE dev and our 300-row twohop set; logit lens on 8 compositional
# prompts (cases the model gets right first); tracing, CREME per case (paper protocol) and one edit
# fitted on the fit split, evaluated on both splits, on the hops-right-composition-wrong cases.
s4() {
  local set src
  for set in ${S4_SETS:-mquake twohop}; do
    src=$BENCH/mquake-2hop/dev.jsonl
    [ $set = twohop ] && src=$DATA/twohop.jsonl
    local d=$W/s4_$set
    mkdir -p "$d" "$RES/s4-$set$SFX"
    if [ ! -f "$d/cases.jsonl" ]; then
      /usr/bin/time -v -o "$W/s4-$set-label.time" nice -n "$NICE" "$BIN" data label twohop --data "$src" --resume \
        --out "$d/cases.jsonl" --model "$MODEL" --threads "$THREADS" "${DT[@]}" > "$d/label_summary.json"
    fi
    cp "$d/label_summary.json" "$RES/s4-$set$SFX/label_summary.json"
    python3 - "$d/cases.jsonl" "$d" <<'EOF'
import json, sys, os
cases = [json.loads(l) for l in open(sys.argv[1])]
order = [c for c in cases if c.get("category") == "all_right"] + [c for c in cases if c.get("category") != "all_right"]
with open(os.path.join(sys.argv[2], "lens_cases.tsv"), "w") as f:
    for c in order[:8]:
        f.write("\t".join([c["composed_cloze"], c["answer"], c["bridge_answer"]]) + "\n")
with open(os.path.join(sys.argv[2], "failing.jsonl"), "w") as f:
    for c in cases:
        if c.get("category") == "hops_right_comp_wrong": f.write(json.dumps(c) + "\n")
EOF
    local k=0 prompt answer bridge
    while IFS=$'\t' read -r prompt answer bridge; do
      k=$((k + 1))
      run "s4-$set-lens-$k" "$d/lens-$k" lens --prompt "$prompt" --answers "$answer,$bridge" --out "$d/lens-$k"
    done < "$d/lens_cases.tsv"
    [ -s "$d/failing.jsonl" ] || { echo "$MODEL $set: no hops_right_comp_wrong case" >&2; continue; }
    run "s4-$set-patch" "$d/patch" patch --data "$d/failing.jsonl" --category all --resume --out "$d/patch"
    if [ ! -f "$d/creme_fit.safetensors" ]; then
      nice -n "$NICE" "$BIN" edit creme --data "$d/failing.jsonl" --category all --split fit --layers auto \
        --out "$d/creme_fit.safetensors" --model "$MODEL" --threads "$THREADS" "${DT[@]}" > "$d/creme_fit.json"
    fi
    cp "$d/creme_fit.json" "$RES/s4-$set$SFX/creme_fit.json"
    local range
    range=$(python3 -c 'import json,sys; l=json.load(open(sys.argv[1]))["layers"]; print(f"{l[0]}-{l[-1]}")' "$d/creme_fit.json")
    for split in fit eval; do
      run "s4-$set-edit-$split" "$d/edit_$split" edit eval --edit "$d/creme_fit.safetensors" --data "$d/failing.jsonl" \
        --category all --split $split --resume --out "$d/edit_$split"
    done
    run "s4-$set-percase" "$d/percase" edit eval --per-case-creme "$range" --data "$d/failing.jsonl" \
      --category all --split all --resume --out "$d/percase"
  done
}

# ---------------------------------------------------------------- S5: clustering
s5() {
  run s5-task "$W/s5_task" cluster analyze --data "$DATA/instructions.jsonl" --text-field instruction \
    --label-field task --resume --out "$W/s5_task"
  run s5-template "$W/s5_template" cluster analyze --data "$DATA/instructions.jsonl" --text-field instruction \
    --label-field distribution --resume --out "$W/s5_template"
}

s5_bf16() {
  run s5-task-bf16 "$W/s5_task_bf16" cluster analyze --data "$DATA/instructions.jsonl" --text-field instruction \
    --label-field task --dtype bf16 --resume --out "$W/s5_task_bf16"
  run s5-template-bf16 "$W/s5_template_bf16" cluster analyze --data "$DATA/instructions.jsonl" --text-field instruction \
    --label-field distribution --dtype bf16 --resume --out "$W/s5_template_bf16"
}

make_data
for s in "${STEPS[@]}"; do
  case $s in
    s1) s1 ;;
    s1-cot) s1_cot ;;
    s1-bf16) s1_bf16 ;;
    s1-cot-bf16) s1_cot_bf16 ;;
    s1-first) s1_first ;;
    s1-bf16-first) s1_bf16_first ;;
    s2q) s2q ;;
    s2q-bf16) s2q_bf16 ;;
    s2q-mcq) s2q_mcq ;;
    s2q-chat) s2q_chat ;;
    s2-chat) s2_chat ;;
    s2) s2 ;;
    s2-mcq) s2_mcq ;;
    s3) s3 ;;
    s4) s4 ;;
    s5) s5 ;;
    s5-bf16) s5_bf16 ;;
    *) echo "paper_scale.sh: unknown step '$s' (s1 s1-cot s1-bf16 s1-cot-bf16 s1-first s1-bf16-first s2 s2q s2q-bf16 s2q-mcq s2q-chat s2-chat s2-mcq s3 s4 s5 s5-bf16)" >&2; exit 2 ;;
  esac
done
