#!/usr/bin/env bash
# Chapters 03 and 06 on two "hosts" (network namespaces joined by a veth link, TCP between them;
# see scripts/two_hosts.sh) against the same run on one host (mpiexec, shared memory).
#
# Usage: hosts.sh TWO_HOSTS_SH MPIEXEC PROGRAM CASE      (PROGRAM: ch03_mpi, or ch06_hybrid for grid-*)
#   allreduce-mpi | allreduce-ring | allreduce-bucketed
#              2 hosts x 1 slot end with the param_checksum of `mpiexec -n 2` on one host
#   four-ranks 2 hosts x 2 slots (btl self,vader,tcp) end with the checksum of `mpiexec -n 4`
#   grid-dp-tp | grid-dp-pp
#              chapter 06 on 2 hosts x 2 slots: a dp 2 x tp 2 (or dp 2 x pp 2) grid whose dp
#              group spans the hosts (the default order tp-pp-dp puts a tp or pp group on one
#              host), with the checksum of `mpiexec -n 4` on one host
#   host-dies  every process of host 2 killed mid-run: the job ends within 10 s, non-zero, with a
#              message naming the host
# Every case also checks that the run left no namespace behind.
# Exit codes: 0 passed, 1 failed, 77 skipped (network namespaces cannot be created here).
# Environment: the OpenMPI variables of the CTest test (root, oversubscription), OMP_NUM_THREADS=1.
set -u
two_hosts=$1 mpiexec=$2 exe=$3 case=$4
work=$(mktemp -d)
job=
trap 'rm -rf "$work"; [[ -n $job ]] && kill -TERM "$job" 2>/dev/null' EXIT
fail() { echo "FAIL $*"; exit 1; }

# A short run: the real data set if installed, else a tiny one (tests/idx_fixtures.sh).
data=${PTT_DATA_DIR:-/usr/share/datasets/fashion-mnist}
if [[ ! -e $data/train-images-idx3-ubyte.gz && ! -e $data/train-images-idx3-ubyte ]]; then
  source "$(dirname "$0")/../idx_fixtures.sh"
  data=$work/data
  good "$data"
fi
run=(--data-dir "$data" --hidden 64,32 --batch-size 8 --epochs 100 --no-progress)

checksum() { grep -o 'param_checksum [0-9a-f]*' "$1" | cut -d' ' -f2; }
# leftovers RUN_STDERR: the namespaces named in two_hosts.sh's first line, if any still exist
leftovers() {
  local tag
  tag=$(grep -o 'netns ptt-host-[0-9]*-' "$1" | head -n 1 | cut -d' ' -f2)
  [[ -n $tag ]] && ip netns list | awk '{print $1}' | grep "^$tag" || true
}
# two_hosts OUT ERR ARGS...: one run on the namespace hosts; skips the test (77) if it cannot
two_hosts() {
  local out=$1 err=$2 code
  shift 2
  timeout 120 "$two_hosts" "$@" >"$out" 2>"$err" </dev/null
  code=$?
  if [[ $code -eq 77 ]]; then echo "SKIP $(tail -n 1 "$err")"; exit 77; fi
  local left
  left=$(leftovers "$err")
  [[ -z $left ]] || fail "two_hosts.sh left namespaces behind: $left"
  return "$code"
}

same_checksum() {  # same_checksum HOSTS SLOTS CH03_FLAGS...
  local hosts=$1 slots=$2 code
  shift 2
  timeout 120 "$mpiexec" -n $((hosts * slots)) "$exe" "${run[@]}" --max-steps 20 "$@" >"$work/one" 2>&1 </dev/null
  code=$?
  [[ $code -eq 0 ]] || { cat "$work/one"; fail "one host, mpiexec -n $((hosts * slots)): exit $code"; }
  two_hosts "$work/out" "$work/err" --hosts "$hosts" --slots "$slots" "$exe" "${run[@]}" --max-steps 20 "$@"
  code=$?
  [[ $code -eq 0 ]] || { cat "$work/out" "$work/err"; fail "$hosts hosts x $slots slots: exit $code"; }
  local want got
  want=$(checksum "$work/one") got=$(checksum "$work/out")
  if [[ -n $want && $got == "$want" ]]; then
    echo "ok   $hosts hosts x $slots slots over TCP ($*): param_checksum $got, as on one host"
    echo "     $(head -n 1 "$work/err")"
  else
    cat "$work/out" "$work/err"
    fail "$hosts hosts x $slots slots ($*): param_checksum '$got', one host '$want'"
  fi
}

case $case in
  allreduce-mpi | allreduce-ring | allreduce-bucketed)
    same_checksum 2 1 --allreduce "${case#allreduce-}" ;;
  four-ranks)
    same_checksum 2 2 --allreduce ring ;;
  grid-dp-tp)
    same_checksum 2 2 --dp 2 --tp 2 ;;
  grid-dp-pp)
    same_checksum 2 2 --dp 2 --pp 2 --microbatches 2 --schedule gpipe ;;
  host-dies)
    # A run far longer than the test: every process in host 2's namespace (its OpenMPI daemon
    # and its rank) is killed once training runs.
    "$two_hosts" "$exe" "${run[@]}" >"$work/out" 2>"$work/err" </dev/null &
    job=$!
    ns=
    for _ in $(seq 1 150); do
      ns=$(grep -o 'netns ptt-host-[0-9]*-2' "$work/err" | cut -d' ' -f2)
      [[ -n $ns ]] && ip netns pids "$ns" 2>/dev/null | xargs -r ps -o comm= -p | grep -q "$(basename "$exe")" && break
      ns=
      kill -0 "$job" 2>/dev/null || break
      sleep 0.1
    done
    if [[ -z $ns ]]; then
      if ! kill -0 "$job" 2>/dev/null; then
        wait "$job"
        code=$?
        job=
        if [[ $code -eq 77 ]]; then echo "SKIP $(tail -n 1 "$work/err")"; exit 77; fi
      fi
      cat "$work/out" "$work/err"
      fail "host-dies: no $(basename "$exe") rank ever ran on host 2"
    fi
    sleep 1  # training, not start-up
    kill -9 $(ip netns pids "$ns")  # a pid per word
    start=$SECONDS
    while kill -0 "$job" 2>/dev/null && ((SECONDS - start <= 15)); do sleep 0.1; done
    if kill -0 "$job" 2>/dev/null; then cat "$work/err"; fail "host-dies: the job still runs $((SECONDS - start)) s after host 2 died (hang)"; fi
    wait "$job"
    code=$?
    job=
    took=$((SECONDS - start))
    left=$(leftovers "$work/err")
    [[ -z $left ]] || fail "two_hosts.sh left namespaces behind: $left"
    # OpenMPI names the node it lost by its hostfile entry (the address of host 2).
    addr=$(grep -o 'ptt-host-2=[0-9.]*' "$work/err" | cut -d= -f2)
    [[ -n $addr ]] || fail "host-dies: two_hosts.sh did not name host 2's address"
    named=$(grep -v '^two_hosts:' "$work/err" | grep -m 1 -F -e "$addr" -e ptt-host-2)
    if [[ $code -ne 0 && $took -le 10 && -n $named ]]; then
      echo "ok   host 2 killed: the job ended after ${took} s with exit $code; OpenMPI said: $(echo "$named" | sed 's/^ *//')"
    else
      cat "$work/err"
      fail "host-dies: exit $code after ${took} s; a line naming host 2: '${named}'"
    fi ;;
  *) echo "hosts.sh: unknown case '$case'" >&2; exit 2 ;;
esac
