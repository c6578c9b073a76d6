#!/bin/sh
# bench/compare.sh [BUILD] - wholeself against Hugo (Debian's package, the
# same machine, the same run) on the generated team repositories: person
# pages, the directory, strength pages and a feed, with and without git
# dates (--enableGitInfo). Prints medians and the ratios.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
bin="$build/wholeself"
sizes=${BENCH_SIZES:-"1000 10000"}
if ! command -v hugo >/dev/null 2>&1; then
  WS_EXTRA_PKGS=hugo ./.ci/deps
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. ./bench/lib.sh
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }

# A Hugo site over the same files: a clone with a work tree (Hugo reads files
# and runs git for --enableGitInfo), people/ as the content folder.
hugo_site() {
  site=$1
  mkdir -p "$site/layouts/_default" "$site/layouts/partials"
  cat >"$site/hugo.toml" <<'TOML'
baseURL = "https://team.example.org/"
title = "Team"
contentDir = "people"
disableKinds = ["section", "robotsTXT"]
[taxonomies]
  strength = "strengths"
[outputs]
  home = ["HTML", "RSS"]
TOML
  cat >"$site/layouts/_default/baseof.html" <<'HTML'
<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>
<body><main>{{ block "main" . }}{{ end }}</main></body></html>
HTML
  cat >"$site/layouts/partials/card.html" <<'HTML'
<li><a href="{{ .RelPermalink }}">{{ .Params.name }}</a> {{ .Params.pronouns }} {{ .Params.role }} {{ .Params.team }}
<ul>{{ range first 3 (.Params.strengths | default slice) }}<li>{{ . }}</li>{{ end }}</ul></li>
HTML
  cat >"$site/layouts/_default/single.html" <<'HTML'
{{ define "main" }}<h1>{{ .Params.name }}</h1><p>{{ .Params.role }} · {{ .Params.team }}</p>
<ul>{{ range .Params.strengths }}<li><a href="{{ (printf "/strengths/%s/" (urlize .)) }}">{{ . }}</a></li>{{ end }}</ul>
{{ with .GitInfo }}<p>last updated {{ .AuthorDate.Format "2006-01-02" }} by {{ .AuthorName }}</p>{{ end }}
{{ .Content }}{{ end }}
HTML
  cat >"$site/layouts/_default/list.html" <<'HTML'
{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}{{ partial "card.html" . }}{{ end }}</ul>{{ end }}
HTML
  cp "$site/layouts/_default/list.html" "$site/layouts/index.html"
}

for n in $sizes; do
  c=$((n * 5))
  repo="$build/bench/repo-$n-$c"
  ./bench/gen-repo -n "$n" -c "$c" "$repo" >&2
  site="$tmp/hugo-$n"
  git clone -q "$repo" "$site"
  hugo_site "$site"
  runs=5
  [ "$n" -ge 10000 ] && runs=3
  h="" hg="" w="" wc="" wn="" he="" we="" we2=""
  hrss=0 wrss=0
  cache=$(git -C "$repo" rev-parse --absolute-git-dir)/wholeself
  one_commit "$repo"
  one_commit "$repo" bench-edit bench-edit-2 3
  git -C "$site" fetch -q origin bench-edit
  for i in $(seq "$runs"); do
    rm -rf "$site/resources"
    next_dir
    h="$h $(wall hugo --quiet -s "$site" -d "$dir")"
    r=$(cat "$tmp/rss"); [ "$r" -gt "$hrss" ] && hrss=$r
    rm -rf "$site/resources"
    next_dir
    hg="$hg $(wall hugo --quiet --enableGitInfo -s "$site" -d "$dir")"
    rm -rf "$cache"
    next_dir
    w="$w $(wall "$bin" build -C "$repo" --out "$dir" --quiet)"
    r=$(cat "$tmp/rss"); [ "$r" -gt "$wrss" ] && wrss=$r
    next_dir
    wc="$wc $(wall "$bin" build -C "$repo" --out "$dir" --quiet)"
    next_dir
    wn="$wn $(wall "$bin" build -C "$repo" --out "$dir" --quiet --no-history)"
    # A push that changes one profile: Hugo builds the new commit again;
    # wholeself rebuilds the published site of the commit before.
    git -C "$site" checkout -q FETCH_HEAD
    rm -rf "$site/resources"
    next_dir
    he="$he $(wall hugo --quiet --enableGitInfo -s "$site" -d "$dir")"
    git -C "$site" checkout -q -
    next_dir
    "$bin" build -C "$repo" --out "$dir" --quiet
    "$bin" build -C "$repo" --out "$dir" --quiet
    we="$we $(wall "$bin" build -C "$repo" --ref bench-edit --out "$dir" --quiet)"
    # The next push, into a folder whose two halves are both recorded
    # (see bench/build.sh); Hugo's figure stays its full build.
    we2="$we2 $(wall "$bin" build -C "$repo" --ref bench-edit-2 --out "$dir" --quiet)"
  done
  H=$(median $h) HG=$(median $hg) W=$(median $w) WC=$(median $wc) WN=$(median $wn)
  HE=$(median $he) WE=$(median $we) WE2=$(median $we2)
  echo "profiles $n, commits $c (median of $runs runs, seconds; ratio = Hugo / wholeself)"
  printf '  %-46s %8s %8s %7s\n' "" "Hugo" "ours" "ratio" \
    "cold build with git dates (Hugo --enableGitInfo)" "$HG" "$W" "$(ratio "$HG" "$W")" \
    "history cached vs Hugo without git dates" "$H" "$WC" "$(ratio "$H" "$WC")" \
    "no history vs Hugo without git dates" "$H" "$WN" "$(ratio "$H" "$WN")" \
    "one-profile commit (Hugo: full build, git dates)" "$HE" "$WE" "$(ratio "$HE" "$WE")" \
    "  the next one (a second push)" "$HE" "$WE2" "$(ratio "$HE" "$WE2")"
  printf '  %-46s %8s %8s %7s\n' "peak RSS (MB)" "$((hrss / 1024))" "$((wrss / 1024))" \
    "$(awk -v a="$wrss" -v b="$hrss" 'BEGIN { printf "%.0f%%", (b > 0 ? 100 * a / b : 0) }')"
  rm -rf "$site"
done
