#!/usr/bin/env bash
# Merges the calibration sweep: for every grid point of CAL_DIR (point-NNNN/,
# written by calibrate.sbatch) and every model in it, one row with the point,
# its overrides, the model's parameters and its validation summary across
# portfolios (from point-NNNN/validate.json, the output of imvar validate --json).
# Writes CAL_DIR/calibration.csv and CAL_DIR/calibration.json (a list of the
# same rows). With GRID, exactly its points are expected (a missing one is an
# error); without, every point-* directory is taken.
# Needs only bash and a POSIX awk (the JSON is parsed by a small tokenizer).
# This is the stand-in for the merge of 'imvar calibrate', still to come.
# usage: merge-calibration.sh CAL_DIR [GRID]
set -euo pipefail
dir=${1:?usage: merge-calibration.sh CAL_DIR [GRID]}
grid=${2:-}
list=$dir/.merge-list.$$
trap 'rm -f "$list" "$dir/calibration.csv.tmp.$$" "$dir/calibration.json.tmp.$$"' EXIT

: >"$list"
if [ -n "$grid" ]; then
  n=$(awk '!/^[[:space:]]*(#|$)/' "$grid" | wc -l)
  for ((i = 0; i < n; i++)); do printf '%s/point-%04d\n' "$dir" "$i"; done
else
  find "$dir" -mindepth 1 -maxdepth 1 -type d -name 'point-[0-9]*' | sort
fi | while read -r p; do
  [ -s "$p/validate.json" ] || { echo "merge-calibration: $p/validate.json: missing (did every array task succeed?)" >&2; exit 1; }
  params=$(head -n 1 "$p/params.txt" 2>/dev/null | tr -s ' \t' '  ' || true)
  # One portfolio row per line is the layout imvar prints; dropping those rows
  # first only saves time (the tokenizer below parses any layout).
  printf '%s\t%s\t%s\n' "${p##*/point-}" "$params" "$p/validate.json"
done >>"$list"
[ -s "$list" ] || { echo "merge-calibration: no grid point in $dir" >&2; exit 1; }

awk -v csv="$dir/calibration.csv.tmp.$$" -v json="$dir/calibration.json.tmp.$$" '
function jstr(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s); return "\"" s "\"" }
function cstr(s) { if (s ~ /[",\n]/ || s ~ /^[[:space:]]|[[:space:]]$/) { gsub(/"/, "\"\"", s); return "\"" s "\"" } return s }
# A JSON string token to its text (the escapes imvar may print).
function unq(t) {
  t = substr(t, 2, length(t) - 2)
  gsub(/\\"/, "\"", t); gsub(/\\\//, "/", t); gsub(/\\\\/, "\\", t)
  return t
}
function fail(msg) { print "merge-calibration: " file ": " msg > "/dev/stderr"; bad = 1; exit 1 }
# One finished model object: its scalars (mk/mv) and summary (sk/sv) as a row.
function emit(   i, k, line, jl) {
  if (!header) {
    header = "point,params"
    for (i = 1; i <= nm; i++) { cols_m[i] = mk[i]; header = header "," (mk[i] == "name" ? "model" : mk[i]) }
    ncm = nm
    for (i = 1; i <= ns; i++) { cols_s[i] = sk[i]; header = header "," sk[i] }
    ncs = ns
    print header > csv
  }
  for (i = 1; i <= nm; i++) mval[mk[i]] = mv[i]
  for (i = 1; i <= ns; i++) sval[sk[i]] = sv[i]
  line = (point + 0) "," cstr(params)
  jl = "{\"point\": " (point + 0) ", \"params\": " jstr(params)
  for (i = 1; i <= ncm; i++) {
    k = cols_m[i]
    if (!(k in mval)) fail("model without " k)
    line = line "," cstr(mval[k] ~ /^"/ ? unq(mval[k]) : mval[k])
    jl = jl ", " jstr(k == "name" ? "model" : k) ": " mval[k]
  }
  for (i = 1; i <= ncs; i++) {
    k = cols_s[i]
    if (!(k in sval)) fail("summary without " k)
    line = line "," cstr(sval[k] ~ /^"/ ? unq(sval[k]) : (sval[k] == "null" ? "" : sval[k]))
    jl = jl ", " jstr(k) ": " sval[k]
  }
  print line > csv
  printf "%s%s}", (rows++ ? ",\n  " : "[\n  "), jl > json
  split("", mval); split("", sval)
}
# Parses one file token by token, tracking the container stack: typ[d] is
# "{" or "[", key[d] the current key of the object at depth d.
function parse(f,   buf, line, t, d, want_key, pend, m) {
  d = 0; want_key = 0; pend = ""; seen = 0
  while ((getline line < f) > 0) {
    if (line ~ /^[[:space:]]*\{"id": .*\},?[[:space:]]*$/ && d >= 4) continue
    while (line != "") {
      sub(/^[[:space:]]+/, "", line)
      if (line == "") break
      if (match(line, /^"([^"\\]|\\.)*"/)) t = substr(line, 1, RLENGTH)
      else if (match(line, /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/)) t = substr(line, 1, RLENGTH)
      else if (match(line, /^(true|false|null)/)) t = substr(line, 1, RLENGTH)
      else if (match(line, /^[][{}:,]/)) t = substr(line, 1, 1)
      else fail("not JSON near: " substr(line, 1, 40))
      line = substr(line, RLENGTH + 1)
      if (t == "{" || t == "[") {
        d++; typ[d] = t; key[d] = ""; want_key = (t == "{")
        if (d == 3 && key[1] == "models" && t == "{") { nm = 0; ns = 0; split("", mk); split("", sk) }
      } else if (t == "}" || t == "]") {
        if (d == 3 && key[1] == "models" && t == "}") { emit(); seen++ }
        d--; want_key = 0
      } else if (t == ",") {
        want_key = (typ[d] == "{")
      } else if (t == ":") {
        want_key = 0
      } else if (want_key) {
        key[d] = unq(t)
      } else if (d == 3 && key[1] == "models") {
        mk[++nm] = key[3]; mv[nm] = t
      } else if (d == 4 && key[1] == "models" && key[3] == "summary") {
        sk[++ns] = key[4]; sv[ns] = t
      }
    }
  }
  close(f)
  if (d != 0) fail("truncated JSON")
  if (!seen) fail("no model in it")
}
{
  split($0, a, "\t"); point = a[1]; params = a[2]; file = a[3]
  parse(file)
}
END {
  if (bad) exit 1
  printf "\n]\n" > json
}' FS='\t' "$list"
mv -f "$dir/calibration.csv.tmp.$$" "$dir/calibration.csv"
mv -f "$dir/calibration.json.tmp.$$" "$dir/calibration.json"
echo "merge-calibration: $(($(wc -l <"$dir/calibration.csv") - 1)) rows ($(wc -l <"$list") points) -> $dir/calibration.csv, $dir/calibration.json"
