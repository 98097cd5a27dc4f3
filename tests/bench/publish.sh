#!/usr/bin/env bash
# Issue 4's benchmarks in one run: manifest PUT time with publishing (first PUT of a new image) vs a
# repeated PUT of the same manifest (stores nothing new), for 1 and 20 layers, on the embedded node and
# on a Kubo node; and a pull by CID from a peer node (cold clone over bitswap) vs from the node that holds it.
# usage: bash tests/bench/publish.sh [iterations=10] [pull MiB=64]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="${MB_BUILD_DIR:-/tmp/build-bench-publish}"
WORK="$(mktemp -d /tmp/mb-bench-publish.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"
mvn -q -B test-compile dependency:build-classpath -Dmdep.outputFile="$WORK/cp.txt" -Dmb.buildDir="$BUILD" ${MB_MVN_ARGS:-}
java -Dmirrorball.basedir="$ROOT" -Dmirrorball.log.level=warn \
  -cp "$BUILD/classes:$BUILD/test-classes:$(cat "$WORK/cp.txt")" \
  io.mirrorball.store.PublishBench "$WORK/run" "${1:-10}" "${2:-64}"
