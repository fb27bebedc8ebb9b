#!/usr/bin/env python3
"""Reshapes 60 rows of the shipped Binance BTC/USDT daily data into the layouts
of three common exports (see README.md). Run from this directory:
    python3 make_exports.py ../../../data/market/btc_usdt_binance_daily.csv
The values are the Binance strings, copied verbatim."""
import calendar
import csv
import datetime
import sys


def rows(path, first, last):
    with open(path, newline='') as f:
        return [r for r in csv.DictReader(f) if first <= r['date'] <= last]


def unix(date):
    return calendar.timegm(datetime.date.fromisoformat(date).timetuple())


def write(name, lines):
    with open(name, 'w', newline='') as f:
        f.write(''.join(line + '\n' for line in lines))


src = sys.argv[1]
# CryptoDataDownload: URL line, their header, newest first, Unix milliseconds.
cdd = rows(src, '2024-01-01', '2024-02-29')
write('Binance_BTCUSDT_d.csv', ['https://www.CryptoDataDownload.com',
      'unix,date,symbol,open,high,low,close,Volume BTC,Volume USDT,tradecount'] +
      ['%d,%s 00:00:00,BTC/USDT,%s,%s,%s,%s,%s,%s,%s' % (
          unix(r['date']) * 1000, r['date'], r['open'], r['high'], r['low'], r['close'],
          r['volume'], r['volume_quote'], r['trade_count']) for r in reversed(cdd)])
# Yahoo Finance BTC-USD: oldest first, volume in USD (an integer), a null row.
yahoo = rows(src, '2024-01-16', '2024-03-15')
write('BTC-USD.csv', ['Date,Open,High,Low,Close,Adj Close,Volume'] +
      ['%s,null,null,null,null,null,null' % r['date'] if r['date'] == '2024-02-10' else
       '%s,%s,%s,%s,%s,%s,%d' % (r['date'], r['open'], r['high'], r['low'], r['close'],
                                 r['close'], round(float(r['volume_quote']))) for r in yahoo])
# Coinbase Exchange candles: time (Unix seconds), low, high, open, close,
# volume (base currency), newest first.
cb = rows(src, '2024-02-01', '2024-03-31')
write('coinbase_BTC-USD_1d.csv', ['time,low,high,open,close,volume'] +
      ['%d,%s,%s,%s,%s,%s' % (unix(r['date']), r['low'], r['high'], r['open'], r['close'],
                              r['volume']) for r in reversed(cb)])
