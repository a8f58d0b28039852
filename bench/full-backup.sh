#!/usr/bin/env bash
# Full backup, strata vs mariadb-backup, side by side on the same throwaway server.
#
# Loads ~1 GB of sysbench data into a temp server, then runs strata, mariadb-backup and
# mariadb-backup + sync for BENCH_ROUNDS rounds each, in an order that rotates from round to
# round, every run into a fresh target that is deleted after timing.
# Prints per-run seconds, medians, the ratio strata/mariadb-backup and the peak RSS of each.
#
# Environment:
#   STRATA               strata command (default: bin/strata next to this script); STRATA=true
#                        checks the mechanics without strata
#   STRATA_INIT=1        run "$STRATA init --repo R" (untimed) before each strata backup
#   BENCH_TABLES         sysbench tables (default 8)
#   BENCH_TABLE_SIZE     rows per table (default 500000: about 1 GB of InnoDB files)
#   BENCH_ROUNDS         runs per tool (default 5)
#   BENCH_LOAD_RATE      if > 0, a sysbench oltp_write_only load at this many tx/s runs during
#                        every backup (default 0: idle server)
#   BENCH_EXTRA_KINDS=1  start the server with file_key_management (a 0600 key file in the temp
#                        directory) and add two tables beside the sysbench ones, each about 1/8
#                        of their rows: sbtest.sbtest_zip (ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8)
#                        and sbtest.sbtest_enc (ENCRYPTED=YES ENCRYPTION_KEY_ID=2)
#   BENCH_UNSETTLED=1    a server whose checkpoint lags (issue 18): started with a 2 GiB redo log and
#                        no page flushing below 90% dirty pages, and before every run (untimed) all
#                        sysbench tables are rebuilt (ALTER TABLE ... FORCE), so that the files of
#                        every table were created, renamed and deleted after the last checkpoint.
#                        Defaults then to BENCH_TABLES=4, BENCH_TABLE_SIZE=250000, BENCH_ROUNDS=3.
#   BENCH_FLOOR=1        a fourth run in the rotation, "copy+sync": tar copies the data directory's
#                        files (all but the redo log file, which both tools copy only from the
#                        checkpoint on) and sync makes them durable: the time a plain copy of about
#                        the same bytes takes on this machine's disk, the floor of any tool that
#                        reads them and writes them durably, uncompressed
#   BENCH_DIR            parent of the temp directory (default /tmp)
#   BENCH_KEEP=1         keep the temp directory (server is still stopped)
set -euo pipefail

STRATA=${STRATA:-$(dirname "$0")/../bin/strata}
UNSETTLED=${BENCH_UNSETTLED:-0}
if [ "$UNSETTLED" = 1 ]; then
  TABLES=${BENCH_TABLES:-4}
  TABLE_SIZE=${BENCH_TABLE_SIZE:-250000}
  ROUNDS=${BENCH_ROUNDS:-3}
else
  TABLES=${BENCH_TABLES:-8}
  TABLE_SIZE=${BENCH_TABLE_SIZE:-500000}
  ROUNDS=${BENCH_ROUNDS:-5}
fi
LOAD_RATE=${BENCH_LOAD_RATE:-0}
EXTRA_KINDS=${BENCH_EXTRA_KINDS:-0}
FLOOR=${BENCH_FLOOR:-0}
TOOLS=$([ "$FLOOR" = 1 ] && echo 4 || echo 3)
PATH="$PATH:/usr/sbin"

for tool in mariadbd mariadb-install-db mariadb mariadb-admin mariadb-backup sysbench; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (apt-get install mariadb-server mariadb-backup sysbench)" >&2; exit 1; }
done
if [ -x /usr/bin/time ]; then
  TIMEV=(/usr/bin/time -v)
else
  TIMEV=()
  echo "bench: /usr/bin/time not found (Debian package 'time'); peak RSS will not be reported" >&2
fi

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
SERVER_ARGS=(--innodb-buffer-pool-size=1G)
if [ "$EXTRA_KINDS" = 1 ]; then
  # keys 1 and 2 of file_key_management: "ID;HEX" lines of 256-bit keys, readable by the owner only
  (umask 077; for id in 1 2; do printf '%s;%s\n' "$id" "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"; done >"$D/keys")
  SERVER_ARGS+=(--plugin-load-add=file_key_management --file-key-management-filename="$D/keys")
fi
if [ "$UNSETTLED" = 1 ]; then
  # the last --innodb-log-file-size wins over lib.sh's 256M; no background flushing moves the checkpoint
  SERVER_ARGS+=(--innodb-log-file-size=2G --innodb-max-dirty-pages-pct=90 --innodb-max-dirty-pages-pct-lwm=0
    --innodb-adaptive-flushing=OFF --innodb-io-capacity=100)
fi
start_mariadbd "${SERVER_ARGS[@]}"
echo "bench: $(sql 'SELECT VERSION()') up on $SOCK" >&2

SB=(--db-driver=mysql --mysql-socket="$SOCK" --mysql-user=root --mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE")
sql "CREATE DATABASE sbtest"
t0=$(date +%s.%N)
sysbench oltp_read_write "${SB[@]}" --threads=2 prepare >"$D/prepare.log" 2>&1 \
  || { tail -20 "$D/prepare.log" >&2; exit 1; }
extra=""
if [ "$EXTRA_KINDS" = 1 ]; then
  # each extra table gets 1/8 of the sysbench rows, taken from sbtest1, sbtest2, ... with new ids
  # (a sysbench load, BENCH_LOAD_RATE, writes only to sbtestN: the two extra tables stay idle)
  extra_rows=$(( TABLES * TABLE_SIZE / 8 ))
  for spec in "sbtest_zip ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8" "sbtest_enc ENCRYPTED=YES ENCRYPTION_KEY_ID=2"; do
    name=${spec%% *}
    sql "CREATE TABLE sbtest.$name LIKE sbtest.sbtest1"
    sql "ALTER TABLE sbtest.$name ${spec#* }"
    left=$extra_rows; i=1
    while [ "$left" -gt 0 ] && [ "$i" -le "$TABLES" ]; do
      take=$(( left < TABLE_SIZE ? left : TABLE_SIZE ))
      sql "INSERT INTO sbtest.$name SELECT id + $(( (i - 1) * TABLE_SIZE )), k, c, pad FROM sbtest.sbtest$i ORDER BY id LIMIT $take"
      left=$(( left - take )); i=$(( i + 1 ))
    done
  done
  extra="; extra kinds: $(sql "SELECT GROUP_CONCAT(CONCAT(t.TABLE_NAME, ' ~', t.TABLE_ROWS, ' rows ', t.ROW_FORMAT,
      IF(e.CURRENT_KEY_ID IS NULL, '', CONCAT(' encrypted key ', e.CURRENT_KEY_ID))) ORDER BY t.TABLE_NAME SEPARATOR ', ')
    FROM information_schema.TABLES t LEFT JOIN information_schema.INNODB_TABLESPACES_ENCRYPTION e ON e.NAME = CONCAT(t.TABLE_SCHEMA, '/', t.TABLE_NAME)
    WHERE t.TABLE_SCHEMA = 'sbtest' AND t.TABLE_NAME IN ('sbtest_zip', 'sbtest_enc')")"
  echo "bench:${extra#;}" >&2
fi
t1=$(date +%s.%N)
size_mb=$(du -sm "$D/data/sbtest" | cut -f1)
total_mb=$(du -sm "$D/data" | cut -f1)
printf 'bench: loaded %s tables x %s rows in %.0f s: sbtest %s MiB, datadir %s MiB\n' \
  "$TABLES" "$TABLE_SIZE" "$(sub "$t1" "$t0")" "$size_mb" "$total_mb" >&2

if [ "$LOAD_RATE" != 0 ]; then
  sysbench oltp_write_only "${SB[@]}" --threads=2 --rate="$LOAD_RATE" --time=0 --report-interval=0 run \
    >"$D/load.log" 2>&1 &
  LOAD_PID=$!
  sleep 2
  kill -0 "$LOAD_PID" 2>/dev/null || { echo "bench: sysbench load died" >&2; cat "$D/load.log" >&2; exit 1; }
  echo "bench: sysbench write load at $LOAD_RATE tx/s running" >&2
fi

# unsettle: with BENCH_UNSETTLED=1, rebuilds every sysbench table (untimed) and says how far the
# checkpoint is behind; else nothing.
unsettle() {
  [ "$UNSETTLED" = 1 ] || return 0
  local i
  for i in $(seq "$TABLES"); do sql "ALTER TABLE sbtest.sbtest$i FORCE"; done
  echo "  (tables rebuilt; checkpoint age $(sql "SHOW GLOBAL STATUS LIKE 'Innodb_checkpoint_age'" | cut -f2) bytes)"
}

# run NAME OUTDIR CMD...: times CMD, appends "NAME seconds rss_kib" to $D/results, drops OUTDIR.
run() {
  local name=$1 out=$2; shift 2
  local start end rss=NA
  unsettle
  sync  # the previous run's dirty pages must not be written back on this run's clock
  start=$(date +%s.%N)
  if [ "${#TIMEV[@]}" -gt 0 ]; then
    "${TIMEV[@]}" -o "$D/time.txt" "$@" >"$D/$name.log" 2>&1 || { echo "bench: $name failed:" >&2; tail -30 "$D/$name.log" >&2; exit 1; }
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$D/time.txt")
  else
    "$@" >"$D/$name.log" 2>&1 || { echo "bench: $name failed:" >&2; tail -30 "$D/$name.log" >&2; exit 1; }
  fi
  end=$(date +%s.%N)
  local secs
  secs=$(sub "$end" "$start")
  local bytes
  bytes=$(du -sb "$out" 2>/dev/null | cut -f1 || echo 0)
  rm -rf "$out"
  echo "$name $secs $rss" >>"$D/results"
  printf '%-20s %8.2f s  peak RSS %8s KiB  output %s MiB\n' "$name" "$secs" "$rss" "$(( ${bytes:-0} / 1048576 ))"
  if [ "$name" = strata ]; then
    grep -ho 'DDL during the copy: .*' "$D/$name.log" | sed 's/^/  strata: /' || true
    grep -ho 'other processes kept up to .*' "$D/$name.log" | sed 's/^/  strata: /' || true
  fi
}

# InnoDB writes its files with O_DIRECT, so right after the load none of them is in the page
# cache: the first reader pays for the disk and warms the cache for the other tool. One untimed
# run of each tool first puts both on the same footing.
echo "warm-up (untimed)"
"$STRATA" backup --repo "$D/warm" --type full --socket "$SOCK" --user root >"$D/warm.log" 2>&1 || { echo "bench: strata warm-up failed:" >&2; tail -5 "$D/warm.log" >&2; exit 1; }
mariadb-backup --no-defaults --backup --target-dir="$D/warm-mb" --socket="$SOCK" --user=root >/dev/null 2>&1 || { echo "bench: mariadb-backup warm-up failed" >&2; exit 1; }
rm -rf "$D/warm" "$D/warm-mb"

: >"$D/results"
for r in $(seq "$ROUNDS"); do
  echo "round $r/$ROUNDS"
  if [ -n "${STRATA_INIT:-}" ]; then
    "$STRATA" init --repo "$D/repo" >"$D/strata-init.log" 2>&1 || { cat "$D/strata-init.log" >&2; exit 1; }
  fi
  # the three runs in a rotating order (round 1: strata first, round 2: mariadb-backup first,
  # round 3: mariadb-backup+sync first, ...): what one run leaves the next (the page cache, the
  # deleted previous output written back) falls on each tool alike
  for k in $(seq 0 $(( TOOLS - 1 ))); do
    case $(( (k + r - 1) % TOOLS )) in
      0) run strata "$D/repo" "$STRATA" backup --repo "$D/repo" --type full --socket "$SOCK" --user root ;;
      1) run mariadb-backup "$D/mb" mariadb-backup --no-defaults --backup --target-dir="$D/mb" --socket="$SOCK" --user=root ;;
      # strata fsyncs every object before it writes the manifest (design rule 7); mariadb-backup
      # returns with its copy still in the page cache. This run adds the sync that makes it durable.
      2) run mariadb-backup+sync "$D/mbs" sh -c 'mariadb-backup --no-defaults --backup --target-dir="$1" --socket="$2" --user=root && sync -f "$1"' sh "$D/mbs" "$SOCK" ;;
      3) run copy+sync "$D/cp" sh -c 'mkdir "$2" && tar -C "$1" --exclude="./ib_logfile*" --exclude="./*.sock" -cf - . | tar -C "$2" -xf - && sync -f "$2"' sh "$D/data" "$D/cp" ;;
    esac
  done
done

median() { grep "^$1 " "$D/results" | awk '{print $'"$2"'}' | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
s_med=$(median strata 2); m_med=$(median mariadb-backup 2); ms_med=$(median mariadb-backup+sync 2)
s_peak=$(grep '^strata ' "$D/results" | awk '{print $3}' | sort -g | tail -1)
m_peak=$(grep '^mariadb-backup ' "$D/results" | awk '{print $3}' | sort -g | tail -1)
echo
echo "data: $TABLES x $TABLE_SIZE rows, sbtest $size_mb MiB$extra; write load: ${LOAD_RATE} tx/s; rounds: $ROUNDS$([ "$UNSETTLED" = 1 ] && echo "; unsettled: tables rebuilt before every run, checkpoint behind")"
printf 'median seconds: strata %.2f  mariadb-backup %.2f  ratio strata/mariadb-backup %s\n' \
  "$s_med" "$m_med" "$(awk -v a="$s_med" -v b="$m_med" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
printf 'median seconds: mariadb-backup+sync %.2f  ratio strata/(mariadb-backup+sync) %s\n' \
  "$ms_med" "$(awk -v a="$s_med" -v b="$ms_med" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
echo "peak RSS KiB (max over runs): strata $s_peak  mariadb-backup $m_peak"
if [ "$FLOOR" = 1 ]; then
  f_med=$(median copy+sync 2)
  printf 'median seconds: copy+sync %.2f (the disk'"'"'s floor)  strata/floor %s  (mariadb-backup+sync)/floor %s\n' "$f_med" \
    "$(awk -v a="$s_med" -v b="$f_med" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')" \
    "$(awk -v a="$ms_med" -v b="$f_med" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
fi
