#!/usr/bin/env bash
# Sets everything up and renders the built-in demo to demo.mp4.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./build/gridvid --demo -o demo.mp4 "$@"
echo "wrote demo.mp4"
