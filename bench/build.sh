#!/bin/sh
# bench/build.sh [BUILD] - times whole builds on generated team repositories
# (N profiles, 5N commits; N = 1000 and 10000, or BENCH_SIZES) and prints,
# as medians of several runs: cold build with history, build with the
# history cache, rebuild after a one-profile commit, check alone, peak RSS,
# and the floors of the same run: the cmark CLI over the same Markdown files
# and copying the output folder.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
bin="$build/wholeself"
sizes=${BENCH_SIZES:-"1000 10000"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# median SECONDS... - the middle value
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# wall CMD... - runs CMD, prints its wall time in seconds; peak RSS (KB) in $tmp/rss
wall() {
  /usr/bin/time -f '%e %M' -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" ||
    { cat "$tmp/err" >&2; return 1; }
  cut -d' ' -f2 "$tmp/time" >"$tmp/rss"
  cut -d' ' -f1 "$tmp/time"
}

# A commit on refs/heads/bench-edit that changes one profile, made with git
# plumbing so the benchmark repository's HEAD stays as generated.
one_commit() {
  repo=$1
  file=$(git -C "$repo" ls-tree --name-only HEAD people/ | sed -n 2p)
  git -C "$repo" show "HEAD:$file" >"$tmp/profile.md"
  printf '\nEdited for the benchmark.\n' >>"$tmp/profile.md"
  blob=$(git -C "$repo" hash-object -w "$tmp/profile.md")
  rm -f "$tmp/index"
  GIT_INDEX_FILE="$tmp/index" git -C "$repo" read-tree HEAD
  GIT_INDEX_FILE="$tmp/index" git -C "$repo" update-index --cacheinfo "100644,$blob,$file"
  tree=$(GIT_INDEX_FILE="$tmp/index" git -C "$repo" write-tree)
  commit=$(GIT_AUTHOR_DATE='2030-01-01T00:00:00Z' GIT_COMMITTER_DATE='2030-01-01T00:00:00Z' \
    git -C "$repo" -c user.name=Bench -c user.email=bench@example.org \
    commit-tree "$tree" -p HEAD -m "Edit one profile")
  git -C "$repo" update-ref refs/heads/bench-edit "$commit"
}

for n in $sizes; do
  c=$((n * 5))
  repo="$build/bench/repo-$n-$c"
  ./bench/gen-repo -n "$n" -c "$c" "$repo" >&2
  runs=5
  [ "$n" -ge 10000 ] && runs=3
  out="$tmp/out-$n"
  cache=$(git -C "$repo" rev-parse --absolute-git-dir)/wholeself
  one_commit "$repo"
  cold="" cached="" incr="" chk="" nohist="" rss=0
  for i in $(seq "$runs"); do
    rm -rf "$out" "$out.staging" "$cache"
    cold="$cold $(wall "$bin" build -C "$repo" --out "$out" --quiet)"
    r=$(cat "$tmp/rss"); [ "$r" -gt "$rss" ] && rss=$r
    rm -rf "$out" "$out.staging"
    cached="$cached $(wall "$bin" build -C "$repo" --out "$out" --quiet)"
    nohist="$nohist $(wall "$bin" build -C "$repo" --out "$out" --quiet --no-history)"
    "$bin" build -C "$repo" --out "$out" --quiet
    incr="$incr $(wall "$bin" build -C "$repo" --ref bench-edit --out "$out" --quiet)"
    chk="$chk $(wall "$bin" check -C "$repo")"
  done
  # Floors: the cmark CLI over the same Markdown files; copying the output.
  mkdir -p "$tmp/tree-$n"
  git -C "$repo" archive HEAD people | tar -x -C "$tmp/tree-$n"
  cm="" cp=""
  for i in $(seq "$runs"); do
    cm="$cm $(wall sh -c "cat '$tmp/tree-$n'/people/*.md | cmark")"
    rm -rf "$tmp/copy"
    cp="$cp $(wall cp -R "$out" "$tmp/copy")"
  done
  echo "profiles $n, commits $c (median of $runs runs, seconds)"
  printf '  %-40s %8s\n' \
    "cold build with history" "$(median $cold)" \
    "build with history cached" "$(median $cached)" \
    "build without history" "$(median $nohist)" \
    "rebuild after a one-profile commit" "$(median $incr)" \
    "check alone" "$(median $chk)" \
    "floor: cmark CLI over all profiles" "$(median $cm)" \
    "floor: copying the output folder" "$(median $cp)"
  printf '  %-40s %8s\n' "peak RSS of a cold build (MB)" "$((rss / 1024))"
  rm -rf "$tmp/tree-$n" "$tmp/copy"
done
