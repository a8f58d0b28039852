#!/usr/bin/env bash
# strata track's resident memory after it has followed at least BENCH_REDO_MB of redo log
# (default 1024) written by a sysbench write load into a small (64 MiB) redo log, so that the log
# wraps every few seconds and the tracker must keep up. Reports the tracker's VmRSS sampled every
# 2 s, its peak (VmHWM), the change sets it stored and the gaps it recorded (there should be none).
#
# Run it under the machine-wide bench lock:  flock /tmp/strata-bench.lock bash bench/track-memory.sh
# Environment: STRATA (default: a private copy of bin/strata and the jar), BENCH_REDO_MB (1024), BENCH_DIR (/var/tmp), BENCH_KEEP=1.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
REDO_MB=${BENCH_REDO_MB:-1024}
PATH="$PATH:/usr/sbin"
"$here/bin/strata" --version >/dev/null # builds the jar if needed

D=$(mktemp -d "${BENCH_DIR:-/var/tmp}/strata-track.XXXXXX")
mkdir -p "$D/strata/bin" "$D/strata/target"
cp "$here/bin/strata" "$D/strata/bin/"
cp "$here"/target/strata-*-all.jar "$D/strata/target/"
mkdir -p "$D/strata/src/dist/bin" && cp "$here/src/dist/bin/strata" "$D/strata/src/dist/bin/"
STRATA=${STRATA:-$D/strata/bin/strata}
SOCK=$D/mysql.sock
PID=""
LOAD=""
TRACKER=""
cleanup() {
  set +e
  [ -n "$LOAD" ] && kill "$LOAD" 2>/dev/null && wait "$LOAD" 2>/dev/null
  [ -n "$TRACKER" ] && kill "$TRACKER" 2>/dev/null && wait "$TRACKER" 2>/dev/null
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
lsn() { sql "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='INNODB_LSN_CURRENT'"; }
kb() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$TRACKER/status"; }

mariadb-install-db --no-defaults --user=root --datadir="$D/data" --auth-root-authentication-method=normal >"$D/install.log" 2>&1
mariadbd --no-defaults --user=root --datadir="$D/data" --socket="$SOCK" --skip-networking --pid-file="$D/mysqld.pid" \
  --log-error="$D/error.log" --innodb-buffer-pool-size=256M --innodb-log-file-size=64M --server-id=1 &
PID=$!
for _ in $(seq 300); do sql "SELECT 1" >/dev/null 2>&1 && break; sleep 0.2; done
sql "CREATE DATABASE sbtest"
sysbench oltp_write_only --mysql-socket="$SOCK" --mysql-user=root --mysql-db=sbtest --tables=4 --table-size=100000 \
  --threads=2 prepare >"$D/prepare.log" 2>&1

"$STRATA" track --repo "$D/repo" --socket "$SOCK" --user root --flush-interval 10 >"$D/track.out" 2>"$D/track.err" &
TRACKER=$!
sleep 3
start=$(lsn)
t0=$(date +%s)
sysbench oltp_write_only --mysql-socket="$SOCK" --mysql-user=root --mysql-db=sbtest --tables=4 --table-size=100000 \
  --threads=2 --time=0 --report-interval=0 run >"$D/load.log" 2>&1 &
LOAD=$!
samples=""
while :; do
  sleep 2
  kill -0 "$TRACKER" || { echo "bench: the tracker died"; cat "$D/track.err"; exit 1; }
  samples="$samples $(kb VmRSS)"
  now=$(lsn)
  [ $((now - start)) -ge $((REDO_MB << 20)) ] && break
done
kill "$LOAD"; wait "$LOAD" 2>/dev/null || true; LOAD=""
sleep 3
secs=$(( $(date +%s) - t0 ))
rss=$(kb VmRSS); hwm=$(kb VmHWM)
kill "$TRACKER"; wait "$TRACKER" 2>/dev/null || true; TRACKER=""
sets=$(grep -c 'stored change set' "$D/track.err" || true)
gaps=$(grep -c 'GAP at LSN' "$D/track.err" || true)
max=$(echo $samples | tr ' ' '\n' | sort -n | tail -1)
trail=$(echo $samples | tr ' ' '\n' | awk '{a[NR]=$1} END {for (i = 1; i <= NR; i += int((NR + 7) / 8)) printf "%d ", a[i] / 1024; printf "%d", a[NR] / 1024}')
echo "bench: redo log 64 MiB; the load wrote $(( (now - start) >> 20 )) MiB of redo in $secs s ($(( (now - start) / secs >> 20 )) MiB/s)"
echo "strata track followed it: VmRSS $((rss / 1024)) MiB at the end, largest sample $((max / 1024)) MiB, peak VmHWM $((hwm / 1024)) MiB; $sets change sets stored, $gaps gaps"
echo "VmRSS over the run, MiB: $trail"
echo "JVM options: ${STRATA_JAVA_OPTS:-the defaults of bin/strata for track}"
grep -E 'GAP|stopped|done' "$D/track.err" | tail -3
