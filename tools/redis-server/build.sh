#!/usr/bin/env bash
# Builds the redis-server the adapter ships, from Debian's security-patched source, and records where
# it came from. Run it again when Debian publishes the next fix: it fetches the newest `redis` of
# bookworm-security, rebuilds, runs Redis's own tests and replaces the binary and its provenance only
# when they pass (docs/security.md, "The bundled redis-server").
#
#   tools/redis-server/build.sh [amd64|arm64]      (default: this machine's architecture)
#
# Built on a machine of that architecture, the result is tested with ./runtest; built on another, it is a
# cross-build that cannot be tested here and says so in its provenance (the arm64 paths are untried).
#
# Needs: apt-get, dpkg-source/dpkg-deb (dpkg-dev), gcc and make (build-essential), tclsh (tcl) for
# ./runtest, pkg-config, file; to cross-build, gcc-<triplet>. The system's apt lists are not touched:
# apt runs on a private state directory. Environment: JOBS (make -j, default 2), KEEP_WORK=1 keeps the
# build directory, REDIS_DEB_VERSION pins a source version (default: the newest in bookworm-security).
set -euo pipefail

NATIVE=$(dpkg --print-architecture)
ARCH=${1:-$NATIVE}
JOBS=${JOBS:-2}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$REPO/cache-ra/redis-server/src/main/resources/io/compozy/cache/redis/linux-$ARCH
SUITE=bookworm-security
# The units the Debian security patches touch (their regression tests are in them), and the ones
# whose commands the adapter relies on. integration/corrupt-dump holds the RESTORE validation tests.
UNITS=(unit/scripting unit/functions unit/hyperloglog unit/dump unit/acl unit/acl-v2 unit/auth
       unit/introspection unit/introspection-2 unit/keyspace unit/type/hash unit/type/incr unit/type/list
       unit/type/list-2 unit/type/list-3 unit/type/set unit/type/stream unit/type/stream-cgroups
       unit/type/string unit/type/zset integration/corrupt-dump)
# Two regression tests the patches backport were written for Redis 7.4's RDB format and fail the same way on
# Debian's own /usr/bin/redis-server (Debian's build ignores test failures): their payloads are rejected by
# 7.0 before the fixed code runs (RDB version 12; stream type 21), not accepted. The first fix is checked with
# a 7.0 payload by BundledRedisSecurityFixesTest, the second by the test that follows it in corrupt-dump.tcl.
NOT_FOR_7_0=("RESTORE fail with invalid payload size"
             "corrupt payload: stream - duplicated consumer PEL entry")

case $ARCH in
  amd64) TRIPLET=x86_64-linux-gnu; HOST_OPTS= ;;
  # 64 KiB pages: jemalloc built for 4 KiB pages refuses to start on arm64 kernels that use 64 KiB.
  arm64) TRIPLET=aarch64-linux-gnu; HOST_OPTS="--with-lg-page=16" ;;
  *) echo "usage: $0 [amd64|arm64]" >&2; exit 2 ;;
esac
if [ "$ARCH" = "$NATIVE" ]; then
  CC=gcc; CC_PACKAGE=build-essential
else
  CC=$TRIPLET-gcc; CC_PACKAGE=gcc-$TRIPLET; HOST_OPTS="--host=$TRIPLET $HOST_OPTS"
fi

need() { command -v "$1" >/dev/null || { echo "$0: '$1' is missing: apt-get install $2" >&2; exit 1; }; }
need apt-get apt; need dpkg-source dpkg-dev; need dpkg-deb dpkg; need make make; need "$CC" "$CC_PACKAGE"; need file file
need tclsh tcl; need sha256sum coreutils; need pkg-config pkg-config

WORK=$(mktemp -d "${TMPDIR:-/tmp}/compozy-redis-build.XXXXXX")
cleanup() { if [ "${KEEP_WORK:-}" = 1 ]; then echo "build directory kept: $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
log() { printf '\n== %s\n' "$*"; }

log "private apt state for $SUITE (deb and deb-src) in $WORK/apt"
mkdir -p "$WORK/apt/parts" "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial"
SOURCES=/etc/apt/sources.list.d/debian.sources
STANZA=$(awk -v suite="$SUITE" 'BEGIN { RS = ""; ORS = "\n\n" } $0 ~ ("Suites:.*" suite) { print }' "$SOURCES")
[ -n "$STANZA" ] || { echo "$0: no $SUITE stanza in $SOURCES" >&2; exit 1; }
printf '%s\n' "$STANZA" | sed -E "s/^Types:.*/Types: deb deb-src/; s/^Suites:.*/Suites: $SUITE/" \
  > "$WORK/apt/parts/security.sources"
APT=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$WORK/apt/parts"
     -o Dir::State::Lists="$WORK/apt/lists" -o Dir::Cache="$WORK/apt/cache"
     -o Dir::State::status=/dev/null -o APT::Architecture="$NATIVE" -o APT::Architectures::="$NATIVE"
     -o APT::Architectures::="$ARCH")
# apt's download sandbox user cannot enter a 0700 temporary directory.
[ "$(id -u)" = 0 ] && APT+=(-o APT::Sandbox::User=root)
apt-get "${APT[@]}" -q update

log "source: redis${REDIS_DEB_VERSION:+=$REDIS_DEB_VERSION} from $SUITE"
mkdir "$WORK/src" && cd "$WORK/src"
apt-get "${APT[@]}" -q source --download-only "redis${REDIS_DEB_VERSION:+=$REDIS_DEB_VERSION}"
DSC=$(ls redis_*.dsc)
DEB_VERSION=$(sed -n 's/^Version: //p' "$DSC")              # 5:7.0.15-1~deb12u10
UPSTREAM=${DEB_VERSION#*:}; UPSTREAM=${UPSTREAM%%-*}          # 7.0.15
REVISION=${DEB_VERSION##*~}                                  # deb12u10
# dpkg-source checks the tarballs against the .dsc, whose hash apt checked against the signed index.
dpkg-source -x "$DSC" redis >"$WORK/dpkg-source.log"
SRC=$WORK/src/redis
grep -q "applying" "$WORK/dpkg-source.log" || { echo "$0: dpkg-source applied no patches" >&2; exit 1; }
# Debian links the system's shared jemalloc; this build links the bundled deps/jemalloc (je_ prefix, Redis's
# defragmentation hint) statically, as upstream does. That packaging patch's "#if USE_SYSTEM_JEMALLOC == yes"
# also holds when the flag is unset, so it is taken out again; every other patch stays.
UNAPPLIED=0004-Add-support-for-USE_SYSTEM_JEMALLOC-flag.patch
(cd "$SRC" && patch -R -p1 --quiet <"debian/patches/$UNAPPLIED")
PATCHES=$(grep -v '^\s*#' "$SRC/debian/patches/series" | sed '/^\s*$/d' | grep -vxF "$UNAPPLIED")

log "OpenSSL: libssl-dev:$ARCH from $SUITE (static libraries), not installed, unpacked in $WORK/ssl"
mkdir "$WORK/ssl" && cd "$WORK/ssl"
apt-get "${APT[@]}" -q download "libssl-dev:$ARCH"
SSL_DEB=$(ls libssl-dev_*.deb)
SSL_VERSION=$(dpkg-deb -f "$SSL_DEB" Version)
dpkg-deb -x "$SSL_DEB" root
SSL=$WORK/ssl/root/usr
[ -f "$SSL/lib/$TRIPLET/libssl.a" ] || { echo "$0: $SSL_DEB has no libssl.a" >&2; exit 1; }

log "build redis $DEB_VERSION for linux-$ARCH: static, TLS, jemalloc (make -j$JOBS)"
# Debian's hardening flags, as far as a static binary takes them.
HARDEN="-fstack-protector-strong -fstack-clash-protection -D_FORTIFY_SOURCE=2 -Wformat -Werror=format-security"
cd "$SRC"
make -j"$JOBS" V=1 CC="$CC" BUILD_TLS=yes USE_SYSTEMD=no MALLOC=jemalloc \
  CFLAGS="$HARDEN -I$SSL/include -I$SSL/include/$TRIPLET" LDFLAGS="-static -Wl,-z,relro,-z,now" \
  LIBSSL_LIBS="$SSL/lib/$TRIPLET/libssl.a" LIBCRYPTO_LIBS="$SSL/lib/$TRIPLET/libcrypto.a" \
  JEMALLOC_CONFIGURE_OPTS="$HOST_OPTS" AR="${CC%gcc}ar" RANLIB="${CC%gcc}ranlib" \
  >"$WORK/make.log" 2>&1 || { tail -40 "$WORK/make.log"; exit 1; }
BIN=$SRC/src/redis-server
file "$BIN" | grep -q "statically linked" || { file "$BIN"; echo "$0: not statically linked" >&2; exit 1; }
"${CC%gcc}strip" "$BIN"
# A static binary carries its C library too: say which, and whether it is the newest this machine's apt knows.
if [ "$ARCH" = "$NATIVE" ]; then
  LIBC_VERSION=$(dpkg-query -W -f '${Version}' libc6-dev)
  LIBC_NEWEST=$(apt-cache policy libc6-dev | sed -n 's/^ *Candidate: //p')
  [ "$LIBC_VERSION" = "$LIBC_NEWEST" ] || echo "WARNING: libc6-dev $LIBC_VERSION is linked; apt offers $LIBC_NEWEST" >&2
  LIBC="glibc (libc6-dev $LIBC_VERSION, linked statically; apt's newest: $LIBC_NEWEST)"
else
  LIBC="glibc (libc6-dev-$ARCH-cross $(dpkg-query -W -f '${Version}' "libc6-dev-$ARCH-cross"), linked statically)"
fi

if [ "$ARCH" = "$NATIVE" ]; then
  log "Redis's own tests on the result: ${UNITS[*]}"
  # Loopback only, two clients (the machine is shared), ports away from the default 21111 range.
  SINGLES=(); for unit in "${UNITS[@]}"; do SINGLES+=(--single "$unit"); done
  for test in "${NOT_FOR_7_0[@]}"; do SINGLES+=(--skiptest "$test"); done
  set +e
  ./runtest --clients 2 --baseport $((30000 + RANDOM % 20000)) --portcount 400 --timeout 1800 \
      "${SINGLES[@]}" 2>&1 </dev/null | sed 's/\x1b\[[0-9;]*m//g' >"$WORK/runtest.log"
  RC=${PIPESTATUS[0]}
  set -e
  OK=$(grep -c '^\[ok\]' "$WORK/runtest.log" || true)
  ERR=$(grep -cE '^\[(err|exception)\]' "$WORK/runtest.log" || true)
  SKIP=$(grep -cE '^\[(skip|ignore)\]' "$WORK/runtest.log" || true)
  # runtest ends with "Execution time of different units:" and one "  N seconds - unit" line each.
  ELAPSED=$(grep -E '^ +[0-9]+ seconds - ' "$WORK/runtest.log" | awk '{s += $1} END {print s + 0}')
  SUMMARY="${#UNITS[@]} units: $OK ok, $ERR failed, $SKIP skipped or ignored (${#NOT_FOR_7_0[@]} written for 7.4's RDB format), ${ELAPSED} s"
  echo "$SUMMARY"
  if [ $RC -ne 0 ] || [ "$ERR" -ne 0 ] || ! grep -q 'All tests passed without errors' "$WORK/runtest.log"; then
    grep -E '^\[(err|exception)\]|^!!!' -A3 "$WORK/runtest.log" | head -60
    cp "$WORK/runtest.log" "${TMPDIR:-/tmp}/compozy-redis-runtest-$ARCH.log"
    echo "$0: Redis's tests failed (log: ${TMPDIR:-/tmp}/compozy-redis-runtest-$ARCH.log); nothing replaced" >&2
    exit 1
  fi
else
  SUMMARY="not run: a $ARCH binary cross-built on $NATIVE cannot run here"
fi

log "install into $OUT"
SHA=$(sha256sum "$BIN" | cut -d' ' -f1)
mkdir -p "$OUT"
{
  echo "# The redis-server next to this file: what it is built from and how it was checked."
  echo "# Written by tools/redis-server/build.sh; RedisBinary refuses to run a binary whose SHA-256 differs."
  echo "description=$UPSTREAM with Debian security fixes $REVISION"
  echo "redis.version=$UPSTREAM"
  echo "source.package=redis $DEB_VERSION ($SUITE)"
  echo "source.dsc.sha256=$(sha256sum "$WORK/src/$DSC" | cut -d' ' -f1)"
  echo "debian.revision=$REVISION"
  echo "patches=$(echo "$PATCHES" | paste -sd, -)"
  echo "patches.not.applied=$UNAPPLIED (Debian packaging for the system's shared jemalloc)"
  echo "openssl=OpenSSL ${SSL_VERSION%%-*} (libssl-dev $SSL_VERSION of $SUITE, linked statically)"
  echo "libc=$LIBC"
  echo "platform=linux-$ARCH"
  echo "build.flags=BUILD_TLS=yes MALLOC=jemalloc (bundled deps/jemalloc, deps/lua, deps/hiredis) static, $HARDEN"
  echo "build.compiler=$("$CC" --version | head -1)"
  echo "build.date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "runtest.units=${UNITS[*]}"
  [ "$ARCH" = "$NATIVE" ] && echo "runtest.skipped=$(printf '%s; ' "${NOT_FOR_7_0[@]}")(payloads in Redis 7.4's RDB format)"
  echo "runtest.summary=$SUMMARY"
  echo "size=$(stat -c %s "$BIN")"
  echo "sha256=$SHA"
} >"$WORK/redis-server.provenance"
# Binary first, then the provenance that vouches for it: each by rename, so a half-written file never lands.
install -m 0755 "$BIN" "$OUT/.redis-server.new" && mv -f "$OUT/.redis-server.new" "$OUT/redis-server"
install -m 0644 "$WORK/redis-server.provenance" "$OUT/.provenance.new" && mv -f "$OUT/.provenance.new" "$OUT/redis-server.provenance"
cat "$OUT/redis-server.provenance"
