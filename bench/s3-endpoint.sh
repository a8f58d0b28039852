#!/bin/bash
# The endpoint's own cost (issue 17): one 961 MiB object PUT to S3Proxy (filesystem store, as bench/s3.sh)
# with curl and UNSIGNED-PAYLOAD, so the client costs almost nothing, against cp + fsync of the same
# file. Prints wall seconds and S3Proxy's CPU seconds per round. Needs target/test-classes (mvn package).
# Usage: flock /tmp/strata-bench.lock bash bench/s3-endpoint.sh
HERE="$(cd "$(dirname "$0")/.." && pwd)"
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT; cd "$D"; mkdir s3
(cd "$HERE" && mvn -B -o -q dependency:build-classpath -Dmdep.outputFile="$D/cp.txt" -Dmdep.includeScope=test >/dev/null)
head -c 1007681536 /dev/urandom > big
rm -f s3.stdin; mkfifo s3.stdin
java -Xmx2g -cp "$HERE/target/test-classes:$(cat cp.txt)" io.strata.testing.S3ProxyServer --dir "$D/s3" --bucket bench < s3.stdin > s3proxy.log 2>&1 &
PID=$!
exec 9>s3.stdin
for i in $(seq 1 100); do grep -q "s3proxy ready" s3proxy.log && break; sleep 0.3; done
EP=$(awk '/s3proxy ready/ {print $3}' s3proxy.log)
cpu() { awk '{print $14+$15}' /proc/$PID/stat; }
tick=$(getconf CLK_TCK)
for r in 1 2 3; do
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; cat big > /dev/null
  c0=$(cpu); t0=$(date +%s.%N)
  curl -s -f --aws-sigv4 "aws:amz:us-east-1:s3" --user "strata-test-access:strata-test-secret" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T big "$EP/bench/obj$r" || echo "curl failed"
  t1=$(date +%s.%N); c1=$(cpu)
  t2=$(date +%s.%N); cp big copy; python3 -c "import os;fd=os.open('copy',os.O_RDONLY);os.fsync(fd)"; t3=$(date +%s.%N); rm -f copy
  printf "round %d: PUT 961 MiB to S3Proxy %.2f s wall, S3Proxy cpu %.2f s; cp+fsync %.2f s\n" $r $(echo "$t1-$t0"|bc) $(echo "($c1-$c0)/$tick"|bc -l) $(echo "$t3-$t2"|bc)
done
exec 9>&-
wait $PID
