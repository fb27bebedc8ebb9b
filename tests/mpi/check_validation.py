#!/usr/bin/python3
"""The validation datasets of a results.h5, checked against its own exceedance
flags, so that a validate that writes nothing, or writes empty rows, fails.

  check_validation.py strip SRC DST   copy SRC to DST without any validation*
                                      or summary* dataset (validate must
                                      write them again)
  check_validation.py check FILE      for every model and each of its
                                      exceedance series (exceed, and
                                      exceed_total where present): validation
                                      has one row per portfolio whose n_obs
                                      and n_exceed are the counts of flags
                                      >= 0 and == 1 (DESIGN.md: 1 exceedance,
                                      0 covered, -1 not observed), p-values
                                      in [0, 1]; summary has one row whose
                                      totals are the rows' sums; h > 1 has
                                      validation_subsamples [P][h]; and the
                                      file as a whole has observations and
                                      exceedances.
Prints what it checked; exit 0 if all holds, 1 otherwise.
"""
import shutil
import sys

import h5py
import numpy as np

SERIES = (("exceed", "validation", "summary"),
          ("exceed_total", "validation_total", "summary_total"))


def strip(src, dst):
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        for name, g in f["models"].items():
            for key in list(g.keys()):
                if key.startswith(("validation", "summary")):
                    del g[key]
                    print(f"strip: removed models/{name}/{key}")


def check_series(g, name, flags_name, val_name, sum_name, errors):
    flags = g[flags_name][...]
    P = flags.shape[0]
    where = f"models/{name}/{val_name}"
    if val_name not in g or sum_name not in g:
        errors.append(f"{where} or {sum_name}: missing")
        return 0, 0
    rows = g[val_name][...]
    if rows.shape != (P,):
        errors.append(f"{where}: shape {rows.shape}, want ({P},)")
        return 0, 0
    n_obs = (flags >= 0).sum(axis=1)
    n_exc = (flags == 1).sum(axis=1)
    if not np.array_equal(rows["n_obs"], n_obs):
        errors.append(f"{where}: n_obs {rows['n_obs'].tolist()} != flag counts {n_obs.tolist()}")
    if not np.array_equal(rows["n_exceed"], n_exc):
        errors.append(f"{where}: n_exceed {rows['n_exceed'].tolist()} "
                      f"!= flag counts {n_exc.tolist()}")
    for p in ("p_uc", "p_ind", "p_cc"):
        v = rows[p][~np.isnan(rows[p])]
        if v.size == 0 or v.min() < 0 or v.max() > 1:
            errors.append(f"{where}: {p} empty or outside [0, 1]")
    s = g[sum_name][...]
    if s.shape != (1,):
        errors.append(f"models/{name}/{sum_name}: shape {s.shape}, want (1,)")
        return int(n_obs.sum()), int(n_exc.sum())
    for field, want in (("n_portfolios", P), ("n_obs", n_obs.sum()), ("n_exceed", n_exc.sum())):
        if s[field][0] != want:
            errors.append(f"models/{name}/{sum_name}: {field} {s[field][0]}, want {want}")
    h = int(g.attrs["horizon_days"])
    sub = val_name.replace("validation", "validation_subsamples")
    if h > 1 and flags_name == "exceed" and (sub not in g or g[sub].shape != (P, h)):
        errors.append(f"models/{name}/{sub}: missing or not [{P}][{h}]")
    return int(n_obs.sum()), int(n_exc.sum())


def check(path):
    errors, obs, exc, series = [], 0, 0, 0
    with h5py.File(path, "r") as f:
        for name, g in f["models"].items():
            for flags_name, val_name, sum_name in SERIES:
                if flags_name not in g:
                    continue
                o, e = check_series(g, name, flags_name, val_name, sum_name, errors)
                obs, exc, series = obs + o, exc + e, series + 1
    if series == 0 or obs == 0 or exc == 0:
        errors.append(f"{series} series, {obs} observations, {exc} exceedances: "
                      "nothing to validate")
    for e in errors:
        print(f"check_validation: {path}: {e}")
    print(f"check_validation: {path}: {series} series, {obs} observations, {exc} exceedances, "
          f"{len(errors)} problems")
    return 1 if errors else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "strip":
        strip(argv[2], argv[3])
        return 0
    if len(argv) == 3 and argv[1] == "check":
        return check(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
