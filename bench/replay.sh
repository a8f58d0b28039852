#!/usr/bin/env bash
# Point-in-time replay, strata's replication applier vs mariadb-binlog | mariadb, same run.
#
# A throwaway source (binlog ROW, sysbench tables) is backed up with strata, then sysbench
# oltp_write_only writes about BENCH_BINLOG_MB of binlog after the backup (64 MiB files), the
# binlogs are archived (strata binlog archive --once), and the same point-in-time restore (the
# backup + every archived transaction, --until-gtid of the last one) runs BENCH_ROUNDS times with
#   applier   strata restore --replay applier   (the restored server's SQL thread, parallel workers)
#   pipe      strata restore --replay pipe      (mariadb-binlog --verify-binlog-checksum | mariadb)
# alternating, into fresh targets. Both start from the same backup on the same kind of temporary
# server (strata's replay settings: since 2026-12-01 flush at commit 0 and doublewrite off for both
# paths, before that the server's defaults): only the replay differs. The replay stage is
# timed from strata's own stderr lines (after its own time prefix), each stamped as it arrives: from "replaying ..." to
# "replayed N transaction(s)" (the server's clean shutdown is in both). The whole restore is
# printed too. Each result's CHECKSUM TABLE of the sysbench tables is compared with the source's.
# Prints per-run seconds, medians and the ratio applier/pipe (target <= 0.5).
#
# Since the replay relaxes the temporary server's durability (flush at commit 0, doublewrite off,
# both paths), BENCH_BASE_STRATA=<another strata launcher> adds two runs per round with that strata,
# "base-applier" and "base-pipe" (e.g. one built from a commit before the relaxation, whose server
# commits with the defaults, as a hand-run mariadb-binlog | mariadb into a restored server does): a
# before/after comparison under the same load. It prints the ratios against base-pipe too.
#
# BENCH_VARIANTS="label=PATH ..." adds one applier run per round and label with --mariadbd PATH: a
# wrapper that changes one of strata's replay options before it execs mariadbd (e.g. puts
# --innodb-doublewrite=0 back to 1), to measure what each setting gives. bench/replay-variant.sh
# makes such wrappers.
#
# Environment: STRATA (default bin/strata), BENCH_BINLOG_MB (default 1024), BENCH_ROUNDS (default 3),
# BENCH_DIR (parent of the temp directory, default /tmp), BENCH_KEEP=1 keeps it. Runs under
# flock /tmp/strata-bench.lock (other benches wait).
set -euo pipefail

STRATA=${STRATA:-$(cd "$(dirname "$0")/.." && pwd)/bin/strata}
TARGET_MB=${BENCH_BINLOG_MB:-1024}
ROUNDS=${BENCH_ROUNDS:-3}
PATH="$PATH:/usr/sbin"

if [ -z "${BENCH_LOCKED:-}" ]; then
  exec env BENCH_LOCKED=1 flock /tmp/strata-bench.lock "$BASH" "${BASH_SOURCE[0]}" "$@"
fi

for tool in mariadbd mariadb-install-db mariadb mariadb-admin mariadb-binlog sysbench; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (apt-get install mariadb-server mariadb-client sysbench)" >&2; exit 1; }
done

D=$(mktemp -d "${BENCH_DIR:-/tmp}/strata-bench.XXXXXX")
SOCK=$D/mysql.sock

cleanup() {
  set +e
  stop_mariadbd
  remove_workdir
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

echo "bench: temp dir $D" >&2
start_mariadbd --innodb-buffer-pool-size=512M \
  --log-bin="$D/data/binlog" --binlog-format=ROW --max-binlog-size=64M --sync-binlog=0

SB=(--db-driver=mysql --mysql-socket="$SOCK" --mysql-user=root --mysql-db=sbtest --tables=4 --table-size=100000)
sql "CREATE DATABASE sbtest"
sysbench oltp_read_write "${SB[@]}" --threads=2 prepare >"$D/prepare.log" 2>&1 || { tail -20 "$D/prepare.log" >&2; exit 1; }
"$STRATA" backup --repo "$D/repo" --socket "$SOCK" --user root >"$D/backup.log" 2>&1 || { tail -20 "$D/backup.log" >&2; exit 1; }
start_pos=$(sql "SHOW MASTER STATUS" | cut -f1,2)
binlog_mb() { du -cm "$D"/data/binlog.[0-9]* | tail -1 | cut -f1; }
base_mb=$(binlog_mb)
while [ $(( $(binlog_mb) - base_mb )) -lt "$TARGET_MB" ]; do
  sysbench oltp_write_only "${SB[@]}" --threads=4 --time=20 --report-interval=0 run >>"$D/load.log" 2>&1 || { tail -20 "$D/load.log" >&2; exit 1; }
done
gtid=$(sql "SELECT @@gtid_binlog_pos")
sql "FLUSH BINARY LOGS"
"$STRATA" binlog archive --once --repo "$D/repo" --socket "$SOCK" --user root >"$D/archive.log" 2>&1 || { tail -20 "$D/archive.log" >&2; exit 1; }
replayed_mb=$(( $(binlog_mb) - base_mb ))
checksums() { mariadb --no-defaults -S "$1" -uroot -N -B -e "CHECKSUM TABLE sbtest.sbtest1, sbtest.sbtest2, sbtest.sbtest3, sbtest.sbtest4" | tr '\n' ' '; }
expected=$(checksums "$SOCK")
echo "bench: backup at $start_pos, then ~${replayed_mb} MiB of binlog up to GTID $gtid" >&2

# stamps each stderr line with the epoch seconds it arrived at
stamp() { while IFS= read -r l; do printf '%s %s\n' "$(date +%s.%N)" "$l"; done; }

run() {
  local label=$1 mode=$1 bin=$STRATA
  local extra=()
  case "$label" in
    base-*) mode=${label#base-}; bin=$BENCH_BASE_STRATA ;;
    var-*) mode=applier; extra=(--mariadbd "$2") ;;
  esac
  local t=$D/target-$label
  rm -rf "$t"
  sync
  local start end
  start=$(date +%s.%N)
  if ! "$bin" restore --repo "$D/repo" --target "$t" --until-gtid "${gtid##*,}" --replay "$mode" ${extra[@]+"${extra[@]}"} 2> >(stamp >"$D/$label.err") >"$D/$label.out"; then
    sleep 1; echo "bench: restore --replay $mode ($label) failed:" >&2; tail -30 "$D/$label.err" >&2; exit 1
  fi
  end=$(date +%s.%N)
  sleep 1 # the stamping reader finishes
  local r0 r1
  # strata's lines carry a time, the elapsed seconds and a [stage] tag before the text
  r0=$(grep -m1 -E '^[0-9.]+ .*(^| )replaying (with|through) ' "$D/$label.err" | cut -d' ' -f1 || true)
  r1=$(grep -m1 -E '^[0-9.]+ .*(^| )replayed [0-9]+ transaction' "$D/$label.err" | cut -d' ' -f1 || true)
  [ -n "$r0" ] && [ -n "$r1" ] || { echo "bench: no replay start or end line in $D/$label.err" >&2; exit 1; }
  local n
  n=$(grep -m1 -oE 'replayed [0-9]+ transaction' "$D/$label.err" | grep -oE '[0-9]+')
  # the result equals the source
  local sock2=$D/check.sock
  mariadbd --no-defaults --user=root --datadir="$t" --socket="$sock2" --skip-networking --pid-file="$D/check.pid" \
    --log-error="$D/check.err" --innodb-buffer-pool-size=256M >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 600); do mariadb --no-defaults -S "$sock2" -uroot -e "SELECT 1" >/dev/null 2>&1 && break; sleep 0.1; done
  local got
  got=$(checksums "$sock2")
  mariadb-admin --no-defaults -S "$sock2" -uroot shutdown >/dev/null 2>&1; wait "$pid" 2>/dev/null || true
  [ "$got" = "$expected" ] || { echo "bench: --replay $mode ($label) result differs from the source: $got vs $expected" >&2; exit 1; }
  rm -rf "$t"
  echo "$label $(sub "$r1" "$r0") $(sub "$end" "$start")" >>"$D/results"
  printf '%-12s replay %8.2f s  whole restore %8.2f s  %s transactions, checksums equal the source  (load %s)\n' "$label" "$(sub "$r1" "$r0")" "$(sub "$end" "$start")" "$n" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

: >"$D/results"
for r in $(seq "$ROUNDS"); do
  echo "round $r/$ROUNDS"
  run applier
  run pipe
  if [ -n "${BENCH_BASE_STRATA:-}" ]; then run base-applier; run base-pipe; fi
  for v in ${BENCH_VARIANTS:-}; do run "var-${v%%=*}" "${v#*=}"; done
done

median() { grep "^$1 " "$D/results" | awk -v c="$2" '{print $c}' | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
a=$(median applier 2); p=$(median pipe 2); aw=$(median applier 3); pw=$(median pipe 3)
echo
echo "binlog replayed: ~${replayed_mb} MiB ($(grep -c . "$D/results") runs); rounds: $ROUNDS; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'median replay seconds: applier %.2f  pipe %.2f   ratio applier/pipe %s\n' "$a" "$p" "$(ratio "$a" "$p")"
printf 'median whole restore seconds: applier %.2f  pipe %.2f   ratio %s\n' "$aw" "$pw" "$(ratio "$aw" "$pw")"
if [ -n "${BENCH_BASE_STRATA:-}" ]; then
  ba=$(median base-applier 2); b=$(median base-pipe 2); bw=$(median base-pipe 3)
  printf 'median replay seconds: base-applier %.2f  base-pipe %.2f   ratio base-applier/base-pipe %s  applier/base-pipe %s  pipe/base-pipe %s  applier/base-applier %s\n' \
    "$ba" "$b" "$(ratio "$ba" "$b")" "$(ratio "$a" "$b")" "$(ratio "$p" "$b")" "$(ratio "$a" "$ba")"
  printf 'median whole restore seconds: base-pipe %.2f   ratio applier/base-pipe %s\n' "$bw" "$(ratio "$aw" "$bw")"
fi
for v in ${BENCH_VARIANTS:-}; do
  x=$(median "var-${v%%=*}" 2)
  printf 'median replay seconds: var-%s %.2f   ratio applier/var-%s %s\n' "${v%%=*}" "$x" "${v%%=*}" "$(ratio "$a" "$x")"
done
