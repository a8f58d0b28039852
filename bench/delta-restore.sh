#!/usr/bin/env bash
# Delta restore vs plain restore of the same backup, in the same run (issue 19).
#
# A sysbench data set is backed up once (strata, full) and restored into A, the "copy of the
# source". Each round then starts a server on A, changes about 1% of the pages (sysbench
# oltp_update_non_index, BENCH_CHANGES updates), lets it write them out, stops it, and times
#   delta: strata restore --delta --target A           (A back to the backup, crash recovery)
#   plain: strata restore --target NEW                 (every file written, crash recovery)
# Both start with a cold page cache when the bench may drop it (root), and both end durable
# (strata fsyncs what it writes). The figure is the ratio of the medians (target: <= 0.2).
# A was restored by strata and its server keeps the log crash recovery left (same
# innodb_log_file_size as the source), so the delta restore uses A's restore record
# (strata-restored.json): only files touched since, and in them the chunks that hold pages the
# redo logs name, are read. STRATA_BEFORE runs onto a copy (new inodes), so it compares everything.
#
# Run it alone (other helpers share the machine):
#   flock /tmp/strata-bench.lock bash bench/delta-restore.sh | tee bench/results-delta-restore.txt
# Environment: STRATA (default bin/strata), BENCH_TABLES (4), BENCH_TABLE_SIZE (250000: ~240 MB),
# BENCH_ROUNDS (3), BENCH_CHANGES (300), BENCH_DIR (/tmp), BENCH_KEEP=1 keeps the temp directory.
# STRATA_BEFORE: another strata launcher (a build of an earlier commit) whose delta restore is timed
# too, in the same rounds, onto a copy of the same diverged A made outside the clock.
set -euo pipefail

STRATA=${STRATA:-$(cd "$(dirname "$0")/.." && pwd)/bin/strata}
TABLES=${BENCH_TABLES:-4}
TABLE_SIZE=${BENCH_TABLE_SIZE:-250000}
ROUNDS=${BENCH_ROUNDS:-3}
CHANGES=${BENCH_CHANGES:-300}
PATH="$PATH:/usr/sbin"

D=$(mktemp -d "${BENCH_DIR:-/tmp}/strata-delta.XXXXXX")
SOCK=$D/mysql.sock
. "$(dirname "$0")/lib.sh"
cleanup() { set +e; stop_mariadbd; remove_workdir; }
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.2f", a - b }'; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
cold() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
flush_dirty() {
  sql "SET GLOBAL innodb_max_dirty_pages_pct=0"
  for _ in $(seq 600); do
    [ "$(sql "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='INNODB_BUFFER_POOL_PAGES_DIRTY'")" = 0 ] && break
    sleep 0.1
  done
}
# a server on an existing data directory (A), as the bench's source was started
start_on() {
  mariadbd --no-defaults --user=root --datadir="$1" --socket="$SOCK" --skip-networking \
    --pid-file="$D/mysqld.pid" --log-error="$D/error-a.log" --server-id=1 \
    --innodb-log-file-size=256M --innodb-flush-log-at-trx-commit=2 >"$D/mariadbd-a.out" 2>&1 &
  MYSQLD_PID=$!
  for _ in $(seq 600); do sql "SELECT 1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "bench: mariadbd on $1 did not answer" >&2; tail -20 "$D/error-a.log" >&2; exit 1
}

start_mariadbd
sql "CREATE DATABASE sbtest"
sysbench oltp_read_write --mysql-socket="$SOCK" --mysql-user=root --mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE" \
  --threads=2 prepare >"$D/prepare.log" 2>&1
pages=$(sql "SELECT SUM(DATA_LENGTH + INDEX_LENGTH) DIV 16384 FROM information_schema.TABLES WHERE TABLE_SCHEMA='sbtest'")
flush_dirty
"$STRATA" backup --repo "$D/repo" --socket "$SOCK" --user root --quiet >/dev/null
stop_mariadbd
"$STRATA" restore --repo "$D/repo" --target "$D/a" >/dev/null 2>"$D/restore-a.log"
echo "bench: sbtest holds about $pages pages; $CHANGES row updates per round (machine shared with other helpers: figures are noisy)"

: >"$D/times-delta"; : >"$D/times-plain"
for r in $(seq "$ROUNDS"); do
  start_on "$D/a"
  sysbench oltp_update_non_index --mysql-socket="$SOCK" --mysql-user=root --mysql-db=sbtest --tables="$TABLES" \
    --table-size="$TABLE_SIZE" --threads=2 --events="$CHANGES" --time=0 run >"$D/change.log" 2>&1
  flush_dirty
  stop_mariadbd
  before=""
  if [ -n "${STRATA_BEFORE:-}" ]; then
    rm -rf "$D/a-before"; cp -a "$D/a" "$D/a-before"
    cold; t=$(now); "$STRATA_BEFORE" restore --repo "$D/repo" --delta --target "$D/a-before" >/dev/null 2>"$D/delta-before.log"; o=$(elapsed "$t"); echo "$o" >>"$D/times-before"
    rm -rf "$D/a-before"
    before=$(printf '   (before: %6.2f s)' "$o")
  fi
  # what a delta restore without a restore record reads at least: the diverged target once, cold (but its ib_logfile0, which it removes unread)
  cold; t=$(now); find "$D/a" -type f ! -name ib_logfile0 -exec cat {} + >/dev/null; f=$(elapsed "$t"); echo "$f" >>"$D/times-floor"
  cold; t=$(now); out=$("$STRATA" restore --repo "$D/repo" --delta --target "$D/a" 2>"$D/delta.log"); s=$(elapsed "$t"); echo "$s" >>"$D/times-delta"
  rm -rf "$D/plain"
  cold; t=$(now); "$STRATA" restore --repo "$D/repo" --target "$D/plain" >/dev/null 2>"$D/plain.log"; p=$(elapsed "$t"); echo "$p" >>"$D/times-plain"
  printf 'round %d: delta restore %6.2f s (%s; %s; %s)   plain restore %6.2f s   cold read of the target %5.2f s%s\n' "$r" "$s" \
    "$(echo "$out" | sed -n 's/.*: wrote \(.*%)\).*/wrote \1/p')" "$(sed -n 's/.*\(decoded [0-9,]* bytes of the backup\).*/\1/p' "$D/delta.log")" \
    "$(sed -n 's/.*\(read [0-9,]* bytes of the target\).*/\1/p' "$D/delta.log")" "$p" "$f" "$before"
done
sd=$(median <"$D/times-delta"); sp=$(median <"$D/times-plain")
echo "delta restore after ~1% of pages changed vs plain restore of the same backup, median of $ROUNDS: delta $sd s, plain $sp s, ratio $(ratio "$sd" "$sp") (target <= 0.2)"
sf=$(median <"$D/times-floor")
echo "    cold read of the whole diverged target (what a delta restore without a restore record reads at least), median: $sf s; / plain $(ratio "$sf" "$sp")"
if [ -n "${STRATA_BEFORE:-}" ]; then
  ob=$(median <"$D/times-before")
  echo "    before ($STRATA_BEFORE): delta restore $ob s; before / plain $(ratio "$ob" "$sp"); after / before $(ratio "$sd" "$ob")"
fi
