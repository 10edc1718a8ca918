#!/usr/bin/env bash
# Make sure a Docker engine answers: use the running one, or (as root, on Debian/Ubuntu) install
# Debian's docker.io and debootstrap and start dockerd in the background.
set -euo pipefail

if docker info >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "No Docker engine answers, and starting one needs root." >&2
    echo "Start it (sudo dockerd &, or your distribution's service), or run: sudo make test" >&2
    exit 1
fi
if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
    echo "Installing docker.io and debootstrap..." >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
    echo "Starting dockerd in the background (log: /tmp/orch-dockerd.log)..." >&2
    nohup dockerd >/tmp/orch-dockerd.log 2>&1 &
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && exit 0
        sleep 1
    done
    echo "dockerd did not come up; see /tmp/orch-dockerd.log" >&2
    tail -20 /tmp/orch-dockerd.log >&2
    exit 1
fi
