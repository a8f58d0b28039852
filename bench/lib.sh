# Shared by the bench scripts (sourced, not run): one throwaway mariadbd on the unix socket
# $SOCK with its data directory in $D, both set by the caller before it sources this file.

MYSQLD_PID=""

sql() { mariadb --no-defaults -S "$SOCK" -uroot -N -B -e "$1"; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

# Installs a data directory in $D/data and starts mariadbd on it; its arguments are added to the
# common options (binary log off unless asked for, flush-at-commit 2, a 256 MiB redo log).
start_mariadbd() {
  mariadb-install-db --no-defaults --user=root --datadir="$D/data" --auth-root-authentication-method=normal \
    >"$D/install.log" 2>&1 || { cat "$D/install.log" >&2; exit 1; }
  mariadbd --no-defaults --user=root --datadir="$D/data" --socket="$SOCK" --skip-networking \
    --pid-file="$D/mysqld.pid" --log-error="$D/error.log" --server-id=1 \
    --innodb-log-file-size=256M --innodb-flush-log-at-trx-commit=2 "$@" \
    >"$D/mariadbd.out" 2>&1 &
  MYSQLD_PID=$!
  local i
  for i in $(seq 600); do
    sql "SELECT 1" >/dev/null 2>&1 && return 0
    kill -0 "$MYSQLD_PID" 2>/dev/null || { echo "bench: mariadbd died" >&2; tail -20 "$D/error.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "bench: mariadbd did not answer in 60 s" >&2; tail -20 "$D/error.log" >&2; exit 1
}

# Shuts the server down cleanly (kill -9 after 60 s); for the scripts' EXIT traps.
stop_mariadbd() {
  if [ -n "$MYSQLD_PID" ] && kill -0 "$MYSQLD_PID" 2>/dev/null; then
    mariadb-admin --no-defaults -S "$SOCK" -uroot shutdown >/dev/null 2>&1
    for _ in $(seq 600); do kill -0 "$MYSQLD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$MYSQLD_PID" 2>/dev/null && kill -9 "$MYSQLD_PID"
    wait "$MYSQLD_PID" 2>/dev/null
  fi
  return 0
}

# Removes $D unless BENCH_KEEP is set.
remove_workdir() {
  if [ -n "${BENCH_KEEP:-}" ]; then echo "bench: kept $D" >&2; else rm -rf "$D"; fi
}
