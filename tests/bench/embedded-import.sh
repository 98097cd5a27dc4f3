#!/usr/bin/env bash
# Import throughput of a 1 GiB stream into EmbeddedNode, against plain SHA-256 of the same bytes in the
# same JVM (target: ratio >= 0.8) and against Kubo's add (a Kubo node started here and stopped at the
# end; tests/setup.sh builds it). usage: tests/bench/embedded-import.sh [bytes] [work dir] [kubo|nokubo]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SIZE="${1:-1073741824}"
WORK="${2:-$(mktemp -d /tmp/mb-bench-embedded.XXXXXX)}"
KUBO="${3:-kubo}"
BUILD="${MB_BUILD_DIR:-/tmp/build-bench-embedded}"
cd "$ROOT"
mvn -q -B ${MB_MVN_ARGS:-} test-compile dependency:build-classpath -Dmdep.outputFile="$BUILD/bench-classpath.txt" -Dmb.buildDir="$BUILD"
java -Xmx1g -Dmirrorball.basedir="$ROOT" -cp "$BUILD/classes:$BUILD/test-classes:$(cat "$BUILD/bench-classpath.txt")" \
  io.mirrorball.ipfs.embedded.ImportBench "$SIZE" "$WORK" "$KUBO"
rm -rf "$WORK"
