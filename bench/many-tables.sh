#!/usr/bin/env bash
# Many small tables (issue 18): strata against mariadb-backup in the same run, alternating.
#
# Data: BENCH_TABLES InnoDB tables (default 5,000) of 100 rows each, spread over 50 databases,
# innodb_file_per_table on (one .ibd and one .frm per table). The tables are created by a few
# client connections, each sending one long multi-statement script (CREATE TABLE + INSERT ...
# SELECT FROM seq_1_to_100), then the server is settled and stopped; the stopped data directory is
# cached in BENCH_CACHE (default /work/bench-cache/many-<tables>x100) and copied for each run.
#
# Timed, median of BENCH_ROUNDS (default 3), strata and mariadb-backup alternately, each run's
# elapsed time and peak resident size (/usr/bin/time %e %M):
#   full:        strata backup --type full          | mariadb-backup --backup
#   full, cold:  the same, each run after drop_caches (the data directory's files, inodes and entries
#                on the disk; the tools' own files read back in first)
#   incremental: after one row changed in 1% of the tables (then settled):
#                strata backup --type incremental --base FULL (default method: redo)
#                | mariadb-backup --backup --incremental-basedir=FULL
#   restore:     full + that incremental:
#                strata restore (the newest backup of the chain, into a new directory)
#                | mariadb-backup --prepare FULL; --prepare --incremental-dir INC; --copy-back
#   fixed cost:  a strata incremental when nothing changed, after drop_caches ("cold") and warm.
#   agent:       the full, the incremental and the fixed cost again with the backup sent to "strata agent"
#                (STRATA_AGENT; README "The agent"), started before the fulls and warmed by three
#                fulls (into a repository of their own, which each round's full replaces), then by ten
#                incrementals (the first of each timed); its peak resident size from /proc (VmHWM).
#                BENCH_AGENT=0 leaves it out.
#   deep chain:  strata restore of the newest backup (full, incremental, 1 + 2 x BENCH_ROUNDS nothing-changed
#                incrementals), once; strata alone
#   verify:      strata verify of the incremental (with its full); strata alone
#   list, check: strata list and strata check of the repository (every backup's manifest head), once
#   merge:       strata merge of the incremental into its full, once (it rewrites the repository)
#
# Run it under the machine-wide bench lock:
#   flock /tmp/strata-bench.lock bash bench/many-tables.sh
# Environment: BENCH_TABLES (5000), BENCH_ROUNDS (3), BENCH_CACHE, BENCH_DIR (/var/tmp),
# BENCH_KEEP=1 keeps the work directory, BENCH_BUILD_ONLY=1 only builds the cached data set (no lock needed), STRATA (default: a private copy of bin/strata and the jar).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
TABLES=${BENCH_TABLES:-5000}
ROUNDS=${BENCH_ROUNDS:-3}
DBS=50
CACHE=${BENCH_CACHE:-/work/bench-cache/many-${TABLES}x100}
PATH="$PATH:/usr/sbin"

D=$(mktemp -d "${BENCH_DIR:-/var/tmp}/strata-many.XXXXXX")
mkdir -p "$D/tmp"
if [ -z "${BENCH_BUILD_ONLY:-}" ]; then
  "$here/bin/strata" --version >/dev/null # builds the jar if needed, outside the clock
  mkdir -p "$D/strata/bin" "$D/strata/target"
  cp "$here/bin/strata" "$D/strata/bin/"
  cp "$here"/target/strata-*-all.jar "$D/strata/target/"
  mkdir -p "$D/strata/src/dist/bin" && cp "$here/src/dist/bin/strata" "$D/strata/src/dist/bin/"
  # the first run makes the class-data archive (a JVM of its own, whose resident size /usr/bin/time
  # would report as the backup's): outside the clock
  "$D/strata/bin/strata" --version >/dev/null
fi
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
maximum() { sort -g | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

start_server() { # datadir
  mariadbd --no-defaults --user=root --datadir="$1" --socket="$SOCK" --skip-networking --pid-file="$D/mysqld.pid" \
    --tmpdir="$D/tmp" --log-error="$D/error.log" --innodb-buffer-pool-size=512M --innodb-log-file-size=512M --server-id=1 \
    --innodb-file-per-table=1 --innodb-flush-log-at-trx-commit=2 --table-open-cache=2000 --open-files-limit=65535 \
    --innodb-buffer-pool-dump-at-shutdown=0 --innodb-buffer-pool-load-at-startup=0 &
  PID=$!
  for _ in $(seq 1200); do sql "SELECT 1" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "bench: the server did not start; see $D/error.log" >&2
  exit 1
}
status() { sql "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME='$1'"; }
history_len() { sql "SELECT COUNT FROM information_schema.INNODB_METRICS WHERE NAME='trx_rseg_history_len'"; }
settle() {
  for _ in $(seq 3000); do
    [ "$(history_len)" = 0 ] && sql "SET GLOBAL innodb_log_checkpoint_now=ON" && [ "$(status INNODB_BUFFER_POOL_PAGES_DIRTY)" = 0 ] && break
    sleep 0.2
  done
  echo "bench: settled: dirty pages $(status INNODB_BUFFER_POOL_PAGES_DIRTY), history length $(history_len), checkpoint age $(status INNODB_CHECKPOINT_AGE)"
}

# ---- the data set, built once -----------------------------------------------------------
# table t of database d (both from 1): db<d>.t<t>, tables dealt round-robin over the databases
if [ ! -d "$CACHE" ]; then
  echo "bench: building $TABLES tables in $CACHE (once; later runs copy it)"
  mkdir -p "$(dirname "$CACHE")"
  rm -rf "$CACHE.tmp"
  mariadb-install-db --no-defaults --user=root --datadir="$CACHE.tmp" --auth-root-authentication-method=normal >"$D/install.log" 2>&1
  start_server "$CACHE.tmp"
  t0=$(date +%s.%N)
  for d in $(seq $DBS); do sql "CREATE DATABASE db$d"; done
  # two connections (the machine has two cores), each one script of CREATE + INSERT statements
  pids=()
  for part in 0 1; do
    awk -v n="$TABLES" -v dbs=$DBS -v part=$part 'BEGIN {
      for (i = part; i < n; i += 2) {
        d = i % dbs + 1; t = int(i / dbs) + 1
        printf "CREATE TABLE db%d.t%d (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(60) NOT NULL, KEY (k)) ENGINE=InnoDB;\n", d, t
        printf "INSERT INTO db%d.t%d SELECT seq, seq * 7 %% 100, REPEAT(CHAR(97 + seq %% 26), 60) FROM seq_1_to_100;\n", d, t
      }
    }' | mariadb --no-defaults -S "$SOCK" -uroot mysql &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  echo "bench: created $TABLES tables in $(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN{printf "%.1f", a-b}') s"
  settle
  sql "SET GLOBAL innodb_fast_shutdown=0"
  stop_server
  rm -f "$CACHE.tmp/ib_buffer_pool"
  mv "$CACHE.tmp" "$CACHE"
fi
[ -n "${BENCH_BUILD_ONLY:-}" ] && exit 0

cp -a "$CACHE" "$D/data"
start_server "$D/data"
settle
ntables=$(sql "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA LIKE 'db%'")
ibd=$(find "$D/data" -name '*.ibd' | wc -l)
echo "bench: $ntables tables in $DBS databases, $ibd .ibd files, $(du -sm "$D/data" | cut -f1) MiB data directory; mariadb-backup $(mariadb-backup --version 2>&1 | grep -o '[0-9]*\.[0-9]*\.[0-9]*-MariaDB' | head -1)"

cold() {
  sync
  echo 3 >/proc/sys/vm/drop_caches
  java -version >/dev/null 2>&1
  cat "$D"/strata/target/* >/dev/null
  mariadb-backup --version >/dev/null 2>&1
}
# /usr/bin/time: elapsed seconds and peak resident size in MB
timed() { # output-file command...
  local out=$1
  shift
  if ! /usr/bin/time -f "%e %M" -o "$out.time" "$@" >"$out" 2>"$out.err"; then
    echo "bench: failed: $*" >&2; tail -5 "$out.err" >&2; exit 1
  fi
  awk '{printf "%s %.0f\n", $1, $2 / 1024}' "$out.time"
}
# mariadb-backup keeps every tablespace file open while it copies: where the open-files limit is
# below the table count it fails ("Too many open files") whatever --open-files-limit says, as the
# hard limit (ulimit -Hn) caps it. Its failure is recorded ($D/mb-failed) and the run goes on with
# strata's figures alone.
timed_mb() { # output-file command...
  local out=$1
  shift
  if [ -f "$D/mb-failed" ]; then echo "- -"; return 0; fi
  if ! /usr/bin/time -f "%e %M" -o "$out.time" "$@" >"$out" 2>"$out.err"; then
    echo "$(grep -m1 -E "ERROR|FATAL" "$out.err" | cut -c1-160) (ulimit -n $(ulimit -Sn), hard $(ulimit -Hn))" >"$D/mb-failed"
    echo "bench: mariadb-backup failed: $(cat "$D/mb-failed")" >&2
    echo "- -"; return 0
  fi
  awk '{printf "%s %.0f\n", $1, $2 / 1024}' "$out.time"
}
mb_says() { # what a summary line says of mariadb-backup's figures: $1 = its median
  if [ -f "$D/mb-failed" ]; then echo "mariadb-backup failed: $(cat "$D/mb-failed")"; else echo "mariadb-backup $1 s"; fi
}
SB=("$STRATA" backup --repo "$D/repo" --socket "$SOCK" --user root --quiet)
SA=(env STRATA_AGENT="$ASOCK" "${SB[@]}") # the same backup, sent to the agent
SAF=(env STRATA_AGENT="$ASOCK" "$STRATA" backup --repo "$D/repo-agent" --socket "$SOCK" --user root --quiet) # the agent's fulls
agent_hwm() { awk '/^VmHWM/ {printf "%.0f\n", $2 / 1024}' "/proc/$AGENT_PID/status"; }

# ---- the agent ---------------------------------------------------------------------------
if [ "${BENCH_AGENT:-1}" != 0 ]; then
  "$STRATA" agent --listen "$ASOCK" 2>"$D/agent.log" &
  AGENT_PID=$!
  for _ in $(seq 300); do [ -S "$ASOCK" ] && break; sleep 0.1; done
  [ -S "$ASOCK" ] || { echo "bench: the agent did not start; see $D/agent.log" >&2; exit 1; }
  # warm-up for the fulls: three full backups into a repository of their own, the first one timed
  read -r first _ < <(timed "$D/out-full-agent" "${SAF[@]}" --type full)
  for _ in 1 2; do rm -rf "$D/repo-agent"; "${SAF[@]}" --type full >/dev/null; done
  echo "bench: the agent's first backup (a full) took $first s; two more run untimed before the rounds"
fi

# ---- full backups ----------------------------------------------------------------------
: >"$D/f-s"; : >"$D/f-m"; : >"$D/f-s-rss"; : >"$D/f-m-rss"; : >"$D/f-a"
full_id=
# Each run starts with nothing left to write back (sync, outside the clock): mariadb-backup returns
# with its copy still in the page cache, and on ext4 (data=ordered) the next run's first fsync
# would write those 500 MB out on that run's clock. "+ sync" is mariadb-backup's time plus the
# sync that makes its copy durable, as strata's is when it ends (bench/full-backup.sh does the same).
: >"$D/f-ms"
for r in $(seq "$ROUNDS"); do
  rm -rf "$D/repo"
  sync
  read -r s m < <(timed "$D/out-full" "${SB[@]}" --type full)
  full_id=$(awk '/^backup /{print $2}' "$D/out-full")
  echo "$s" >>"$D/f-s"; echo "$m" >>"$D/f-s-rss"
  rm -rf "$D/mb-full"
  sync
  read -r s2 m2 < <(timed_mb "$D/out-mb-full" mariadb-backup --no-defaults --backup --socket="$SOCK" --user=root --target-dir="$D/mb-full" --open-files-limit=65535)
  s3=-
  if [ "$s2" != - ]; then
    t0=$(date +%s.%N); sync -f "$D/mb-full"; s3=$(awk -v a="$(date +%s.%N)" -v b="$t0" -v m="$s2" 'BEGIN{printf "%.2f", m + a - b}')
    echo "$s2" >>"$D/f-m"; echo "$m2" >>"$D/f-m-rss"; echo "$s3" >>"$D/f-ms"
  fi
  printf 'round %d full:        strata %7.2f s %5d MB RSS   mariadb-backup %7s s %5s MB RSS   mariadb-backup + sync %7s s' "$r" "$s" "$m" "$s2" "$m2" "$s3"
  if [ -n "$AGENT_PID" ]; then
    rm -rf "$D/repo-agent"
    sync
    read -r s4 _ < <(timed "$D/out-full-agent" "${SAF[@]}" --type full)
    echo "$s4" >>"$D/f-a"
    printf '   strata via the agent %7.2f s' "$s4"
  fi
  echo
done
rm -rf "$D/repo-agent"
fs=$(median <"$D/f-s"); fm=$(median <"$D/f-m"); fms=$(median <"$D/f-ms")
if [ -f "$D/mb-failed" ]; then
  echo "full backup, median of $ROUNDS: strata $fs s, $(mb_says); peak RSS strata $(maximum <"$D/f-s-rss") MB"
else
  echo "full backup, median of $ROUNDS: strata $fs s, mariadb-backup $fm s, ratio $(ratio "$fs" "$fm") (target <= 1.0); mariadb-backup + sync $fms s, ratio $(ratio "$fs" "$fms"); peak RSS strata $(maximum <"$D/f-s-rss") MB, mariadb-backup $(maximum <"$D/f-m-rss") MB"
fi
if [ -n "$AGENT_PID" ]; then
  fa=$(median <"$D/f-a")
  echo "full backup sent to the agent, median of $ROUNDS: strata $fa s$([ -f "$D/mb-failed" ] || echo ", ratio to mariadb-backup $(ratio "$fa" "$fm") (target <= 1.0), to mariadb-backup + sync $(ratio "$fa" "$fms")"); the agent's peak RSS so far $(agent_hwm) MB"
fi
# The runs above find the data directory in the kernel's caches: its directory entries and inodes,
# and the .frm and other files read through the page cache (both tools read the .ibd files with
# O_DIRECT, innodb_flush_method's default). A nightly backup of a busy server may find them evicted:
# the same full backups again, each after drop_caches (the tools' own files read back in first, as
# on a machine that runs them daily).
: >"$D/c-s"; : >"$D/c-m"
for r in $(seq "$ROUNDS"); do
  rm -rf "$D/repo-cold"
  cold
  read -r s m < <(timed "$D/out-full-cold" "$STRATA" backup --repo "$D/repo-cold" --socket "$SOCK" --user root --quiet --type full)
  echo "$s" >>"$D/c-s"; echo "$m" >>"$D/f-s-rss"
  rm -rf "$D/mb-cold"
  s2=- m2=-
  if [ ! -f "$D/mb-failed" ]; then
    cold
    read -r s2 m2 < <(timed_mb "$D/out-mb-cold" mariadb-backup --no-defaults --backup --socket="$SOCK" --user=root --target-dir="$D/mb-cold" --open-files-limit=65535)
    [ "$s2" = - ] || echo "$s2" >>"$D/c-m"
  fi
  printf 'round %d full, data cold: strata %7.2f s %5d MB RSS   mariadb-backup %7s s %5s MB RSS (each after drop_caches)\n' "$r" "$s" "$m" "$s2" "$m2"
done
rm -rf "$D/repo-cold" "$D/mb-cold"
cs=$(median <"$D/c-s"); cm=$(median <"$D/c-m")
if [ -f "$D/mb-failed" ]; then
  echo "full backup with the data files cold, median of $ROUNDS: strata $cs s, $(mb_says)"
else
  echo "full backup with the data files cold, median of $ROUNDS: strata $cs s, mariadb-backup $cm s, ratio $(ratio "$cs" "$cm") (target <= 1.0)"
fi

# ---- 1% of the tables changed -----------------------------------------------------------
changed=$((TABLES / 100))
awk -v n="$TABLES" -v dbs=$DBS -v c="$changed" 'BEGIN {
  for (j = 0; j < c; j++) { i = int(j * n / c); d = i % dbs + 1; t = int(i / dbs) + 1
    printf "UPDATE db%d.t%d SET k = k + 1 WHERE id = %d;\n", d, t, j % 100 + 1 }
}' | mariadb --no-defaults -S "$SOCK" -uroot
settle
echo "bench: one row updated in each of $changed tables"

: >"$D/i-s"; : >"$D/i-m"; : >"$D/i-s-rss"; : >"$D/i-m-rss"
inc_id=
if [ -n "$AGENT_PID" ]; then
  # warm-up: an agent that has run ten incrementals (a day of hourly incrementals has run 24); the first
  # one's time is reported too
  read -r first _ < <(timed "$D/out-inc-agent" "${SA[@]}" --type incremental --base "$full_id")
  for _ in $(seq 9); do "${SA[@]}" --type incremental --base "$full_id" >/dev/null; done
  echo "bench: the agent's first incremental (1% of the tables changed) took $first s; nine more run untimed before the rounds"
fi
: >"$D/i-a"
for r in $(seq "$ROUNDS"); do
  read -r s m < <(timed "$D/out-inc" "${SB[@]}" --type incremental --base "$full_id")
  inc_id=$(awk '/^backup /{print $2}' "$D/out-inc")
  echo "$s" >>"$D/i-s"; echo "$m" >>"$D/i-s-rss"
  rm -rf "$D/mb-inc"
  read -r s2 m2 < <(timed_mb "$D/out-mb-inc" mariadb-backup --no-defaults --backup --socket="$SOCK" --user=root --target-dir="$D/mb-inc" \
    --incremental-basedir="$D/mb-full" --open-files-limit=65535)
  [ "$s2" = - ] || { echo "$s2" >>"$D/i-m"; echo "$m2" >>"$D/i-m-rss"; }
  printf 'round %d incremental: strata %7.2f s %5d MB RSS   mariadb-backup %7s s %5s MB RSS' "$r" "$s" "$m" "$s2" "$m2"
  if [ -n "$AGENT_PID" ]; then
    read -r s3 _ < <(timed "$D/out-inc-agent" "${SA[@]}" --type incremental --base "$full_id")
    echo "$s3" >>"$D/i-a"
    printf '   strata via the agent %5.2f s' "$s3"
  fi
  echo
done
is=$(median <"$D/i-s"); im=$(median <"$D/i-m")
if [ -f "$D/mb-failed" ]; then
  echo "incremental after 1% of the tables changed, median of $ROUNDS: strata $is s, $(mb_says); peak RSS strata $(maximum <"$D/i-s-rss") MB"
else
  echo "incremental after 1% of the tables changed, median of $ROUNDS: strata $is s, mariadb-backup $im s, ratio $(ratio "$is" "$im") (target <= 0.1); peak RSS strata $(maximum <"$D/i-s-rss") MB, mariadb-backup $(maximum <"$D/i-m-rss") MB"
fi
if [ -n "$AGENT_PID" ]; then
  ia=$(median <"$D/i-a")
  echo "incremental after 1% of the tables changed, sent to the agent, median of $ROUNDS: strata $ia s$([ -f "$D/mb-failed" ] || echo ", ratio to mariadb-backup $(ratio "$ia" "$im") (target <= 0.1)"); the agent's peak RSS so far $(agent_hwm) MB"
  grep -c '^\S* \[agent\] backup: exit 0' "$D/agent.log" | sed 's/^/bench: backups the agent ran so far: /'
fi
"$STRATA" show --repo "$D/repo" "$inc_id" --json | python3 -c 'import json,sys; m=json.load(sys.stdin); print("bench: the last strata incremental:", m.get("detection"), "; files with pages stored:", sum(1 for f in m["files"] if f.get("deltaPages")))' || true

# ---- restore of full + incremental ------------------------------------------------------
: >"$D/r-s"; : >"$D/r-m"; : >"$D/r-s-rss"; : >"$D/r-m-rss"
for r in $(seq "$ROUNDS"); do
  rm -rf "$D/restore-s"
  read -r s m < <(timed "$D/out-rs" "$STRATA" restore --repo "$D/repo" --backup "$inc_id" --target "$D/restore-s")
  echo "$s" >>"$D/r-s"; echo "$m" >>"$D/r-s-rss"
  if [ -f "$D/mb-failed" ]; then
    printf 'round %d restore:     strata %7.2f s %5d MB RSS   (mariadb-backup has no backup to restore)\n' "$r" "$s" "$m"
    continue
  fi
  rm -rf "$D/restore-m" "$D/mb-work" "$D/mb-work-inc"
  cp -a "$D/mb-full" "$D/mb-work"; cp -a "$D/mb-inc" "$D/mb-work-inc"
  /usr/bin/time -f "%e %M" -o "$D/mb-r1.time" mariadb-backup --no-defaults --prepare --target-dir="$D/mb-work" >"$D/mb-r1.log" 2>&1
  /usr/bin/time -f "%e %M" -o "$D/mb-r2.time" mariadb-backup --no-defaults --prepare --target-dir="$D/mb-work" --incremental-dir="$D/mb-work-inc" >"$D/mb-r2.log" 2>&1
  /usr/bin/time -f "%e %M" -o "$D/mb-r3.time" mariadb-backup --no-defaults --copy-back --target-dir="$D/mb-work" --datadir="$D/restore-m" >"$D/mb-r3.log" 2>&1
  read -r s2 m2 < <(cat "$D"/mb-r[123].time | awk '{s += $1; if ($2 > m) m = $2} END {printf "%.2f %.0f\n", s, m / 1024}')
  echo "$s2" >>"$D/r-m"; echo "$m2" >>"$D/r-m-rss"
  printf 'round %d restore:     strata %7.2f s %5d MB RSS   mariadb-backup %7.2f s %5d MB RSS (prepare + prepare incremental + copy-back)\n' "$r" "$s" "$m" "$s2" "$m2"
done
rs=$(median <"$D/r-s"); rm=$(median <"$D/r-m")
if [ -f "$D/mb-failed" ]; then
  echo "restore of full + incremental, median of $ROUNDS: strata $rs s, $(mb_says); peak RSS strata $(maximum <"$D/r-s-rss") MB"
  echo "bench: restored tables: strata $(find "$D/restore-s" -name '*.ibd' | wc -l) .ibd"
else
  echo "restore of full + incremental, median of $ROUNDS: strata $rs s, mariadb-backup $rm s, ratio $(ratio "$rs" "$rm"); peak RSS strata $(maximum <"$D/r-s-rss") MB, mariadb-backup $(maximum <"$D/r-m-rss") MB"
  echo "bench: restored tables: strata $(find "$D/restore-s" -name '*.ibd' | wc -l) .ibd, mariadb-backup $(find "$D/restore-m" -name '*.ibd' | wc -l) .ibd"
fi

# ---- fixed cost: an incremental when nothing changed ------------------------------------
"${SB[@]}" --type incremental >/dev/null
settle
: >"$D/z-cold"; : >"$D/z-warm"; : >"$D/z-rss"
for r in $(seq "$ROUNDS"); do
  cold
  read -r s m < <(timed "$D/out-idle" "${SB[@]}" --type incremental)
  read -r s2 m2 < <(timed "$D/out-idle" "${SB[@]}" --type incremental)
  echo "$s" >>"$D/z-cold"; echo "$s2" >>"$D/z-warm"; echo "$m" >>"$D/z-rss"; echo "$m2" >>"$D/z-rss"
  printf 'round %d nothing changed: strata incremental %5.2f s after drop_caches, %5.2f s warm, %d / %d MB RSS\n' "$r" "$s" "$s2" "$m" "$m2"
done
echo "fixed cost of a strata incremental when nothing changed at $TABLES tables, median: $(median <"$D/z-cold") s after drop_caches (target <= 0.35), $(median <"$D/z-warm") s warm; peak RSS $(maximum <"$D/z-rss") MB"
if [ -n "$AGENT_PID" ]; then
  : >"$D/za-cold"; : >"$D/za-warm"
  for r in $(seq "$ROUNDS"); do
    cold
    read -r s _ < <(timed "$D/out-idle-agent" "${SA[@]}" --type incremental)
    read -r s2 _ < <(timed "$D/out-idle-agent" "${SA[@]}" --type incremental)
    echo "$s" >>"$D/za-cold"; echo "$s2" >>"$D/za-warm"
    printf 'round %d nothing changed, sent to the agent: strata incremental %5.2f s after drop_caches, %5.2f s warm\n' "$r" "$s" "$s2"
  done
  echo "fixed cost of a strata incremental when nothing changed at $TABLES tables, sent to the agent, median: $(median <"$D/za-cold") s after drop_caches (target <= 0.35), $(median <"$D/za-warm") s warm; the agent's peak RSS $(agent_hwm) MB, $(awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$AGENT_PID/status") MB resident now"
  grep -c '^\S* \[agent\] backup: exit 0' "$D/agent.log" | sed 's/^/bench: backups the agent ran: /'
  kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true; AGENT_PID=""
fi
# ---- restore of the newest backup: the end of a long chain (strata alone) ---------------
# the full, the incremental, then one per nothing-changed run above: every unchanged tablespace is
# a delta of no pages in each member
newest=$(awk '/^backup /{print $2}' "$D/out-idle")
depth=$("$STRATA" list --repo "$D/repo" --json 2>/dev/null | python3 -c 'import json,sys; print(*[len(b["needs"]) for b in json.load(sys.stdin) if b["id"] == sys.argv[1]])' "$newest" || echo "?")
rm -rf "$D/restore-s"
read -r s m < <(timed "$D/out-rdeep" "$STRATA" restore --repo "$D/repo" --backup "$newest" --target "$D/restore-s")
echo "$m" >"$D/d-rss"
echo "restore of the newest backup, a chain of $depth backups, at $TABLES tables (once): strata $s s, $m MB RSS; $(find "$D/restore-s" -name '*.ibd' | wc -l) .ibd restored"
rm -rf "$D/restore-s"

# ---- verify and merge (strata alone: mariadb-backup has no verify; its merge is the prepare above) ----
: >"$D/v-s"; : >"$D/v-rss"
for r in $(seq "$ROUNDS"); do
  read -r s m < <(timed "$D/out-verify" "$STRATA" verify --repo "$D/repo" "$inc_id")
  echo "$s" >>"$D/v-s"; echo "$m" >>"$D/v-rss"
  printf 'round %d verify:      strata %7.2f s %5d MB RSS (the full and the incremental: every object, page checksums, redo log)\n' "$r" "$s" "$m"
done
echo "verify of full + incremental at $TABLES tables, median of $ROUNDS: strata $(median <"$D/v-s") s; peak RSS $(maximum <"$D/v-rss") MB"
# list and check read every backup's manifest head (its file entries are most of its 5 MB at 5,000 tables)
nb=$(ls "$D/repo/backups" | wc -l)
read -r s m < <(timed "$D/out-list" "$STRATA" list --repo "$D/repo")
# (check exits 1 or 2 for a warning or a critical verdict, Nagios' convention: still a run to time)
read -r s2 m2 < <(timed "$D/out-check" sh -c '"$0" check --repo "$1"; [ $? -le 2 ]' "$STRATA" "$D/repo")
echo "$m" >"$D/l-rss"; echo "$m2" >>"$D/l-rss"
echo "list of $nb backups at $TABLES tables (once): strata $s s, $m MB RSS; check: $s2 s, $m2 MB RSS"
# a merge rewrites the repository: once, the incremental into its full (a synthetic full of every table)
read -r s m < <(timed "$D/out-merge" "$STRATA" merge --repo "$D/repo" "$inc_id")
echo "$m" >"$D/g-rss"
echo "merge of the incremental into its full at $TABLES tables (once): strata $s s, $m MB RSS; $(head -1 "$D/out-merge")"
all_rss=$(cat "$D"/f-s-rss "$D"/i-s-rss "$D"/r-s-rss "$D"/z-rss "$D"/d-rss "$D"/v-rss "$D"/l-rss "$D"/g-rss | maximum)
echo "peak RSS of every strata run: $all_rss MB (target <= 300)"
