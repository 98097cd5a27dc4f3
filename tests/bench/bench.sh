#!/usr/bin/env bash
# mirrorball benchmarks of issue 2, in one run (see tests/bench/README.md):
#   a) skopeo copy of a 256 MiB, 4-layer image into and out of mirrorball vs Debian's docker-registry
#   b) blob GET throughput through mirrorball vs `POST /api/v0/cat` of the same CID on the node
#   c) the gateway under -Xmx128m (BENCH_XMX) moves a 1 GiB layer in and out (curl); peak RSS (VmHWM);
#      upload time and GET throughput of the same blob against docker-registry
# Starts everything on loopback (a Kubo node, docker-registry, the gateway jar), stops it all and
# removes its temp directory at exit, and prints a results table.
#
# usage: bash tests/bench/bench.sh
# env:   BENCH_IMAGE_MIB (256)  BENCH_LAYERS (4)  BENCH_BIG_MIB (1024)  BENCH_GET_REPEAT (5)
#        BENCH_PARTS (abc: which of a, b, c to run)  BENCH_KEEP=1 keeps the temp dir
#        BENCH_XMX (128m: the gateway's heap in c)
#        MB_BUILD_DIR (target/)  MB_MVN_ARGS (e.g. -o)  MB_MVN_LOCK (a file: mvn runs under flock on it)
#        BENCH_REBUILD=1 rebuilds the jar
#        BENCH_IPFS_API=http://127.0.0.1:5001 uses that Kubo RPC node instead of starting one
#        BENCH_IPFS_API=embedded runs the gateway on its embedded node (b is then not measured)
#        BENCH_JAR=FILE runs that gateway jar instead of $MB_BUILD_DIR/mirrorball.jar
#        BENCH_RESULTS=FILE also writes the results table to FILE
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
IMAGE_MIB="${BENCH_IMAGE_MIB:-256}"
LAYERS="${BENCH_LAYERS:-4}"
BIG_MIB="${BENCH_BIG_MIB:-1024}"
GET_REPEAT="${BENCH_GET_REPEAT:-5}"
WARMUP_IMAGES="${BENCH_WARMUP_IMAGES:-2}"
PARTS="${BENCH_PARTS:-abc}"
XMX="${BENCH_XMX:-128m}"
# shellcheck source=tests/bench/lib.sh
. "$HERE/lib.sh"   # this script keeps its own cleanup, build and start_one_registry (defined below)
need skopeo docker-registry curl java python3 sha256sum

WORK="$(mktemp -d /tmp/mb-bench.XXXXXX)"
GATEWAY_PID=""
REGISTRY_PID=""
cleanup() {
  set +e
  [ -n "$GATEWAY_PID" ] && kill "$GATEWAY_PID" 2>/dev/null && wait "$GATEWAY_PID" 2>/dev/null
  [ -n "$REGISTRY_PID" ] && kill "$REGISTRY_PID" 2>/dev/null && wait "$REGISTRY_PID" 2>/dev/null
  stop_kubo
  if [ "${BENCH_KEEP:-}" = 1 ]; then echo "bench: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
# CPU seconds (user + system) a process has used so far; 0 when it is not ours to read
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }
minus() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) - float(sys.argv[2])))" "$1" "$2"; }
elapsed() { python3 -c "import sys; print('%.2f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
ratio() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
mibps() { python3 -c "import sys; print('%.1f' % (float(sys.argv[1]) / 1048576 / max(float(sys.argv[2]), 1e-9)))" "$1" "$2"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'; }
all() { printf '%.2f ' "$@"; }

RESULTS="$WORK/results.txt"
: >"$RESULTS"
row() { printf '%-58s %s\n' "$1" "$2" | tee -a "$RESULTS"; }

# ---- build ----------------------------------------------------------------------------------------
JAR="${BENCH_JAR:-$BUILD/mirrorball.jar}"
if [ ! -f "$BUILD/mirrorball.jar" ] || [ ! -f "$BUILD/test-classes/io/mirrorball/bench/MakeLayout.class" ] \
   || [ "${BENCH_REBUILD:-}" = 1 ]; then
  echo "bench: building $BUILD/mirrorball.jar"
  (cd "$ROOT" && "${MVN[@]}" -q -B "${MVN_ARGS[@]}" package -DskipTests -Dmb.buildDir="$BUILD")
fi
(cd "$ROOT" && "${MVN[@]}" -q -B "${MVN_ARGS[@]}" dependency:build-classpath -Dmdep.includeScope=test \
   -Dmdep.outputFile="$WORK/cp.txt" -Dmb.buildDir="$BUILD" >/dev/null)
TEST_CP="$BUILD/test-classes:$BUILD/classes:$(cat "$WORK/cp.txt")"

# ---- skopeo, isolated from the host's configuration ------------------------------------------------
skopeo_init

# ---- IPFS node ------------------------------------------------------------------------------------
if [ -n "${BENCH_IPFS_API:-}" ]; then
  API="$BENCH_IPFS_API"
  if [ "$API" = embedded ] && [[ "$PARTS" == *b* ]]; then
    echo "bench: b) needs a node with an RPC API; skipped with the embedded node"
    PARTS="${PARTS//b/}"
  fi
else
  start_kubo "$WORK/ipfs" "$WORK/ipfs.log"
fi
MFS_ROOT="/bench-$$-$(date +%s)"
if [ "$API" = embedded ]; then NODE_LABEL=embedded; elif [ -n "$KUBO_PID" ]; then NODE_LABEL="kubo $("$KUBO" version | awk '{print $3}')"; else NODE_LABEL="$API"; fi

# ---- gateway --------------------------------------------------------------------------------------
stop_gateway() {
  kill "$GATEWAY_PID" 2>/dev/null || true
  wait "$GATEWAY_PID" 2>/dev/null || true
  GATEWAY_PID=""
}

# ---- docker-registry (a and c) ---------------------------------------------------------------------
start_one_registry() { # filesystem storage in the work dir; sets REG_PORT and REGISTRY_PID
  REG_PORT="$(free_port)"
  mkdir -p "$WORK/registry"
  cat >"$WORK/registry/config.yml" <<YAML
version: 0.1
log: { level: warn, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: "$WORK/registry/storage" }, delete: { enabled: true } }
http: { addr: "127.0.0.1:$REG_PORT", secret: bench }
YAML
  docker-registry serve "$WORK/registry/config.yml" >>"$WORK/registry.log" 2>&1 </dev/null &
  REGISTRY_PID=$!
  wait_http "http://127.0.0.1:$REG_PORT/v2/" GET 30 || die "docker-registry did not start: $(tail -5 "$WORK/registry.log")"
}
stop_registry() {
  kill "$REGISTRY_PID" 2>/dev/null || true
  wait "$REGISTRY_PID" 2>/dev/null || true
  REGISTRY_PID=""
  rm -rf "$WORK/registry/storage"
}

echo "bench: work dir $WORK, IPFS node $API"
printf '%-58s %s\n' "measure" "value" | tee -a "$RESULTS"

warm_up() { # registry host:port: a push and a pull of each warm-up image
  local i
  for i in $(seq 1 "$WARMUP_IMAGES"); do
    sk_copy "oci:$WORK/warmup$i:warmup" "docker://$1/warmup/app$i:v1"
    sk_copy "docker://$1/warmup/app$i:v1" "dir:$WORK/out-warmup"
    rm -rf "$WORK/out-warmup"
  done
}

# ---- a) 256 MiB image: mirrorball vs docker-registry ----------------------------------------------
if [[ "$PARTS" == *a* || "$PARTS" == *b* ]]; then
  java -cp "$TEST_CP" io.mirrorball.bench.MakeLayout "$WORK/layout" bench "$LAYERS" $((IMAGE_MIB << 20)) \
    >"$WORK/layout.txt"
  IMAGE_BYTES="$(awk '/^total/ {print $2}' "$WORK/layout.txt")"
  # images of other bytes, as large as the measured one, pushed and pulled before measuring: a
  # gateway that has run for a while has its code compiled (JIT); without this the JVM's compiler
  # work (1-2.5 CPU s per 256 MiB for the first few hundred MiB) would count in the measured push
  for i in $(seq 1 "$WARMUP_IMAGES"); do
    java -cp "$TEST_CP" io.mirrorball.bench.MakeLayout "$WORK/warmup$i" warmup "$LAYERS" $((IMAGE_MIB << 20)) \
      $((100 + i)) >/dev/null
  done
  cat "$WORK/layout"/blobs/sha256/* >/dev/null   # both sides read the source from the page cache
fi
if [[ "$PARTS" == *a* ]]; then
  start_one_registry
  warm_up "127.0.0.1:$REG_PORT"
  c0="$(cpu_of "$REGISTRY_PID")"
  t0=$(now); sk_copy "oci:$WORK/layout:bench" "docker://127.0.0.1:$REG_PORT/bench/app:v1"; t1=$(now)
  c1="$(cpu_of "$REGISTRY_PID")"
  sk_copy "docker://127.0.0.1:$REG_PORT/bench/app:v1" "dir:$WORK/out-registry"; t2=$(now)
  c2="$(cpu_of "$REGISTRY_PID")"
  REG_IN=$(elapsed "$t0" "$t1"); REG_OUT=$(elapsed "$t1" "$t2")
  REG_CPU_IN=$(minus "$c1" "$c0"); REG_CPU_OUT=$(minus "$c2" "$c1")
  rm -rf "$WORK/out-registry"
  # c) uploads its blob into this registry too; otherwise it is done
  [[ "$PARTS" == *c* ]] || stop_registry
fi
if [[ "$PARTS" == *a* || "$PARTS" == *b* ]]; then
  rm -rf "$WORK/gw/embedded"
  start_gateway ""
  warm_up "$GW"
  g0="$(cpu_of "$GATEWAY_PID")"; n0="$(cpu_of "${KUBO_PID:-0}")"
  t0=$(now); sk_copy "oci:$WORK/layout:bench" "docker://$GW/bench/app:v1"; t1=$(now)
  g1="$(cpu_of "$GATEWAY_PID")"; n1="$(cpu_of "${KUBO_PID:-0}")"
  sk_copy "docker://$GW/bench/app:v1" "dir:$WORK/out-mirrorball"; t2=$(now)
  g2="$(cpu_of "$GATEWAY_PID")"; n2="$(cpu_of "${KUBO_PID:-0}")"
  MBALL_IN=$(elapsed "$t0" "$t1"); MBALL_OUT=$(elapsed "$t1" "$t2")
  GW_CPU_IN=$(minus "$g1" "$g0"); GW_CPU_OUT=$(minus "$g2" "$g1")
  NODE_CPU_IN=$(minus "$n1" "$n0"); NODE_CPU_OUT=$(minus "$n2" "$n1")
  want="$(awk '/^manifest/ {print $2}' "$WORK/layout.txt")"
  got="sha256:$(sha256sum "$WORK/out-mirrorball/manifest.json" | cut -d' ' -f1)"
  [ "$want" = "$got" ] || die "manifest digest changed through mirrorball: $want -> $got"
  rm -rf "$WORK/out-mirrorball"
fi
if [[ "$PARTS" == *a* ]] && [ "$API" != embedded ]; then
  # the node's own floor for a push: one `add` of as many new bytes, with mirrorball's import parameters
  head -c "$IMAGE_BYTES" /dev/urandom >"$WORK/floor.bin"
  cat "$WORK/floor.bin" >/dev/null
  t0=$(now)
  curl -sf -X POST -o /dev/null -F "file=@$WORK/floor.bin" \
    "$API/api/v0/add?cid-version=1&raw-leaves=true&chunker=size-262144&pin=false&quieter=true" \
    || die "ipfs add of the floor file failed"
  t1=$(now); NODE_ADD=$(elapsed "$t0" "$t1"); rm -f "$WORK/floor.bin"
fi
if [[ "$PARTS" == *a* ]]; then
  MIB=$(python3 -c "print('%.0f' % ($IMAGE_BYTES / 1048576))")
  row "a) image: $LAYERS gzip layers, total" "$MIB MiB ($IMAGE_BYTES bytes)"
  row "a) skopeo copy in,  docker-registry (filesystem)" "${REG_IN} s"
  row "a) skopeo copy in,  mirrorball (node: $NODE_LABEL)" "${MBALL_IN} s"
  row "a) ratio in (mirrorball / docker-registry)" "$(ratio "$MBALL_IN" "$REG_IN")"
  if [ -n "${NODE_ADD:-}" ]; then
    row "a) node floor: ipfs add of $MIB MiB of new bytes" "${NODE_ADD} s"
    row "a) ratio in (mirrorball / node floor)" "$(ratio "$MBALL_IN" "$NODE_ADD")"
  fi
  row "a) skopeo copy out, docker-registry (filesystem)" "${REG_OUT} s"
  row "a) skopeo copy out, mirrorball (node: $NODE_LABEL)" "${MBALL_OUT} s"
  row "a) ratio out (mirrorball / docker-registry)" "$(ratio "$MBALL_OUT" "$REG_OUT")"
  row "a) server CPU s in: docker-registry | gateway + node" "$REG_CPU_IN | $GW_CPU_IN + $NODE_CPU_IN"
  row "a) server CPU s out: docker-registry | gateway + node" "$REG_CPU_OUT | $GW_CPU_OUT + $NODE_CPU_OUT"
fi

# ---- b) blob GET through mirrorball vs cat from the node ------------------------------------------
if [[ "$PARTS" == *b* ]]; then
  # every layer of the image, by digest and by CID (read from MFS); a round fetches them all
  : >"$WORK/layers.txt"
  while read -r _ digest size; do
    hex="${digest#sha256:}"
    cid="$(curl -sf -X POST "$API/api/v0/files/stat?arg=$MFS_ROOT/blobs/sha256/${hex:0:2}/$hex/data" \
      | json_field Hash)" || die "layer $digest is not at $MFS_ROOT/blobs/sha256/${hex:0:2}/$hex/data in MFS"
    echo "$digest $cid $size" >>"$WORK/layers.txt"
  done < <(grep '^layer' "$WORK/layout.txt")
  round() { # gateway|node -> seconds for one GET of every layer
    local total=0 digest cid size t n
    while read -r digest cid size; do
      if [ "$1" = gateway ]; then
        read -r t n < <(curl -sf -o /dev/null -w '%{time_total} %{size_download}\n' \
          "http://$GW/v2/bench/app/blobs/$digest")
      else
        read -r t n < <(curl -sf -X POST -o /dev/null -w '%{time_total} %{size_download}\n' \
          "$API/api/v0/cat?arg=$cid")
      fi
      [ "${n:-}" = "$size" ] || die "$1 GET of $digest returned ${n:-nothing}, want $size bytes"
      total="$(python3 -c "import sys; print(float(sys.argv[1]) + float(sys.argv[2]))" "$total" "$t")"
    done <"$WORK/layers.txt"
    echo "$total"
  }
  NODE_PID="$KUBO_PID"
  round gateway >/dev/null; round node >/dev/null   # warm-up: JIT, caches
  gw_times=(); node_times=()
  cpu_gw_gw=0; cpu_node_gw=0; cpu_node_node=0
  add() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) + float(sys.argv[3]) - float(sys.argv[2])))" "$@"; }
  for _ in $(seq 1 "$GET_REPEAT"); do
    g0="$(cpu_of "$GATEWAY_PID")"; n0="$(cpu_of "${NODE_PID:-0}")"
    gw_times+=("$(round gateway)")
    g1="$(cpu_of "$GATEWAY_PID")"; n1="$(cpu_of "${NODE_PID:-0}")"
    node_times+=("$(round node)")
    n2="$(cpu_of "${NODE_PID:-0}")"
    cpu_gw_gw="$(add "$cpu_gw_gw" "$g0" "$g1")"; cpu_node_gw="$(add "$cpu_node_gw" "$n0" "$n1")"
    cpu_node_node="$(add "$cpu_node_node" "$n1" "$n2")"
  done
  GW_T="$(median "${gw_times[@]}")"; NODE_T="$(median "${node_times[@]}")"
  GET_BYTES="$(awk '{s += $3} END {print s}' "$WORK/layers.txt")"
  row "b) one round = GET of the $(wc -l <"$WORK/layers.txt") layers" "$GET_BYTES bytes"
  row "b) GET via mirrorball, median of $GET_REPEAT rounds" "${GW_T} s = $(mibps "$GET_BYTES" "$GW_T") MiB/s (all: $(all "${gw_times[@]}"))"
  row "b) cat from the node, median of $GET_REPEAT rounds" "${NODE_T} s = $(mibps "$GET_BYTES" "$NODE_T") MiB/s (all: $(all "${node_times[@]}"))"
  row "b) throughput ratio mirrorball / node (target >= 0.9)" "$(ratio "$NODE_T" "$GW_T")"
  if [ -n "${NODE_PID:-}" ]; then
    # where the CPU goes, per GiB served, over all measured rounds: the gateway path needs the node's
    # CPU plus the gateway's on the same cores, while a cat needs the node's only
    per_gib() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) * 1073741824 / (float(sys.argv[2]) * float(sys.argv[3]))))" "$1" "$GET_BYTES" "$GET_REPEAT"; }
    row "b) CPU s per GiB via mirrorball: gateway + node" "$(per_gib "$cpu_gw_gw") + $(per_gib "$cpu_node_gw") ($(nproc) cores)"
    row "b) CPU s per GiB by cat: node" "$(per_gib "$cpu_node_node")"
  fi
  # the fixed cost of one request: a 1-byte Range GET vs a 1-byte cat, median of 9
  read -r digest cid _ <"$WORK/layers.txt"
  small_gw=(); small_node=()
  for _ in $(seq 1 9); do
    small_gw+=("$(curl -sf -o /dev/null -H 'Range: bytes=0-0' -w '%{time_total}' "http://$GW/v2/bench/app/blobs/$digest")")
    small_node+=("$(curl -sf -o /dev/null -X POST -w '%{time_total}' "$API/api/v0/cat?arg=$cid&length=1")")
  done
  row "b) fixed cost: 1-byte Range GET via mirrorball, median" "$(median "${small_gw[@]}") s"
  row "b) fixed cost: 1-byte cat from the node, median" "$(median "${small_node[@]}") s"
fi
[ -n "$GATEWAY_PID" ] && stop_gateway
rm -rf "$WORK/layout"

# ---- c) 1 GiB layer with -Xmx$XMX, against docker-registry ---------------------------------------
if [[ "$PARTS" == *c* ]]; then
  BIG="$WORK/big.bin"
  head -c $((BIG_MIB << 20)) /dev/urandom >"$BIG"
  BIG_SIZE="$(stat -c %s "$BIG")"
  BIG_DIGEST="sha256:$(sha256sum "$BIG" | cut -d' ' -f1)"
  [ -n "$REGISTRY_PID" ] || start_one_registry   # a)'s registry when a) ran
  REG="127.0.0.1:$REG_PORT"
  rm -rf "$WORK/gw/embedded"
  start_gateway "" "-Xmx$XMX"
  location() { tr -d '\r' | awk 'tolower($1) == "location:" {print $2}' | tail -1; }
  absolute() { case "$2" in http*) echo "$2";; *) echo "http://$1$2";; esac; }
  upload() { # host:port log -> seconds for POST, one PATCH streaming the blob, PUT ?digest=
    local t0 t1 loc sep code
    t0=$(now)
    loc="$(absolute "$1" "$(curl -sf -D - -o /dev/null -X POST "http://$1/v2/bench/big/blobs/uploads/" | location)")"
    loc="$(absolute "$1" "$(curl -sf -D - -o /dev/null -X PATCH -H 'Content-Type: application/octet-stream' \
          -T "$BIG" "$loc" | location)")"
    case "$loc" in *\?*) sep='&';; *) sep='?';; esac
    code="$(curl -s -o "$WORK/put.txt" -w '%{http_code}' -X PUT "$loc${sep}digest=$BIG_DIGEST")"
    t1=$(now)
    [ "$code" = 201 ] || die "PUT of the $BIG_MIB MiB blob into $1 answered $code: $(head -c 500 "$WORK/put.txt")
$(tail -5 "$2")"
    elapsed "$t0" "$t1"
  }
  get_blob() { # host:port -> seconds for one GET of the blob into /dev/null (no digest check in the timing)
    local t n
    read -r t n < <(curl -sf -o /dev/null -w '%{time_total} %{size_download}\n' \
      "http://$1/v2/bench/big/blobs/$BIG_DIGEST")
    [ "${n:-}" = "$BIG_SIZE" ] || die "GET of the blob from $1 returned ${n:-nothing} bytes, want $BIG_SIZE"
    echo "$t"
  }
  check_blob() { # host:port: the digest of what comes out, once, outside the timing
    local got
    got="sha256:$(curl -sf "http://$1/v2/bench/big/blobs/$BIG_DIGEST" | sha256sum | cut -d' ' -f1)"
    [ "$got" = "$BIG_DIGEST" ] || die "the blob came back from $1 as $got, want $BIG_DIGEST"
  }
  r0="$(cpu_of "$REGISTRY_PID")"
  REG_IN_T="$(upload "$REG" "$WORK/registry.log")"
  r1="$(cpu_of "$REGISTRY_PID")"; g0="$(cpu_of "$GATEWAY_PID")"; n0="$(cpu_of "${KUBO_PID:-0}")"
  IN_T="$(upload "$GW" "$WORK/gateway.log")"
  g1="$(cpu_of "$GATEWAY_PID")"; n1="$(cpu_of "${KUBO_PID:-0}")"
  # GETs alternating between the two servers, the median of each; the CPU of each side over its GETs
  gw_times=(); reg_times=()
  cpu_get_gw=0; cpu_get_node=0; cpu_get_reg=0
  add() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) + float(sys.argv[3]) - float(sys.argv[2])))" "$@"; }
  # one untimed GET from each first: the gateway's JIT compiles its read path, both warm the page cache
  get_blob "$GW" >/dev/null; get_blob "$REG" >/dev/null
  for _ in $(seq 1 "$GET_REPEAT"); do
    g2="$(cpu_of "$GATEWAY_PID")"; n2="$(cpu_of "${KUBO_PID:-0}")"
    gw_times+=("$(get_blob "$GW")")
    g3="$(cpu_of "$GATEWAY_PID")"; n3="$(cpu_of "${KUBO_PID:-0}")"; r2="$(cpu_of "$REGISTRY_PID")"
    reg_times+=("$(get_blob "$REG")")
    r3="$(cpu_of "$REGISTRY_PID")"
    cpu_get_gw="$(add "$cpu_get_gw" "$g2" "$g3")"; cpu_get_node="$(add "$cpu_get_node" "$n2" "$n3")"
    cpu_get_reg="$(add "$cpu_get_reg" "$r2" "$r3")"
  done
  check_blob "$GW"
  check_blob "$REG"
  HWM="$(awk '/^VmHWM/ {print $2, $3}' "/proc/$GATEWAY_PID/status")"
  RSS="$(awk '/^VmRSS/ {print $2, $3}' "/proc/$GATEWAY_PID/status")"
  stop_gateway
  stop_registry
  GW_T="$(median "${gw_times[@]}")"; REG_T="$(median "${reg_times[@]}")"
  per_gib() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) * 1073741824 / (float(sys.argv[2]) * float(sys.argv[3]))))" "$1" "$BIG_SIZE" "$2"; }
  row "c) blob (plain random bytes)" "$BIG_SIZE bytes $BIG_DIGEST"
  row "c) upload POST+PATCH+PUT, docker-registry" "${REG_IN_T} s = $(mibps "$BIG_SIZE" "$REG_IN_T") MiB/s"
  row "c) upload POST+PATCH+PUT, mirrorball -Xmx$XMX, $NODE_LABEL" "${IN_T} s = $(mibps "$BIG_SIZE" "$IN_T") MiB/s"
  row "c) ratio upload time (mirrorball / docker-registry)" "$(ratio "$IN_T" "$REG_IN_T")"
  row "c) GET into /dev/null, docker-registry, median of $GET_REPEAT" "${REG_T} s = $(mibps "$BIG_SIZE" "$REG_T") MiB/s (all: $(all "${reg_times[@]}"))"
  row "c) GET into /dev/null, mirrorball, median of $GET_REPEAT" "${GW_T} s = $(mibps "$BIG_SIZE" "$GW_T") MiB/s (all: $(all "${gw_times[@]}"))"
  row "c) GET throughput mirrorball / registry (target >= 0.9)" "$(ratio "$REG_T" "$GW_T")"
  row "c) one more GET from each, through sha256sum" "digest as uploaded"
  row "c) server CPU s upload: docker-registry | gateway + node" "$(minus "$r1" "$r0") | $(minus "$g1" "$g0") + $(minus "$n1" "$n0")"
  row "c) CPU s per GiB GET: docker-registry | gateway + node" "$(per_gib "$cpu_get_reg" "$GET_REPEAT") | $(per_gib "$cpu_get_gw" "$GET_REPEAT") + $(per_gib "$cpu_get_node" "$GET_REPEAT")"
  row "c) gateway -Xmx$XMX peak RSS (VmHWM) / RSS at end" "$HWM / $RSS"
fi
[ -n "$REGISTRY_PID" ] && stop_registry

echo
echo "bench: done ($(nproc) cores, $(java -version 2>&1 | head -1))"
[ -n "${BENCH_RESULTS:-}" ] && cp "$RESULTS" "$BENCH_RESULTS"
exit 0
