#!/usr/bin/env bash
# Make a fresh Debian 12 machine (root, no systemd) able to run the lab:
# Debian's docker.io + debootstrap, a running dockerd, and the project venv.
# Re-running reuses what is there.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
venv=${NATLOOP_VENV:-$here/.venv}

log() { printf '[bootstrap] %s\n' "$*"; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_pkgs+=(debootstrap)
command -v iptables >/dev/null 2>&1 || need_pkgs+=(iptables)
# Unit tests validate real dnsmasq drop-ins and nftables rulesets (nft in a private netns).
command -v dnsmasq >/dev/null 2>&1 || need_pkgs+=(dnsmasq-base)
command -v nft >/dev/null 2>&1 || need_pkgs+=(nftables)
# The OpenWrt peer (../shared/peers/openwrt: real uci, ucode, firewall4) links Debian's json-c;
# its tests also need iproute2 (ip netns) and util-linux (unshare).
dpkg-query -W -f='${Status}' libjson-c5 2>/dev/null | grep -q 'ok installed' || need_pkgs+=(libjson-c5)
command -v ip >/dev/null 2>&1 || need_pkgs+=(iproute2)
command -v unshare >/dev/null 2>&1 || need_pkgs+=(util-linux)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "bootstrap: need root to install ${need_pkgs[*]}" >&2; exit 1; }
  log "installing Debian packages: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# Debian's client speaks to Debian's daemon; a newer client elsewhere on PATH negotiates down anyway.
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd (no systemd here)"
  setsid dockerd >/var/log/dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "bootstrap: dockerd did not start, see /var/log/dockerd.log" >&2; exit 1; }
fi

stamp=$venv/.requirements.sha256
want=$(cat "$here"/requirements/*.txt | sha256sum | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "creating venv $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -r "$here/requirements/controller.txt"
  echo "$want" >"$stamp"
fi
log "ready: $(docker version --format 'docker {{.Server.Version}} API {{.Server.APIVersion}}'), $("$venv/bin/ansible" --version | sed -n 1p)"
