#!/usr/bin/env bash
# Writes a mariadbd wrapper for bench/replay.sh's BENCH_VARIANTS: it runs the real mariadbd with
# strata's options, each FROM=TO pair given replacing option FROM by TO (whole arguments), e.g.
#   bench/replay-variant.sh /tmp/v-dw1 --innodb-doublewrite=0=--innodb-doublewrite=1
# (split at the first "=--"). MARIADBD names the real binary (default: mariadbd on PATH or /usr/sbin).
set -euo pipefail
out=$1; shift
real=${MARIADBD:-$(PATH="$PATH:/usr/sbin" command -v mariadbd)}
{
  echo '#!/usr/bin/env bash'
  echo 'a=()'
  echo 'for x in "$@"; do'
  echo '  case "$x" in'
  for pair in "$@"; do
    from=${pair%%=--*}; to=--${pair#*=--}
    printf '    %q) a+=(%q) ;;\n' "$from" "$to"
  done
  echo '    *) a+=("$x") ;;'
  echo '  esac'
  echo 'done'
  printf 'exec -a mariadbd %q "${a[@]}"\n' "$real"
} >"$out"
chmod +x "$out"
