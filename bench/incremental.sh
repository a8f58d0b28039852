#!/usr/bin/env bash
# Incremental backups and chain restores, strata vs mariadb-backup, in the same run.
#
# (a) An incremental after about 1% of the pages changed: "strata backup --type incremental"
#     against "mariadb-backup --backup --incremental-basedir", both on the same full backup,
#     alternately, BENCH_ROUNDS times each.
# (b) A full backup plus 7 incrementals (about 1% of the pages changed before each) restored to
#     a data directory that is ready to start: "strata restore" (one pass over the chain, then
#     the server's own crash recovery) against mariadb-backup's "--prepare" of the full backup,
#     "--prepare --incremental-dir" of each incremental, and "--copy-back". The copy of
#     mariadb-backup's full backup that --prepare consumes is made outside the clock.
#
# Environment: STRATA (default bin/strata), BENCH_TABLES (8), BENCH_TABLE_SIZE (500000: ~1 GB),
# BENCH_ROUNDS (3), BENCH_CHANGES (updates per step, default 270: about 1% of the pages once the server has settled),
# BENCH_LOAD_RATE (default 0): if > 0, a sysbench oltp_write_only load at this many tx/s runs
# while the chain of (b) is taken, as hot backups are, so each incremental carries redo that
# mariadb-backup's --prepare must apply and strata applies once, for the newest backup only.
# BENCH_DIR (/tmp), BENCH_KEEP=1 keeps the temp directory. STRATA_BEFORE: another strata launcher
# (e.g. a build of the previous commit) whose restore of (b) is timed too, in the same rounds,
# right before this one's, for a before/after comparison on the same chain.
set -euo pipefail

STRATA=${STRATA:-$(cd "$(dirname "$0")/.." && pwd)/bin/strata}
TABLES=${BENCH_TABLES:-8}
TABLE_SIZE=${BENCH_TABLE_SIZE:-500000}
ROUNDS=${BENCH_ROUNDS:-3}
CHANGES=${BENCH_CHANGES:-270}
LOAD_RATE=${BENCH_LOAD_RATE:-0}
LOAD_PID=""
PATH="$PATH:/usr/sbin"

D=$(mktemp -d "${BENCH_DIR:-/tmp}/strata-incr.XXXXXX")
SOCK=$D/mysql.sock
PID=""
cleanup() {
  set +e
  [ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    mariadb-admin --no-defaults -S "$SOCK" -uroot shutdown >/dev/null 2>&1
    for _ in $(seq 600); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$PID" 2>/dev/null
  fi
  if [ -n "${BENCH_KEEP:-}" ]; then echo "bench: kept $D" >&2; else rm -rf "$D"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sql() { mariadb --no-defaults -S "$SOCK" -uroot -N -B -e "$1"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.2f", a - b }'; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

mariadb-install-db --no-defaults --user=root --datadir="$D/data" --auth-root-authentication-method=normal >"$D/install.log" 2>&1
mariadbd --no-defaults --user=root --datadir="$D/data" --socket="$SOCK" --skip-networking --pid-file="$D/mysqld.pid" \
  --log-error="$D/error.log" --innodb-buffer-pool-size=1G --innodb-log-file-size=256M --log-bin="$D/data/binlog" --server-id=1 &
PID=$!
for _ in $(seq 300); do sql "SELECT 1" >/dev/null 2>&1 && break; sleep 0.2; done
sql "CREATE DATABASE sbtest"
sysbench oltp_read_write --mysql-socket="$SOCK" --mysql-user=root --mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE" \
  --threads=2 prepare >"$D/prepare.log" 2>&1
pages=$(sql "SELECT SUM(DATA_LENGTH + INDEX_LENGTH) DIV 16384 FROM information_schema.TABLES WHERE TABLE_SCHEMA='sbtest'")
echo "bench: sbtest holds about $pages pages; $CHANGES random row updates per step"

# Wait until the server's background work is done: purge has emptied the history list (purge
# resets DB_TRX_ID in every record it visits, MDEV-12288, which after sysbench's prepare rewrites
# nearly every leaf page) and no page is dirty. Without this, "1% changed" is in truth most pages.
settle() {
  sql "SET GLOBAL innodb_max_dirty_pages_pct=0"
  for _ in $(seq 6000); do
    h=$(sql "SELECT COUNT FROM information_schema.INNODB_METRICS WHERE NAME='trx_rseg_history_len'")
    d=$(sql "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='INNODB_BUFFER_POOL_PAGES_DIRTY'")
    [ "$h" = 0 ] && [ "$d" = 0 ] && break
    sleep 0.2
  done
  sql "SET GLOBAL innodb_max_dirty_pages_pct=90"
  echo "bench: settled (history list $h, dirty pages $d)"
}

# change ~1% of the pages, then let the server write them out, as a quiet production server would
change() {
  sysbench oltp_update_non_index --mysql-socket="$SOCK" --mysql-user=root --mysql-db=sbtest --tables="$TABLES" \
    --table-size="$TABLE_SIZE" --threads=2 --events="$CHANGES" --time=0 run >"$D/change.log" 2>&1
  sql "SET GLOBAL innodb_max_dirty_pages_pct=0"
  for _ in $(seq 600); do
    [ "$(sql "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='INNODB_BUFFER_POOL_PAGES_DIRTY'")" = 0 ] && break
    sleep 0.1
  done
  sql "SET GLOBAL innodb_max_dirty_pages_pct=90"
}

strata_backup() { "$STRATA" backup --repo "$D/repo" --socket "$SOCK" --user root --quiet "$@"; }
mb_backup() { mariadb-backup --no-defaults --backup --socket="$SOCK" --user=root "$@" >>"$D/mb.log" 2>&1; }

# ---- (a) one incremental after ~1% changed ------------------------------------------------
settle
full_id=$(strata_backup --type full | awk '/^backup /{print $2}')
mb_backup --target-dir="$D/mb-full"
change
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
: >"$D/a-strata"; : >"$D/a-mb"
for r in $(seq "$ROUNDS"); do
  sync; t=$(now); out=$(strata_backup --type incremental --base "$full_id"); s=$(elapsed "$t"); echo "$s" >>"$D/a-strata"
  id=$(echo "$out" | awk '/^backup /{print $2}')
  spages=$(echo "$out" | sed -n 's/.* as \([0-9]*\) changed pages.*/\1/p')
  sync; t=$(now); mb_backup --target-dir="$D/mb-inc" --incremental-basedir="$D/mb-full"; m=$(elapsed "$t"); echo "$m" >>"$D/a-mb"
  mpages=$(find "$D/mb-inc" -name '*.delta' -exec stat -c %s {} + | awk '{s+=$1} END {printf "%d", s/16384}')
  printf 'round %d: strata incremental %6.2f s (%s pages stored)   mariadb-backup incremental %6.2f s (%s pages in .delta files)\n' \
    "$r" "$s" "$spages" "$m" "$mpages"
  rm -rf "$D/mb-inc"
done
sa=$(median <"$D/a-strata"); ma=$(median <"$D/a-mb")
echo "(a) incremental after ~1% changed, median: strata $sa s, mariadb-backup $ma s, ratio $(ratio "$sa" "$ma")"

# ---- (b) restore full + 7 incrementals --------------------------------------------------
rm -rf "$D/repo" "$D/mb-full"
strata_backup --type full >/dev/null
mb_backup --target-dir="$D/mb-0"
load_start() {
  [ "$LOAD_RATE" -gt 0 ] || return 0
  sysbench oltp_write_only --mysql-socket="$SOCK" --mysql-user=root --mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE" \
    --threads=2 --rate="$LOAD_RATE" --time=0 run >"$D/load.log" 2>&1 &
  LOAD_PID=$!
}
load_stop() {
  [ -n "$LOAD_PID" ] || return 0
  kill "$LOAD_PID" 2>/dev/null; wait "$LOAD_PID" 2>/dev/null || true; LOAD_PID=""
}
for i in 1 2 3 4 5 6 7; do
  change
  load_start
  strata_backup --type incremental >/dev/null
  mb_backup --target-dir="$D/mb-$i" --incremental-basedir="$D/mb-$((i - 1))"
  load_stop
done
[ "$LOAD_RATE" -gt 0 ] && echo "bench: the chain of (b) was taken under a write load of $LOAD_RATE tx/s" 
chain=$("$STRATA" list --repo "$D/repo" --json | tr -d ' \n' | sed 's/.*"id":"\([^"]*\)".*/\1/')
sql "SET GLOBAL innodb_fast_shutdown=1"
: >"$D/b-strata"; : >"$D/b-mb"; : >"$D/b-cb"; : >"$D/b-before"
# Each timed run starts with a cold page cache (the backups live on disk, as in production) and
# ends durable: strata fsyncs what it restores before it returns, so mariadb-backup's side ends
# with a sync. The copy-back alone, of the already prepared chain, is timed too: it is the floor
# of any restore that must write every file once.
cold() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
for r in $(seq "$ROUNDS"); do
  rm -rf "$D/restored" "$D/mb-restored" "$D/mb-work"
  before=""
  restore_before() {
    rm -rf "$D/restored-before"
    cold; t=$(now); "$STRATA_BEFORE" restore --repo "$D/repo" --target "$D/restored-before" >/dev/null 2>"$D/restore-before.log"; o=$(elapsed "$t"); echo "$o" >>"$D/b-before"
    rm -rf "$D/restored-before"
    before=$(printf '   (before: %6.2f s)' "$o")
  }
  # the two builds take turns going first: a run that follows the deletion of a 4 GB restore (this
  # machine's file system is mounted with discard) was seen to be slower by up to a third
  [ -n "${STRATA_BEFORE:-}" ] && [ $((r % 2)) = 1 ] && restore_before
  cold; t=$(now); "$STRATA" restore --repo "$D/repo" --target "$D/restored" >/dev/null 2>"$D/restore.log"; s=$(elapsed "$t"); echo "$s" >>"$D/b-strata"
  [ -n "${STRATA_BEFORE:-}" ] && [ $((r % 2)) = 0 ] && restore_before
  # --prepare consumes its inputs (the full is changed in place, each incremental's .delta files
  # are used up), so every round prepares fresh copies, made outside the clock
  rm -rf "$D"/mb-work*
  cp -a "$D/mb-0" "$D/mb-work"
  for i in 1 2 3 4 5 6 7; do cp -a "$D/mb-$i" "$D/mb-work-$i"; done
  cold; t=$(now)
  mariadb-backup --no-defaults --prepare --target-dir="$D/mb-work" >>"$D/mb.log" 2>&1
  for i in 1 2 3 4 5 6 7; do
    mariadb-backup --no-defaults --prepare --target-dir="$D/mb-work" --incremental-dir="$D/mb-work-$i" >>"$D/mb.log" 2>&1
  done
  mariadb-backup --no-defaults --copy-back --target-dir="$D/mb-work" --datadir="$D/mb-restored" >>"$D/mb.log" 2>&1
  sync
  m=$(elapsed "$t"); echo "$m" >>"$D/b-mb"
  rm -rf "$D/mb-restored"
  cold; t=$(now)
  mariadb-backup --no-defaults --copy-back --target-dir="$D/mb-work" --datadir="$D/mb-restored" >>"$D/mb.log" 2>&1
  sync
  c=$(elapsed "$t"); echo "$c" >>"$D/b-cb"
  # both restores must hold every InnoDB file, with the same sizes
  sizes() { (cd "$1" && find . -name '*.ibd' -printf '%p %s\n' | sort); }
  if [ "$(sizes "$D/restored")" != "$(sizes "$D/mb-restored")" ]; then
    echo "bench: the two restores differ in their .ibd files; see $D/mb.log" >&2; BENCH_KEEP=1; exit 1
  fi
  printf 'round %d: strata restore of full+7 %6.2f s   mariadb-backup prepare x8 + copy-back %6.2f s   (its copy-back alone %6.2f s)%s\n' "$r" "$s" "$m" "$c" "$before"
done
sb=$(median <"$D/b-strata"); mb=$(median <"$D/b-mb"); cb=$(median <"$D/b-cb")
echo "(b) restore full + 7 incrementals to a ready datadir, median: strata $sb s, mariadb-backup $mb s, ratio $(ratio "$sb" "$mb")"
echo "    mariadb-backup's copy-back alone (the floor of any restore that writes every file): $cb s; strata / copy-back $(ratio "$sb" "$cb")"
if [ -n "${STRATA_BEFORE:-}" ]; then
  ob=$(median <"$D/b-before")
  echo "    before ($STRATA_BEFORE): $ob s; before / copy-back $(ratio "$ob" "$cb"); after / before $(ratio "$sb" "$ob")"
fi
echo "strata chain restored: $chain and its 7 ancestors"
