#!/usr/bin/env bash
# imvar import takes three common exports unedited, in one command: a
# CryptoDataDownload file (URL line above the header, newest first, Unix ms
# and a date column, 'Volume USDT'), a Yahoo Finance BTC-USD file
# (capitalised header, a null row, a plain 'Volume'), and a Coinbase Exchange
# candles file (Unix seconds, newest first, a plain base 'volume'). They are
# reshaped from the shipped Binance data (tests/data/exports/README.md);
# market.h5 must hold exactly the Binance rows: closes, highs, lows, the
# CryptoDataDownload quote volume, gaps where a file has no row or a null one.
# usage: import_exports.sh IMVAR MARKET_DUMP SOURCE_DIR WORKDIR
set -euo pipefail
imvar=$1 dump=$2 src=$3 work=$4
exports=$src/tests/data/exports binance=$src/data/market/btc_usdt_binance_daily.csv
rm -rf "$work" && mkdir -p "$work" && cd "$work"
fail=0
# The committed files are what the generator makes from the Binance data.
mkdir regen && (cd regen && python3 "$exports/make_exports.py" "$binance")
for f in Binance_BTCUSDT_d.csv BTC-USD.csv coinbase_BTC-USD_1d.csv; do
  cmp -s "regen/$f" "$exports/$f" || { echo "$f differs from make_exports.py's output"; fail=1; }
done
"$imvar" import -o m.h5 CDD="$exports/Binance_BTCUSDT_d.csv" YAHOO="$exports/BTC-USD.csv" \
  COINBASE="$exports/coinbase_BTC-USD_1d.csv" >import.log 2>import.err ||
  { echo "import failed"; cat import.err; exit 1; }
"$dump" m.h5 >got.txt
# /high and /low are shaped like /close (h5dump, independent of io's reader).
for d in close high low; do
  h5dump -H -d "/$d" m.h5 | grep -q 'DATASPACE  SIMPLE { ( 3, 91 )' || { echo "/$d shape"; fail=1; }
done
# The expected values, straight from the Binance CSV.
python3 - "$binance" got.txt <<'PY' || fail=1
import csv, datetime, math, sys
rows = {r['date']: r for r in csv.DictReader(open(sys.argv[1]))}
nan = float('nan')
windows = {'CDD': ('2024-01-01', '2024-02-29', True), 'YAHOO': ('2024-01-16', '2024-03-15', False),
           'COINBASE': ('2024-02-01', '2024-03-31', False)}
want = []
for name, (lo, hi, has_volume) in windows.items():
    d = datetime.date(2024, 1, 1)
    while d <= datetime.date(2024, 3, 31):
        s = d.isoformat()
        r = rows[s]
        if lo <= s <= hi and not (name == 'YAHOO' and s == '2024-02-10'):
            v = float(r['volume_quote']) if has_volume else nan
            want.append((name, s, float(r['close']), float(r['high']), float(r['low']), v))
        else:
            want.append((name, s, nan, nan, nan, nan))
        d += datetime.timedelta(days=1)
got = [l.split() for l in open(sys.argv[2])]
same = lambda a, b: (math.isnan(a) and math.isnan(b)) or a == b
bad = [(w, g) for w, g in zip(want, got)
       if list(w[:2]) != g[:2] or not all(same(a, float(b)) for a, b in zip(w[2:], g[2:]))]
if len(got) != len(want) or bad:
    print('market.h5 differs from the Binance rows: %d rows, %d expected; first: %s' %
          (len(got), len(want), bad[:2]))
    sys.exit(1)
print('market.h5: %d values equal the Binance rows' % (4 * len(want)))
PY
# The plain volumes (Yahoo's USD, Coinbase's BTC) are ignored with a warning;
# told that Yahoo's is quote volume, io takes it.
for f in BTC-USD.csv coinbase_BTC-USD_1d.csv; do
  "$dump" --csv "$exports/$f" >plain-volume.txt
  head -1 plain-volume.txt | grep -q "column '[Vv]olume' ignored" ||
    { echo "$f: no warning for the plain volume"; fail=1; }
done
"$dump" --csv "$exports/BTC-USD.csv" --quote >quote.txt
python3 - "$exports/BTC-USD.csv" quote.txt <<'PY' || fail=1
import csv, sys
want = [float(r['Volume']) for r in csv.DictReader(open(sys.argv[1])) if r['Close'] != 'null']
lines = open(sys.argv[2]).read().split('\n')
got = [float(l.split()[4]) for l in lines[1:] if l]
if lines[0] != 'warning: ' or got != want:
    print('Yahoo volume as quote volume: %s, %d values' % (lines[0], len(got)))
    sys.exit(1)
PY
# Told so, a file without a plain volume is refused; without high and low
# columns no /high or /low is written.
printf 'date,close\n2024-01-01,10\n' >plain.csv
"$dump" --csv plain.csv --quote >/dev/null 2>q.err && { echo "--quote without volume accepted"; fail=1; }
grep -q "plain.csv:1: header has no plain 'volume' column" q.err || { echo "message: $(cat q.err)"; fail=1; }
"$imvar" import -o plain.h5 X=plain.csv >/dev/null
h5ls plain.h5 | grep -qE '^(high|low) ' && { echo "/high or /low written without the columns"; fail=1; }
# The CryptoDataDownload file's unix column alone, in milliseconds and in
# microseconds, gives the days its date column gives.
"$dump" --csv "$exports/Binance_BTCUSDT_d.csv" >by-date.txt
for zeros in "" 000; do
  awk -F, -v z="$zeros" 'NR == 2 {print "unix,close"} NR > 2 {print $1 z "," $7}' \
    "$exports/Binance_BTCUSDT_d.csv" >unix.csv
  "$dump" --csv unix.csv | cut -d' ' -f1,2 >by-unix.txt
  cut -d' ' -f1,2 by-date.txt | cmp -s - by-unix.txt || { echo "unix$zeros: other days"; fail=1; }
done
# Binance's plain volume next to its volume_quote: no warning.
"$dump" --csv "$binance" >binance.txt
[ "$(head -1 binance.txt)" = 'warning: ' ] || { echo "Binance CSV warned"; fail=1; }
# market_io refuses a market file whose /high is below its /close (here
# copied from another import with h5copy).
printf 'date,close,high,low\n2024-01-01,5,6,4\n' >hl.csv
"$imvar" import -o hl.h5 X=hl.csv >/dev/null
h5copy -i hl.h5 -o plain.h5 -s /high -d /high
"$dump" plain.h5 >/dev/null 2>hl.err && { echo "a /high below /close read back"; fail=1; }
grep -q 'plain.h5: X on 2024-01-01: /close 10, /low nan and /high 6 are not in order' hl.err ||
  { echo "message: $(cat hl.err)"; fail=1; }
# The command line: the plain-volume warning reaches stderr, --quote-volume
# takes Yahoo's volume (59 days with a close), an unknown name is refused.
"$imvar" import -o w.h5 YAHOO="$exports/BTC-USD.csv" >w.out 2>w.err
grep -q "warning: .*BTC-USD.csv: column 'Volume' ignored.*--quote-volume YAHOO" w.err ||
  { echo "no volume warning: $(cat w.err)"; fail=1; }
"$imvar" import -o q.h5 --quote-volume YAHOO YAHOO="$exports/BTC-USD.csv" >q.out 2>q.err
grep -q ' 59 volumes ' q.out && [ ! -s q.err ] || { echo "--quote-volume: $(cat q.out q.err)"; fail=1; }
rc=0
"$imvar" import -o x.h5 --quote-volume XYZ YAHOO="$exports/BTC-USD.csv" >/dev/null 2>x.err || rc=$?
[ $rc = 3 ] && [ ! -e x.h5 ] && grep -q 'XYZ is not one of the imported underlyings' x.err ||
  { echo "--quote-volume XYZ: rc $rc, $(cat x.err)"; fail=1; }
[ $fail = 0 ] && echo "import exports: ok"
exit $fail
