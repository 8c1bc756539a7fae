# Sourced by scripts/test.sh: announce each stage and record its wall time.
#   stage "name"   ends the previous stage (if any) and starts this one
#   stage_done     ends the last stage
# The times go to _build/ci-stages.tsv, one "name<TAB>seconds" line per stage.
STAGES_FILE="${STAGES_FILE:-_build/ci-stages.tsv}"
mkdir -p "$(dirname "$STAGES_FILE")"
: > "$STAGES_FILE"
_STAGE=""
_STAGE_T0=0
stage_record() {  # a stage timed elsewhere: stage_record "name" seconds
  printf '%s\t%s\n' "$1" "$2" >> "$STAGES_FILE"
}
stage_done() {
  if [ -n "$_STAGE" ]; then
    printf '%s\t%s\n' "$_STAGE" "$(( $(date +%s) - _STAGE_T0 ))" >> "$STAGES_FILE"
  fi
  _STAGE=""
}
stage() {
  stage_done
  _STAGE="$1"
  _STAGE_T0=$(date +%s)
  echo "==> $1"
}
