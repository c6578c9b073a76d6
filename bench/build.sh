#!/bin/sh
# bench/build.sh [BUILD] - times whole builds on generated team repositories
# (N profiles, 5N commits; N = 1000 and 10000, or BENCH_SIZES) and prints,
# as medians of several runs: cold build with history (no caches, new
# output folder), full build with warm history and profile caches (new
# output folder), full build without history, rebuild after a one-profile
# commit and with nothing changed (incremental), check alone, peak RSS,
# and the floors of the same run: the cmark CLI over the same Markdown files
# and copying the output folder.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
bin="$build/wholeself"
sizes=${BENCH_SIZES:-"1000 10000"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. ./bench/lib.sh

for n in $sizes; do
  c=$((n * 5))
  repo="$build/bench/repo-$n-$c"
  ./bench/gen-repo -n "$n" -c "$c" "$repo" >&2
  runs=5
  [ "$n" -ge 10000 ] && runs=3
  cache=$(git -C "$repo" rev-parse --absolute-git-dir)/wholeself
  one_commit "$repo"
  one_commit "$repo" bench-edit bench-edit-2 3
  cold="" cached="" incr="" steady="" same="" chk="" nohist="" rss=0 irss=0
  fresh() { next_dir; out=$dir; }
  for i in $(seq "$runs"); do
    fresh
    rm -rf "$cache"
    cold="$cold $(wall "$bin" build -C "$repo" --out "$out" --quiet)"
    r=$(cat "$tmp/rss"); [ "$r" -gt "$rss" ] && rss=$r
    fresh
    cached="$cached $(wall "$bin" build -C "$repo" --out "$out" --quiet)"
    fresh
    nohist="$nohist $(wall "$bin" build -C "$repo" --out "$out" --quiet --no-history)"
    # A push: the site of HEAD is published, then one profile changes;
    # then another push (the third and the fourth build into the folder;
    # docs/incremental.md says why they once differed).
    fresh
    "$bin" build -C "$repo" --out "$out" --quiet
    "$bin" build -C "$repo" --out "$out" --quiet
    incr="$incr $(wall "$bin" build -C "$repo" --ref bench-edit --out "$out" --quiet)"
    r=$(cat "$tmp/rss"); [ "$r" -gt "$irss" ] && irss=$r
    steady="$steady $(wall "$bin" build -C "$repo" --ref bench-edit-2 --out "$out" --quiet)"
    same="$same $(wall "$bin" build -C "$repo" --ref bench-edit-2 --out "$out" --quiet)"
    chk="$chk $(wall "$bin" check -C "$repo")"
  done
  # Floors: the cmark CLI over the same Markdown files; copying the output.
  mkdir -p "$tmp/tree-$n"
  git -C "$repo" archive HEAD people | tar -x -m -C "$tmp/tree-$n"
  cm="" cp=""
  for i in $(seq "$runs"); do
    cm="$cm $(wall sh -c "cat '$tmp/tree-$n'/people/*.md | cmark")"
    next_dir
    cp="$cp $(wall cp -R "$out" "$dir")"
  done
  echo "profiles $n, commits $c (median of $runs runs, seconds)"
  printf '  %-40s %8s\n' \
    "cold build with history" "$(median $cold)" \
    "full build, caches warm" "$(median $cached)" \
    "full build without history" "$(median $nohist)" \
    "rebuild after a one-profile commit" "$(median $incr)" \
    "  the next one (a second push)" "$(median $steady)" \
    "rebuild, nothing changed" "$(median $same)" \
    "check alone" "$(median $chk)" \
    "floor: cmark CLI over all profiles" "$(median $cm)" \
    "floor: copying the output folder" "$(median $cp)"
  printf '  %-40s %8s\n' "peak RSS of a cold build (MB)" "$((rss / 1024))" \
    "peak RSS of a one-profile rebuild (MB)" "$((irss / 1024))"
  rm -rf "$tmp/tree-$n"
done
