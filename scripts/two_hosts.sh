#!/usr/bin/env bash
# two_hosts.sh — run an MPI program on N "hosts" made of Linux network namespaces on this machine.
#
#   scripts/two_hosts.sh [--hosts N] [--slots K] [--rate RATE] [--delay MS] [--subnet A.B.C]
#                        [--] PROGRAM [ARGS...]
#
# Each host is a network namespace (ptt-host-<pid>-<i>) with its own UTS namespace (hostname
# ptt-host-<i>), an address A.B.C.<i> on a private /24 (default 10.77.0) and loopback up. Two hosts
# are joined by a veth pair; more than two by a bridge in a "switch" namespace (ptt-host-<pid>-sw).
# OpenMPI reaches the other hosts through its rsh launcher: a small generated script, used as
# `--mca plm_rsh_agent`, that runs the daemon's command with `ip netns exec` in the namespace that
# owns the address (as ssh would run it on a real host). mpiexec starts inside host 1 with
#
#   mpiexec --hostfile HOSTFILE -n N*K --mca plm_rsh_agent LAUNCHER --mca btl self,tcp
#           (self,vader,tcp when K > 1: ranks on one host share memory)
#           --mca btl_tcp_if_include A.B.C.0/24 --mca oob_tcp_if_include A.B.C.0/24 PROGRAM ARGS
#
# Options:
#   --hosts N      hosts (namespaces), 2..16, default 2
#   --slots K      MPI ranks per host, 1..16, default 1
#   --rate RATE    limit each host's outgoing link with tc tbf, e.g. 10gbit, 1gbit, 100mbit
#   --delay MS     add MS milliseconds (e.g. 0.1, 1, 10) each way with tc netem, where the kernel
#                  has netem; without it the script exits 77 with one line
#   --subnet A.B.C the /24 to use (default 10.77.0, or $PTT_HOSTS_SUBNET)
#
# Everything it creates (namespaces, links, qdiscs, the launcher and hostfile in a temporary
# folder) is removed on exit, Ctrl-C or TERM; leftovers of runs that were SIGKILLed (their pid is
# gone) are removed at start-up. On start it prints one line naming the hosts and their
# namespaces (stderr), so that a test can kill a host.
# The environment (OMPI_*, OMP_NUM_THREADS, ...) passes to mpiexec and every rank; unless set,
# OMPI_MCA_mpi_yield_when_idle=1 (see below).
# Exit codes: the program's (mpiexec's); 2 bad usage; 77 network namespaces cannot be created
# (no privilege) or --delay without netem — nothing ran.
set -euo pipefail

PREFIX=ptt-host-
me=two_hosts
usage() { echo "$me: $*" >&2; exit 2; }
skip() { echo "$me: SKIP: $*" >&2; exit 77; }

hosts=2 slots=1 rate= delay= subnet=${PTT_HOSTS_SUBNET:-10.77.0}
while [[ $# -gt 0 ]]; do
  case $1 in
    --hosts) [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] && ((10#$2 >= 2 && 10#$2 <= 16)) \
               || usage "--hosts wants a number from 2 to 16, got '${2:-}'"; hosts=$((10#$2)); shift 2 ;;
    --slots) [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] && ((10#$2 >= 1 && 10#$2 <= 16)) \
               || usage "--slots wants a number from 1 to 16, got '${2:-}'"; slots=$((10#$2)); shift 2 ;;
    --rate) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*[kmg]?bit$ ]] \
               || usage "--rate wants a tc rate such as 10gbit, 1gbit or 100mbit, got '${2:-}'"; rate=$2; shift 2 ;;
    --delay) [[ $# -ge 2 && $2 =~ ^[0-9]+(\.[0-9]+)?$ ]] \
               || usage "--delay wants milliseconds such as 0.1, 1 or 10, got '${2:-}'"; delay=$2; shift 2 ;;
    --subnet) [[ $# -ge 2 && $2 =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] \
               && ((BASH_REMATCH[1] <= 255 && BASH_REMATCH[2] <= 255 && BASH_REMATCH[3] <= 255)) \
               || usage "--subnet wants the first three numbers of a /24, e.g. 10.77.0, got '${2:-}'"; subnet=$2; shift 2 ;;
    -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) usage "unknown option '$1' (see --help)" ;;
    *) break ;;
  esac
done
[[ $# -ge 1 ]] || usage "give the MPI program to run, e.g. $0 --hosts 2 build/release/chapters/03_mpi_data_parallel/ch03_mpi"
command -v ip >/dev/null || skip "no 'ip' command (apt install iproute2)"
command -v mpiexec >/dev/null || usage "mpiexec not found on PATH (apt install openmpi-bin)"
[[ -z $rate && -z $delay ]] || command -v tc >/dev/null || usage "--rate/--delay need tc (apt install iproute2)"
[[ $subnet =~ ^[0-9.]+$ ]]  # (validated above; keeps the generated scripts free of odd characters)

# Namespaces of earlier runs whose script is gone (a SIGKILL skips the trap): kill what still runs
# in them and delete them. Runs still alive keep theirs, so tests may run side by side.
kill_and_delete() {
  local ns=$1 pids
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  if [[ -n $pids ]]; then kill -9 $pids 2>/dev/null || true; fi  # word splitting wanted: a pid per word
  ip netns del "$ns" 2>/dev/null || true
}
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX[0-9]*-" || true); do
  owner=${ns#"$PREFIX"}; owner=${owner%%-*}
  if ! kill -0 "$owner" 2>/dev/null; then kill_and_delete "$ns"; fi
done
for dir in "${TMPDIR:-/tmp}/$PREFIX"[0-9]*.*; do  # their launcher and hostfile
  [[ -d $dir ]] || continue
  owner=${dir##*/"$PREFIX"}; owner=${owner%%.*}
  if ! kill -0 "$owner" 2>/dev/null; then rm -rf "$dir"; fi
done

tag=$PREFIX$$
namespaces=()
work=$(mktemp -d "${TMPDIR:-/tmp}/$tag.XXXXXX")
job=
teardown() {
  trap - EXIT INT TERM
  if [[ -n $job ]]; then kill -TERM "$job" 2>/dev/null || true; sleep 0.2; kill -9 "$job" 2>/dev/null || true; fi
  local ns
  for ns in "${namespaces[@]}"; do kill_and_delete "$ns"; done
  rm -rf "$work"
}
trap 'teardown' EXIT
trap 'teardown; exit 130' INT
trap 'teardown; exit 143' TERM

# --- the hosts and the link --------------------------------------------------------------------
new_ns() {
  local err
  if ! err=$(ip netns add "$1" 2>&1); then skip "cannot create network namespaces here ($err); run as root (or with CAP_SYS_ADMIN and CAP_NET_ADMIN)"; fi
  namespaces+=("$1")
  ip -n "$1" link set lo up
}
for ((i = 1; i <= hosts; i++)); do new_ns "$tag-$i"; done
if ((hosts == 2)); then
  ip -n "$tag-1" link add eth0 type veth peer name eth0 netns "$tag-2"
else  # a bridge in its own namespace; host i's eth0 is paired with the bridge's port pi
  new_ns "$tag-sw"
  ip -n "$tag-sw" link add br0 type bridge
  ip -n "$tag-sw" link set br0 up
  for ((i = 1; i <= hosts; i++)); do
    ip -n "$tag-sw" link add "p$i" type veth peer name eth0 netns "$tag-$i"
    ip -n "$tag-sw" link set "p$i" master br0 up
  done
fi
netem_error=
for ((i = 1; i <= hosts; i++)); do
  ns=$tag-$i
  ip -n "$ns" addr add "$subnet.$i/24" dev eth0
  ip -n "$ns" link set eth0 up
  # Shaping: the queue discipline on each host's outgoing side, so both directions are limited.
  # tbf's burst must hold the largest (GSO) packet, 64 KB; at least 1 ms of the rate otherwise.
  parent=(root)
  if [[ -n $delay ]]; then
    if ! netem_error=$(tc -n "$ns" qdisc add dev eth0 root handle 1: netem delay "${delay}ms" 2>&1); then
      skip "--delay needs tc netem, which this kernel lacks ($netem_error); delay runs skipped"
    fi
    parent=(parent 1:1)
  fi
  if [[ -n $rate ]]; then
    bits=${rate%bit}; scale=1
    case $bits in *k) scale=1000 ;; *m) scale=1000000 ;; *g) scale=1000000000 ;; esac
    bits=${bits%[kmg]}
    burst=$((bits * scale / 8 / 1000)); ((burst >= 131072)) || burst=131072
    tc -n "$ns" qdisc add dev eth0 "${parent[@]}" handle 10: tbf rate "$rate" burst "$burst" latency 50ms
  fi
done
# Wait until host 1 reaches every other host (no ping in the image: a TCP connect that is
# refused proves the route works; bash's /dev/tcp in the namespace).
for ((i = 2; i <= hosts; i++)); do
  for _ in $(seq 1 50); do
    out=$(ip netns exec "$tag-1" timeout 1 bash -c "exec 3<>/dev/tcp/$subnet.$i/9" 2>&1 || true)
    [[ $out == *refused* ]] && break
    sleep 0.1
  done
done

# --- OpenMPI's view: a hostfile and the rsh agent ------------------------------------------------
hostfile=$work/hostfile launcher=$work/netns_rsh
for ((i = 1; i <= hosts; i++)); do echo "$subnet.$i slots=$slots"; done >"$hostfile"
{
  echo '#!/bin/sh'
  echo "# OpenMPI's rsh agent for $tag: HOST COMMAND... runs COMMAND (a shell command line, as ssh"
  echo "# would) in the network namespace that owns HOST, under that host's name."
  echo 'host=$1; shift'
  echo 'case $host in'
  for ((i = 1; i <= hosts; i++)); do echo "  $subnet.$i) i=$i ;;"; done
  echo "  *) echo \"netns_rsh: unknown host \$host\" >&2; exit 255 ;;"
  echo 'esac'
  echo "exec ip netns exec \"$tag-\$i\" unshare --uts sh -c 'hostname \"\$0\" && exec sh -c \"\$1\"' \"${PREFIX}\$i\" \"\$*\""
} >"$launcher"
chmod +x "$launcher"

# All hosts share this machine's cores, and so does the kernel that carries their TCP traffic:
# ranks that busy-poll every core leave the kernel's network processing one scheduler tick
# (4 ms) per message. Ranks that yield while they wait let it run (alpha 26 us instead of 4 ms).
export OMPI_MCA_mpi_yield_when_idle=${OMPI_MCA_mpi_yield_when_idle:-1}
btl=self,tcp
((slots > 1)) && btl=self,vader,tcp
mpi=(mpiexec --hostfile "$hostfile" -n $((hosts * slots))
     --mca plm_rsh_agent "$launcher" --mca plm_rsh_no_tree_spawn 1
     --mca btl "$btl" --mca btl_tcp_if_include "$subnet.0/24" --mca oob_tcp_if_include "$subnet.0/24" "$@")
{
  printf '%s: %d hosts x %d slots on %s.0/24' "$me" "$hosts" "$slots" "$subnet"
  [[ -n $rate ]] && printf ', rate %s' "$rate"
  [[ -n $delay ]] && printf ', delay %s ms' "$delay"
  printf ';'
  for ((i = 1; i <= hosts; i++)); do printf ' %s%d=%s.%d(netns %s-%d)' "$PREFIX" "$i" "$subnet" "$i" "$tag" "$i"; done
  printf '\n'
} >&2

# mpiexec inside host 1 (its own hostname too), in the background so that the traps can run.
ip netns exec "$tag-1" unshare --uts sh -c 'hostname "$0" && exec "$@"' "${PREFIX}1" "${mpi[@]}" &
job=$!
code=0
wait "$job" || code=$?
job=
exit "$code"
