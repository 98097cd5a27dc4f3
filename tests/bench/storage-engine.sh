#!/usr/bin/env bash
# Storage engine candidates for the embedded node (issue 11), on the disk under the work directory:
# 1 GiB of pseudo-random 256 KiB blocks, each with its SHA-256, written (0) nowhere (the SHA-256
# baseline), (1) one file per block as today's Blockstore (and today's EmbeddedNode add), (2) into a
# pack file with an append-only index, (3) as one blob file with index records (filestore style);
# 2 and 3 also pipelined (p: hashing and writing on two threads) and with flush-behind (f: an fsync
# started every 64 MiB). Each is committed durably, read back in order with verification, and served
# as random single blocks. Ratios are against the baseline of the same run. Results and the choice
# they led to: docs/storage-engine.md. Run it alone (other jobs on the disk or cores skew it).
# usage: tests/bench/storage-engine.sh [bytes] [work dir] [runs]
# env:   MB_BUILD_DIR (/tmp/build-bench-storage)  MB_MVN_ARGS (e.g. -o)  BENCH_XMX (64m)
#        BENCH_ENGINES (comma list, default all: embedded,files,pack,pack-p,pack-f,fs,fs-p,fs-f)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SIZE="${1:-1073741824}"
WORK="${2:-$(mktemp -d /tmp/mb-bench-storage.XXXXXX)}"
RUNS="${3:-1}"
BUILD="${MB_BUILD_DIR:-/tmp/build-bench-storage}"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK"
cd "$ROOT"
# shellcheck disable=SC2086
mvn -q -B ${MB_MVN_ARGS:-} test-compile dependency:build-classpath -Dmdep.outputFile="$BUILD/bench-classpath.txt" -Dmb.buildDir="$BUILD"
df -h "$WORK" | tail -1
for run in $(seq 1 "$RUNS"); do
  echo "run $run of $RUNS ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
  # every run writes into its own directory, deleted only at the end (ext4 slows file creation down
  # right after many deletions)
  # shellcheck disable=SC2086
  java -Xmx"${BENCH_XMX:-64m}" -cp "$BUILD/classes:$BUILD/test-classes:$(cat "$BUILD/bench-classpath.txt")" \
    io.mirrorball.bench.StorageEngineBench "$SIZE" "$WORK/run-$run" ${BENCH_ENGINES:-}
done
