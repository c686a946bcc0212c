# Sourced by the MPI chapters' shell tests (tests/ch03/failure.sh, tests/ch06/grid.sh): jobs that
# are killed, and a rank that dies. The caller defines fail() and $work (a scratch folder).
#
#   kill_job SESSION               SIGKILL every process of a job started with `setsid mpiexec ...`
#   killed_rank_ends_job MPIEXEC EXE DATA_DIR [FLAGS...]
#                                  a 2-rank job loses a rank mid-training: it must end within
#                                  10 s with a non-zero code (never hang)
#
# Why the session: mpiexec leads the session setsid gives it, and its ranks belong to it, but each
# rank has a process group of its own. Killing mpiexec's process group would leave the ranks
# running as orphans, still training and writing checkpoints.

kill_job() {
  pkill -9 -s "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  for _ in $(seq 1 50); do pgrep -s "$1" >/dev/null || return 0; sleep 0.1; done
  fail "processes of job $1 survived SIGKILL"
}

killed_rank_ends_job() {
  local mpiexec=$1 exe=$2 data=$3
  shift 3
  setsid "$mpiexec" -n 2 "$exe" --data-dir "$data" --epochs 100000 --no-progress "$@" \
    >"$work/killed.out" 2>"$work/killed.err" </dev/null &
  local job=$! victim start code took
  for _ in $(seq 1 100); do grep -q '^epoch' "$work/killed.out" && break; sleep 0.2; done
  victim=$(pgrep -f "$exe --data-dir $data --epochs 100000" | grep -v "^$job\$" | tail -n 1)
  if [[ -z $victim ]]; then fail "killed rank: could not find a rank process"; kill_job "$job"; return; fi
  kill -9 "$victim"
  start=$SECONDS
  while kill -0 "$job" 2>/dev/null && ((SECONDS - start <= 15)); do sleep 0.2; done
  if kill -0 "$job" 2>/dev/null; then
    fail "killed rank: the job still runs $((SECONDS - start))s later (hang)"
    kill_job "$job"
    return
  fi
  wait "$job"; code=$?
  took=$((SECONDS - start))
  if [[ $code -ne 0 && $took -le 10 ]]; then echo "ok   killed rank $victim: job ended after ${took}s with exit $code"
  else fail "killed rank: exit $code after ${took}s"; fi
}
