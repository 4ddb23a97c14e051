#!/usr/bin/env bash
# Print the path of a working Python X.Y interpreter (a pyenv shim that is not activated does not count).
set -u
want="$1"
candidates=("python$want")
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for d in "$root"/versions/"$want"*/bin/python"$want"; do candidates+=("$d"); done
fi
candidates+=("/usr/bin/python$want" "/usr/local/bin/python$want")
for c in "${candidates[@]}"; do
  if out=$("$c" -c 'import sys; print("%d.%d" % sys.version_info[:2]); print(sys.executable)' 2>/dev/null) \
     && [ "$(echo "$out" | head -1)" = "$want" ]; then
    echo "$out" | tail -1
    exit 0
  fi
done
echo "python$want not found: install it (e.g. 'pyenv install $want') and retry" >&2
exit 1
