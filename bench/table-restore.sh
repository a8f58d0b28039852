#!/usr/bin/env bash
# One table back from a bigger backup: strata restore --table ... --import vs the manual
# mariadb-backup way, side by side on the same throwaway server.
#
# Loads BENCH_TABLES sysbench tables into a temp server (binary log on), takes one full backup
# with each tool, then for BENCH_ROUNDS rounds each times:
#   strata:        strata restore --repo R --table sbtest.sbtest1 --import --as sbtest.s_N
#                  (scratch restore of the backup, recovery, export, import into the server)
#   mariadb-backup (the documented manual way; the copy of the backup for each round is untimed):
#                  mariadb-backup --no-defaults --prepare --export --target-dir=COPY   (mariadb-backup cannot
#                  prepare a single table of a full backup: --export prepares all and writes .cfg
#                  files), then in the server CREATE TABLE sbtest.m_N LIKE sbtest.sbtest1;
#                  ALTER TABLE ... DISCARD TABLESPACE; cp sbtest1.ibd/.cfg as m_N.ibd/.cfg into
#                  the data directory; ALTER TABLE ... IMPORT TABLESPACE
# and checks that both imported tables have sbtest1's CHECKSUM TABLE. Prints per-run seconds,
# medians and the ratio strata/mariadb-backup.
#
# Environment:
#   STRATA             strata command (default: bin/strata next to this script)
#   BENCH_TABLES       sysbench tables (default 10); the restored one is sbtest1
#   BENCH_TABLE_SIZE   rows per table (default 4000000: about 1 GB per table, 10 GB in all)
#   BENCH_ROUNDS       runs per tool (default 3)
#   BENCH_DIR          parent of the temp directory (default /tmp)
#   BENCH_KEEP=1       keep the temp directory
#   STRATA_BEFORE      another strata command (a build of an earlier commit), timed in the same rounds on the same backup
#   BENCH_COMPRESS     strata backup --compress (default none; lz4 halves the repository where the disk is short)
# Disk: the data directory, strata's repository, mariadb-backup's backup and one copy of it (about 4x the
# data; the load's binary logs are reset after it, every imported table is dropped once checked);
# with BENCH_ROUNDS=1 mariadb-backup's backup is prepared in place, without the copy (about 3x).
set -euo pipefail

STRATA=${STRATA:-$(dirname "$0")/../bin/strata}
TABLES=${BENCH_TABLES:-10}
TABLE_SIZE=${BENCH_TABLE_SIZE:-4000000}
ROUNDS=${BENCH_ROUNDS:-3}
PATH="$PATH:/usr/sbin"

for tool in mariadbd mariadb-install-db mariadb mariadb-admin mariadb-backup sysbench; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (apt-get install mariadb-server mariadb-backup sysbench)" >&2; exit 1; }
done

D=$(mktemp -d "${BENCH_DIR:-/tmp}/strata-bench.XXXXXX")
SOCK=$D/mysql.sock
cleanup() { set +e; stop_mariadbd; remove_workdir; }
trap cleanup EXIT
trap 'exit 130' INT TERM
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

exec 9>/tmp/strata-bench.lock
flock 9
echo "bench: temp dir $D" >&2
start_mariadbd --innodb-buffer-pool-size=1G --log-bin="$D/data/binlog"
echo "bench: $(sql 'SELECT VERSION()') up on $SOCK" >&2
sql "CREATE DATABASE sbtest"
sysbench oltp_read_write --db-driver=mysql --mysql-socket="$SOCK" --mysql-user=root --mysql-db=sbtest \
  --tables="$TABLES" --table-size="$TABLE_SIZE" --threads=2 prepare >"$D/prepare.log" 2>&1 || { tail -20 "$D/prepare.log" >&2; exit 1; }
sql "RESET MASTER"   # the load's binary logs: as big as the data, and no restore here replays them
echo "bench: loaded $TABLES x $TABLE_SIZE rows, $(du -sh "$D/data" | cut -f1) data directory" >&2
want=$(sql "CHECKSUM TABLE sbtest.sbtest1" | cut -f2)

"$STRATA" backup --repo "$D/repo" --socket "$SOCK" --user root --compress "${BENCH_COMPRESS:-none}" --quiet >"$D/strata-backup.log" 2>&1 || { tail -20 "$D/strata-backup.log" >&2; exit 1; }
mariadb-backup --no-defaults --backup --socket="$SOCK" --user=root --target-dir="$D/mb" >"$D/mb-backup.log" 2>&1 || { tail -20 "$D/mb-backup.log" >&2; exit 1; }

now() { date +%s.%N; }
s_times=(); m_times=(); b_times=()
for r in $(seq "$ROUNDS"); do
  t0=$(now)
  "$STRATA" restore --repo "$D/repo" --table sbtest.sbtest1 --import --as "sbtest.s_$r" --scratch-dir "$D" \
    --socket "$SOCK" --user root >"$D/strata-restore-$r.log" 2>&1 || { tail -20 "$D/strata-restore-$r.log" >&2; exit 1; }
  t1=$(now); s_times+=("$(sub "$t1" "$t0")")
  [ "$(sql "CHECKSUM TABLE sbtest.s_$r" | cut -f2)" = "$want" ] || { echo "bench: strata's import differs" >&2; exit 1; }
  sql "DROP TABLE sbtest.s_$r"   # checked: its disk space back

  if [ -n "${STRATA_BEFORE:-}" ]; then
    t0=$(now)
    "$STRATA_BEFORE" restore --repo "$D/repo" --table sbtest.sbtest1 --import --as "sbtest.b_$r" --scratch-dir "$D" \
      --socket "$SOCK" --user root >"$D/before-restore-$r.log" 2>&1 || { tail -20 "$D/before-restore-$r.log" >&2; exit 1; }
    t1=$(now); b_times+=("$(sub "$t1" "$t0")")
    [ "$(sql "CHECKSUM TABLE sbtest.b_$r" | cut -f2)" = "$want" ] || { echo "bench: the before build's import differs" >&2; exit 1; }
    sql "DROP TABLE sbtest.b_$r"
  fi
  if [ "$ROUNDS" = 1 ]; then
    rm -rf "$D/mbcopy"; mv "$D/mb" "$D/mbcopy"      # one round: the backup itself is prepared (no room for a copy on a small disk)
  else
    rm -rf "$D/mbcopy"; cp -a "$D/mb" "$D/mbcopy"   # untimed: --prepare changes the backup
  fi
  t0=$(now)
  mariadb-backup --no-defaults --prepare --export --target-dir="$D/mbcopy" >"$D/mb-prepare-$r.log" 2>&1 || { tail -20 "$D/mb-prepare-$r.log" >&2; exit 1; }
  sql "CREATE TABLE sbtest.m_$r LIKE sbtest.sbtest1; ALTER TABLE sbtest.m_$r DISCARD TABLESPACE"
  cp "$D/mbcopy/sbtest/sbtest1.ibd" "$D/data/sbtest/m_$r.ibd"
  cp "$D/mbcopy/sbtest/sbtest1.cfg" "$D/data/sbtest/m_$r.cfg"
  sql "ALTER TABLE sbtest.m_$r IMPORT TABLESPACE"
  t1=$(now); m_times+=("$(sub "$t1" "$t0")")
  [ "$(sql "CHECKSUM TABLE sbtest.m_$r" | cut -f2)" = "$want" ] || { echo "bench: mariadb-backup's import differs" >&2; exit 1; }
  sql "DROP TABLE sbtest.m_$r"
  echo "round $r: strata ${s_times[-1]} s, mariadb-backup ${m_times[-1]} s${STRATA_BEFORE:+, before ${b_times[-1]} s}"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ms=$(median "${s_times[@]}"); mm=$(median "${m_times[@]}")
echo "tables $TABLES x $TABLE_SIZE rows; one table restored and imported"
echo "median strata restore --table: $ms s; mariadb-backup prepare --export + DISCARD/IMPORT: $mm s"
awk -v a="$ms" -v b="$mm" 'BEGIN { printf "ratio strata/mariadb-backup: %.2f\n", a / b }'
if [ -n "${STRATA_BEFORE:-}" ]; then
  mb_=$(median "${b_times[@]}")
  echo "before ($STRATA_BEFORE): $mb_ s; after/before $(awk -v a="$ms" -v b="$mb_" 'BEGIN { printf "%.2f", a / b }')"
fi
