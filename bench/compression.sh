#!/usr/bin/env bash
# Compressed full backups, strata vs mariadb-backup, side by side on the same throwaway server.
#
# Timed, alternating, BENCH_ROUNDS rounds (after one untimed warm-up of each tool):
#   strata-none    strata backup --type full --compress none
#   strata-zstd1   strata backup --type full --compress zstd:1
#   mb-zstd        mariadb-backup --backup --stream=xbstream | zstd -T2   (zstd's default level 3)
# Reported: the speed of strata zstd:1 relative to strata uncompressed (time none / time zstd:1;
# the bar is 0.8), the time of strata zstd:1 against mariadb-backup | zstd -T2, and compression
# ratios (bytes of the uncompressed backup / bytes stored): strata zstd (default level, 1),
# zstd:3, lz4, and mariadb-backup's xbstream through zstd -T2 against the plain xbstream.
# Then the same with --compress zstd:1 and an encryption key, for the cost of encryption.
#
# Environment: STRATA (default bin/strata), BENCH_TABLES (8), BENCH_TABLE_SIZE (500000: ~1 GB of
# InnoDB files), BENCH_ROUNDS (5), BENCH_DIR (/tmp), BENCH_KEEP=1 keeps the temp directory.
# Run it alone: flock /tmp/strata-bench.lock bash bench/compression.sh
set -euo pipefail

STRATA=${STRATA:-$(cd "$(dirname "$0")/.." && pwd)/bin/strata}
TABLES=${BENCH_TABLES:-8}
TABLE_SIZE=${BENCH_TABLE_SIZE:-500000}
ROUNDS=${BENCH_ROUNDS:-5}
PATH="$PATH:/usr/sbin"

for tool in mariadbd mariadb-install-db mariadb mariadb-admin mariadb-backup sysbench zstd; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (bin/install-deps installs it)" >&2; exit 1; }
done
TIMEV=()
[ -x /usr/bin/time ] && TIMEV=(/usr/bin/time -v)

D=$(mktemp -d "${BENCH_DIR:-/tmp}/strata-compress.XXXXXX")
SOCK=$D/mysql.sock
cleanup() {
  set +e
  stop_mariadbd
  remove_workdir
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }
median() { grep "^$1 " "$D/results" | awk '{print $'"$2"'}' | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

start_mariadbd --innodb-buffer-pool-size=1G
sql "CREATE DATABASE sbtest"
sysbench oltp_read_write --db-driver=mysql --mysql-socket="$SOCK" --mysql-user=root --mysql-db=sbtest \
  --tables="$TABLES" --table-size="$TABLE_SIZE" --threads=2 prepare >"$D/prepare.log" 2>&1 || { tail -20 "$D/prepare.log" >&2; exit 1; }
# let the server write its dirty pages, so that every run copies the same settled files
sql "SET GLOBAL innodb_max_dirty_pages_pct = 0"
for _ in $(seq 120); do
  [ "$(sql "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'" | awk '{print $2}')" -lt 100 ] && break
  sleep 1
done
echo "bench: $(sql 'SELECT VERSION()'), $TABLES x $TABLE_SIZE rows: sbtest $(du -sm "$D/data/sbtest" | cut -f1) MiB, datadir $(du -sm "$D/data" | cut -f1) MiB; $(nproc) cores"

(umask 077; openssl rand -hex 32 >"$D/key")  # strata refuses a key file others may read
# commands as argument lists, so that /usr/bin/time can run them
strata() { echo "$STRATA" backup --repo "$1" --type full --socket "$SOCK" --user root --progress none "${@:2}"; }
MB_ZSTD=(sh -c 'mariadb-backup --no-defaults --backup --stream=xbstream --target-dir="$1" --socket="$2" --user=root 2>>"$3" | zstd -T2 -q >"$4"' sh "$D/mbtmp" "$SOCK" "$D/mb.log")

# run NAME OUT CMD...: times CMD, records "NAME seconds rss_kib bytes_of_OUT", removes OUT.
run() {
  local name=$1 out=$2; shift 2
  sync
  local start end rss=NA
  start=$(date +%s.%N)
  if [ "${#TIMEV[@]}" -gt 0 ]; then
    "${TIMEV[@]}" -o "$D/time.txt" "$@" >"$D/$name.log" 2>&1 || { echo "bench: $name failed" >&2; tail -20 "$D/$name.log" >&2; exit 1; }
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$D/time.txt")
  else
    "$@" >"$D/$name.log" 2>&1 || { echo "bench: $name failed" >&2; tail -20 "$D/$name.log" >&2; exit 1; }
  fi
  end=$(date +%s.%N)
  local bytes
  bytes=$(du -sb "$out" | cut -f1)
  rm -rf "$out" "$D/mbtmp"
  echo "$name $(calc "$end - $start") $rss $bytes" >>"$D/results"
  printf '%-16s %7.2f s  peak RSS %8s KiB  stored %6d MiB\n' "$name" "$(calc "$end - $start")" "$rss" "$((bytes / 1048576))"
}

echo "warm-up (untimed): page cache filled by one run of each tool"
$(strata "$D/warm" --compress none) >/dev/null 2>&1
"${MB_ZSTD[@]}" "$D/warm.zst"
rm -rf "$D/warm" "$D/warm.zst" "$D/mbtmp"

: >"$D/results"
for r in $(seq "$ROUNDS"); do
  echo "round $r/$ROUNDS"
  run strata-none "$D/r-none" $(strata "$D/r-none" --compress none)
  run strata-zstd1 "$D/r-zstd1" $(strata "$D/r-zstd1" --compress zstd:1)
  run mb-zstd "$D/mb.zst" "${MB_ZSTD[@]}" "$D/mb.zst"
done

echo "compression ratios and encryption (one run each)"
run strata-zstd "$D/r-zstd" $(strata "$D/r-zstd" --compress zstd)
run strata-zstd3 "$D/r-zstd3" $(strata "$D/r-zstd3" --compress zstd:3)
run strata-lz4 "$D/r-lz4" $(strata "$D/r-lz4" --compress lz4)
run strata-zstd1-enc "$D/r-enc" $(strata "$D/r-enc" --compress zstd:1 --encrypt-key-file "$D/key")
# context: the copy with 4 threads, the default before --parallel followed the number of cores
run strata-none-p4 "$D/r-none-p4" $(strata "$D/r-none-p4" --compress none --parallel 4)
run strata-zstd1-p4 "$D/r-zstd1-p4" $(strata "$D/r-zstd1-p4" --compress zstd:1 --parallel 4)
run mb-xbstream "$D/mb.xb" sh -c 'mariadb-backup --no-defaults --backup --stream=xbstream --target-dir="$1" --socket="$2" --user=root 2>>"$3" >"$4"' \
  sh "$D/mbtmp" "$SOCK" "$D/mb.log" "$D/mb.xb"

t_none=$(median strata-none 2); t_z1=$(median strata-zstd1 2); t_mb=$(median mb-zstd 2)
b_none=$(median strata-none 4); b_z1=$(median strata-zstd1 4); b_mbz=$(median mb-zstd 4)
b_z=$(median strata-zstd 4); b_z3=$(median strata-zstd3 4); b_lz4=$(median strata-lz4 4); b_enc=$(median strata-zstd1-enc 4); b_xb=$(median mb-xbstream 4)
echo
echo "data: $TABLES x $TABLE_SIZE rows; rounds: $ROUNDS; cores: $(nproc); strata --parallel default ($(nproc))"
echo "median seconds: strata none $t_none  strata zstd:1 $t_z1  mariadb-backup|zstd -T2 $t_mb"
echo "speed of strata zstd:1 relative to strata uncompressed (time none / time zstd:1): $(calc "$t_none / $t_z1")  (bar: >= 0.80)"
echo "time ratio strata zstd:1 / (mariadb-backup --stream=xbstream | zstd -T2): $(calc "$t_z1 / $t_mb")"
echo "time ratio strata none / (mariadb-backup --stream=xbstream | zstd -T2): $(calc "$t_none / $t_mb")"
echo "compression ratio (uncompressed bytes / stored bytes):"
echo "  strata zstd (default level 1) $(calc "$b_none / $b_z")  zstd:1 $(calc "$b_none / $b_z1")  zstd:3 $(calc "$b_none / $b_z3")  lz4 $(calc "$b_none / $b_lz4")  (bar for zstd: >= 2.40)"
echo "  strata zstd:1 + AES-256-GCM $(calc "$b_none / $b_enc")  (one run: $(median strata-zstd1-enc 2) s)"
echo "one run each with --parallel 4: strata none $(median strata-none-p4 2) s, zstd:1 $(median strata-zstd1-p4 2) s"
echo "  mariadb-backup xbstream | zstd -T2 (level 3) $(calc "$b_xb / $b_mbz")"
echo "stored MiB: strata none $((b_none / 1048576)), zstd:1 $((b_z1 / 1048576)), lz4 $((b_lz4 / 1048576)); xbstream $((b_xb / 1048576)), xbstream.zst $((b_mbz / 1048576))"
echo "peak RSS KiB (max): strata zstd:1 $(grep '^strata-zstd1 ' "$D/results" | awk '{print $3}' | sort -g | tail -1)  mariadb-backup|zstd $(grep '^mb-zstd ' "$D/results" | awk '{print $3}' | sort -g | tail -1)"
