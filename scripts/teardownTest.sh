#!/usr/bin/env bash
# teardownTest.sh — the tutorial's script name, now a thin wrapper over ltk:
# deletes what setupTest.sh made (the cluster only if setup created it).
# Pass --yes to skip the question.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/ltk.sh"
exec "$LTK" teardown "$@"
