#!/usr/bin/env bash
# setupTest.sh — the tutorial's script name, now a thin wrapper over ltk:
# creates the GKE cluster (or uses the current kubectl context with --use-context),
# builds and pushes the image, creates the Secrets, deploys the master and the
# worker StatefulSet, and prints the web UI's address. Settings come from .env.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/ltk.sh"
exec "$LTK" setup "$@"
