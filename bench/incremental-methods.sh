#!/usr/bin/env bash
# Incrementals that cost what changed: strata's redo and tracked change detection against
# mariadb-backup --backup --incremental-basedir (which reads every page), in the same run.
#
# Data: BENCH_TABLES sysbench tables of BENCH_TABLE_SIZE rows (default 32 x 1,100,000: about
# 8.6 GB of InnoDB files; BENCH_TABLES=16 gives 4.3 GB). Building it takes a few minutes on 2
# cores, so the stopped data directory is
# cached in BENCH_CACHE (default /work/bench-cache/sbtest-<tables>x<size>) and copied for each run.
#
# The server gets a 1 GiB buffer pool (the data does not fit) and a 1 GiB redo log. Before the base
# backups, and again after the changes, its background work is settled: no dirty pages
# (Innodb_buffer_pool_pages_dirty = 0) and an empty purge history (trx_rseg_history_len = 0).
# About 1% of the pages are then changed by random single-row updates (sysbench
# oltp_update_non_index), and each timed run starts with the page cache dropped
# (sync; echo 3 > /proc/sys/vm/drop_caches), after which only the tools' own programs are read
# back (java -version, the jar and its class-data archive; mariadb-backup --version), not the data.
#
# Timed, alternately, BENCH_ROUNDS times each, all on the same base:
#   strata backup --type incremental --base FULL --method redo
#   strata backup --type incremental --base FULL --method tracked   (after "strata track --once")
#   mariadb-backup --backup --incremental-basedir=FULL
#   the same --method redo incremental sent to "strata agent" (README "The agent"; BENCH_AGENT=0
#   leaves it out), started after the base backups and warmed by ten such incrementals (untimed)
# and then the fixed cost: a strata incremental on the previous one when nothing changed (also
# through the agent).
# Per run: seconds, kB read from disk by the process (getrusage ru_inblock, via /usr/bin/time %I),
# and pages: strata's manifest says how many it read; mariadb-backup reads every page of every
# InnoDB file (their total is printed) and stores those in its .delta files.
#
# Run it under the machine-wide bench lock:  flock /tmp/strata-bench.lock bash bench/incremental-methods.sh
# Environment: STRATA (default: a copy of bin/strata and the jar), BENCH_TABLES, BENCH_TABLE_SIZE, BENCH_ROUNDS (3),
# BENCH_CACHE, BENCH_DIR (/var/tmp), BENCH_KEEP=1 keeps the work directory.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
TABLES=${BENCH_TABLES:-32}
TABLE_SIZE=${BENCH_TABLE_SIZE:-1100000}
ROUNDS=${BENCH_ROUNDS:-3}
CACHE=${BENCH_CACHE:-/work/bench-cache/sbtest-${TABLES}x${TABLE_SIZE}}
PATH="$PATH:/usr/sbin"

"$here/bin/strata" --version >/dev/null # builds the jar if needed, outside the clock
D=$(mktemp -d "${BENCH_DIR:-/var/tmp}/strata-methods.XXXXXX")
# a private copy of the launcher and the jar, so that a rebuild in the work tree during the run
# changes nothing
mkdir -p "$D/strata/bin" "$D/strata/target"
cp "$here/bin/strata" "$D/strata/bin/"
cp "$here"/target/strata-*-all.jar "$D/strata/target/"
# bin/strata runs the release launcher beside it in src/dist/bin
mkdir -p "$D/strata/src/dist/bin" && cp "$here/src/dist/bin/strata" "$D/strata/src/dist/bin/"
STRATA=${STRATA:-$D/strata/bin/strata}
SOCK=$D/mysql.sock
PID=""
AGENT_PID=""
ASOCK=$D/agent/agent.sock
stop_server() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    mariadb-admin --no-defaults -S "$SOCK" -uroot shutdown >/dev/null 2>&1 || true
    for _ in $(seq 1200); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$PID" 2>/dev/null || true
  fi
  PID=""
}
cleanup() {
  set +e
  [ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
  stop_server
  if [ -n "${BENCH_KEEP:-}" ]; then echo "bench: kept $D" >&2; else rm -rf "$D"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sql() { mariadb --no-defaults -S "$SOCK" -uroot -N -B -e "$1"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
minimum() { sort -g | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

start_server() { # datadir
  mariadbd --no-defaults --user=root --datadir="$1" --socket="$SOCK" --skip-networking --pid-file="$D/mysqld.pid" \
    --log-error="$D/error.log" --innodb-buffer-pool-size=1G --innodb-log-file-size=1G --log-bin="$1/binlog" --server-id=1 \
    --innodb-buffer-pool-dump-at-shutdown=0 --innodb-buffer-pool-load-at-startup=0 &
  PID=$!
  for _ in $(seq 600); do sql "SELECT 1" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "bench: the server did not start; see $D/error.log" >&2
  exit 1
}

status() { sql "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='$1'"; }
history_len() { sql "SELECT COUNT FROM information_schema.INNODB_METRICS WHERE NAME='trx_rseg_history_len'"; }

# no dirty pages and nothing left to purge, then the checkpoint caught up
# (innodb_log_checkpoint_now writes every dirty page out at once, far faster than the page
# cleaner's background rate)
settle() {
  for _ in $(seq 3000); do
    [ "$(history_len)" = 0 ] && sql "SET GLOBAL innodb_log_checkpoint_now=ON" && [ "$(status INNODB_BUFFER_POOL_PAGES_DIRTY)" = 0 ] && break
    sleep 0.2
  done
  echo "bench: settled: dirty pages $(status INNODB_BUFFER_POOL_PAGES_DIRTY), history length $(history_len), checkpoint age $(status INNODB_CHECKPOINT_AGE)"
}

# ---- the data set, built once -----------------------------------------------------------
if [ ! -d "$CACHE" ]; then
  echo "bench: building the data set in $CACHE (once; later runs copy it)"
  mkdir -p "$(dirname "$CACHE")"
  rm -rf "$CACHE.tmp"
  mariadb-install-db --no-defaults --user=root --datadir="$CACHE.tmp" --auth-root-authentication-method=normal >"$D/install.log" 2>&1
  start_server "$CACHE.tmp"
  sql "CREATE DATABASE sbtest"
  sysbench oltp_read_write --mysql-socket="$SOCK" --mysql-user=root --mysql-db=sbtest --tables=1 --table-size="$TABLE_SIZE" \
    --threads=2 prepare >"$D/prepare.log" 2>&1
  # the other tables are server-side copies of the first: the same rows, built much faster (not
  # written to the binary log, which would only double the disk writes of the build)
  for i in $(seq 2 "$TABLES"); do
    sql "SET sql_log_bin=0; CREATE TABLE sbtest.sbtest$i LIKE sbtest.sbtest1; INSERT INTO sbtest.sbtest$i SELECT * FROM sbtest.sbtest1"
  done
  settle
  sql "SET GLOBAL innodb_fast_shutdown=0"
  stop_server
  rm -f "$CACHE.tmp"/binlog.* "$CACHE.tmp/ib_buffer_pool"
  mv "$CACHE.tmp" "$CACHE"
fi

cp -a "$CACHE" "$D/data"
start_server "$D/data"
settle
innodb_bytes=$(find "$D/data" \( -name '*.ibd' -o -name 'ibdata*' -o -name 'undo[0-9]*' \) -exec stat -c %s {} + | awk '{s+=$1} END {printf "%d", s}')
all_pages=$((innodb_bytes / 16384))
echo "bench: $TABLES x $TABLE_SIZE sysbench rows, $((innodb_bytes >> 20)) MiB of InnoDB files = $all_pages pages"

strata_backup() { "$STRATA" backup --repo "$D/repo" --socket "$SOCK" --user root --quiet "$@"; }
full_id=$(strata_backup --type full | awk '/^backup /{print $2}')
mariadb-backup --no-defaults --backup --socket="$SOCK" --user=root --target-dir="$D/mb-full" >"$D/mb-full.log" 2>&1
echo "bench: base backups taken (strata $full_id, mariadb-backup $D/mb-full)"

# ---- change about 1% of the pages ---------------------------------------------------------
changes=$((all_pages / 100))
sysbench oltp_update_non_index --mysql-socket="$SOCK" --mysql-user=root --mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE" \
  --threads=2 --events="$changes" --time=0 run >"$D/change.log" 2>&1
settle
timeout 600 "$STRATA" track --repo "$D/repo" --socket "$SOCK" --user root --once >"$D/track.log" 2>"$D/track.err" \
  || { echo "bench: strata track failed:"; cat "$D/track.err"; exit 1; }
echo "bench: $changes random row updates; $(cat "$D/track.log")"

cold() {
  sync
  echo 3 >/proc/sys/vm/drop_caches
  # the tools' own programs, not the data
  java -version >/dev/null 2>&1
  cat "$D"/strata/target/* >/dev/null # the jar and its class-data archive
  mariadb-backup --version >/dev/null 2>&1
}

# /usr/bin/time: elapsed seconds and kB read from disk (ru_inblock is in 512-byte blocks)
timed() { # output-file command...
  local out=$1
  shift
  /usr/bin/time -f "%e %I" -o "$out.time" "$@" >"$out" 2>"$out.err"
  awk '{printf "%s %d\n", $1, $2 / 2}' "$out.time"
}

strata_pages() { # backup id -> pagesRead storedPages
  "$STRATA" show --repo "$D/repo" "$1" --json | python3 -c 'import json,sys; m=json.load(sys.stdin); d=m["detection"]; print(d["pagesRead"], sum(f["deltaPages"] for f in m["files"]))'
}

methods="redo tracked"
if [ "${BENCH_AGENT:-1}" != 0 ]; then
  "$STRATA" agent --listen "$ASOCK" 2>"$D/agent.log" &
  AGENT_PID=$!
  for _ in $(seq 300); do [ -S "$ASOCK" ] && break; sleep 0.1; done
  [ -S "$ASOCK" ] || { echo "bench: the agent did not start; see $D/agent.log" >&2; exit 1; }
  for _ in $(seq 10); do
    STRATA_AGENT="$ASOCK" strata_backup --type incremental --base "$full_id" --method redo >/dev/null
  done
  methods="redo tracked agent"
  echo "bench: agent started and warmed by 10 incrementals (pid $AGENT_PID)"
fi
: >"$D/t-redo"; : >"$D/t-tracked"; : >"$D/t-agent"; : >"$D/t-mb"
for r in $(seq "$ROUNDS"); do
  for m in $methods; do
    if [ "$m" = agent ]; then
      cold
      read -r secs kb < <(STRATA_AGENT="$ASOCK" timed "$D/out-$m" "$STRATA" backup --repo "$D/repo" --socket "$SOCK" --user root --quiet \
        --type incremental --base "$full_id" --method redo)
      id=$(awk '/^backup /{print $2}' "$D/out-$m")
      read -r pr ps < <(strata_pages "$id")
      echo "$secs" >>"$D/t-$m"
      # the kB read are the client's (the agent reads the pages): see pages read
      printf 'round %d: strata redo, agent    %7.2f s, %9s kB read, %7d pages read, %7d pages stored\n' "$r" "$secs" "-" "$pr" "$ps"
      continue
    fi
    cold
    read -r secs kb < <(timed "$D/out-$m" "$STRATA" backup --repo "$D/repo" --socket "$SOCK" --user root --quiet \
      --type incremental --base "$full_id" --method "$m")
    id=$(awk '/^backup /{print $2}' "$D/out-$m")
    read -r pr ps < <(strata_pages "$id")
    echo "$secs" >>"$D/t-$m"
    printf 'round %d: strata --method %-8s %7.2f s, %9d kB read, %7d pages read, %7d pages stored\n' "$r" "$m" "$secs" "$kb" "$pr" "$ps"
  done
  cold
  rm -rf "$D/mb-inc"
  read -r secs kb < <(timed "$D/out-mb" mariadb-backup --no-defaults --backup --socket="$SOCK" --user=root \
    --target-dir="$D/mb-inc" --incremental-basedir="$D/mb-full")
  mpages=$(find "$D/mb-inc" -name '*.delta' -exec stat -c %s {} + | awk '{s+=$1} END {printf "%d", s/16384}')
  echo "$secs" >>"$D/t-mb"
  printf 'round %d: mariadb-backup incr.   %7.2f s, %9d kB read, %7d pages read, %7d pages in .delta files\n' "$r" "$secs" "$kb" "$all_pages" "$mpages"
done
tr=$(median <"$D/t-redo"); tt=$(median <"$D/t-tracked"); tm=$(median <"$D/t-mb")
echo "incremental after ~1% changed, median of $ROUNDS: strata redo $tr s, strata tracked $tt s, mariadb-backup $tm s"
echo "ratio strata/mariadb-backup: redo $(ratio "$tr" "$tm"), tracked $(ratio "$tt" "$tm") (target <= 0.1)"
echo "best of $ROUNDS: strata redo $(minimum <"$D/t-redo") s, strata tracked $(minimum <"$D/t-tracked") s, mariadb-backup $(minimum <"$D/t-mb") s"
if [ -n "$AGENT_PID" ]; then
  ta=$(median <"$D/t-agent")
  echo "sent to the agent, median of $ROUNDS: strata redo $ta s, ratio to mariadb-backup $(ratio "$ta" "$tm") (target <= 0.1); best $(minimum <"$D/t-agent") s"
fi

# ---- fixed cost: an incremental when nothing changed --------------------------------------
strata_backup --type incremental >/dev/null
settle
: >"$D/t-idle-cold"; : >"$D/t-idle-warm"; : >"$D/t-idle-nocds"
for r in $(seq "$ROUNDS"); do
  cold
  read -r secs kb < <(timed "$D/out-idle" "$STRATA" backup --repo "$D/repo" --socket "$SOCK" --user root --quiet --type incremental)
  echo "$secs" >>"$D/t-idle-cold"
  read -r wsecs wkb < <(timed "$D/out-idle" "$STRATA" backup --repo "$D/repo" --socket "$SOCK" --user root --quiet --type incremental)
  echo "$wsecs" >>"$D/t-idle-warm"
  read -r nsecs nkb < <(STRATA_CDS=0 timed "$D/out-idle-nocds" "$STRATA" backup --repo "$D/repo" --socket "$SOCK" --user root --quiet --type incremental)
  echo "$nsecs" >>"$D/t-idle-nocds"
  id=$(awk '/^backup /{print $2}' "$D/out-idle")
  read -r pr ps < <(strata_pages "$id")
  printf 'round %d: strata incremental, nothing changed: %5.2f s after drop_caches (%d kB read), %5.2f s warm, %5.2f s warm without the class-data archive; %d pages read (%s)\n' \
    "$r" "$secs" "$kb" "$wsecs" "$nsecs" "$pr" "$(grep -o 'changes found by [a-z-]*' "$D/out-idle")"
done
if [ -n "$AGENT_PID" ]; then
  : >"$D/t-idle-agent"
  for r in $(seq "$ROUNDS"); do
    cold
    read -r secs _ < <(STRATA_AGENT="$ASOCK" timed "$D/out-idle-agent" "$STRATA" backup --repo "$D/repo" --socket "$SOCK" --user root --quiet --type incremental)
    echo "$secs" >>"$D/t-idle-agent"
    printf 'round %d: strata incremental, nothing changed, sent to the agent: %5.2f s after drop_caches\n' "$r" "$secs"
  done
fi
echo "fixed cost of a strata incremental when nothing changed, median: $(median <"$D/t-idle-cold") s after drop_caches, $(median <"$D/t-idle-warm") s warm, $(median <"$D/t-idle-nocds") s warm without the class-data archive (target < 1 s)"
[ -n "$AGENT_PID" ] && echo "sent to the agent, median: $(median <"$D/t-idle-agent") s after drop_caches; the agent's peak RSS $(awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$AGENT_PID/status") MB"
echo "best of $ROUNDS: $(minimum <"$D/t-idle-cold") s after drop_caches, $(minimum <"$D/t-idle-warm") s warm, $(minimum <"$D/t-idle-nocds") s without the archive"
echo "bench: machine load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine inflates every figure)"
