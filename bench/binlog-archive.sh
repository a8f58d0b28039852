#!/usr/bin/env bash
# Binlog archiving, strata vs mariadb-binlog, side by side on the same throwaway server.
#
# Writes about BENCH_BINLOG_MB of row-based binlog (sysbench oltp_write_only, 64 MiB files), then
# alternates, BENCH_ROUNDS times each, into fresh directories that are deleted after timing:
#   strata           strata binlog archive --once   (reads the files, checks every event, fsyncs)
#   mariadb-binlog   mariadb-binlog --read-from-remote-server --raw --to-last-log (the usual
#                    binlog backup: a copy through the replication protocol)
#   mariadb-binlog+sync  the same followed by sync -f (durable, as strata's copy is)
#   cp+sync          cp of the files plus sync: the floor for a local copy
# Prints per-run seconds, medians and the ratios strata/mariadb-binlog and strata/(mariadb-binlog+sync).
#
# Environment: STRATA (default bin/strata), BENCH_BINLOG_MB (default 256), BENCH_ROUNDS (default 3),
# BENCH_DIR (parent of the temp directory, default /tmp), BENCH_KEEP=1 keeps it.
set -euo pipefail

STRATA=${STRATA:-$(dirname "$0")/../bin/strata}
TARGET_MB=${BENCH_BINLOG_MB:-256}
ROUNDS=${BENCH_ROUNDS:-3}
PATH="$PATH:/usr/sbin"

for tool in mariadbd mariadb-install-db mariadb mariadb-admin mariadb-binlog sysbench; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (apt-get install mariadb-server mariadb-client sysbench)" >&2; exit 1; }
done

D=$(mktemp -d "${BENCH_DIR:-/tmp}/strata-bench.XXXXXX")
SOCK=$D/mysql.sock

cleanup() {
  set +e
  stop_mariadbd
  remove_workdir
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

echo "bench: temp dir $D" >&2
start_mariadbd --innodb-buffer-pool-size=512M \
  --log-bin="$D/data/binlog" --binlog-format=ROW --max-binlog-size=64M --sync-binlog=0

SB=(--db-driver=mysql --mysql-socket="$SOCK" --mysql-user=root --mysql-db=sbtest --tables=4 --table-size=100000)
sql "CREATE DATABASE sbtest"
sysbench oltp_read_write "${SB[@]}" --threads=2 prepare >"$D/prepare.log" 2>&1 || { tail -20 "$D/prepare.log" >&2; exit 1; }
binlog_mb() { du -cm "$D"/data/binlog.[0-9]* | tail -1 | cut -f1; }
while [ "$(binlog_mb)" -lt "$TARGET_MB" ]; do
  sysbench oltp_write_only "${SB[@]}" --threads=2 --time=20 --report-interval=0 run >>"$D/load.log" 2>&1 || { tail -20 "$D/load.log" >&2; exit 1; }
done
sql "FLUSH BINARY LOGS"
files=$(ls "$D"/data/binlog.[0-9]* | wc -l)
echo "bench: $(binlog_mb) MiB of binlog in $files files" >&2
first=$(sql "SHOW BINARY LOGS" | head -1 | cut -f1)
cat "$D"/data/binlog.[0-9]* >/dev/null  # in the page cache for every tool alike

run() {
  local name=$1 out=$2; shift 2
  local start end
  sync
  start=$(date +%s.%N)
  "$@" >"$D/$name.log" 2>&1 || { echo "bench: $name failed:" >&2; tail -30 "$D/$name.log" >&2; exit 1; }
  end=$(date +%s.%N)
  local secs
  secs=$(sub "$end" "$start")
  local mb
  mb=$(du -sm "$out" | cut -f1)
  rm -rf "$out"
  echo "$name $secs" >>"$D/results"
  printf '%-20s %8.2f s  output %s MiB\n' "$name" "$secs" "$mb"
}

: >"$D/results"
for r in $(seq "$ROUNDS"); do
  echo "round $r/$ROUNDS"
  run strata "$D/repo" "$STRATA" binlog archive --once --repo "$D/repo" --socket "$SOCK" --user root
  mkdir -p "$D/mb"
  run mariadb-binlog "$D/mb" mariadb-binlog --no-defaults --read-from-remote-server --socket="$SOCK" --user=root --raw --to-last-log \
    --result-file="$D/mb/" "$first"
  mkdir -p "$D/mbs"
  run mariadb-binlog+sync "$D/mbs" sh -c 'mariadb-binlog --no-defaults --read-from-remote-server --socket="$1" --user=root --raw --to-last-log --result-file="$2/" "$3" && sync -f "$2"' \
    sh "$SOCK" "$D/mbs" "$first"
  mkdir -p "$D/cp"
  run cp+sync "$D/cp" sh -c 'cp "$1"/binlog.[0-9]* "$2"/ && sync -f "$2"' sh "$D/data" "$D/cp"
done

median() { grep "^$1 " "$D/results" | awk '{print $2}' | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
s=$(median strata); m=$(median mariadb-binlog); ms=$(median mariadb-binlog+sync); c=$(median cp+sync)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "binlog: $(binlog_mb) MiB in $files files; rounds: $ROUNDS"
printf 'median seconds: strata %.2f  mariadb-binlog %.2f  mariadb-binlog+sync %.2f  cp+sync %.2f\n' "$s" "$m" "$ms" "$c"
echo "ratio strata/mariadb-binlog $(ratio "$s" "$m")  strata/(mariadb-binlog+sync) $(ratio "$s" "$ms")  strata/(cp+sync) $(ratio "$s" "$c")"
