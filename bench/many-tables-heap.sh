#!/usr/bin/env bash
# Many tables in the default heap (issue 18): strata alone at a scale mariadb-backup cannot run here
# (error 24, too many open files, already at 50,000 tables under the hard limit of 20000).
#
# Data: the cached data directory of BENCH_BUILD_ONLY=1 BENCH_TABLES=N bash bench/many-tables.sh
# (N tables of 100 rows in 50 databases). A server on a copy of it, then, each timed with
# /usr/bin/time (elapsed s, peak RSS KB), with the launcher's default heap unless STRATA_JAVA_OPTS says:
# a full backup; one row updated in 1% of the tables; INCRS incrementals (2); with RESTORE=1 a
# restore of the newest, VERIFY=1 a verify of the repository, MERGE=1 a merge of the first incremental.
# Needs about 4 x the data directory free in D (100,000 tables: 8.6 GB each). Run under
# flock /tmp/strata-bench.lock. Environment: N (100000), D (/var/tmp/strata-heap), STRATA_JAVA_OPTS.
set -uo pipefail
N=${N:-100000}; CACHE=${BENCH_CACHE:-/work/bench-cache/many-${N}x100}; D=${D:-/var/tmp/strata-heap}; here=$(cd "$(dirname "$0")/.." && pwd)
PATH="$PATH:/usr/sbin"
[ -d "$CACHE" ] || { echo "bench: no cached data set $CACHE: build it with BENCH_BUILD_ONLY=1 BENCH_TABLES=$N bash bench/many-tables.sh" >&2; exit 2; }
"$here/bin/strata" --version >/dev/null # builds the jar if needed
rm -rf "$D"; mkdir -p "$D/tmp" "$D/strata/bin" "$D/strata/target" "$D/strata/src/dist/bin"
cp "$here/bin/strata" "$D/strata/bin/"; cp "$here"/target/strata-*-all.jar "$D/strata/target/"; cp "$here/src/dist/bin/strata" "$D/strata/src/dist/bin/"
S=$D/strata/bin/strata; "$S" --version >/dev/null
SOCK=$D/mysql.sock
cp -a "$CACHE" "$D/data"
mariadbd --no-defaults --user=root --datadir="$D/data" --socket="$SOCK" --skip-networking --pid-file="$D/mysqld.pid" \
    --tmpdir="$D/tmp" --log-error="$D/error.log" --innodb-buffer-pool-size=512M --innodb-log-file-size=512M --server-id=1 \
    --innodb-file-per-table=1 --innodb-flush-log-at-trx-commit=2 --table-open-cache=2000 --open-files-limit=65535 &
PID=$!
trap 'mariadb-admin --no-defaults -S "$SOCK" -uroot shutdown; wait $PID; rm -rf "$D"' EXIT
sql() { mariadb --no-defaults -S "$SOCK" -uroot -N -B -e "$1"; }
for _ in $(seq 900); do sql "SELECT 1" >/dev/null 2>&1 && break; sleep 0.2; done
/usr/bin/time -f "full %e s %M KB" "$S" backup --repo "$D/repo" --socket "$SOCK" --user root --type full --quiet; echo "exit $?"
awk -v n="$N" 'BEGIN { c = n/100; for (j = 0; j < c; j++) { i = int(j * n / c); d = i % 50 + 1; t = int(i / 50) + 1; printf "UPDATE db%d.t%d SET k = k + 1 WHERE id = %d;\n", d, t, j % 100 + 1 } }' | mariadb --no-defaults -S "$SOCK" -uroot
for i in $(seq ${INCRS:-2}); do /usr/bin/time -f "incremental %e s %M KB" "$S" backup --repo "$D/repo" --socket "$SOCK" --user root --type incremental ${INCR_ARGS:-} --quiet; echo "exit $?"; done
[ -n "${RESTORE:-}" ] && { /usr/bin/time -f "restore %e s %M KB" "$S" restore --repo "$D/repo" --target "$D/restored" >/dev/null; echo "exit $?"; }
[ -n "${VERIFY:-}" ] && { /usr/bin/time -f "verify %e s %M KB" "$S" verify --repo "$D/repo" >/dev/null; echo "exit $?"; }
[ -n "${MERGE:-}" ] && { /usr/bin/time -f "merge %e s %M KB" "$S" merge --repo "$D/repo" "$(ls $D/repo/backups | sort | sed -n 2p)" >/dev/null; echo "exit $?"; }
