#!/usr/bin/env bash
# Builds the dockpold image, dockpol/dockpold:VERSION, against the local dockerd
# (DOCKER_HOST is honoured): FROM scratch with statically linked dockpold and
# dockpolc, a numeric non-root user, and a healthcheck that needs no shell.
#
# usage: build-image.sh [VERSION]          (default: the meson project version)
# env:   DOCKPOLD, DOCKPOLC   static binaries to use (default: build them in build-static)
#        BUILD_DIR            meson build dir for the static build (default: <repo>/build-static)
#        IMAGE                image name (default: dockpol/dockpold)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
version=${1:-$(sed -n "s/^ *version : '\([^']*\)'.*/\1/p" "$repo/meson.build" | head -1)}
image=${IMAGE:-dockpol/dockpold}
build_dir=${BUILD_DIR:-$repo/build-static}
# Scratch images carry nothing else: the limit keeps the binaries honest.
max_image_bytes=$((20 * 1024 * 1024))
# The image's user: nobody on the host has this uid; 65532 is the usual "nonroot".
uid=65532

die() { echo "build-image.sh: $*" >&2; exit 1; }

if [ -z "${DOCKPOLD:-}" ] || [ -z "${DOCKPOLC:-}" ]; then
    # Static link: the image has no libc, no libssl, no loader. fmt is header-only
    # (FMT_HEADER_ONLY) and OpenSSL comes from libssl-dev's .a files.
    if [ ! -f "$build_dir/build.ninja" ]; then
        meson setup "$build_dir" "$repo" --prefer-static -Ddefault_library=static \
            -Dcpp_link_args=-static -Dbuildtype=release -Db_ndebug=true >/dev/null
    fi
    ninja -C "$build_dir" -j2 sidecar/dockpold dsl/dockpolc >/dev/null
    DOCKPOLD=$build_dir/sidecar/dockpold
    DOCKPOLC=$build_dir/dsl/dockpolc
fi

for b in "$DOCKPOLD" "$DOCKPOLC"; do
    [ -x "$b" ] || die "$b is not an executable"
    # ldd prints "not a dynamic executable" (and exits 1) for static binaries.
    linkage=$(LC_ALL=C ldd "$b" 2>&1 || true)
    if ! grep -q 'not a dynamic executable' <<<"$linkage"; then
        die "$b is dynamically linked; a FROM scratch image cannot run it"
    fi
done

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/rootfs/etc" "$ctx/rootfs/tmp"
chmod 1777 "$ctx/rootfs/tmp"
strip -o "$ctx/rootfs/dockpold" "$DOCKPOLD"
strip -o "$ctx/rootfs/dockpolc" "$DOCKPOLC"
# Names for the numeric ids, so the audit log and `docker top` show them.
printf 'root:x:0:0:root:/:/nonexistent\ndockpold:x:%d:%d:dockpold:/:/nonexistent\n' "$uid" "$uid" > "$ctx/rootfs/etc/passwd"
printf 'root:x:0:\ndockpold:x:%d:\n' "$uid" > "$ctx/rootfs/etc/group"

cat > "$ctx/Dockerfile" <<DOCKERFILE
FROM scratch
COPY rootfs/ /
LABEL org.opencontainers.image.title="dockpold" \\
      org.opencontainers.image.version="$version" \\
      org.opencontainers.image.description="dockpol: policy-as-code access control for the Docker Engine API" \\
      org.dockpol.sidecar="true"
USER $uid:$uid
EXPOSE 9998
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \\
    CMD ["/dockpold", "probe", "http://127.0.0.1:9999/readyz"]
ENTRYPOINT ["/dockpold"]
DOCKERFILE

DOCKER_BUILDKIT=0 docker build -q -t "$image:$version" "$ctx" >/dev/null
size=$(docker image inspect -f '{{.Size}}' "$image:$version")
if [ "$size" -gt "$max_image_bytes" ]; then
    die "$image:$version is $size bytes; the limit is $max_image_bytes"
fi
echo "$image:$version ($size bytes)"
