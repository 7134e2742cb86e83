#!/usr/bin/env bash
# createDevices.sh FROM TO — the tutorial's script name, now a thin wrapper over ltk:
# makes device keys, registers the devices and appends them to devicelist.csv.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 FROM TO [ltk devices create flags]   e.g. $0 1 100" >&2
  exit 2
fi
. "$(dirname "${BASH_SOURCE[0]}")/ltk.sh"
exec "$LTK" devices create "$@"
