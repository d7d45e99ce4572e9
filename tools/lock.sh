#!/usr/bin/env bash
# Regenerate requirements.lock: every third-party package that any package of the workspace
# (each libs/*, services/*, tools/* with a pyproject.toml) or requirements-dev.txt needs, pinned
# to one version with its hashes, for Python 3.11 on any platform. `make lock` runs this.
#
# Versions already in the lock are kept unless a requirement no longer allows them; pass
# --upgrade (make lock-upgrade) to move everything to the newest allowed versions, or
# --upgrade-package NAME for one.
set -euo pipefail
cd "$(dirname "$0")/.."
uv=${UV:-.venv/bin/uv}

projects=$(ls -d libs/*/pyproject.toml services/*/pyproject.toml tools/*/pyproject.toml 2>/dev/null)
inputs=("-r requirements-dev.txt")
skip=()
for project in $projects; do
  folder=${project%/pyproject.toml}
  inputs+=("-e ./$folder")
  # The workspace's own packages are installed from their folders, so they are not locked.
  name=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$project" | head -n 1)
  skip+=(--no-emit-package "$name")
done

printf '%s\n' "${inputs[@]}" | "$uv" pip compile - \
  --universal --python-version 3.11 --generate-hashes \
  --custom-compile-command "make lock" "${skip[@]}" \
  --quiet -o requirements.lock "$@"
echo "requirements.lock: $(grep -c '^[a-z0-9].*==' requirements.lock) packages"
