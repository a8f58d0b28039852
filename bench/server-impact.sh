#!/usr/bin/env bash
# Server impact of a full backup, strata vs mariadb-backup, in the same run.
#
# A sysbench oltp_read_write load runs at full speed (no --rate) for the whole bench and reports
# its transactions per second every second. Each round takes one full backup with each tool, in
# alternating order, each preceded by a quiet baseline window of the same server under the same
# load. For every backup the bench reports
#   kept = mean TPS inside the backup's window / mean TPS in the baseline window just before it
# and the tool's own CPU (user + system seconds, /usr/bin/time) per GiB of InnoDB data.
# The result line compares the median "kept" of the two tools: strata's should be at least
# mariadb-backup's (issue 18). A tool that takes the same CPU in less time keeps less inside its
# shorter window, so the bench also reports the transactions the load lost to each backup,
# (TPS before - TPS during) x the backup's seconds: the server's whole cost of it.
#
# Environment:
#   STRATA               strata command (default: bin/strata next to this script)
#   BENCH_TABLES         sysbench tables (default 8)
#   BENCH_TABLE_SIZE     rows per table (default 500000: about 1 GB of InnoDB files)
#   BENCH_ROUNDS         backups per tool (default 3)
#   BENCH_THREADS        sysbench threads of the load (default 2)
#   BENCH_BASELINE       seconds of each baseline window (default 8)
#   BENCH_TRX_COMMIT     innodb_flush_log_at_trx_commit of the server during the load (default 2,
#                        as bench/lib.sh starts it; 1 is MariaDB's default). With 0 or 2 the server
#                        makes its redo log durable once a second, and strata, which copies only
#                        durable redo (design rule 2), may hold BLOCK_COMMIT up to that second
#   STRATA_ARGS          extra arguments for strata backup (e.g. "--parallel 1")
#   STRATA_ARGS_B        when set, each round also runs "strata-b": strata backup with these
#                        arguments instead (e.g. STRATA_ARGS="--priority normal" STRATA_ARGS_B="--priority low"),
#                        so that two settings are compared with mariadb-backup in the same run
#   BENCH_MB_SYNC=1      also run mariadb-backup + sync of its target each round (see mbs_run)
#   BENCH_DIR            parent of the temp directory (default /tmp)
#   BENCH_KEEP=1         keep the temp directory
# Run it under `flock /tmp/strata-bench.lock` so no other timed bench overlaps it.
set -euo pipefail

STRATA=${STRATA:-$(dirname "$0")/../bin/strata}
TABLES=${BENCH_TABLES:-8}
TABLE_SIZE=${BENCH_TABLE_SIZE:-500000}
ROUNDS=${BENCH_ROUNDS:-3}
THREADS=${BENCH_THREADS:-2}
BASELINE=${BENCH_BASELINE:-8}
read -r -a EXTRA <<<"${STRATA_ARGS:-}"
read -r -a EXTRA_B <<<"${STRATA_ARGS_B:-}"
PATH="$PATH:/usr/sbin"

for tool in mariadbd mariadb-install-db mariadb mariadb-admin mariadb-backup sysbench /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (apt-get install mariadb-server mariadb-backup sysbench time)" >&2; exit 1; }
done

D=$(mktemp -d "${BENCH_DIR:-/tmp}/strata-bench.XXXXXX")
SOCK=$D/mysql.sock
LOAD_PID=""

cleanup() {
  set +e
  if [ -n "$LOAD_PID" ] && kill -0 "$LOAD_PID" 2>/dev/null; then
    kill "$LOAD_PID"; wait "$LOAD_PID" 2>/dev/null
  fi
  stop_mariadbd
  remove_workdir
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

echo "bench: temp dir $D" >&2
start_mariadbd --innodb-buffer-pool-size=1G
echo "bench: $(sql 'SELECT VERSION()') up on $SOCK" >&2
SB=(--db-driver=mysql --mysql-socket="$SOCK" --mysql-user=root --mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE")
sql "CREATE DATABASE sbtest"
sysbench oltp_read_write "${SB[@]}" --threads=2 prepare >"$D/prepare.log" 2>&1 || { tail -20 "$D/prepare.log" >&2; exit 1; }
size_mb=$(du -sm "$D/data/sbtest" | cut -f1)
TRX_COMMIT=${BENCH_TRX_COMMIT:-2}
sql "SET GLOBAL innodb_flush_log_at_trx_commit=$TRX_COMMIT"
echo "bench: loaded $TABLES x $TABLE_SIZE rows, sbtest $size_mb MiB" >&2

# one untimed run of each tool first: the page cache holds the data for both alike (and
# bin/strata has built its jar)
"$STRATA" backup --repo "$D/warm" --type full --socket "$SOCK" --user root >"$D/warm.log" 2>&1 || { echo "bench: strata warm-up failed:" >&2; tail -5 "$D/warm.log" >&2; exit 1; }
mariadb-backup --no-defaults --backup --target-dir="$D/warm-mb" --socket="$SOCK" --user=root >/dev/null 2>&1 || { echo "bench: mariadb-backup warm-up failed" >&2; exit 1; }
rm -rf "$D/warm" "$D/warm-mb"

# the load: one line per second "[ Ns ] thds: T tps: X ..."; its clock starts at LOAD_T0
LOAD_T0=$(date +%s.%N)
sysbench oltp_read_write "${SB[@]}" --threads="$THREADS" --time=0 --report-interval=1 run >"$D/load.log" 2>&1 &
LOAD_PID=$!
sleep 10
kill -0 "$LOAD_PID" 2>/dev/null || { echo "bench: sysbench load died" >&2; cat "$D/load.log" >&2; exit 1; }

# mean TPS of the load's per-second reports whose second lies in [from, to] (epoch seconds)
tps_between() {
  awk -v t0="$LOAD_T0" -v a="$1" -v b="$2" '
    /^\[ *[0-9]+s \]/ { s = $2; sub(/s$/, "", s); t = t0 + s;
      if (t > a + 1 && t <= b) { for (i = 1; i <= NF; i++) if ($i == "tps:") { sum += $(i + 1); n++ } } }
    END { if (n) printf "%.1f", sum / n; else print "NA" }' "$D/load.log"
}

: >"$D/results"
# one NAME OUT CMD...: baseline window, then the backup under /usr/bin/time; appends
# "NAME kept baseline_tps during_tps seconds cpu_s" to $D/results
one() {
  local name=$1 out=$2; shift 2
  sync
  sleep 2
  local b0 b1 s0 s1
  b0=$(date +%s.%N); sleep "$BASELINE"; b1=$(date +%s.%N)
  s0=$(date +%s.%N)
  /usr/bin/time -v -o "$D/time.txt" "$@" >"$D/$name.log" 2>&1 || { echo "bench: $name failed:" >&2; tail -30 "$D/$name.log" >&2; exit 1; }
  s1=$(date +%s.%N)
  rm -rf "$out"
  sleep 2 # the load's last report of the window
  local base during cpu
  base=$(tps_between "$b0" "$b1"); during=$(tps_between "$s0" "$s1")
  cpu=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {printf "%.2f", u + s}' "$D/time.txt")
  local kept
  kept=$(awk -v d="$during" -v b="$base" 'BEGIN { if (b > 0 && d != "NA") printf "%.3f", d / b; else print "NA" }')
  # the transactions the load did not run because of the backup: (TPS before - TPS during) x seconds
  local lost
  lost=$(awk -v d="$during" -v b="$base" -v s="$(sub "$s1" "$s0")" 'BEGIN { if (d != "NA") printf "%.0f", (b - d) * s; else print "NA" }')
  echo "$name $kept $base $during $(sub "$s1" "$s0") $cpu $lost" >>"$D/results"
  printf '%-15s %6.2f s  cpu %6.2f s  load TPS before %8s  during %8s  kept %s\n' "$name" "$(sub "$s1" "$s0")" "$cpu" "$base" "$during" "$kept"
  # a strata backup whose copy threads were held back on the busy host says so (default --parallel)
  grep -ho 'other processes kept up to .*' "$D/$name.log" | sed 's/^/  /' || true
  grep -ho 'commits were blocked for [0-9.]* s' "$D/$name.log" | sed 's/^/  /' || true
}

strata_run() { one strata "$D/repo" "$STRATA" backup --repo "$D/repo" --type full --socket "$SOCK" --user root "${EXTRA[@]}"; }
strata_b_run() { [ -n "${STRATA_ARGS_B:-}" ] || return 0; one strata-b "$D/repo" "$STRATA" backup --repo "$D/repo" --type full --socket "$SOCK" --user root "${EXTRA_B[@]}"; }
mb_run() { one mariadb-backup "$D/mb" mariadb-backup --no-defaults --backup --target-dir="$D/mb" --socket="$SOCK" --user=root; }
# mariadb-backup returns with its copy still in the page cache, and the bench's sync before the next
# baseline writes it out off every window; strata's window holds its fsyncs. With BENCH_MB_SYNC=1 a
# third run per round is mariadb-backup followed by "sync -f" of its target, its window ending when
# the copy is durable as strata's is
mbs_run() { [ "${BENCH_MB_SYNC:-0}" = 1 ] || return 0; one mariadb-backup+sync "$D/mbs" sh -c 'mariadb-backup --no-defaults --backup --target-dir="$1" --socket="$2" --user=root && sync -f "$1"' sh "$D/mbs" "$SOCK"; }

for r in $(seq "$ROUNDS"); do
  echo "round $r/$ROUNDS"
  if [ $((r % 2)) = 1 ]; then strata_run; mb_run; mbs_run; strata_b_run; else strata_b_run; mbs_run; mb_run; strata_run; fi
done

median() { grep -q "^$1 " "$D/results" || { echo NA; return; }; grep "^$1 " "$D/results" | awk '{print $'"$2"'}' | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
sk=$(median strata 2); mk=$(median mariadb-backup 2)
ss=$(median strata 5); ms=$(median mariadb-backup 5)
sc=$(median strata 6); mc=$(median mariadb-backup 6)
gib=$(awk -v m="$size_mb" 'BEGIN { printf "%.3f", m / 1024 }')
echo
echo "strata arguments: ${STRATA_ARGS:-(none)}${STRATA_ARGS_B:+; strata-b arguments: $STRATA_ARGS_B}; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "data: $TABLES x $TABLE_SIZE rows, sbtest $size_mb MiB; load: sysbench oltp_read_write, $THREADS threads, full speed, innodb_flush_log_at_trx_commit=$TRX_COMMIT; rounds: $ROUNDS; baseline ${BASELINE} s"
printf 'median TPS kept during the backup: strata %s  mariadb-backup %s  ratio strata/mariadb-backup %s (goal >= 1.00)\n' "$sk" "$mk" \
  "$(awk -v a="$sk" -v b="$mk" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
printf 'median backup seconds under load: strata %s  mariadb-backup %s  ratio %s\n' "$ss" "$ms" \
  "$(awk -v a="$ss" -v b="$ms" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
sl=$(median strata 7); ml=$(median mariadb-backup 7)
printf 'median transactions lost to the backup, (TPS before - TPS during) x seconds: strata %s  mariadb-backup %s  ratio %s\n' "$sl" "$ml" \
  "$(awk -v a="$sl" -v b="$ml" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
printf 'median tool CPU seconds per GiB of sbtest: strata %s  mariadb-backup %s\n' \
  "$(awk -v c="$sc" -v g="$gib" 'BEGIN { printf "%.2f", c / g }')" "$(awk -v c="$mc" -v g="$gib" 'BEGIN { printf "%.2f", c / g }')"
if [ "${BENCH_MB_SYNC:-0}" = 1 ]; then
  yk=$(median mariadb-backup+sync 2); ys=$(median mariadb-backup+sync 5); yl=$(median mariadb-backup+sync 7)
  printf 'mariadb-backup+sync: median TPS kept %s  ratio strata/it %s; median seconds %s  ratio %s; transactions lost %s  ratio %s\n' "$yk" \
    "$(awk -v a="$sk" -v b="$yk" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')" "$ys" \
    "$(awk -v a="$ss" -v b="$ys" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')" "$yl" \
    "$(awk -v a="$sl" -v b="$yl" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
fi
if [ -n "${STRATA_ARGS_B:-}" ]; then
  bk=$(median strata-b 2); bs=$(median strata-b 5); bc=$(median strata-b 6)
  printf 'strata-b (%s): median TPS kept %s  ratio to mariadb-backup %s; median seconds %s  ratio %s; CPU seconds per GiB %s\n' "$STRATA_ARGS_B" "$bk" \
    "$(awk -v a="$bk" -v b="$mk" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')" "$bs" \
    "$(awk -v a="$bs" -v b="$ms" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')" \
    "$(awk -v c="$bc" -v g="$gib" 'BEGIN { printf "%.2f", c / g }')"
fi
