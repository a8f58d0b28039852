#!/usr/bin/env bash
# Full backups of many small tables into an S3 repository whose every request takes a while, as
# a remote object store's do (issue 18: 5,000 tables in 50 databases, each table 100 rows; its
# backup stores about 10,000 objects, one PUT each).
#
# S3Proxy (filesystem blob store, from the test classes) runs on loopback with --latency-ms
# (BENCH_LATENCY_MS, default 20): every call it makes on its blob store first waits that long, the
# service time loopback lacks (S3 answers a PUT in tens of milliseconds). Per round, alternating:
#   strata-s3     strata backup --type full into s3://bench/roundN
#   strata-b-s3   the same with STRATA_B (another build, e.g. the one before a change), when set
#   strata-disk   strata backup --type full to local disk
#   mb-disk       mariadb-backup --backup to local disk, then sync (it has no S3 target; the floor
#                 of a tool that writes the same data without a request per file)
# with the wall time, the peak RSS of strata's runs (/usr/bin/time) and S3Proxy's CPU seconds.
# Then, per round, strata copy of one full backup (taken once, to local disk) between disk and S3:
#   copy-up       strata copy --from DISK --to s3://bench/copyN --all (and STRATA_B's, when set)
#   copy-down     strata copy --from s3://bench/copyN --to a new local repository --all (the same)
# (mariadb-backup has no copy between repositories: these compare the build with STRATA_B.)
# BENCH_COPY=0 leaves the copy rounds out (one untimed copy up is made for the restores).
# Then, per round, strata restore of that backup into a new directory (crash recovery included):
#   restore-s3    from s3://bench/copyN (packs of 4 MiB), this build and STRATA_B's
#   restore-disk  from the local repository it was copied from
#
# The data: bench/many-tables.sh's cache (BENCH_TABLES, default 5000; built by that script when
# missing). Run under flock /tmp/strata-bench.lock. Results: bench/results-s3-many-tables.txt.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
TABLES=${BENCH_TABLES:-5000}
ROUNDS=${BENCH_ROUNDS:-3}
LATENCY=${BENCH_LATENCY_MS:-20}
CACHE=${BENCH_CACHE:-/work/bench-cache/many-${TABLES}x100}
PATH="$PATH:/usr/sbin"

for tool in mariadbd mariadb mariadb-admin mariadb-backup /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (apt-get install mariadb-server mariadb-backup time)" >&2; exit 1; }
done
if [ ! -d "$CACHE" ]; then
  BENCH_BUILD_ONLY=1 BENCH_TABLES="$TABLES" BENCH_CACHE="$CACHE" bash "$here/bench/many-tables.sh"
fi

D=$(mktemp -d "${BENCH_DIR:-/var/tmp}/strata-s3many.XXXXXX")
mkdir -p "$D/tmp" "$D/s3"
SOCK=$D/mysql.sock
PID=""
S3_PID=""
cleanup() {
  set +e
  exec 9>&- 2>/dev/null
  [ -n "$S3_PID" ] && kill "$S3_PID" 2>/dev/null && wait "$S3_PID" 2>/dev/null
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    mariadb-admin --no-defaults -S "$SOCK" -uroot shutdown >/dev/null 2>&1
    for _ in $(seq 1200); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$here/bin/strata" --version >/dev/null # builds the jar if needed, outside the clock
STRATA=${STRATA:-$here/bin/strata}
sql() { mariadb --no-defaults -S "$SOCK" -uroot -N -B -e "$1"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
maximum() { sort -g | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.2f", a - b }'; }
proc_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"; }

cp -a "$CACHE" "$D/data"
mariadbd --no-defaults --user=root --datadir="$D/data" --socket="$SOCK" --skip-networking --pid-file="$D/mysqld.pid" \
  --tmpdir="$D/tmp" --log-error="$D/error.log" --innodb-buffer-pool-size=512M --innodb-log-file-size=512M --server-id=1 \
  --innodb-file-per-table=1 --innodb-flush-log-at-trx-commit=2 --table-open-cache=2000 --open-files-limit=65535 &
PID=$!
for _ in $(seq 1200); do sql "SELECT 1" >/dev/null 2>&1 && break; sleep 0.2; done

(cd "$here" && { mvn -B -o -q dependency:build-classpath -Dmdep.outputFile="$D/cp.txt" -Dmdep.includeScope=test >"$D/mvn.log" 2>&1 \
  || mvn -B -q dependency:build-classpath -Dmdep.outputFile="$D/cp.txt" -Dmdep.includeScope=test >"$D/mvn.log" 2>&1; }) || { cat "$D/mvn.log" >&2; exit 1; }
[ -d "$here/target/test-classes/io/strata/testing" ] || (cd "$here" && mvn -B -q -DskipTests test-compile >"$D/mvn.log" 2>&1) || { cat "$D/mvn.log" >&2; exit 1; }
mkfifo "$D/s3.stdin"
java -Xmx2g -cp "$here/target/test-classes:$(cat "$D/cp.txt")" io.strata.testing.S3ProxyServer --dir "$D/s3" --bucket bench --latency-ms "$LATENCY" \
  <"$D/s3.stdin" >"$D/s3proxy.log" 2>&1 &
S3_PID=$!
exec 9>"$D/s3.stdin"
for _ in $(seq 300); do grep -q "s3proxy ready" "$D/s3proxy.log" && break; sleep 0.1; done
EP=$(awk '/s3proxy ready/ {print $3}' "$D/s3proxy.log")
[ -n "$EP" ] || { echo "bench: S3Proxy did not start" >&2; cat "$D/s3proxy.log" >&2; exit 1; }
export AWS_ACCESS_KEY_ID=strata-test-access AWS_SECRET_ACCESS_KEY=strata-test-secret AWS_REGION=us-east-1
echo "bench: $TABLES tables, $(find "$D/data" -name '*.ibd' | wc -l) .ibd files; S3Proxy at $EP, $LATENCY ms a blob-store call; $(mariadb-backup --version 2>&1 | head -1)"
# each tool's first run outside the clock (class-data archives, the page cache of the binaries)
"$STRATA" backup --repo "s3://bench/warm" --s3-endpoint "$EP" --socket "$SOCK" --user root --quiet --type full >/dev/null
[ -n "${STRATA_B:-}" ] && "$STRATA_B" backup --repo "s3://bench/warm-b" --s3-endpoint "$EP" --socket "$SOCK" --user root --quiet --type full >/dev/null

# strata_run NAME BIN REPO: one timed full backup; appends "seconds rss_mb s3proxy_cpu" to $D/NAME
strata_run() {
  local name=$1 bin=$2 repo=$3 t0 c0
  shift 3
  sync
  c0=$(proc_cpu "$S3_PID")
  t0=$(now)
  /usr/bin/time -f "%M" -o "$D/rss" "$bin" backup --repo "$repo" "$@" --socket "$SOCK" --user root --quiet --type full >/dev/null 2>"$D/$name.err" \
    || { echo "bench: $name failed:" >&2; cat "$D/$name.err" >&2; exit 1; }
  echo "$(since "$t0") $(($(tail -1 "$D/rss") / 1024)) $(awk -v a="$(proc_cpu "$S3_PID")" -v b="$c0" 'BEGIN { printf "%.1f", a - b }')" >>"$D/$name"
}
for r in $(seq "$ROUNDS"); do
  strata_run strata-s3 "$STRATA" "s3://bench/round$r" --s3-endpoint "$EP"
  [ -n "${STRATA_B:-}" ] && strata_run strata-b-s3 "$STRATA_B" "s3://bench/b-round$r" --s3-endpoint "$EP"
  rm -rf "$D/repo"
  strata_run strata-disk "$STRATA" "$D/repo"
  rm -rf "$D/repo" "$D/mb"
  sync
  t0=$(now)
  mariadb-backup --no-defaults --backup --socket="$SOCK" --user=root --target-dir="$D/mb" --open-files-limit=65535 >"$D/mb.log" 2>&1 \
    || { echo "bench: mariadb-backup failed:" >&2; tail -5 "$D/mb.log" >&2; exit 1; }
  sync -f "$D/mb"
  echo "$(since "$t0")" >>"$D/mb-disk"
  rm -rf "$D/mb"
  printf 'round %d: strata into S3 %s s (%s MB RSS, S3Proxy %s CPU s)%s   strata to disk %s s   mariadb-backup to disk + sync %s s\n' "$r" \
    $(tail -1 "$D/strata-s3") "$([ -n "${STRATA_B:-}" ] && printf '   STRATA_B into S3 %s s (%s MB RSS, S3Proxy %s CPU s)' $(tail -1 "$D/strata-b-s3"))" \
    "$(tail -1 "$D/strata-disk" | cut -d' ' -f1)" "$(tail -1 "$D/mb-disk")"
done
s3=$(cut -d' ' -f1 "$D/strata-s3" | median)
disk=$(cut -d' ' -f1 "$D/strata-disk" | median)
mb=$(median <"$D/mb-disk")
echo "median of $ROUNDS: strata into S3 $s3 s, to disk $disk s (S3/disk $(ratio "$s3" "$disk")); mariadb-backup to disk + sync $mb s (strata into S3 / that $(ratio "$s3" "$mb"))"
if [ -n "${STRATA_B:-}" ]; then
  b=$(cut -d' ' -f1 "$D/strata-b-s3" | median)
  echo "STRATA_B ($STRATA_B) into S3: median $b s; this build / STRATA_B $(ratio "$s3" "$b"); peak RSS $(cut -d' ' -f2 "$D/strata-b-s3" | maximum) MB"
fi
echo "peak RSS of strata into S3 $(cut -d' ' -f2 "$D/strata-s3" | maximum) MB, to disk $(cut -d' ' -f2 "$D/strata-disk" | maximum) MB"

# copies of one full backup between disk and S3
"$STRATA" backup --repo "$D/copysrc" --socket "$SOCK" --user root --quiet --type full >/dev/null
echo "bench: the full backup copied: $(find "$D/copysrc/backups" -type f | wc -l) stored objects (pack/ and data/) on disk, $(du -sm "$D/copysrc/backups" | cut -f1) MB"
# copy_run NAME BIN ARGS...: one timed strata copy; appends "seconds rss_mb s3proxy_cpu" to $D/NAME
copy_run() {
  local name=$1 bin=$2 t0 c0
  shift 2
  sync
  c0=$(proc_cpu "$S3_PID")
  t0=$(now)
  /usr/bin/time -f "%M" -o "$D/rss" "$bin" copy --all "$@" >/dev/null 2>"$D/$name.err" \
    || { echo "bench: $name failed:" >&2; cat "$D/$name.err" >&2; exit 1; }
  echo "$(since "$t0") $(($(tail -1 "$D/rss") / 1024)) $(awk -v a="$(proc_cpu "$S3_PID")" -v b="$c0" 'BEGIN { printf "%.1f", a - b }')" >>"$D/$name"
}
COPY_ROUNDS=$ROUNDS
[ "${BENCH_COPY:-1}" = 0 ] && COPY_ROUNDS=0 && "$STRATA" copy --all --from "$D/copysrc" --to "s3://bench/copy0" --to-s3-endpoint "$EP" >/dev/null 2>&1
for r in $(seq "$COPY_ROUNDS"); do
  copy_run copy-up "$STRATA" --from "$D/copysrc" --to "s3://bench/copy$r" --to-s3-endpoint "$EP"
  rm -rf "$D/down"
  copy_run copy-down "$STRATA" --from "s3://bench/copy$r" --from-s3-endpoint "$EP" --to "$D/down"
  line="round $r copies: up to S3 $(tail -1 "$D/copy-up" | cut -d' ' -f1) s, down from S3 $(tail -1 "$D/copy-down" | cut -d' ' -f1) s ($(find "$D/down/backups" -type f | wc -l) objects there)"
  if [ -n "${STRATA_B:-}" ]; then
    copy_run copy-b-up "$STRATA_B" --from "$D/copysrc" --to "s3://bench/copyb$r" --to-s3-endpoint "$EP"
    rm -rf "$D/down"
    copy_run copy-b-down "$STRATA_B" --from "s3://bench/copyb$r" --from-s3-endpoint "$EP" --to "$D/down"
    line="$line; STRATA_B up $(tail -1 "$D/copy-b-up" | cut -d' ' -f1) s, down $(tail -1 "$D/copy-b-down" | cut -d' ' -f1) s ($(find "$D/down/backups" -type f | wc -l) objects there)"
  fi
  rm -rf "$D/down"
  echo "$line"
done
if [ "$COPY_ROUNDS" -gt 0 ]; then
up=$(cut -d' ' -f1 "$D/copy-up" | median)
down=$(cut -d' ' -f1 "$D/copy-down" | median)
echo "copy of the full backup, median of $ROUNDS: up to S3 $up s, down from S3 $down s; peak RSS $(cat "$D/copy-up" "$D/copy-down" | cut -d' ' -f2 | maximum) MB; S3Proxy CPU up $(cut -d' ' -f3 "$D/copy-up" | median) s"
if [ -n "${STRATA_B:-}" ]; then
  bup=$(cut -d' ' -f1 "$D/copy-b-up" | median)
  bdown=$(cut -d' ' -f1 "$D/copy-b-down" | median)
  echo "STRATA_B copy, median of $ROUNDS: up $bup s, down $bdown s; this build / STRATA_B: up $(ratio "$up" "$bup"), down $(ratio "$down" "$bdown"); S3Proxy CPU up $(cut -d' ' -f3 "$D/copy-b-up" | median) s"
fi
fi

# restores of that backup from S3 and from disk
# restore_run NAME BIN ARGS...: one timed strata restore into $D/restored; appends "seconds rss_mb" to $D/NAME
restore_run() {
  local name=$1 bin=$2 t0
  shift 2
  rm -rf "$D/restored"
  sync
  t0=$(now)
  /usr/bin/time -f "%M" -o "$D/rss" "$bin" restore "$@" --target "$D/restored" >/dev/null 2>"$D/$name.err" \
    || { echo "bench: $name failed:" >&2; cat "$D/$name.err" >&2; exit 1; }
  echo "$(since "$t0") $(($(tail -1 "$D/rss") / 1024))" >>"$D/$name"
  [ "$(find "$D/restored" -name '*.ibd' | wc -l)" -ge "$TABLES" ] || { echo "bench: $name restored $(find "$D/restored" -name '*.ibd' | wc -l) .ibd files" >&2; exit 1; }
  rm -rf "$D/restored"
}
src="s3://bench/copy$COPY_ROUNDS"
for r in $(seq "$ROUNDS"); do
  restore_run restore-s3 "$STRATA" --repo "$src" --s3-endpoint "$EP"
  line="round $r restore: from S3 $(tail -1 "$D/restore-s3" | cut -d' ' -f1) s ($(tail -1 "$D/restore-s3" | cut -d' ' -f2) MB RSS)"
  if [ -n "${STRATA_B:-}" ]; then
    restore_run restore-b-s3 "$STRATA_B" --repo "$src" --s3-endpoint "$EP"
    line="$line; STRATA_B from S3 $(tail -1 "$D/restore-b-s3" | cut -d' ' -f1) s ($(tail -1 "$D/restore-b-s3" | cut -d' ' -f2) MB RSS)"
  fi
  restore_run restore-disk "$STRATA" --repo "$D/copysrc"
  echo "$line; from disk $(tail -1 "$D/restore-disk" | cut -d' ' -f1) s"
done
rs=$(cut -d' ' -f1 "$D/restore-s3" | median)
rd=$(cut -d' ' -f1 "$D/restore-disk" | median)
echo "restore of the full backup, median of $ROUNDS: from S3 $rs s, from disk $rd s (S3/disk $(ratio "$rs" "$rd")); peak RSS from S3 $(cut -d' ' -f2 "$D/restore-s3" | maximum) MB, from disk $(cut -d' ' -f2 "$D/restore-disk" | maximum) MB"
if [ -n "${STRATA_B:-}" ]; then
  rb=$(cut -d' ' -f1 "$D/restore-b-s3" | median)
  echo "STRATA_B restore from S3, median of $ROUNDS: $rb s; this build / STRATA_B $(ratio "$rs" "$rb")"
fi
