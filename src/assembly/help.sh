#!/usr/bin/env bash
# Writes the help of every strata command into one text file (doc/strata-help.txt of the release
# tarball), run by "mvn package" after the jar is built: JAR OUTPUT.
set -euo pipefail
jar="$1"
out="$2"
mkdir -p "$(dirname "$out")"
run() { java -Xshare:auto -XX:TieredStopAtLevel=1 -jar "$jar" "$@" --help; }
# the names in the "Commands:" list of a help text
commands() { sed -n '/^Commands:/,$p' | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p'; }
{
  echo "strata $(java -jar "$jar" --version | sed 's/^strata //'): the help of every command (strata COMMAND --help)"
  echo
  top="$(run)"
  echo "$top"
  for c in $(commands <<<"$top"); do
    help="$(run "$c")"
    printf '\n%s\n\n%s\n' "==== strata $c" "$help"
    for s in $(commands <<<"$help"); do
      printf '\n%s\n\n%s\n' "==== strata $c $s" "$(run "$c" "$s")"
    done
  done
} >"$out.tmp"
mv "$out.tmp" "$out"
