#!/usr/bin/env bash
# Benchmark of `mirrorball migrate` (docs/migrate.md section 6; results in tests/bench/README.md):
#   1) skopeo sync --all (docker -> docker) of every repository of a source docker-registry into a
#      fresh docker-registry: the baseline
#   2) mirrorball migrate docker://<source>/ (the whole catalog) --to a fresh gateway on the
#      embedded node, --jobs 6. Target: median 2) / median 1) <= 1.0
#   3) a fresh gateway, migrate SIGKILLed once about half the bytes have arrived, then a re-run with
#      the same --state-dir: both times, the source's blob GET bytes of the re-run (access log), and
#      the re-run's JSON report compared with an uninterrupted run's
# The source is Debian's docker-registry (filesystem storage) filled with BENCH_MIGRATE_MIB of
# incompressible layers (stored gzip of random bytes, 8-128 MiB at the default size): 4 repositories
# (one namespaced), 3 tags each sharing two base layers, one of them a multi-arch index. Filling is
# not measured. Everything runs on 127.0.0.1 with free ports in a temp dir under /tmp; every process
# it starts is stopped at exit, and the temp dir removed. Prints a results table.
#
# usage: bash tests/bench/migrate.sh
# env:   BENCH_MIGRATE_MIB (1024: unique layer bytes in the source)  BENCH_RUNS (3: runs of 1 and 2)
#        BENCH_JOBS (6: migrate --jobs)  BENCH_PARTS (123: which measurements to run)
#        BENCH_JAR=FILE uses that jar instead of $MB_BUILD_DIR/mirrorball.jar (built when missing)
#        MB_BUILD_DIR (target/)  MB_MVN_ARGS (e.g. -o)  BENCH_REBUILD=1 rebuilds the jar
#        BENCH_KEEP=1 keeps the temp dir and its logs  BENCH_RESULTS=FILE also writes the table there
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="${MB_BUILD_DIR:-$ROOT/target}"
MIB="${BENCH_MIGRATE_MIB:-1024}"
RUNS="${BENCH_RUNS:-3}"
JOBS="${BENCH_JOBS:-6}"
PARTS="${BENCH_PARTS:-123}"
# shellcheck disable=SC2206
MVN_ARGS=(${MB_MVN_ARGS:-})

die() { echo "bench: $*" >&2; exit 1; }
for tool in skopeo docker-registry curl java python3 du; do
  command -v "$tool" >/dev/null || die "$tool is missing: run bash tests/setup.sh"
done
[ "$MIB" -ge 64 ] || die "BENCH_MIGRATE_MIB must be at least 64"

WORK="$(mktemp -d /tmp/mb-migrate-bench.XXXXXX)"
PIDS=()   # every server and migrate process started here, stopped at exit
cleanup() {
  set +e
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  if [ "${BENCH_KEEP:-}" = 1 ]; then echo "bench: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }
calc() { python3 -c "import sys; print('%.2f' % eval(sys.argv[1]))" "$1"; }
elapsed() { calc "$2 - $1"; }
ratio() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}'; }
all() { printf '%s ' "$@"; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_http() { # url seconds
  local deadline=$((SECONDS + $2)) code
  while [ $SECONDS -lt $deadline ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" || true)
    case "$code" in 200|401) return 0;; esac
    sleep 0.2
  done
  return 1
}
# runs a command; appends "wall_s cpu_s" (user + system of it and its children) to the file $1
timed() {
  python3 - "$@" <<'PY'
import os, subprocess, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
t0 = time.monotonic()
rc = subprocess.call(cmd)
wall = time.monotonic() - t0
ru = os.times()
with open(out, "a") as f:
    f.write("%.2f %.2f\n" % (wall, ru.children_user + ru.children_system))
sys.exit(rc)
PY
}

RESULTS="$WORK/results.txt"
: >"$RESULTS"
row() { printf '%-60s %s\n' "$1" "$2" | tee -a "$RESULTS"; }

# ---- the jar ---------------------------------------------------------------------------------------
JAR="${BENCH_JAR:-$BUILD/mirrorball.jar}"
if [ ! -f "$JAR" ] || [ "${BENCH_REBUILD:-}" = 1 ]; then
  [ -z "${BENCH_JAR:-}" ] || die "BENCH_JAR=$BENCH_JAR does not exist"
  echo "bench: building $BUILD/mirrorball.jar"
  (cd "$ROOT" && mvn -q -B "${MVN_ARGS[@]}" package -DskipTests -Dmb.buildDir="$BUILD")
fi

# ---- skopeo, isolated from the host's configuration ------------------------------------------------
mkdir -p "$WORK/skopeo/tmp"
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$WORK/skopeo/policy.json"
echo '{"auths":{}}' >"$WORK/skopeo/auth.json"
sk() { TMPDIR="$WORK/skopeo/tmp" skopeo --policy "$WORK/skopeo/policy.json" "$@"; }

# ---- docker-registry -------------------------------------------------------------------------------
start_registry() { # name -> sets REG_PORT, REG_PID; filesystem storage in $WORK/name, access log in $WORK/name.log
  REG_PORT="$(free_port)"
  mkdir -p "$WORK/$1"
  cat >"$WORK/$1/config.yml" <<YAML
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: "$WORK/$1/storage" }, delete: { enabled: true } }
http: { addr: "127.0.0.1:$REG_PORT", secret: bench }
YAML
  docker-registry serve "$WORK/$1/config.yml" >>"$WORK/$1.log" 2>&1 </dev/null &
  REG_PID=$!
  PIDS+=("$REG_PID")
  wait_http "http://127.0.0.1:$REG_PORT/v2/" 30 || die "docker-registry did not start: $(tail -5 "$WORK/$1.log")"
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# ---- the gateway on its embedded node --------------------------------------------------------------
start_gateway() { # name -> sets GW, GW_PID, GW_DATA (embedded node's directory)
  local port
  port="$(free_port)"
  GW="127.0.0.1:$port"
  GW_DATA="$WORK/$1/embedded"
  mkdir -p "$WORK/$1/uploads"
  local unset=()   # the gateway rejects unknown MIRRORBALL_* variables: pass only the ones set here
  for var in $(compgen -e | grep '^MIRRORBALL_' || true); do unset+=(-u "$var"); done
  (cd "$WORK/$1" && exec env "${unset[@]}" MIRRORBALL_STORAGE_IPFS_NODE=embedded MIRRORBALL_HTTP_ADDR="$GW" \
     MIRRORBALL_STORAGE_IPFS_EMBEDDED_PATH="$GW_DATA" MIRRORBALL_STORAGE_UPLOADS_PATH="$WORK/$1/uploads" \
     java -jar "$JAR" serve >>"$WORK/$1.log" 2>&1 </dev/null) &
  GW_PID=$!
  PIDS+=("$GW_PID")
  wait_http "http://$GW/v2/" 60 || die "gateway did not start: $(tail -20 "$WORK/$1.log")"
}
migrate_cmd() { # state-dir -> the migrate command line, in MIGRATE
  MIGRATE=(java -jar "$JAR" migrate --to "http://$GW" --src-plain-http --jobs "$JOBS" --progress plain
           --output json --state-dir "$1" "docker://$SRC/")
}
# the JSON report sorted by source, so that two runs compare equal when they copied the same
normal_json() { python3 -c 'import json,sys; print(json.dumps(sorted(json.load(open(sys.argv[1])), key=lambda e: e["source"]), indent=1, sort_keys=True))' "$1"; }

# ---- the source ------------------------------------------------------------------------------------
# One OCI layout per repository, each layer a stored (level 0) gzip of random bytes: skopeo sees gzip
# and pushes it unchanged, and nothing can compress it. Per repository (B = MIB / 4): base layers of
# B/4 and B/8 shared by all tags, and per tag one layer of 5B/16, 3B/16 and B/8. org/tools's third
# tag is a multi-arch index (linux/amd64 and linux/arm64), each child with half of that tag's layer.
make_layouts() {
  python3 - "$WORK/layouts" "$MIB" <<'PY'
import hashlib, json, os, sys, zlib
root, mib = sys.argv[1], int(sys.argv[2])
M = 1 << 20
B = mib * M // 4
total = 0
def blob(d, data_or_gen, media):
    """writes a blob into layout d; returns its descriptor"""
    global total
    h = hashlib.sha256(); tmp = os.path.join(d, "blobs", "sha256", "tmp"); size = 0
    with open(tmp, "wb") as f:
        for chunk in (data_or_gen if not isinstance(data_or_gen, bytes) else [data_or_gen]):
            h.update(chunk); f.write(chunk); size += len(chunk)
    os.rename(tmp, os.path.join(d, "blobs", "sha256", h.hexdigest()))
    total += size
    return {"mediaType": media, "digest": "sha256:" + h.hexdigest(), "size": size}
def layer(d, n):
    def gen():
        z = zlib.compressobj(0, zlib.DEFLATED, 31)
        left = n
        while left:
            k = min(left, 4 * M); left -= k
            yield z.compress(os.urandom(k))
        yield z.flush()
    return blob(d, gen(), "application/vnd.oci.image.layer.v1.tar+gzip")
def image(d, layers, arch, tag):
    cfg = json.dumps({"architecture": arch, "os": "linux", "created": "2026-12-03T00:00:00Z",
                      "config": {"Labels": {"bench.tag": tag}},
                      "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}).encode()
    m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
         "config": blob(d, cfg, "application/vnd.oci.image.config.v1+json"), "layers": layers}
    desc = blob(d, json.dumps(m).encode(), m["mediaType"])
    desc["platform"] = {"architecture": arch, "os": "linux"}
    return desc
repos = ["app", "org/tools", "db", "web"]
lines = []
for repo in repos:
    d = os.path.join(root, repo.replace("/", "_"))
    os.makedirs(os.path.join(d, "blobs", "sha256"))
    base = [layer(d, B // 4), layer(d, B // 8)]
    own = [5 * B // 16, 3 * B // 16, B // 8]
    manifests = []
    for i, tag in enumerate(["1.0", "1.1", "2.0"]):
        if repo == "org/tools" and i == 2:
            kids = [image(d, base + [layer(d, own[i] // 2)], arch, tag) for arch in ("amd64", "arm64")]
            idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": kids}
            desc = blob(d, json.dumps(idx).encode(), idx["mediaType"])
        else:
            desc = image(d, base + [layer(d, own[i])], "amd64", tag)
            del desc["platform"]
        desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
        manifests.append(desc)
        lines.append("%s %s %s" % (repo, tag, d))
    json.dump({"schemaVersion": 2, "manifests": manifests}, open(os.path.join(d, "index.json"), "w"))
    open(os.path.join(d, "oci-layout"), "w").write('{"imageLayoutVersion": "1.0.0"}')
with open(os.path.join(root, "tags.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
print(total)
PY
}

echo "bench: work dir $WORK (load $(cut -d' ' -f1-3 /proc/loadavg))"
SRC_BYTES="$(make_layouts)"
start_registry src
SRC="127.0.0.1:$REG_PORT"; SRC_PID="$REG_PID"; SRC_LOG="$WORK/src.log"
while read -r repo tag dir; do
  sk copy -q --all --dest-tls-verify=false --retry-times 0 "oci:$dir:$tag" "docker://$SRC/$repo:$tag" >/dev/null \
    || die "filling the source with $repo:$tag failed"
done <"$WORK/layouts/tags.txt"
rm -rf "$WORK/layouts/"*/   # the source registry holds them now
REPOS=(app org/tools db web)
TAGS="$(wc -l <"$WORK/layouts/tags.txt")"
SRC_MIB="$(calc "$SRC_BYTES / 1048576")"
echo "bench: source $SRC holds $SRC_MIB MiB in ${#REPOS[@]} repositories, $TAGS tags"
# the source's files in the page cache for every run alike
find "$WORK/src/storage" -type f -exec cat {} + >/dev/null
printf '%-60s %s\n' "measure" "value" | tee -a "$RESULTS"
row "source: docker-registry, blob bytes (all unique)" "$SRC_BYTES ($SRC_MIB MiB), ${#REPOS[@]} repositories, $TAGS tags"

# ---- 1) baseline: skopeo sync of every repository into a fresh docker-registry ------------------------
sync_all() { # dest host:port
  local repo
  for repo in "${REPOS[@]}"; do
    local parent="${repo%/*}"; [ "$parent" = "$repo" ] && parent="" || parent="/$parent"
    sk sync --all --src docker --dest docker --src-tls-verify=false --dest-tls-verify=false \
      --retry-times 0 "$SRC/$repo" "$1$parent" >>"$WORK/sync.log" 2>&1 || return 1
  done
}
B_T=(); B_CPU=(); M_T=(); M_CPU=()
for run in $(seq 1 "$RUNS"); do
  if [[ "$PARTS" == *1* ]]; then
    start_registry "dst$run"
    s0="$(cpu_of "$SRC_PID")"; d0="$(cpu_of "$REG_PID")"; : >"$WORK/t.txt"
    export WORK SRC REPOS_LIST="${REPOS[*]}"
    timed "$WORK/t.txt" bash -c "REPOS=(\$REPOS_LIST); $(declare -f sk sync_all); sync_all 127.0.0.1:$REG_PORT" \
      || die "skopeo sync failed"
    s1="$(cpu_of "$SRC_PID")"; d1="$(cpu_of "$REG_PID")"
    read -r wall cpu <"$WORK/t.txt"
    n="$(curl -sf "http://127.0.0.1:$REG_PORT/v2/_catalog" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["repositories"]))')"
    [ "$n" = "${#REPOS[@]}" ] || die "skopeo sync left $n repositories, want ${#REPOS[@]}"
    B_T+=("$wall"); B_CPU+=("skopeo $cpu + src $(elapsed "$s0" "$s1") + dst $(elapsed "$d0" "$d1")")
    row "1) skopeo sync --all, run $run" "$wall s (CPU s: ${B_CPU[-1]})"
    stop_pid "$REG_PID"; rm -rf "$WORK/dst$run"
  fi
  if [[ "$PARTS" == *2* ]]; then
    start_gateway "gw$run"
    migrate_cmd "$WORK/state$run"
    s0="$(cpu_of "$SRC_PID")"; g0="$(cpu_of "$GW_PID")"; : >"$WORK/t.txt"
    timed "$WORK/t.txt" "${MIGRATE[@]}" >"$WORK/migrate$run.json" 2>"$WORK/migrate$run.log" \
      || die "migrate run $run failed: $(tail -5 "$WORK/migrate$run.log")"
    s1="$(cpu_of "$SRC_PID")"; g1="$(cpu_of "$GW_PID")"
    read -r wall cpu <"$WORK/t.txt"
    n="$(python3 -c 'import json,sys; print(sum(1 for e in json.load(open(sys.argv[1])) if e.get("cid")))' "$WORK/migrate$run.json")"
    [ "$n" = "$TAGS" ] || die "migrate run $run reported $n images with a CID, want $TAGS: $(head -c 1000 "$WORK/migrate$run.json")"
    normal_json "$WORK/migrate$run.json" >"$WORK/migrate$run.norm"
    [ "$run" = 1 ] || cmp -s "$WORK/migrate1.norm" "$WORK/migrate$run.norm" || die "migrate run $run reported other digests or CIDs than run 1"
    M_T+=("$wall"); M_CPU+=("migrate $cpu + src $(elapsed "$s0" "$s1") + gateway $(elapsed "$g0" "$g1")")
    row "2) mirrorball migrate --jobs $JOBS, run $run" "$wall s (CPU s: ${M_CPU[-1]})"
    stop_pid "$GW_PID"; [ "${BENCH_KEEP:-}" = 1 ] || rm -rf "$WORK/gw$run"
  fi
done
if [[ "$PARTS" == *1* ]]; then
  row "1) skopeo sync, median of $RUNS" "$(median "${B_T[@]}") s (all: $(all "${B_T[@]}"))"
fi
if [[ "$PARTS" == *2* ]]; then
  row "2) migrate, median of $RUNS" "$(median "${M_T[@]}") s (all: $(all "${M_T[@]}"))"
  row "2) every run reported the same digests and CIDs" "$TAGS images"
fi
if [[ "$PARTS" == *1* && "$PARTS" == *2* ]]; then
  row "ratio 2) / 1), medians (target <= 1.0)" "$(ratio "$(median "${M_T[@]}")" "$(median "${B_T[@]}")")"
fi

# ---- 3) SIGKILL at about half, then a re-run ---------------------------------------------------------
if [[ "$PARTS" == *3* ]]; then
  if [ ! -f "$WORK/migrate1.norm" ]; then   # without 2): one uninterrupted run to compare with, untimed
    start_gateway gw1
    migrate_cmd "$WORK/state1"
    "${MIGRATE[@]}" >"$WORK/migrate1.json" 2>"$WORK/migrate1.log" || die "migrate failed: $(tail -5 "$WORK/migrate1.log")"
    normal_json "$WORK/migrate1.json" >"$WORK/migrate1.norm"
    stop_pid "$GW_PID"; [ "${BENCH_KEEP:-}" = 1 ] || rm -rf "$WORK/gw1"
  fi
  start_gateway gwr
  migrate_cmd "$WORK/stater"
  half=$((SRC_BYTES / 2))
  t0=$(now)
  "${MIGRATE[@]}" >"$WORK/killed.json" 2>"$WORK/killed.log" &
  MIG_PID=$!; PIDS+=("$MIG_PID")
  have=0
  while kill -0 "$MIG_PID" 2>/dev/null; do
    have="$(du -sb "$GW_DATA" 2>/dev/null | cut -f1 || true)"   # du fails when a file goes during its walk
    [ "${have:-0}" -ge "$half" ] && break
    sleep 0.1
  done
  kill -0 "$MIG_PID" 2>/dev/null || die "migrate finished before half the bytes arrived; nothing to resume"
  kill -KILL "$MIG_PID"; wait "$MIG_PID" 2>/dev/null || true
  t1=$(now)
  K_T="$(elapsed "$t0" "$t1")"
  uploads="$(du -sb "$WORK/gwr/uploads" | cut -f1)"
  journal="$(find "$WORK/stater" -type f | wc -l)"
  sleep 1   # the source's access log lines of the killed run's last requests
  log_from="$(stat -c %s "$SRC_LOG")"
  : >"$WORK/t.txt"
  timed "$WORK/t.txt" "${MIGRATE[@]}" >"$WORK/rerun.json" 2>"$WORK/rerun.log" \
    || die "the re-run failed: $(tail -5 "$WORK/rerun.log")"
  read -r R_T R_CPU <"$WORK/t.txt"
  sleep 1
  # docker-registry's access log (combined format): "GET /v2/<repo>/blobs/sha256:... HTTP/1.1" <status> <bytes>
  read -r rerun_bytes rerun_gets < <(tail -c +"$((log_from + 1))" "$SRC_LOG" | python3 -c '
import re, sys
n = s = 0
for line in sys.stdin:
    m = re.search(r"\"GET /v2/\S+/blobs/sha256:[0-9a-f]+ HTTP/[0-9.]+\" (\d{3}) (\d+|-)", line)
    if m and m.group(2) != "-":
        n += 1; s += int(m.group(2))
print(s, n)')
  left="$(find "$WORK/stater" -type f | wc -l)"
  normal_json "$WORK/rerun.json" >"$WORK/rerun.norm"
  cmp -s "$WORK/migrate1.norm" "$WORK/rerun.norm" && same="yes ($TAGS images)" || same="NO (see $WORK/rerun.json)"
  row "3) killed run: SIGKILL after" "$K_T s, data dir $have bytes ($(calc "100.0 * $have / $SRC_BYTES")% of the source), uploads $uploads, journal $journal files"
  row "3) re-run" "$R_T s (CPU s of migrate: $R_CPU)"
  row "3) source blob GET bytes of the re-run (access log)" "$rerun_bytes in $rerun_gets GETs = $(calc "100.0 * $rerun_bytes / $SRC_BYTES")% of $SRC_BYTES"
  row "3) re-run's journal files left" "$left"
  row "3) re-run's JSON equal to an uninterrupted run's (digests, CIDs)" "$same"
  stop_pid "$GW_PID"
  [[ "$same" == yes* ]] || { BENCH_KEEP=1; die "the re-run's report differs from an uninterrupted run's"; }
fi

echo
echo "bench: done ($(nproc) cores, $(java -version 2>&1 | head -1), $(skopeo --version), load $(cut -d' ' -f1-3 /proc/loadavg))"
[ -n "${BENCH_RESULTS:-}" ] && cp "$RESULTS" "$BENCH_RESULTS"
exit 0
