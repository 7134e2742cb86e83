# ltk.sh — sourced by the scripts: sets LTK to the ltk binary to run: $LTK if
# set, else bin/ltk of this checkout (make build), else ltk on PATH (make install).
if [ -z "${LTK:-}" ]; then
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  if [ -x "$here/../bin/ltk" ]; then
    LTK="$here/../bin/ltk"
  elif command -v ltk >/dev/null 2>&1; then
    LTK=ltk
  else
    echo "ltk not found: run 'make build' (bin/ltk) or 'make install' (ltk on PATH), or set LTK=/path/to/ltk" >&2
    exit 2
  fi
fi
