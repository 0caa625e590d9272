#!/usr/bin/env bash
# Build the lab's images locally: no registry is reachable, so the base image comes from debootstrap.
# Each image is tagged with a hash of its build context; an existing tag is reused, never rebuilt.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
base=natloop-lab/base:bookworm
log() { printf '[images] %s\n' "$*"; }

mirror() {
  # The Debian mirror this machine already uses (deb822 or one-line sources).
  local uri
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

if ! docker image inspect "$base" >/dev/null 2>&1; then
  log "bootstrapping $base with debootstrap from $(mirror)"
  root=$(mktemp -d /tmp/natloop-base.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase --include=python3 bookworm "$root" "$(mirror)" >/tmp/natloop-debootstrap.log 2>&1 \
    || { tail -20 /tmp/natloop-debootstrap.log >&2; exit 1; }
  # Inside builds apt must use the same mirror the host reaches.
  echo "deb $(mirror) bookworm main" >"$root/etc/apt/sources.list"
  tar -C "$root" -c . | docker import -c 'CMD ["/bin/bash"]' - "$base" >/dev/null
  rm -rf "$root"; trap - EXIT
fi

# build NAME CONTEXT_DIR [DOCKERFILE [TAG]]: tag NAME:<hash of context + parent image id>, plus
# NAME:TAG (default lab).
build() {
  local name=$1 ctx=$2 dockerfile=${3:-$2/Dockerfile} tag=${4:-lab} parent hash
  parent=$(awk 'toupper($1) == "FROM" {print $2; exit}' "$dockerfile")
  # FROM ${BASE_IMAGE}: the ARG's default.
  if [[ $parent == '${'*'}' ]]; then
    parent=$(awk -v arg="${parent:2:-1}" -F= 'toupper($0) ~ "^ARG " arg "=" {print $2; exit}' "$dockerfile")
  fi
  hash=$( (docker image inspect -f '{{.Id}}' "$parent"; cat "$dockerfile"; \
           find "$ctx" -type f -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum | sed "s#$ctx##") \
          | sha256sum | cut -c1-12)
  if ! docker image inspect "$name:$hash" >/dev/null 2>&1; then
    log "building $name:$hash"
    docker build -q -t "$name:$hash" -f "$dockerfile" "$ctx" >/dev/null
  fi
  docker tag "$name:$hash" "$name:$tag"
  # Superseded builds of this image go; the cache keeps only the current one.
  docker images --format '{{.Repository}}:{{.Tag}}' "$name" | grep -vE ":($tag|$hash)\$" | xargs -r docker rmi >/dev/null 2>&1 || true
}

build natloop-lab/node "$here/lab/images/node"
build natloop-lab/dockerhost "$here/lab/images/dockerhost"
for standin in adguardhome pihole; do
  df=$here/tests/standins/docker/$standin/Dockerfile
  [ -f "$df" ] && build "natloop-standin/$standin" "$here/tests/standins" "$df"
done

# Pi-hole rebuilt from real parts (docker-pi-hole's start scripts, Pi-hole core, the real FTL), the
# peer next to the project: the lab's Pi-hole scenarios run on it when it is there, on the stand-in
# otherwise. Its context is the peers folder (the Dockerfile takes ../pihole-ftl/pihole-FTL); only
# the two folders it reads are copied, so nothing else there is sent to Docker or hashed.
# In a git worktree the peer sits next to the main checkout instead.
peer=${NATLOOP_PIHOLE_IMAGE_DIR:-${NATLOOP_PEERS:-$here/../shared/peers}/pihole-image}
if [ -z "${NATLOOP_PIHOLE_IMAGE_DIR:-}" ] && [ ! -d "$peer" ]; then
  common=$(git -C "$here" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
  [ -n "$common" ] && [ -d "$(dirname "$common")/../shared/peers/pihole-image" ] \
    && peer=$(dirname "$common")/../shared/peers/pihole-image
fi
if [ -f "$peer/Dockerfile" ] && [ -x "$peer/../pihole-ftl/pihole-FTL" ]; then
  peer=$(cd "$peer" && pwd)
  ctx=$(mktemp -d /tmp/natloop-pihole-real.XXXXXX)
  trap 'rm -rf "$ctx"' EXIT
  cp -a "$peer" "$ctx/pihole-image"
  mkdir "$ctx/pihole-ftl" && cp -a "$peer/../pihole-ftl/pihole-FTL" "$ctx/pihole-ftl/"
  build natloop-peer/pihole "$ctx" "$ctx/pihole-image/Dockerfile" real
  rm -rf "$ctx"; trap - EXIT
  log "Pi-hole scenarios: natloop-peer/pihole:real, built from $peer"
else
  docker rmi natloop-peer/pihole:real >/dev/null 2>&1 || true
  log "Pi-hole scenarios: the stand-in natloop-standin/pihole:lab (no real-parts build context at $peer;" \
      "set NATLOOP_PIHOLE_IMAGE_DIR to the pihole-image folder to use it)"
fi
log "ready: $(docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^natloop-(lab|standin|peer)/' | grep -E ':(lab|bookworm|real)$' | tr '\n' ' ')"
