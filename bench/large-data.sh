#!/usr/bin/env bash
# Memory at 100 GB (issue 18: peak RSS <= 300 MB for backup, incremental, restore, merge and verify
# "at 100 GB"): strata's resident size must not grow with the number of pages. mariadb-backup's full
# and incremental run in the same run, for its time and resident size beside strata's.
#
# Data: BENCH_GB GB (default 100) of InnoDB data in BENCH_TABLES tables (default 50) of one
# database. This machine has about 60 GB of free disk, so the data directory, the backups and the
# restored copy live on a btrfs file system mounted with compress-force=zstd:1 on a sparse image
# file (a loop device): the rows are repetitive (a letter repeated, the id and k numbers), so
# 100 GB of 16 KiB pages take a few GB of the disk, while every tool still reads and writes every
# byte through the page cache (btrfs compresses and decompresses them). The first table is filled
# with INSERT ... SELECT; the others are made by importing a copy of its .ibd (DISCARD TABLESPACE,
# cp --reflink, IMPORT TABLESPACE, which rewrites every page with the new space id and FIL_PAGE_LSN
# 0: written without redo, so a full-scan incremental stores every such page again, as it must,
# while the redo method reads only the pages the log names). The image is
# cached in BENCH_CACHE (default /work/bench-cache/large-<GB>g.img) with the stopped data directory
# in it; each run mounts it and works on a reflink copy of that directory (no space taken), which it
# removes at the end (the file system is mounted with discard, so freed blocks leave the image).
#
# Each timed with /usr/bin/time (elapsed s, peak RSS), in the launcher's default heap (2 cores: -Xmx192m):
#   strata backup --type full                  | mariadb-backup --backup (BENCH_MB=0 leaves it out)
#   random single-row updates touching ~1% of the pages (BENCH_CHANGED_PCT), then settled
#   strata backup --type incremental (redo)    | mariadb-backup --backup --incremental-basedir
#   strata backup --type incremental --method full-scan (a second incremental, whose parent is the
#     first: nothing changed since; every page read, and the imported tables' pages, LSN 0, stored)
#   strata restore of the newest (full + 2 incrementals) into a new directory
#   strata verify of the repository
#   strata merge of the first incremental into the full
#
# Needs root (mount), btrfs-progs (installed if missing), about 10 GB free under the image.
# Run under the machine-wide bench lock:  flock /tmp/strata-bench.lock bash bench/large-data.sh
# Environment: BENCH_GB (100), BENCH_TABLES (50), BENCH_CACHE, BENCH_MB (1), BENCH_CHANGED_PCT (1),
# BENCH_BUILD_ONLY=1 only builds the image, STRATA_JAVA_OPTS as for strata.
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
GB=${BENCH_GB:-100}
TABLES=${BENCH_TABLES:-50}
CACHE=${BENCH_CACHE:-/work/bench-cache/large-${GB}g.img}
PCT=${BENCH_CHANGED_PCT:-1}
PATH="$PATH:/usr/sbin:/sbin"
ROW_BYTES=1000 # c CHAR(200) + pad VARCHAR(780) + id, k: ~15 rows in a 16 KiB page
ROWS=$((GB * 1000000000 / TABLES / (ROW_BYTES + 90)))

[ "$(id -u)" = 0 ] || { echo "bench: needs root (it mounts a btrfs image)" >&2; exit 2; }
command -v mkfs.btrfs >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q btrfs-progs >/dev/null; } \
  || { echo "bench: btrfs-progs could not be installed" >&2; exit 2; }

MNT=$(mktemp -d /var/tmp/strata-large.XXXXXX)
D=$MNT/run
SOCK=$MNT/mysql.sock
MYSQLD_PID=""
LOOP=""
sql() { mariadb --no-defaults -S "$SOCK" -uroot -N -B -e "$1"; }
start_server() { # datadir, extra options...
  local dd=$1; shift
  mariadbd --no-defaults --user=root --datadir="$dd" --socket="$SOCK" --skip-networking --pid-file="$MNT/mysqld.pid" \
    --log-error="$MNT/error.log" --server-id=1 --innodb-buffer-pool-size=1G --innodb-log-file-size=1G \
    --innodb-file-per-table=1 --innodb-flush-log-at-trx-commit=2 "$@" >/dev/null 2>&1 &
  MYSQLD_PID=$!
  for _ in $(seq 1200); do
    sql "SELECT 1" >/dev/null 2>&1 && return 0
    kill -0 "$MYSQLD_PID" 2>/dev/null || { echo "bench: mariadbd died" >&2; tail -20 "$MNT/error.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "bench: mariadbd did not answer in 120 s" >&2; exit 1
}
stop_server() {
  if [ -n "$MYSQLD_PID" ] && kill -0 "$MYSQLD_PID" 2>/dev/null; then
    mariadb-admin --no-defaults -S "$SOCK" -uroot shutdown >/dev/null 2>&1
    for _ in $(seq 3000); do kill -0 "$MYSQLD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$MYSQLD_PID" 2>/dev/null
    wait "$MYSQLD_PID" 2>/dev/null
  fi
  MYSQLD_PID=""
}
cleanup() {
  stop_server
  rm -rf "$MNT/fs/run" 2>/dev/null
  if [ -n "$LOOP" ]; then umount "$MNT/fs" 2>/dev/null; losetup -d "$LOOP" 2>/dev/null; fi
  # never into a file system still mounted (a process still holding a file): that is the cached data directory
  if mountpoint -q "$MNT/fs"; then echo "bench: $MNT/fs is still mounted; unmount it, then losetup -d $LOOP" >&2; return; fi
  rm -rf "$MNT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
settle() { # no dirty pages, an empty purge history (at most 10 minutes)
  local i
  sql "SET GLOBAL innodb_max_dirty_pages_pct = 0" >/dev/null
  for i in $(seq 1200); do
    [ "$(sql "SELECT variable_value FROM information_schema.global_status WHERE variable_name = 'INNODB_BUFFER_POOL_PAGES_DIRTY'")" = 0 ] \
      && [ "$(sql "SELECT count FROM information_schema.innodb_metrics WHERE name = 'trx_rseg_history_len'")" = 0 ] && break
    sleep 0.5
  done
  sql "SET GLOBAL innodb_max_dirty_pages_pct = 90" >/dev/null
}

mkdir -p "$MNT/fs"
if [ ! -f "$CACHE" ]; then
  echo "bench: building $GB GB in $TABLES tables of $ROWS rows in $CACHE (once; later runs reuse it)"
  mkdir -p "$(dirname "$CACHE")"
  rm -f "$CACHE.tmp" # what a build that died left
  truncate -s $((GB * 3))G "$CACHE.tmp"
  mkfs.btrfs -q "$CACHE.tmp" >/dev/null || exit 1
  LOOP=$(losetup -f --show "$CACHE.tmp") || exit 1
  mount -o compress-force=zstd:1,discard "$LOOP" "$MNT/fs" || exit 1
  mariadb-install-db --no-defaults --user=root --datadir="$MNT/fs/data" --auth-root-authentication-method=normal >/dev/null || exit 1
  start_server "$MNT/fs/data" --innodb-doublewrite=0 --innodb-flush-log-at-trx-commit=0
  t0=$(date +%s)
  sql "CREATE DATABASE big; CREATE TABLE big.t1 (id BIGINT PRIMARY KEY, k INT NOT NULL, c CHAR(200) NOT NULL, pad VARCHAR(780) NOT NULL) ENGINE=InnoDB" || exit 1
  step=1000000
  for ((lo = 1; lo <= ROWS; lo += step)); do
    hi=$((lo + step - 1)); [ "$hi" -gt "$ROWS" ] && hi=$ROWS
    sql "INSERT INTO big.t1 SELECT seq, seq % 1000, REPEAT(CHAR(97 + seq % 26), 200), REPEAT(CHAR(65 + seq % 26), 780) FROM big.seq_${lo}_to_${hi}" || exit 1
  done
  echo "bench: big.t1 filled in $(( $(date +%s) - t0 )) s: $(du -b --apparent-size "$MNT/fs/data/big/t1.ibd" | cut -f1) bytes"
  for i in $(seq 2 "$TABLES"); do sql "CREATE TABLE big.t$i LIKE big.t1; ALTER TABLE big.t$i DISCARD TABLESPACE" || exit 1; done
  { echo "FLUSH TABLES big.t1 FOR EXPORT;"
    for i in $(seq 2 "$TABLES"); do echo "system cp --reflink=always $MNT/fs/data/big/t1.ibd $MNT/fs/data/big/t$i.ibd && cp $MNT/fs/data/big/t1.cfg $MNT/fs/data/big/t$i.cfg"; done
    echo "UNLOCK TABLES;"; } | mariadb --no-defaults -S "$SOCK" -uroot || exit 1
  # two imports at a time (each reads and rewrites every page of its copy)
  seq 2 "$TABLES" | xargs -P 2 -I{} mariadb --no-defaults -S "$SOCK" -uroot -e "ALTER TABLE big.t{} IMPORT TABLESPACE" || exit 1
  rm -f "$MNT"/fs/data/big/*.cfg
  settle
  stop_server
  sync
  echo "bench: built in $(( $(date +%s) - t0 )) s: $(du -s --apparent-size -B1M "$MNT/fs/data/big" | awk '{printf "%.1f", $1 / 1024}') GiB of InnoDB files in big; the image takes $(du -B1M "$CACHE.tmp" | awk '{printf "%.1f", $1 / 1024}') GiB of disk"
  umount "$MNT/fs" && losetup -d "$LOOP" && LOOP="" && mv "$CACHE.tmp" "$CACHE" || exit 1
fi
[ -n "${BENCH_BUILD_ONLY:-}" ] && exit 0

"$here/bin/strata" --version >/dev/null || exit 1 # builds the jar if needed
LOOP=$(losetup -f --show "$CACHE") || exit 1
mount -o compress-force=zstd:1,discard "$LOOP" "$MNT/fs" || exit 1
rm -rf "$MNT/fs/run"; mkdir -p "$MNT/fs/run"
D=$MNT/fs/run
mkdir -p "$D/strata/bin" "$D/strata/target" "$D/strata/src/dist/bin" "$D/tmp"
cp "$here/bin/strata" "$D/strata/bin/"; cp "$here"/target/strata-*-all.jar "$D/strata/target/"; cp "$here/src/dist/bin/strata" "$D/strata/src/dist/bin/"
S=$D/strata/bin/strata; "$S" --version >/dev/null
cp -a --reflink=always "$MNT/fs/data" "$D/data" || exit 1
start_server "$D/data" --tmpdir="$D/tmp"
echo "bench: $(git -C "$here" rev-parse --short HEAD), $(nproc) cores; $(du -s --apparent-size -B1M "$D/data/big" | awk '{printf "%.1f", $1 / 1024}') GiB of InnoDB files in $TABLES tables, $(sql "SELECT SUM(data_length + index_length) DIV 16384 FROM information_schema.tables WHERE table_schema = 'big'") pages of table data"

declare -a SUMMARY
run() { # name command...: one timed run; its line, and the summary's
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$MNT/time" "$@" >"$MNT/out" 2>&1
  local rc=$? secs kb
  # the last line: before it, GNU time writes "Command exited with non-zero status N" for a failed run
  read -r secs kb < <(tail -n 1 "$MNT/time" 2>/dev/null) || { secs=0; kb=0; }
  case "$secs$kb" in *[!0-9.]*) secs=0; kb=0 ;; esac
  secs=${secs:-0}; kb=${kb:-0}; [ "$rc" != 0 ] && tail -5 "$MNT/out" >&2
  printf '%-44s %8.1f s  peak RSS %5d MB  exit %d\n' "$name" "$secs" $((kb / 1024)) "$rc"
  SUMMARY+=("$name $secs $((kb / 1024)) $rc")
}
SB=("$S" backup --repo "$D/repo" --socket "$SOCK" --user root --quiet)
MBU=(mariadb-backup --no-defaults --socket="$SOCK" --user=root --backup)

run "strata full" "${SB[@]}" --type full
[ "${BENCH_MB:-1}" = 1 ] && run "mariadb-backup full" "${MBU[@]}" --target-dir="$D/mb-full"
# ~PCT% of the pages: random single-row updates (one leaf page each), then settled
pages=$(sql "SELECT SUM(data_length) DIV 16384 FROM information_schema.tables WHERE table_schema = 'big'")
n=$((pages * PCT / 100))
t0=$(date +%s)
awk -v n="$n" -v t="$TABLES" -v rows="$ROWS" 'BEGIN { srand(18); for (j = 0; j < n; j++) printf "UPDATE big.t%d SET k = k + 1 WHERE id = %d;\n", int(rand() * t) + 1, int(rand() * rows) + 1 }' \
  | mariadb --no-defaults -S "$SOCK" -uroot || exit 1
settle
echo "bench: $n random row updates in $(( $(date +%s) - t0 )) s (settled)"
run "strata incremental (redo)" "${SB[@]}" --type incremental
[ "${BENCH_MB:-1}" = 1 ] && run "mariadb-backup incremental" "${MBU[@]}" --target-dir="$D/mb-inc" --incremental-basedir="$D/mb-full"
run "strata incremental (full-scan)" "${SB[@]}" --type incremental --method full-scan
rm -rf "$D/mb-full" "$D/mb-inc"
run "strata restore (full + 2 incrementals)" "$S" restore --repo "$D/repo" --target "$D/restored"
rm -rf "$D/restored"
run "strata verify (3 backups)" "$S" verify --repo "$D/repo"
run "strata merge (first incremental into the full)" "$S" merge --repo "$D/repo" "$(ls "$D/repo/backups" | sort | sed -n 2p)"
echo "bench: repository $(du -s --apparent-size -B1M "$D/repo" | awk '{printf "%.1f", $1 / 1024}') GiB of objects; the image takes $(du -B1M "$CACHE" | awk '{printf "%.1f", $1 / 1024}') GiB of disk"
printf '%s\n' "${SUMMARY[@]}" | awk '$1 == "strata" { if ($(NF-1) > m) m = $(NF-1) } $NF != 0 { bad++ }
  END { printf "largest peak RSS of a strata run at %s GB: %d MB (target <= 300); runs that failed: %d\n", gb, m, bad + 0 }' gb="$GB"
