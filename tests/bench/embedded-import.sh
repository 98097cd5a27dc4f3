#!/usr/bin/env bash
# Import throughput of a 1 GiB stream into EmbeddedNode, against plain SHA-256 of the same bytes in the
# same JVM (target: ratio >= 0.8) and against the real IPFS node's add (the js-ipfs kit, started here
# and stopped at the end). usage: tests/bench/embedded-import.sh [bytes] [work dir] [kit|nokit]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SIZE="${1:-1073741824}"
WORK="${2:-$(mktemp -d /tmp/mb-bench-embedded.XXXXXX)}"
KIT="${3:-kit}"
BUILD="${MB_BUILD_DIR:-/tmp/build-bench-embedded}"
cd "$ROOT"
mvn -q -B ${MB_MVN_ARGS:-} test-compile dependency:build-classpath -Dmdep.outputFile="$BUILD/bench-classpath.txt" -Dmb.buildDir="$BUILD"
java -Xmx1g -Dmirrorball.basedir="$ROOT" -cp "$BUILD/classes:$BUILD/test-classes:$(cat "$BUILD/bench-classpath.txt")" \
  io.mirrorball.ipfs.ImportBench "$SIZE" "$WORK" "$KIT"
rm -rf "$WORK"
