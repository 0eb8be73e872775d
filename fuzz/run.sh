#!/usr/bin/env bash
# Fuzzes the feed parsers for a few minutes each (see README, "Fuzzing").
#   fuzz/run.sh [SECONDS_PER_TARGET]      default 180
# Needs cargo-fuzz (`cargo install cargo-fuzz`); on a stable toolchain it runs with
# RUSTC_BOOTSTRAP=1 and without sanitizer (Rust code is memory-safe; libFuzzer still finds
# panics, overflows in debug assertions, hangs and runaway memory).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
seconds="${1:-180}"
seed="$(mktemp -d)"
python3 ../tests/datasets/gen_dataset.py --preset school --out "$seed" >/dev/null
mkdir -p corpus/onde corpus/aaf_reader corpus/aaf_feed
school="$(ls -d "$seed"/onde/*/ | head -1)"
{ cat "$school/CSVExtraction-eleves.csv"; printf '\n====\n'; cat "$school/CSVExtraction-responsables.csv"; } > corpus/onde/school
head -c 20000 "$seed"/aaf/*_Eleve_0000.xml > corpus/aaf_reader/eleve
cp "$seed"/aaf/*_EtabEducNat_0000.xml corpus/aaf_reader/etab
{ printf '\x01'; head -c 20000 "$seed"/aaf/*_Eleve_0000.xml; } > corpus/aaf_feed/eleve
for target in onde aaf_reader aaf_feed; do
  echo "== $target ($seconds s)"
  RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1
done
rm -rf "$seed"
