#!/usr/bin/env bash
# deleteDevices.sh FROM TO | --all — the tutorial's script name, now a thin wrapper over ltk:
# removes the devices from the registry and from devicelist.csv.
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 FROM TO | --all" >&2
  exit 2
fi
. "$(dirname "${BASH_SOURCE[0]}")/ltk.sh"
exec "$LTK" devices delete "$@"
