#!/usr/bin/env bash
# Unchanged non-InnoDB files stored as references (issue 18, part "refs"): the cost of an
# incremental when nothing changed, on a server with many small MyISAM tables (three files each:
# .frm, .MYD, .MYI) besides the ~200 files of the mysql schema, with and without references.
#
# BENCH_TABLES MyISAM tables (default 500) of 10 rows in 10 databases are created, then the bench
# waits 3 s (the margin is 2 s) and takes one full backup with each build into its own
# repository. Timed, alternately, BENCH_ROUNDS times each (default 5), each on the previous one:
#   $STRATA_BEFORE backup --type incremental   (a build without references, e.g. main)
#   $STRATA        backup --type incremental   (this build)
# Per run: wall seconds, objects stored (backups/<id>/data/*), bytes stored (manifest storedBytes)
# and the reference entries of its manifest. The page cache is warm (the files were just written).
#
# Run it under the machine-wide bench lock:  flock /tmp/strata-bench.lock bash bench/refs.sh
# Environment: STRATA_BEFORE (required: the launcher of the build to compare with), STRATA
# (default: this work tree's bin/strata), BENCH_TABLES, BENCH_ROUNDS, BENCH_DIR (/var/tmp),
# BENCH_KEEP=1 keeps the work directory.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
TABLES=${BENCH_TABLES:-500}
ROUNDS=${BENCH_ROUNDS:-5}
STRATA=${STRATA:-$here/bin/strata}
BEFORE=${STRATA_BEFORE:?set STRATA_BEFORE to the launcher of a build without references}
PATH="$PATH:/usr/sbin"

"$STRATA" --version >/dev/null # builds the jar if needed, outside the clock
"$BEFORE" --version >/dev/null
D=$(mktemp -d "${BENCH_DIR:-/var/tmp}/strata-refs.XXXXXX")
SOCK=$D/mysql.sock
# shellcheck source=lib.sh
. "$here/bench/lib.sh"
trap 'stop_mariadbd; remove_workdir' EXIT
trap 'exit 130' INT TERM

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

start_mariadbd
for db in $(seq 0 9); do
  sql "CREATE DATABASE d$db"
done
stmts=""
for i in $(seq 1 "$TABLES"); do
  db=$((i % 10))
  stmts+="CREATE TABLE d$db.t$i (id INT PRIMARY KEY, c CHAR(20)) ENGINE=MyISAM; INSERT INTO d$db.t$i SELECT seq, 'x' FROM d$db.seq_1_to_10; "
done
sql "$stmts FLUSH TABLES"
files=$(find "$D/data" -type f ! -name '*.ibd' | wc -l)
echo "bench: $TABLES MyISAM tables in 10 databases; $files non-InnoDB files in the data directory"
sleep 3

# run TOOL REPO TYPE -> "seconds objects storedBytes references id"
run() {
  local t0 t1 id
  t0=$(date +%s.%N)
  id=$("$1" backup --repo "$2" --socket "$SOCK" --user root --quiet --type "$3" | awk '/^backup /{print $2}')
  t1=$(date +%s.%N)
  local objects stored refs
  objects=$(find "$2/backups/$id/data" -type f 2>/dev/null | wc -l)
  stored=$("$STRATA" show --repo "$2" "$id" --json | awk -F'[:,]' '/^  "storedBytes"/{gsub(/ /,"",$2); print $2}')
  refs=$("$STRATA" show --repo "$2" "$id" --json | grep -c '"ref" : "' || true)
  echo "$(sub "$t1" "$t0") $objects $stored $refs $id"
}

run "$BEFORE" "$D/repo-before" full >/dev/null
run "$STRATA" "$D/repo-after" full >/dev/null
: >"$D/before.txt"
: >"$D/after.txt"
for r in $(seq 1 "$ROUNDS"); do
  b=$(run "$BEFORE" "$D/repo-before" incremental)
  a=$(run "$STRATA" "$D/repo-after" incremental)
  echo "round $r: without references: $b"
  echo "round $r: with references:    $a"
  echo "$b" >>"$D/before.txt"
  echo "$a" >>"$D/after.txt"
done
mb=$(cut -d' ' -f1 "$D/before.txt" | median)
ma=$(cut -d' ' -f1 "$D/after.txt" | median)
echo "median incremental (nothing changed, $TABLES MyISAM tables): without references ${mb} s, $(head -1 "$D/before.txt" | cut -d' ' -f2) objects;" \
  "with references ${ma} s, $(head -1 "$D/after.txt" | cut -d' ' -f2) objects ($(head -1 "$D/after.txt" | cut -d' ' -f4) references)"
