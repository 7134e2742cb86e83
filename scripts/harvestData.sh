#!/usr/bin/env bash
# harvestData.sh RUN_DIR START END — the tutorial's script name, now a thin wrapper
# over ltk: writes the distributions of driver and function times for the window
# START…END (UTC, e.g. 2026-11-25T20:00:00Z) into $LTK_ROOT/runs/RUN_DIR/.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 RUN_DIR START END [ltk harvest flags]   e.g. $0 100t1 2026-11-25T20:00:00Z 2026-11-25T21:00:00Z" >&2
  exit 2
fi
. "$(dirname "${BASH_SOURCE[0]}")/ltk.sh"
exec "$LTK" harvest "$@"
