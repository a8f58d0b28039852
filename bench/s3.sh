#!/usr/bin/env bash
# Full backup into an S3 repository vs the same backup to local disk, and restore from each,
# side by side with mariadb-backup on local disk, on the same throwaway server in the same run.
#
# Loads ~1 GB of sysbench data into a temp server, starts S3Proxy (a real S3 protocol server:
# S3Proxy 2.7.0 in its own JVM, -Xmx2g, jclouds "filesystem" blob store on the same disk, AWS
# signature v2/v4 authentication on, plain HTTP on loopback) and alternates for BENCH_ROUNDS rounds:
#   backup  strata-local    strata backup --type full --repo DIR
#           strata-s3       strata backup --type full --repo s3://bench/roundN --s3-endpoint http://127.0.0.1:PORT
#           mariadb-backup  mariadb-backup --backup --target-dir DIR
#   restore strata-local    strata restore --repo DIR (a full kept for it) --target DIR (crash recovery included)
#           strata-s3       the same from s3://bench/kept
#           ...-norecover   both again with --no-recover (the files alone, without mariadbd's recovery)
#           mariadb-backup  --copy-back of a prepared backup (its --prepare is timed once, untimed in rounds)
# every run into a fresh target that is deleted after timing. strata runs with the launcher's own
# JVM settings (bin/strata). Prints per-run seconds, CPU, S3Proxy's CPU, peak RSS, medians and
# ratios. Run it under the machine-wide lock:
#   flock /tmp/strata-bench.lock bash bench/s3.sh | tee bench/results-s3.txt
#
# Environment: STRATA (default bin/strata), BENCH_TABLES (8), BENCH_TABLE_SIZE (500000),
# BENCH_ROUNDS (3), BENCH_PART_MIB (16), BENCH_DIR (/tmp), BENCH_KEEP=1 keeps the temp directory.
# Needs the test classes and Maven's local repository for S3Proxy (mvn -DskipTests package first).
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
STRATA=${STRATA:-$HERE/bin/strata}
TABLES=${BENCH_TABLES:-8}
TABLE_SIZE=${BENCH_TABLE_SIZE:-500000}
ROUNDS=${BENCH_ROUNDS:-3}
PART_MIB=${BENCH_PART_MIB:-16}
PATH="$PATH:/usr/sbin"

for tool in mariadbd mariadb-install-db mariadb mariadb-admin mariadb-backup sysbench java mvn; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found" >&2; exit 1; }
done
[ -d "$HERE/target/test-classes/io/strata/testing" ] || { echo "bench: build first: mvn -B -DskipTests package" >&2; exit 1; }
TIMEV=()
[ -x /usr/bin/time ] && TIMEV=(/usr/bin/time -v)

D=$(mktemp -d "${BENCH_DIR:-/tmp}/strata-bench-s3.XXXXXX")
SOCK=$D/mysql.sock
S3_PID=""

cleanup() {
  set +e
  if [ -n "$S3_PID" ] && kill -0 "$S3_PID" 2>/dev/null; then
    exec 9>&-          # closing its stdin stops S3Proxy
    for _ in $(seq 100); do kill -0 "$S3_PID" 2>/dev/null || break; sleep 0.1; done
    kill "$S3_PID" 2>/dev/null; wait "$S3_PID" 2>/dev/null
  fi
  stop_mariadbd
  remove_workdir
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "bench: temp dir $D" >&2
start_mariadbd --innodb-buffer-pool-size=1G

SB=(--db-driver=mysql --mysql-socket="$SOCK" --mysql-user=root --mysql-db=sbtest --tables="$TABLES" --table-size="$TABLE_SIZE")
sql "CREATE DATABASE sbtest"
sysbench oltp_read_write "${SB[@]}" --threads=2 prepare >"$D/prepare.log" 2>&1 || { tail -20 "$D/prepare.log" >&2; exit 1; }
size_mb=$(du -sm "$D/data/sbtest" | cut -f1)
echo "bench: loaded $TABLES x $TABLE_SIZE rows, sbtest $size_mb MiB" >&2

# S3Proxy from the test classes, in its own JVM, serving until its stdin (fd 9 here) closes
(cd "$HERE" && { mvn -B -o -q dependency:build-classpath -Dmdep.outputFile="$D/cp.txt" -Dmdep.includeScope=test >"$D/mvn.log" 2>&1 || mvn -B -q dependency:build-classpath -Dmdep.outputFile="$D/cp.txt" -Dmdep.includeScope=test >"$D/mvn.log" 2>&1; }) \
  || { cat "$D/mvn.log" >&2; exit 1; }
mkdir -p "$D/s3"
mkfifo "$D/s3.stdin"
java -Xmx2g -cp "$HERE/target/test-classes:$(cat "$D/cp.txt")" io.strata.testing.S3ProxyServer --dir "$D/s3" --bucket bench \
  <"$D/s3.stdin" >"$D/s3proxy.log" 2>&1 &
S3_PID=$!
exec 9>"$D/s3.stdin"
for i in $(seq 300); do
  grep -q "s3proxy ready" "$D/s3proxy.log" && break
  kill -0 "$S3_PID" 2>/dev/null || { echo "bench: S3Proxy died" >&2; cat "$D/s3proxy.log" >&2; exit 1; }
  sleep 0.1
done
EP=$(awk '/s3proxy ready/ {print $3}' "$D/s3proxy.log")
[ -n "$EP" ] || { echo "bench: S3Proxy did not start" >&2; cat "$D/s3proxy.log" >&2; exit 1; }
export AWS_ACCESS_KEY_ID=strata-test-access AWS_SECRET_ACCESS_KEY=strata-test-secret AWS_REGION=us-east-1
echo "bench: S3Proxy $(unzip -p "$(tr ':' '\n' <"$D/cp.txt" | grep s3proxy)" META-INF/maven/org.gaul/s3proxy/pom.properties 2>/dev/null | grep version || true) at $EP" >&2

# CPU seconds (user + system) a process has used so far
proc_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# run NAME OUTDIR CMD...: times CMD, appends "NAME seconds rss_kib" to $D/results, drops OUTDIR
run() {
  local name=$1 out=$2; shift 2
  local start end rss=NA cpu=NA s3a s3b
  sync
  s3a=$(proc_cpu "$S3_PID")
  start=$(date +%s.%N)
  if [ "${#TIMEV[@]}" -gt 0 ]; then
    "${TIMEV[@]}" -o "$D/time.txt" "$@" >"$D/$name.log" 2>&1 || { echo "bench: $name failed:" >&2; tail -30 "$D/$name.log" >&2; exit 1; }
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$D/time.txt")
    cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.1f", u + s}' "$D/time.txt")
  else
    "$@" >"$D/$name.log" 2>&1 || { echo "bench: $name failed:" >&2; tail -30 "$D/$name.log" >&2; exit 1; }
  fi
  end=$(date +%s.%N)
  s3b=$(proc_cpu "$S3_PID")
  local secs bytes
  secs=$(sub "$end" "$start")
  bytes=$(du -sb "$out" 2>/dev/null | cut -f1 || echo 0)
  [ -n "${KEEP_OUT:-}" ] || rm -rf "$out"
  echo "$name $secs $rss" >>"$D/results"
  printf '%-20s %8.2f s  cpu %5s s  S3Proxy cpu %5s s  peak RSS %8s KiB  stored %s MiB\n' "$name" "$secs" "$cpu" \
    "$(awk -v a="$s3a" -v b="$s3b" 'BEGIN { printf "%.1f", b - a }')" "$rss" "$(( ${bytes:-0} / 1048576 ))"
}

echo "warm-up (untimed)"
"$STRATA" backup --repo "$D/warm" --type full --socket "$SOCK" --user root >/dev/null 2>&1 || { echo "bench: warm-up failed" >&2; exit 1; }
mariadb-backup --no-defaults --backup --target-dir="$D/warm-mb" --socket="$SOCK" --user=root >/dev/null 2>&1
rm -rf "$D/warm" "$D/warm-mb"

: >"$D/results"
# one backup of each kind kept for the restores
"$STRATA" backup --repo "$D/kept" --type full --socket "$SOCK" --user root --quiet >/dev/null 2>&1 || { echo "bench: kept local backup failed" >&2; exit 1; }
"$STRATA" backup --repo "s3://bench/kept" --s3-endpoint "$EP" --s3-part-size "$PART_MIB" --type full --socket "$SOCK" --user root --quiet >/dev/null 2>&1 \
  || { echo "bench: kept S3 backup failed" >&2; exit 1; }
mariadb-backup --no-defaults --backup --target-dir="$D/mbkept" --socket="$SOCK" --user=root >/dev/null 2>&1 || { echo "bench: kept mariadb-backup failed" >&2; exit 1; }
KEEP_OUT=1
echo "reference (once)"
run mb-prepare "$D/mbkept" mariadb-backup --no-defaults --prepare --target-dir="$D/mbkept"
KEEP_OUT=
for r in $(seq "$ROUNDS"); do
  echo "round $r/$ROUNDS"
  run strata-local "$D/repo" "$STRATA" backup --repo "$D/repo" --type full --socket "$SOCK" --user root --quiet
  run strata-s3 "$D/s3/bench/round$r" "$STRATA" backup --repo "s3://bench/round$r" --s3-endpoint "$EP" --s3-part-size "$PART_MIB" \
    --type full --socket "$SOCK" --user root --quiet
  run mariadb-backup "$D/mb" mariadb-backup --no-defaults --backup --target-dir="$D/mb" --socket="$SOCK" --user=root
  run rs-local "$D/target" "$STRATA" restore --repo "$D/kept" --target "$D/target"
  run rs-s3 "$D/target" "$STRATA" restore --repo "s3://bench/kept" --s3-endpoint "$EP" --target "$D/target"
  run rs-local-norecover "$D/target" "$STRATA" restore --repo "$D/kept" --target "$D/target" --no-recover
  run rs-s3-norecover "$D/target" "$STRATA" restore --repo "s3://bench/kept" --s3-endpoint "$EP" --target "$D/target" --no-recover
  run mb-copy-back "$D/target" mariadb-backup --no-defaults --copy-back --target-dir="$D/mbkept" --datadir="$D/target"
done

median() { grep "^$1 " "$D/results" | awk '{print $2}' | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
peak() { grep "^$1 " "$D/results" | awk '{print $3}' | sort -g | tail -1; }
l=$(median strata-local); s=$(median strata-s3); m=$(median mariadb-backup)
rl=$(median rs-local); rs=$(median rs-s3); nl=$(median rs-local-norecover); ns=$(median rs-s3-norecover); cb=$(median mb-copy-back); pr=$(median mb-prepare)
echo
echo "data: $TABLES x $TABLE_SIZE rows, sbtest $size_mb MiB; rounds: $ROUNDS; S3 part size $PART_MIB MiB; idle server; $(nproc) cores"
printf 'backup  median seconds: strata-local %.2f  strata-s3 %.2f  mariadb-backup %.2f\n' "$l" "$s" "$m"
echo "backup  ratio strata-s3/strata-local $(ratio "$s" "$l")  strata-s3/mariadb-backup $(ratio "$s" "$m")  strata-local/mariadb-backup $(ratio "$l" "$m")"
printf 'restore median seconds: strata-local %.2f  strata-s3 %.2f  (files only, --no-recover: local %.2f  s3 %.2f)  mariadb-backup --copy-back %.2f (--prepare once %.2f)\n' \
  "$rl" "$rs" "$nl" "$ns" "$cb" "$pr"
echo "restore ratio strata-s3/strata-local $(ratio "$rs" "$rl")  --no-recover $(ratio "$ns" "$nl")  strata-s3 --no-recover/mariadb-backup --copy-back $(ratio "$ns" "$cb")"
echo "throughput to S3: $(awk -v a="$size_mb" -v b="$s" 'BEGIN { printf "%.0f", a / b }') MiB/s of sbtest data; from S3: $(awk -v a="$size_mb" -v b="$ns" 'BEGIN { printf "%.0f", a / b }') MiB/s"
echo "peak RSS KiB (max over runs): backup strata-local $(peak strata-local)  strata-s3 $(peak strata-s3)  mariadb-backup $(peak mariadb-backup);" \
  "restore strata-local $(peak rs-local)  strata-s3 $(peak rs-s3)  --no-recover local $(peak rs-local-norecover)  s3 $(peak rs-s3-norecover)"
