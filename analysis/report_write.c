/* imvar report: writing report.html, summary.json and the CSV tables. Every
 * number is written once with %.17g in a data-v attribute (HTML), as a JSON
 * number or as a CSV cell, and shown rounded: the three files carry the same
 * numbers as results.h5 (and imvar validate --json). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5util.h"
#include "report.h"

void rp_side_path(const char *html, const char *name, char *out, size_t len) {
  const char *slash = strrchr(html, '/');
  if (!slash)
    snprintf(out, len, "%s", name);
  else
    snprintf(out, len, "%.*s/%s", (int)(slash - html), html, name);
}

/* ---- escaping ---- */

/* Text and attribute values: & < > " ' escaped; control characters (other
 * than tab and newline) become U+FFFD. */
static void h(FILE *f, const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    switch (c) {
      case '&': fputs("&amp;", f); break;
      case '<': fputs("&lt;", f); break;
      case '>': fputs("&gt;", f); break;
      case '"': fputs("&quot;", f); break;
      case '\'': fputs("&#39;", f); break;
      default:
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
          fputs("\xef\xbf\xbd", f);
        else
          fputc(c, f);
    }
  }
}

/* A CSV cell: quoted when it holds a comma, quote, CR or LF. */
static void cstr(FILE *f, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

static void cnum(FILE *f, double v) {
  if (isfinite(v))
    fprintf(f, "%.17g", v);
}

/* ---- number formats shown to people ---- */

static const char *DASH = "\xe2\x80\x93"; /* en dash: undefined */

static void fmt_fixed(char *b, size_t n, double v, int prec) {
  if (!isfinite(v))
    snprintf(b, n, "%s", DASH);
  else
    snprintf(b, n, "%.*f", prec, v + 0.0); /* + 0.0: no "-0.0000" */
}

/* USD with thousands separators; cents below 100. */
static void fmt_usd(char *b, size_t n, double v) {
  if (!isfinite(v)) {
    snprintf(b, n, "%s", DASH);
    return;
  }
  if (fabs(v) < 100) {
    snprintf(b, n, "%.2f", v + 0.0);
    return;
  }
  char raw[64];
  snprintf(raw, sizeof raw, "%.0f", fabs(v));
  size_t l = strlen(raw), o = 0;
  char out[96];
  if (v < 0)
    out[o++] = '-';
  for (size_t i = 0; i < l && o < sizeof out - 2; i++) {
    if (i && (l - i) % 3 == 0)
      out[o++] = ',';
    out[o++] = raw[i];
  }
  out[o] = '\0';
  snprintf(b, n, "%s", out);
}

static void fmt_pct(char *b, size_t n, double v, int prec, int sign) {
  if (!isfinite(v))
    snprintf(b, n, "%s", DASH);
  else
    snprintf(b, n, sign ? "%+.*f%%" : "%.*f%%", prec, 100 * v + 0.0);
}

void rp_date_str(char *b, size_t n, int32_t d) {
  snprintf(b, n, "%04d-%02d-%02d", (int)(d / 10000), (int)(d / 100 % 100), (int)(d % 100));
}

/* ---- HTML pieces ---- */

/* A table cell with its exact value: <td data-f="key" data-v="%.17g">shown</td>. */
static void td_num(FILE *f, const char *key, double v, const char *shown) {
  fprintf(f, "<td data-f=\"%s\" data-v=\"", key);
  if (isfinite(v))
    fprintf(f, "%.17g", v);
  fputs("\">", f);
  h(f, shown);
  fputs("</td>", f);
}

static void td_int(FILE *f, const char *key, int64_t v) {
  fprintf(f, "<td data-f=\"%s\" data-v=\"%lld\">%lld</td>", key, (long long)v, (long long)v);
}

static void td_zone(FILE *f, const char *key, int z) {
  fprintf(f, "<td data-f=\"%s\" data-v=\"%s\" class=\"z-%s\">%s</td>", key,
          z >= 0 ? rp_zone_name(z) : "", z >= 0 ? rp_zone_name(z) : "na",
          z >= 0 ? rp_zone_name(z) : DASH);
}

static void td_text(FILE *f, const char *s) {
  fputs("<td>", f);
  h(f, s);
  fputs("</td>", f);
}

/* The CSS class suffix of a verdict: v-pass, v-attention, v-fail, v-na. */
static const char *verdict_class(im_verdict_state st) {
  return st <= IM_VERDICT_FAIL ? im_verdict_state_name(st) : "na";
}

static const char *verdict_word(im_verdict_state s) {
  switch (s) {
    case IM_VERDICT_PASS: return "PASS";
    case IM_VERDICT_ATTENTION: return "ATTENTION";
    case IM_VERDICT_FAIL: return "FAIL";
    default: return "NOT EVALUATED";
  }
}

static void kv_num(FILE *f, const char *label, const char *key, double v, const char *shown,
                   const char *extra) {
  fputs("<tr><th>", f);
  h(f, label);
  fputs("</th>", f);
  td_num(f, key, v, shown);
  fputs("<td class=\"note\">", f);
  h(f, extra ? extra : "");
  fputs("</td></tr>\n", f);
}

static void kv_text(FILE *f, const char *label, const char *key, const char *value) {
  fprintf(f, "<tr><th>%s</th><td class=\"l\" data-f=\"run.%s\">", label, key);
  h(f, value);
  fputs("</td></tr>\n", f);
}

static const char css[] =
    "body{font:14px/1.45 'DejaVu Sans',sans-serif;color:#212121;margin:0 "
    "auto;max-width:1280px;padding:0 24px 48px}"
    "h1{font-size:26px;margin:24px 0 4px}h2{font-size:21px;border-bottom:2px solid "
    "#37474f;padding-bottom:4px;margin-top:40px}"
    "h3{font-size:16px;margin:24px 0 8px}h4{font-size:14px;margin:18px 0 6px}"
    "table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #cfd8dc;padding:3px "
    "7px;text-align:right;vertical-align:top}"
    "th{background:#eceff1;text-align:left;font-weight:600}td.l,th.l{text-align:left}td.note{text-"
    "align:left;color:#546e7a;border:none}"
    "table.kv th{min-width:260px}"
    ".v-pass{background:#c8e6c9;color:#1b5e20;font-weight:700}.v-attention{background:#fff3c4;"
    "color:#8a5a00;font-weight:700}"
    ".v-fail{background:#ffcdd2;color:#b71c1c;font-weight:700}.v-na{background:#eceff1;font-weight:"
    "700}"
    ".z-green{background:#e8f5e9}.z-yellow{background:#fff8e1}.z-red{background:#ffebee}.z-na{"
    "color:#90a4ae}"
    "td.z-green,td.z-yellow,td.z-red,td.z-na{text-align:center}"
    "span.badge{padding:2px 10px;border-radius:4px}"
    "figure{margin:12px 0 20px;border:1px solid #eceff1;padding:8px}figure "
    "svg{max-width:100%;height:auto;display:block}"
    "figcaption{color:#455a64;font-size:13px;margin-top:6px}"
    ".scroll{overflow-x:auto;max-width:100%}table.ports{font-size:12px}table.ports td,table.ports "
    "th{padding:2px 5px;white-space:nowrap}"
    "pre{background:#f5f5f5;padding:10px;overflow-x:auto;font-size:12px}"
    "p.rule,p.caveat{color:#37474f;font-size:13px;max-width:1000px}nav a{margin-right:14px}"
    "footer{margin-top:48px;color:#78909c;font-size:12px}";

static void html_cover(FILE *f, const rp_report *rep) {
  char a[64], b[64];
  fputs(
      "<header id=\"cover\">\n<h1>Initial-margin model validation report</h1>\n<p "
      "class=\"sub\">Results file <code>",
      f);
  h(f, rep->results_path);
  fputs("</code> &middot; backtest run ", f);
  h(f, rep->run.created);
  fputs(" &middot; report generated ", f);
  h(f, rep->generated);
  fputs("</p>\n", f);

  fputs(
      "<h2 id=\"verdict\">Verdict</h2>\n<table id=\"verdicts\">\n<tr><th>model</th><th>verdict</th>"
      "<th>coverage achieved (target)</th><th>exceedances (expected)</th><th>portfolios green / "
      "yellow / red</th>"
      "<th>Kupiec rejections (a correct model: up to)</th></tr>\n",
      f);
  for (size_t m = 0; m < rep->M; m++) {
    const rp_model *mo = &rep->models[m];
    fprintf(f, "<tr data-model=\"");
    h(f, mo->md.name);
    fprintf(f, "\"><td class=\"l\"><a href=\"#model-%zu\">", m);
    h(f, mo->md.name);
    fprintf(f, "</a></td><td class=\"v-%s\" data-f=\"verdict\" data-v=\"%s\">%s</td>",
            verdict_class(mo->verdict.state), im_verdict_state_name(mo->verdict.state),
            verdict_word(mo->verdict.state));
    fmt_pct(a, sizeof a, 1 - mo->sum.exceed_rate, 3, 0);
    fmt_pct(b, sizeof b, mo->md.confidence, 3, 0);
    char c[160];
    snprintf(c, sizeof c, "%s (%s)", a, b);
    td_num(f, "coverage", 1 - mo->sum.exceed_rate, c);
    snprintf(c, sizeof c, "%lld (%.1f)", (long long)mo->sum.n_exceed, mo->sum.expected);
    td_num(f, "summary.n_exceed", (double)mo->sum.n_exceed, c);
    snprintf(c, sizeof c, "%lld / %lld / %lld", (long long)mo->n_zone[0], (long long)mo->n_zone[1],
             (long long)mo->n_zone[2]);
    td_text(f, c);
    snprintf(c, sizeof c, "%lld (%.0f)", (long long)mo->sum.n_reject_uc, mo->sum.reject_band_hi);
    td_num(f, "summary.n_reject_uc", (double)mo->sum.n_reject_uc, c);
    fputs("</tr>\n", f);
  }
  fputs(
      "</table>\n<p class=\"rule\"><b>How the verdict is reached.</b> A model <b>fails</b> when "
      "more "
      "of its portfolios are in the red zone than a correct model would show in 95% of backtests "
      "(the upper end of the Binomial(evaluated portfolios, 0.0001) band), or, with a 1-day "
      "horizon, when the Kupiec test rejects at 5% for more portfolios than the upper end of the "
      "Binomial(evaluated, 0.05) band. It needs <b>attention</b> when more portfolios are yellow "
      "or red than Binomial(evaluated, 0.05) allows, or, with a 1-day horizon, when the "
      "conditional-coverage test rejects more often than that. Otherwise it <b>passes</b>. Zones "
      "are the binomial traffic light for a 1-day horizon and the simulated overlap-corrected "
      "zone for longer (overlapping) horizons, where the Kupiec and independence tests "
      "over-reject and are shown for information only. The bands treat portfolios as "
      "independent; portfolios sharing underlyings are positively dependent, which widens the "
      "true band, so a count just outside it is a flag, not a proof.</p>\n",
      f);

  fputs("<h2 id=\"run\">Run</h2>\n<table class=\"kv\">\n", f);
  char v[600];
  kv_text(f, "results file", "file", rep->results_path);
  snprintf(v, sizeof v, "%s (UTC)", rep->run.created);
  kv_text(f, "backtest run date", "created", v);
  rp_date_str(a, sizeof a, rep->T ? rep->run.dates[0] : 0);
  rp_date_str(b, sizeof b, rep->T ? rep->run.dates[rep->T - 1] : 0);
  snprintf(v, sizeof v, "%s to %s (%zu as-of dates)", a, b, rep->T);
  kv_text(f, "data range", "dates", v);
  snprintf(v, sizeof v, "%zu", rep->P);
  kv_text(f, "portfolios", "n_portfolios", v);
  snprintf(v, sizeof v, "%zu", rep->M);
  kv_text(f, "models", "n_models", v);
  snprintf(v, sizeof v, "imvar %s, git %s", rep->run.imvar_version, rep->run.git_revision);
  kv_text(f, "backtest by", "imvar", v);
  snprintf(v, sizeof v, "%ld MPI ranks, seed %ld", rep->run.ranks, rep->run.seed);
  kv_text(f, "backtest run", "ranks", v);
  snprintf(v, sizeof v, "imvar %s, git %s, %s", IMVAR_VERSION, IMVAR_GIT_REV,
           rep->gnuplot_version[0] ? rep->gnuplot_version : "gnuplot");
  kv_text(f, "report by", "report_imvar", v);
  snprintf(v, sizeof v, "%s (UTC)", rep->generated);
  kv_text(f, "report generated", "generated", v);
  fputs(
      "</table>\n<h3>Models</h3>\n<table "
      "id=\"models\"><tr><th>model</th><th>kind</th><th>measure</th>"
      "<th>confidence</th><th>horizon (days)</th><th>window "
      "(scenarios)</th><th>exceedance</th></tr>\n",
      f);
  for (size_t m = 0; m < rep->M; m++) {
    const im_model *md = &rep->models[m].md;
    fputs("<tr><td class=\"l\">", f);
    h(f, md->name);
    fprintf(f, "</td><td class=\"l\">%s</td><td class=\"l\">%s</td>", im_model_kind_name(md->kind),
            im_measure_name(md->measure));
    snprintf(a, sizeof a, "%.4g", md->confidence);
    td_num(f, "confidence", md->confidence, a);
    td_int(f, "horizon_days", md->horizon);
    td_int(f, "window", md->window);
    fprintf(f, "<td class=\"l\">loss &gt; margin%s</td></tr>\n",
            md->horizon > 1 ? "; overlapping horizons" : "");
  }
  fputs("</table>\n<details><summary>Configuration as recorded in the results file</summary><pre>",
        f);
  h(f, rep->run.config ? rep->run.config : "");
  fputs("</pre></details>\n</header>\n", f);

  fputs("<nav id=\"toc\"><b>Models:</b> ", f);
  for (size_t m = 0; m < rep->M; m++) {
    fprintf(f, "<a href=\"#model-%zu\">", m);
    h(f, rep->models[m].md.name);
    fputs("</a>", f);
  }
  fputs("<a href=\"#calibration\">Calibration</a></nav>\n", f);
}

static void html_figure(FILE *f, const rp_chart *k) {
  fprintf(f, "<figure class=\"chart\" data-chart=\"%s\"%s>\n", k->kind,
          k->svg ? "" : " data-empty=\"1\"");
  if (k->svg)
    fputs(k->svg, f);
  else {
    fputs("<p class=\"note\">", f);
    h(f, k->note);
    fputs("</p>", f);
  }
  fputs("\n<figcaption>", f);
  h(f, k->caption);
  fputs("</figcaption>\n</figure>\n", f);
}

static const struct {
  const char *key, *head;
  char kind; /* i int, e expected, p p-value, c coverage, u usd, r ratio, g increase, z zone, b
                basel count */
} cols[] = {
    {"n_obs", "obs", 'i'},
    {"n_exceed", "exc", 'i'},
    {"expected", "expected", 'e'},
    {"exceed_rate", "rate", 'x'},
    {"coverage", "coverage", 'c'},
    {"p_uc", "Kupiec", 'p'},
    {"p_tuff", "TUFF", 'p'},
    {"p_ind", "indep.", 'p'},
    {"p_cc", "cond. cov.", 'p'},
    {"p_tbfi", "TBFI", 'p'},
    {"p_tbf", "TBF", 'p'},
    {"dur_p", "duration", 'p'},
    {"dq_p", "DQ", 'p'},
    {"bin_p", "binom. z", 'p'},
    {"basel_exceed", "Basel exc.", 'b'},
    {"basel_zone", "Basel zone", 'z'},
    {"largest_exceedance", "largest exc. USD", 'u'},
    {"mean_exceedance", "mean exc. USD", 'u'},
    {"mean_loss_to_margin", "loss/margin", 'r'},
    {"peak_to_trough", "peak/trough", 'r'},
    {"max_incr_1d", "incr. 1d", 'g'},
    {"max_incr_5d", "incr. 5d", 'g'},
    {"max_incr_10d", "incr. 10d", 'g'},
    {"max_incr_30d", "incr. 30d", 'g'},
};

static double field(const im_bt_stats *r, const char *key) {
#define I64(x)          \
  if (!strcmp(key, #x)) \
    return (double)r->x;
#define F64(x)          \
  if (!strcmp(key, #x)) \
    return r->x;
#define I8(x)           \
  if (!strcmp(key, #x)) \
    return (double)r->x;
  IM_BT_STATS_FIELDS(I64, F64, I8)
#undef I64
#undef F64
#undef I8
  return NAN;
}

static void port_row(FILE *f, const rp_model *mo, const rp_report *rep, size_t i) {
  const im_bt_stats *r = &mo->rows[i];
  char b[64];
  fprintf(f, "<tr data-portfolio=\"");
  h(f, rep->ids[i]);
  fprintf(f, "\" data-rank=\"%zu\"><td>%zu</td><th class=\"l\">", mo->rank[i], mo->rank[i]);
  h(f, rep->ids[i]);
  fputs("</th>", f);
  if (mo->md.horizon > 1) {
    td_zone(f, "tl_zone_overlap", r->n_obs > 0 ? r->tl_zone_overlap : -1);
    td_zone(f, "tl_zone", r->n_obs > 0 ? r->tl_zone : -1);
  } else {
    td_zone(f, "tl_zone", r->n_obs > 0 ? r->tl_zone : -1);
  }
  for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
    const char *k = cols[c].key;
    double v = cols[c].kind == 'x' ? (r->n_obs > 0 ? (double)r->n_exceed / (double)r->n_obs : NAN)
                                   : field(r, k);
    switch (cols[c].kind) {
      case 'i': td_int(f, k, (int64_t)v); continue;
      case 'b':
        if (v < 0) {
          fprintf(f, "<td data-f=\"%s\" data-v=\"%lld\">%s</td>", k, (long long)v, DASH);
          continue;
        }
        td_int(f, k, (int64_t)v);
        continue;
      case 'z': td_zone(f, k, (int)v); continue;
      case 'e': fmt_fixed(b, sizeof b, v, 2); break;
      case 'x': fmt_pct(b, sizeof b, v, 3, 0); break;
      case 'c': fmt_fixed(b, sizeof b, v, 4); break;
      case 'p': fmt_fixed(b, sizeof b, v, 4); break;
      case 'u': fmt_usd(b, sizeof b, v); break;
      case 'r': fmt_fixed(b, sizeof b, v, 3); break;
      case 'g': fmt_pct(b, sizeof b, v, 1, 1); break;
    }
    td_num(f, k, v, b);
  }
  fputs("</tr>\n", f);
}


/* The coverage, exceedances, expected count and largest shortfall cells of
 * one margin layer, and the end of its row. */
static void adequacy_cells(FILE *f, const im_bt_summary *s, double largest) {
  char a[64];
  fmt_pct(a, sizeof a, 1 - s->exceed_rate, 3, 0);
  td_num(f, "coverage", 1 - s->exceed_rate, a);
  td_int(f, "n_exceed", s->n_exceed);
  fmt_fixed(a, sizeof a, s->expected, 2);
  td_num(f, "expected", s->expected, a);
  fmt_usd(a, sizeof a, largest);
  td_num(f, "largest_exceedance", largest, a);
  fputs("</tr>\n", f);
}

static void model_head(FILE *f, const rp_report *rep, size_t m) {
  const rp_model *mo = &rep->models[m];
  const im_model *md = &mo->md;
  const im_bt_summary *s = &mo->sum;
  const int ovl = md->horizon > 1;
  fprintf(f, "<section class=\"model\" id=\"model-%zu\" data-model=\"", m);
  h(f, md->name);
  fprintf(f, "\" data-verdict=\"%s\">\n<h2>Model ", im_verdict_state_name(mo->verdict.state));
  h(f, md->name);
  fprintf(f, " <span class=\"badge v-%s\">%s</span></h2>\n<p>",
          verdict_class(mo->verdict.state), verdict_word(mo->verdict.state));
  fprintf(f,
          "%s %s at %.4g%% confidence, %d-day margin period of risk, %d scenarios; %lld of "
          "%lld portfolios evaluated.%s</p>\n",
          im_model_kind_name(md->kind), im_measure_name(md->measure), 100 * md->confidence,
          (int)md->horizon, (int)md->window, (long long)s->n_evaluated, (long long)s->n_portfolios,
          ovl ? " Horizons overlap: exceedances on consecutive days are dependent, so zones are "
                "the simulated overlap-corrected ones."
              : "");
}

static void model_criteria(FILE *f, const rp_report *rep, size_t m) {
  const rp_model *mo = &rep->models[m];
  char a[160];
  fprintf(f,
          "<h3 id=\"model-%zu-verdict\">Verdict criteria</h3>\n<table "
          "class=\"criteria\"><tr><th>criterion</th>"
          "<th>observed</th><th>a correct model: up to</th><th>met</th><th>if not met</th></tr>\n",
          m);
  for (int k = 0; k < IM_VERDICT_N_CRITERIA; k++) {
    const im_criterion *c = &mo->verdict.crit[k];
    fprintf(f, "<tr data-criterion=\"%s\"><th>%s</th>", c->key, c->name);
    snprintf(a, sizeof a, "%.0f", c->value);
    td_num(f, "value", c->value, a);
    fmt_fixed(a, sizeof a, c->limit, 0);
    td_num(f, "limit", c->limit, a);
    fprintf(f, "<td class=\"%s\">%s</td><td class=\"l\">%s</td></tr>\n",
            c->met                           ? "v-pass"
            : c->severity == IM_VERDICT_INFO ? ""
            : c->severity == IM_VERDICT_FAIL ? "v-fail"
                                             : "v-attention",
            c->met ? "yes" : "no",
            c->severity == IM_VERDICT_INFO ? "information only (overlapping horizons)"
                                           : im_verdict_state_name(c->severity));
  }
  fputs("</table>\n", f);
}

static void model_coverage(FILE *f, const rp_report *rep, size_t m) {
  const rp_model *mo = &rep->models[m];
  const im_model *md = &mo->md;
  const im_bt_summary *s = &mo->sum;
  const int ovl = md->horizon > 1;
  char a[160], b[160];
  fprintf(f, "<h3 id=\"model-%zu-coverage\">Coverage and exceedances</h3>\n<table class=\"kv\">\n",
          m);
  fmt_pct(a, sizeof a, md->confidence, 3, 0);
  kv_num(f, "target coverage", "confidence", md->confidence, a, NULL);
  fmt_pct(a, sizeof a, 1 - s->exceed_rate, 3, 0);
  kv_num(f, "achieved coverage (all portfolio-days)", "coverage", 1 - s->exceed_rate, a, NULL);
  if (isfinite(mo->coverage_min)) {
    fmt_pct(a, sizeof a, mo->coverage_min, 3, 0);
    snprintf(b, sizeof b, "portfolio %s", rep->ids[mo->coverage_min_at]);
    kv_num(f, "lowest portfolio coverage", "coverage_min", mo->coverage_min, a, b);
    fmt_pct(a, sizeof a, mo->coverage_dist.median, 3, 0);
    kv_num(f, "median portfolio coverage", "coverage_median", mo->coverage_dist.median, a, NULL);
  }
  snprintf(a, sizeof a, "%lld", (long long)s->n_exceed);
  kv_num(f, "exceedances", "summary.n_exceed", (double)s->n_exceed, a, NULL);
  fmt_fixed(a, sizeof a, s->expected, 2);
  kv_num(f, "expected exceedances (observed days x (1 - confidence))", "summary.expected",
         s->expected, a, NULL);
  snprintf(a, sizeof a, "%lld", (long long)s->n_obs);
  kv_num(f, "observed portfolio-days", "summary.n_obs", (double)s->n_obs, a, NULL);
  snprintf(a, sizeof a, "%lld", (long long)s->n_evaluated);
  kv_num(f, "portfolios evaluated", "summary.n_evaluated", (double)s->n_evaluated, a, NULL);
  static const char *const zl[3] = {"portfolios green", "portfolios yellow", "portfolios red"};
  static const char *const zk[3] = {"zones.green", "zones.yellow", "zones.red"};
  for (int z = 0; z < 3; z++) {
    snprintf(a, sizeof a, "%lld", (long long)mo->n_zone[z]);
    kv_num(f, zl[z], zk[z], (double)mo->n_zone[z], a,
           ovl ? "overlap-corrected zone (simulated bounds)" : "binomial traffic light");
  }
  if (ovl) {
    snprintf(a, sizeof a, "%lld / %lld / %lld", (long long)s->n_green_plain,
             (long long)s->n_yellow_plain, (long long)s->n_red_plain);
    kv_num(f, "binomial zones green / yellow / red", "summary.n_green_plain",
           (double)s->n_green_plain, a,
           "ignores the overlap: for reference");
  }
  fputs("</table>\n", f);
}

static void model_tests(FILE *f, const rp_report *rep, size_t m) {
  const rp_model *mo = &rep->models[m];
  const im_model *md = &mo->md;
  const int ovl = md->horizon > 1;
  char a[160];
  fprintf(f,
          "<h3 id=\"model-%zu-tests\">Tests across portfolios</h3>\n<table "
          "class=\"tests\"><tr><th>test</th>"
          "<th>portfolios where defined</th><th>pass (p &ge; 0.05)</th><th>pass share</th></tr>\n",
          m);
  for (int t = 0; t < RP_N_TESTS; t++) {
    const rp_test *ts = &mo->tests[t];
    fprintf(f, "<tr data-test=\"%s\"><th>%s%s</th>", ts->key, ts->name,
            !strcmp(ts->key, "zone") && ovl ? ", overlap-corrected" : "");
    td_int(f, "defined", ts->defined);
    td_int(f, "passed", ts->passed);
    double sh = ts->defined ? (double)ts->passed / (double)ts->defined : NAN;
    fmt_pct(a, sizeof a, sh, 1, 0);
    td_num(f, "pass_share", sh, a);
    fputs("</tr>\n", f);
  }
  fprintf(f,
          "</table>\n<p class=\"caveat\">A correct model passes each test for about 95%% of "
          "portfolios (traffic light: at least 95%%). With asymptotic p-values the Haas tests, "
          "and at 1%% the DQ and duration tests, reject a correct model more often than 5%% at "
          "about 1,000 days (README, \"Size of the tests\").%s</p>\n",
          ovl ? " With overlapping horizons every test but the exceedance count assumes "
                "independence and over-rejects; the non-overlapping sub-samples are in "
                "validation_subsamples of results.h5."
              : "");
}

static void model_multiple(FILE *f, const rp_report *rep, size_t m) {
  const rp_model *mo = &rep->models[m];
  const im_bt_summary *s = &mo->sum;
  char a[160];
  fprintf(f, "<h3 id=\"model-%zu-multiple\">Multiple testing</h3>\n<table class=\"kv\">\n", m);
  snprintf(a, sizeof a, "%lld", (long long)s->n_reject_uc);
  kv_num(f, "Kupiec rejections at 5%", "summary.n_reject_uc", (double)s->n_reject_uc, a, NULL);
  snprintf(a, sizeof a, "%lld", (long long)s->n_reject_ind);
  kv_num(f, "independence rejections at 5%", "summary.n_reject_ind", (double)s->n_reject_ind, a,
         NULL);
  snprintf(a, sizeof a, "%lld", (long long)s->n_reject_cc);
  kv_num(f, "conditional-coverage rejections at 5%", "summary.n_reject_cc", (double)s->n_reject_cc,
         a, NULL);
  fmt_fixed(a, sizeof a, s->expected_rejections, 1);
  kv_num(f, "rejections a correct model would produce", "summary.expected_rejections",
         s->expected_rejections, a, NULL);
  fmt_fixed(a, sizeof a, s->reject_band_lo, 0);
  kv_num(f, "its 95% band, from", "summary.reject_band_lo", s->reject_band_lo, a, NULL);
  fmt_fixed(a, sizeof a, s->reject_band_hi, 0);
  kv_num(f, "its 95% band, to", "summary.reject_band_hi", s->reject_band_hi, a, NULL);
  snprintf(a, sizeof a, "%lld", (long long)s->n_bh_reject_uc);
  kv_num(f, "Benjamini-Hochberg rejections at FDR 5%, Kupiec", "summary.n_bh_reject_uc",
         (double)s->n_bh_reject_uc, a, NULL);
  snprintf(a, sizeof a, "%lld", (long long)s->n_bh_reject_cc);
  kv_num(f, "Benjamini-Hochberg rejections at FDR 5%, conditional coverage",
         "summary.n_bh_reject_cc", (double)s->n_bh_reject_cc, a, NULL);
  fputs("</table>\n", f);
}

static void model_magnitude(FILE *f, const rp_report *rep, size_t m) {
  const rp_model *mo = &rep->models[m];
  char a[160], b[160];
  fprintf(f, "<h3 id=\"model-%zu-magnitude\">Exceedance magnitude</h3>\n<table class=\"kv\">\n", m);
  fmt_usd(a, sizeof a, mo->largest);
  snprintf(b, sizeof b, "portfolio %s", isfinite(mo->largest) ? rep->ids[mo->largest_at] : DASH);
  kv_num(f, "largest exceedance (loss - margin), USD", "largest_exceedance", mo->largest, a, b);
  fmt_usd(a, sizeof a, mo->pooled_mean_exceedance);
  kv_num(f, "mean exceedance over all exceedances, USD", "mean_exceedance",
         mo->pooled_mean_exceedance, a, NULL);
  fmt_fixed(a, sizeof a, mo->loss_to_margin.median, 3);
  snprintf(b, sizeof b, "over %lld portfolios with exceedances", (long long)mo->loss_to_margin.n);
  kv_num(f, "loss-to-margin on exceedances: median of the portfolio means", "loss_to_margin_median",
         mo->loss_to_margin.median, a, b);
  fmt_fixed(a, sizeof a, mo->loss_to_margin.max, 3);
  snprintf(b, sizeof b, "portfolio %s",
           mo->loss_to_margin.n ? rep->ids[mo->loss_to_margin.argmax] : DASH);
  kv_num(f, "loss-to-margin on exceedances: largest portfolio mean", "loss_to_margin_max",
         mo->loss_to_margin.max, a, b);
  fputs("</table>\n", f);
}

static void model_procyclicality(FILE *f, const rp_report *rep, size_t m) {
  const rp_model *mo = &rep->models[m];
  char a[160];
  fprintf(f,
          "<h3 id=\"model-%zu-procyclicality\">Procyclicality</h3>\n<table "
          "class=\"procyc\"><tr><th>statistic</th>"
          "<th>median across portfolios</th><th>largest</th><th class=\"l\">portfolio</th></tr>\n",
          m);
  static const char *const pk[5] = {"peak_to_trough", "max_incr_1d", "max_incr_5d", "max_incr_10d",
                                    "max_incr_30d"};
  static const char *const pn[5] = {
      "peak-to-trough (max earlier margin / margin)", "largest 1-day margin increase",
      "largest 5-day margin increase", "largest 10-day margin increase",
      "largest 30-day margin increase"};
  for (int k = 0; k < 5; k++) {
    const rp_dist *d = &mo->procyc[k];
    fprintf(f, "<tr data-stat=\"%s\"><th>%s</th>", pk[k], pn[k]);
    if (k == 0)
      fmt_fixed(a, sizeof a, d->median, 3);
    else
      fmt_pct(a, sizeof a, d->median, 1, 1);
    td_num(f, "median", d->median, a);
    if (k == 0)
      fmt_fixed(a, sizeof a, d->max, 3);
    else
      fmt_pct(a, sizeof a, d->max, 1, 1);
    td_num(f, "max", d->max, a);
    td_text(f, d->n ? rep->ids[d->argmax] : DASH);
    fputs("</tr>\n", f);
  }
  fputs("</table>\n", f);
}

static void model_adequacy(FILE *f, const rp_report *rep, size_t m) {
  const rp_model *mo = &rep->models[m];
  const im_model *md = &mo->md;
  const im_bt_summary *s = &mo->sum;
  fprintf(f,
          "<h3 id=\"model-%zu-adequacy\">Margin adequacy</h3>\n<table "
          "class=\"adequacy\"><tr><th>margin layer</th>"
          "<th>coverage</th><th>exceedances</th><th>expected</th><th>largest shortfall, "
          "USD</th></tr>\n<tr><th>core model (",
          m);
  h(f, md->name);
  fputs(")</th>", f);
  adequacy_cells(f, s, mo->largest);
  if (mo->has_total) {
    fputs("<tr data-layer=\"total\"><th>total margin (core + APC layer + add-ons)</th>", f);
    adequacy_cells(f, &mo->sum_total, mo->largest_total);
    fputs("</table>\n<p class=\"caveat\">The clean backtest above judges the core "
          "margin; the total adds the anti-procyclicality layer and the add-ons the model "
          "configures (/models/&lt;m&gt;/validation_total).</p>\n",
          f);
  } else {
    fputs("</table>\n<p class=\"caveat\">This model has no anti-procyclicality layer or "
          "add-ons: its total margin is its core margin.</p>\n",
          f);
  }
}

static void model_charts(FILE *f, const rp_report *rep, const rp_charts *ch, size_t m) {
  const rp_model *mo = &rep->models[m];
  fprintf(f, "<h3 id=\"model-%zu-charts\">Charts</h3>\n", m);
  for (size_t i = 0; i < ch->n; i++)
    if (ch->c[i].model == (int)m && ch->c[i].portfolio < 0)
      html_figure(f, &ch->c[i]);
  fprintf(f,
          "<h3 id=\"model-%zu-charted\">Portfolios charted</h3>\n<p>The %zu worst portfolios "
          "(the order of the table below)%s.</p>\n",
          m, rep->worst, rep->n_named ? " and those named with --portfolios" : "");
  for (size_t j = 0; j < mo->n_charted; j++) {
    size_t i = mo->charted[j];
    fprintf(f, "<div class=\"portfolio\" data-portfolio=\"");
    h(f, rep->ids[i]);
    fputs("\"><h4>", f);
    h(f, rep->ids[i]);
    fprintf(f,
            " &middot; rank %zu of %zu &middot; zone %s &middot; %lld exceedances, %.2f "
            "expected</h4>\n",
            mo->rank[i], rep->P, rp_zone_name(mo->zone[i]), (long long)mo->rows[i].n_exceed,
            mo->rows[i].expected);
    for (size_t c = 0; c < ch->n; c++)
      if (ch->c[c].model == (int)m && ch->c[c].portfolio == (int)i)
        html_figure(f, &ch->c[c]);
    fputs("</div>\n", f);
  }
}

static void model_table(FILE *f, const rp_report *rep, size_t m) {
  const rp_model *mo = &rep->models[m];
  const im_model *md = &mo->md;
  const int ovl = md->horizon > 1;
  size_t shown = rep->table_rows && rep->table_rows < rep->P ? rep->table_rows : rep->P;
  fprintf(
      f,
      "<h3 id=\"model-%zu-table\">Per-portfolio statistics, worst first</h3>\n"
      "<p class=\"caveat\">Worst first: red before yellow before green (%s zone), then by the "
      "traffic-light cumulative probability, the ratio of observed to expected exceedances "
      "and the Kupiec p-value. p-values: Kupiec POF, TUFF, Christoffersen independence and "
      "conditional coverage, Haas TBFI and TBF, Weibull duration, dynamic quantile, binomial z. "
      "Increases are the largest relative margin increase over 1, 5, 10 and 30 days. "
      "Every statistic, test statistics included, is in summary_portfolios.csv.</p>\n"
      "<div class=\"scroll\"><table class=\"ports\" data-model=\"",
      m, ovl ? "overlap-corrected" : "binomial");
  h(f, md->name);
  fputs("\"><thead><tr><th>rank</th><th class=\"l\">portfolio</th>", f);
  if (ovl)
    fputs("<th>zone (overlap)</th><th>zone (binomial)</th>", f);
  else
    fputs("<th>zone</th>", f);
  for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
    fprintf(f, "<th>%s</th>", cols[c].head);
  fputs("</tr></thead>\n<tbody>\n", f);
  for (size_t k = 0; k < shown; k++)
    port_row(f, mo, rep, mo->order[k]);
  size_t extra = 0;
  for (size_t k = 0; k < rep->n_named; k++)
    if (mo->rank[rep->named[k]] > shown) {
      if (!extra++)
        fprintf(f,
                "<tr class=\"gap\"><td colspan=\"%zu\" class=\"l\">&hellip; named portfolios "
                "further down:</td></tr>\n",
                3 + (size_t)ovl + sizeof cols / sizeof cols[0]);
      port_row(f, mo, rep, rep->named[k]);
    }
  fputs("</tbody></table></div>\n", f);
  if (shown < rep->P)
    fprintf(f,
            "<p class=\"caveat\" data-more=\"%zu\">%zu more portfolios are in "
            "summary_portfolios.csv (imvar report --rows 0 shows all here).</p>\n",
            rep->P - shown, rep->P - shown);
}

/* One model's section: verdict, evidence, charts, the table. */
static void html_model(FILE *f, const rp_report *rep, const rp_charts *ch, size_t m) {
  model_head(f, rep, m);
  model_criteria(f, rep, m);
  model_coverage(f, rep, m);
  model_tests(f, rep, m);
  model_multiple(f, rep, m);
  model_magnitude(f, rep, m);
  model_procyclicality(f, rep, m);
  model_adequacy(f, rep, m);
  model_charts(f, rep, ch, m);
  model_table(f, rep, m);
  fputs("</section>\n", f);
}

/* ---- the calibration section ---- */

static void hlabel(FILE *f, const im_calib_set_rec *s) {
  char l[160];
  im_calib_set_label(s, l, sizeof l);
  h(f, l);
}

static void period_dates(char *b, size_t n, const im_calib_period_rec *p) {
  char x[32], y[32];
  if (p->start <= 0)
    snprintf(x, sizeof x, "start of data");
  else
    rp_date_str(x, sizeof x, p->start);
  if (p->end >= 99991231)
    snprintf(y, sizeof y, "end of data");
  else
    rp_date_str(y, sizeof y, p->end);
  snprintf(b, n, "%s to %s", x, y);
}


/* The metric cells shared by the verdict and the ranked tables. */
static const char cal_heads[] =
    "<th>portfolios</th><th>portfolio-days</th><th>exceedances (expected)</th><th>coverage</th>"
    "<th>exceedance rate</th><th>passing Kupiec</th><th>passing cond. coverage</th><th>zone "
    "ok</th><th>mean margin, USD</th><th>peak-to-trough</th>";

static void cal_cells(FILE *f, const im_cal_metrics *m) {
  char a[64];
  td_int(f, "n_portfolios", m->n_portfolios);
  td_int(f, "n_obs", m->n_obs);
  snprintf(a, sizeof a, "%lld (%.1f)", (long long)m->n_exceed, m->expected);
  td_num(f, "n_exceed", (double)m->n_exceed, a);
  fmt_pct(a, sizeof a, m->coverage, 3, 0);
  td_num(f, "coverage", m->coverage, a);
  fmt_pct(a, sizeof a, m->exceed_rate, 3, 0);
  td_num(f, "exceed_rate", m->exceed_rate, a);
  fmt_pct(a, sizeof a, m->share_pass_uc, 1, 0);
  td_num(f, "share_pass_uc", m->share_pass_uc, a);
  fmt_pct(a, sizeof a, m->share_pass_cc, 1, 0);
  td_num(f, "share_pass_cc", m->share_pass_cc, a);
  fmt_pct(a, sizeof a, m->share_zone_ok, 1, 0);
  td_num(f, "share_zone_ok", m->share_zone_ok, a);
  fmt_usd(a, sizeof a, m->mean_margin);
  td_num(f, "mean_margin", m->mean_margin, a);
  fmt_fixed(a, sizeof a, m->procyclicality, 2);
  td_num(f, "procyclicality", m->procyclicality, a);
}

static void cal_verdict_cell(FILE *f, const im_cal_metrics *m) {
  const char *v = m->eligible ? "holds" : m->n_obs ? "fails" : "n/a";
  fprintf(f, "<td data-f=\"eligible\" data-v=\"%d\" class=\"v-%s\">%s</td>", (int)m->eligible,
          m->eligible ? "pass" : m->n_obs ? "fail" : "na", v);
}

/* Which criteria a set misses in a period, for people. */
static void cal_misses(char *b, size_t n, const im_cal_metrics *m) {
  b[0] = '\0';
  if (!m->n_obs) {
    snprintf(b, n, "no observation");
    return;
  }
  const char *w[4] = {m->ok_coverage ? NULL : "coverage", m->ok_uc ? NULL : "Kupiec",
                      m->ok_cc ? NULL : "cond. coverage", m->ok_zone ? NULL : "zone"};
  for (int i = 0; i < 4; i++)
    if (w[i])
      snprintf(b + strlen(b), n - strlen(b), "%s%s", b[0] ? ", " : "misses: ", w[i]);
}

static void html_no_calibration(FILE *f) {
  fputs(
      "<section id=\"calibration\"><h2>Calibration</h2>\n<p data-calibration=\"none\">No "
      "calibration file was given. <code>imvar calibrate -c calibrate.yaml -o calibration.h5</code> "
      "runs a grid of parameter sets over a calibration period and test periods (README, "
      "&ldquo;Calibration&rdquo;); <code>imvar report results.h5 -o report.html --calibration "
      "calibration.h5</code> then adds its criteria, the recommended set and its verdicts, the "
      "ranked sets, the Pareto frontier of margin against exceedances and the sensitivities "
      "here.</p></section>\n",
      f);
}

static void html_calibration(FILE *f, const rp_report *rep, const rp_charts *ch) {
  if (!rep->cal_path) {
    html_no_calibration(f);
    return;
  }
  const im_calib_data *cal = &rep->cal;
  const size_t S = cal->S, Q = cal->Q, ref = rep->cal_ref;
  char a[160], b[160];
  fputs("<section id=\"calibration\"><h2>Calibration</h2>\n<p class=\"sub\">Calibration file <code>",
        f);
  h(f, rep->cal_path);
  fputs("</code> &middot; run ", f);
  h(f, cal->created);
  fputs(" by imvar ", f);
  h(f, cal->imvar_version);
  fputs(" (git ", f);
  h(f, cal->git_revision);
  fprintf(f, ") &middot; seed %ld &middot; <span data-f=\"cal.n_sets\" data-v=\"%zu\">%zu</span> "
             "parameter sets &middot; %zu period%s</p>\n",
          cal->seed, S, S, Q, Q == 1 ? "" : "s");

  /* criteria */
  fputs("<h3 id=\"calibration-criteria\">Selection criteria</h3>\n<table class=\"kv\" "
        "id=\"calibration-criteria-table\">\n", f);
  if (isfinite(cal->criteria.coverage))
    fmt_pct(a, sizeof a, cal->criteria.coverage, 3, 0);
  else
    snprintf(a, sizeof a, "each set's confidence");
  kv_num(f, "minimum pooled coverage", "criteria.coverage", cal->criteria.coverage, a,
         "exceedances over all portfolio-days of the calibration period");
  snprintf(a, sizeof a, "%s", rp_zone_name(cal->criteria.zone));
  fputs("<tr><th>worst acceptable traffic-light zone of a portfolio</th>", f);
  fprintf(f, "<td data-f=\"criteria.zone\" data-v=\"%d\">%s</td><td class=\"note\">binomial for a "
             "1-day horizon, overlap-corrected for longer</td></tr>\n",
          cal->criteria.zone, a);
  fmt_fixed(a, sizeof a, cal->criteria.test_level, 3);
  kv_num(f, "test level (Kupiec, conditional coverage)", "criteria.test_level",
         cal->criteria.test_level, a, "a portfolio passes when p >= the level");
  fmt_pct(a, sizeof a, cal->criteria.pass_share, 1, 0);
  kv_num(f, "minimum share of portfolios passing each test and the zone", "criteria.pass_share",
         cal->criteria.pass_share, a, NULL);
  fputs("</table>\n<p class=\"rule\">A set is <b>eligible</b> when, over the calibration period, "
        "it meets all four. The recommended set is the eligible set with the lowest mean margin "
        "(then the lowest procyclicality); it <b>holds</b> in a test period when it meets them "
        "there too. When no set is eligible, the nearest (fewest criteria missed, then lowest "
        "margin) is shown instead and nothing is recommended.</p>\n", f);

  /* the recommended set and its verdicts */
  const im_calib_set_rec *rs = &cal->sets[ref];
  fputs("<h3 id=\"calibration-recommended\">Recommended set</h3>\n", f);
  if (cal->recommended >= 0) {
    int holds = 1;
    for (size_t q = 1; q < Q; q++)
      holds &= cal->metrics[ref * Q + q].eligible != 0;
    fprintf(f, "<p data-recommended=\"%zu\"><span class=\"badge v-pass\">", ref);
    hlabel(f, rs);
    fprintf(f, "</span> (set %zu of %zu)%s</p>\n", ref, S,
            Q < 2 ? "" : holds ? ": holds in every test period" : ": fails the criteria in a test period");
  } else {
    fputs("<p data-recommended=\"none\"><span class=\"badge v-fail\">none eligible</span> No set "
          "meets the criteria over the calibration period. The nearest is <b>", f);
    hlabel(f, rs);
    fprintf(f, "</b> (set %zu of %zu); it is shown below but not recommended.</p>\n", ref, S);
  }
  fputs("<table class=\"kv\" id=\"calibration-set\">\n", f);
  snprintf(a, sizeof a, "%s, %s, confidence %.6g, horizon %d day%s, window %d", rs->kind,
           rs->measure, rs->confidence, (int)rs->horizon, rs->horizon == 1 ? "" : "s",
           (int)rs->window);
  kv_text(f, "parameters", "cal.set", a);
  snprintf(a, sizeof a, "lambda %.6g, nu %.6g, paths %d, APC buffer %d, stress %d, floor %d",
           rs->lambda, rs->nu, (int)rs->paths, (int)rs->apc_buffer, (int)rs->apc_stress,
           (int)rs->apc_floor);
  kv_text(f, "further parameters", "cal.set_more", a);
  fputs("</table>\n<div class=\"scroll\"><table class=\"ports\" id=\"calibration-verdicts\">"
        "<thead><tr><th>period</th><th class=\"l\">dates</th>", f);
  fputs(cal_heads, f);
  fputs("<th>verdict</th><th class=\"l\">criteria missed</th></tr></thead><tbody>\n", f);
  for (size_t q = 0; q < Q; q++) {
    const im_cal_metrics *m = &cal->metrics[ref * Q + q];
    fprintf(f, "<tr data-cal=\"ref\" data-set=\"%zu\" data-period=\"%zu\"><th>", ref, q);
    h(f, cal->periods[q].name);
    fputs(q == 0 ? " (calibration)</th>" : " (test)</th>", f);
    period_dates(a, sizeof a, &cal->periods[q]);
    fputs("<td class=\"l\">", f);
    h(f, a);
    fputs("</td>", f);
    cal_cells(f, m);
    cal_verdict_cell(f, m);
    cal_misses(b, sizeof b, m);
    td_text(f, b);
    fputs("</tr>\n", f);
  }
  fputs("</tbody></table></div>\n", f);

  /* the ranking */
  const size_t top = S < RP_CAL_TOP ? S : RP_CAL_TOP;
  fprintf(f,
          "<h3 id=\"calibration-ranking\">The %zu best-ranked sets, calibration period</h3>\n"
          "<p class=\"caveat\">Eligible sets first, by mean margin, then procyclicality; then the "
          "others by the number of criteria they miss, then mean margin. Frontier: on the Pareto "
          "frontier of mean margin against exceedance rate. Every set and period is in "
          "summary_calibration.csv.</p>\n<div class=\"scroll\"><table class=\"ports\" "
          "id=\"calibration-ranked\"><thead><tr><th>rank</th><th class=\"l\">set</th>"
          "<th>frontier</th>",
          top);
  fputs(cal_heads, f);
  fputs("<th>verdict</th><th class=\"l\">criteria missed</th></tr></thead><tbody>\n", f);
  for (size_t r = 0; r < top; r++) {
    const size_t i = (size_t)cal->ranking[r];
    const im_cal_metrics *m = &cal->metrics[i * Q];
    fprintf(f, "<tr data-cal=\"rank\" data-set=\"%zu\" data-period=\"0\" data-rank=\"%zu\"%s>"
               "<td>%zu</td><td class=\"l\">",
            i, r + 1, i == ref ? " class=\"z-green\"" : "", r + 1);
    hlabel(f, &cal->sets[i]);
    fprintf(f, "</td><td data-f=\"pareto\" data-v=\"%d\">%s</td>", (int)cal->pareto[i],
            cal->pareto[i] ? "yes" : "");
    cal_cells(f, m);
    cal_verdict_cell(f, m);
    cal_misses(b, sizeof b, m);
    td_text(f, b);
    fputs("</tr>\n", f);
  }
  fputs("</tbody></table></div>\n", f);
  if (top < S)
    fprintf(f, "<p class=\"caveat\">%zu more sets are in summary_calibration.csv.</p>\n", S - top);

  /* charts */
  fputs("<h3 id=\"calibration-charts\">Pareto frontier and sensitivities</h3>\n", f);
  size_t n_sens = 0;
  for (size_t i = 0; i < ch->n; i++)
    if (ch->c[i].model < 0 && !strncmp(ch->c[i].kind, "calibration-", 12)) {
      html_figure(f, &ch->c[i]);
      n_sens += !strcmp(ch->c[i].kind, "calibration-sensitivity");
    }
  if (!n_sens)
    fputs("<p class=\"caveat\">No sensitivity: no parameter varies around the set.</p>\n", f);
  fputs("</section>\n", f);
}

static int write_html(FILE *f, const rp_report *rep, const rp_charts *ch) {
  fputs(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; img-src data:\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
      f);
  fprintf(
      f,
      "<meta name=\"generator\" content=\"imvar %s (git %s)\">\n<title>Model validation report: ",
      IMVAR_VERSION, IMVAR_GIT_REV);
  h(f, rep->results_path);
  fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
  html_cover(f, rep);
  for (size_t m = 0; m < rep->M; m++)
    html_model(f, rep, ch, m);
  html_calibration(f, rep, ch);
  fprintf(f, "<footer>imvar %s (git %s) &middot; charts drawn by ", IMVAR_VERSION, IMVAR_GIT_REV);
  h(f, rep->gnuplot_version[0] ? rep->gnuplot_version : "gnuplot");
  fputs(
      " &middot; same numbers: summary.json, summary_models.csv, summary_portfolios.csv</footer>\n"
      "</body>\n</html>\n",
      f);
  return ferror(f);
}

/* ---- CSV tables ---- */

static int write_models_csv(FILE *f, const rp_report *rep) {
  fputs(
      "model,kind,measure,confidence,horizon_days,window,verdict,zone_kind,coverage_target,"
      "coverage_achieved,zones_green,zones_yellow,zones_red,zones_none",
      f);
#define I64(x) fputs("," #x, f);
#define F64(x) fputs("," #x, f);
  IM_BT_SUMMARY_FIELDS(I64, F64)
#undef I64
#undef F64
  for (int t = 0; t < RP_N_TESTS; t++)
    fprintf(f, ",pass_share_%s", rep->M ? rep->models[0].tests[t].key : "");
  fputs(
      ",largest_exceedance,largest_exceedance_portfolio,mean_exceedance,loss_to_margin_median,"
      "loss_to_margin_max,peak_to_trough_median,peak_to_trough_max,max_incr_1d_median,"
      "max_incr_1d_max,max_incr_5d_median,max_incr_5d_max,max_incr_10d_median,max_incr_10d_max,"
      "max_incr_30d_median,max_incr_30d_max\n",
      f);
  for (size_t m = 0; m < rep->M; m++) {
    const rp_model *mo = &rep->models[m];
    const im_bt_summary *s = &mo->sum;
    cstr(f, mo->md.name);
    fprintf(f, ",%s,%s,%.17g,%d,%d,%s,%s,%.17g,", im_model_kind_name(mo->md.kind),
            im_measure_name(mo->md.measure), mo->md.confidence, (int)mo->md.horizon,
            (int)mo->md.window, im_verdict_state_name(mo->verdict.state),
            mo->md.horizon > 1 ? "overlap" : "binomial", mo->md.confidence);
    cnum(f, 1 - s->exceed_rate);
    fprintf(f, ",%lld,%lld,%lld,%lld", (long long)mo->n_zone[0], (long long)mo->n_zone[1],
            (long long)mo->n_zone[2], (long long)mo->n_zone_na);
#define I64(x) fprintf(f, ",%lld", (long long)s->x);
#define F64(x) fputc(',', f), cnum(f, s->x);
    IM_BT_SUMMARY_FIELDS(I64, F64)
#undef I64
#undef F64
    for (int t = 0; t < RP_N_TESTS; t++) {
      fputc(',', f);
      if (mo->tests[t].defined)
        cnum(f, (double)mo->tests[t].passed / (double)mo->tests[t].defined);
    }
    fputc(',', f);
    cnum(f, mo->largest);
    fputc(',', f);
    if (isfinite(mo->largest))
      cstr(f, rep->ids[mo->largest_at]);
    fputc(',', f);
    cnum(f, mo->pooled_mean_exceedance);
    fputc(',', f);
    cnum(f, mo->loss_to_margin.median);
    fputc(',', f);
    cnum(f, mo->loss_to_margin.max);
    for (int k = 0; k < 5; k++) {
      fputc(',', f);
      cnum(f, mo->procyc[k].median);
      fputc(',', f);
      cnum(f, mo->procyc[k].max);
    }
    fputc('\n', f);
  }
  return ferror(f);
}

static int write_ports_csv(FILE *f, const rp_report *rep) {
  fputs("model,portfolio,worst_rank,zone", f);
#define X(x) fputs("," #x, f);
  IM_BT_STATS_FIELDS(X, X, X)
#undef X
  fputc('\n', f);
  for (size_t m = 0; m < rep->M; m++) {
    const rp_model *mo = &rep->models[m];
    for (size_t k = 0; k < rep->P; k++) {
      size_t i = mo->order[k];
      const im_bt_stats *r = &mo->rows[i];
      cstr(f, mo->md.name);
      fputc(',', f);
      cstr(f, rep->ids[i]);
      fprintf(f, ",%zu,%s", k + 1, mo->zone[i] >= 0 ? rp_zone_name(mo->zone[i]) : "");
#define I64(x) fprintf(f, ",%lld", (long long)r->x);
#define F64(x) fputc(',', f), cnum(f, r->x);
#define I8(x)                                               \
  if (strstr(#x, "zone"))                                   \
    fprintf(f, ",%s", r->x >= 0 ? rp_zone_name(r->x) : ""); \
  else                                                      \
    fprintf(f, ",%d", (int)r->x);
      IM_BT_STATS_FIELDS(I64, F64, I8)
#undef I64
#undef F64
#undef I8
      fputc('\n', f);
    }
  }
  return ferror(f);
}

/* Every set over every period, with its rank and flags. */
static int write_cal_csv(FILE *f, const rp_report *rep) {
  const im_calib_data *cal = &rep->cal;
  const size_t S = cal->S, Q = cal->Q;
  size_t *rank = malloc((S ? S : 1) * sizeof *rank);
  if (!rank)
    return 1;
  for (size_t r = 0; r < S; r++)
    rank[cal->ranking[r]] = r + 1;
  fputs("set,name,label,kind,measure,confidence,horizon,window,lambda,nu,paths,rank,pareto,recommended,"
        "period,role,period_start,period_end", f);
#define X(x) fputs("," #x, f);
  IM_CAL_METRICS_FIELDS(X, X, X)
#undef X
  fputc('\n', f);
  for (size_t i = 0; i < S; i++) {
    const im_calib_set_rec *z = &cal->sets[i];
    for (size_t q = 0; q < Q; q++) {
      const im_cal_metrics *m = &cal->metrics[i * Q + q];
      fprintf(f, "%zu,", i);
      cstr(f, z->name);
      fputc(',', f);
      char l[160];
      im_calib_set_label(z, l, sizeof l);
      cstr(f, l);
      fputc(',', f);
      cstr(f, z->kind);
      fputc(',', f);
      cstr(f, z->measure);
      fprintf(f, ",%.17g,%d,%d,%.17g,%.17g,%d,%zu,%d,%d,", z->confidence, (int)z->horizon,
              (int)z->window, z->lambda, z->nu, (int)z->paths, rank[i], (int)cal->pareto[i],
              (long)i == cal->recommended);
      cstr(f, cal->periods[q].name);
      fprintf(f, ",%s,%d,%d", q ? "test" : "calibration", (int)cal->periods[q].start,
              (int)cal->periods[q].end);
#define I64(x) fprintf(f, ",%lld", (long long)m->x);
#define F64(x) fputc(',', f), cnum(f, m->x);
#define I8(x) fprintf(f, ",%d", (int)m->x);
      IM_CAL_METRICS_FIELDS(I64, F64, I8)
#undef I64
#undef F64
#undef I8
      fputc('\n', f);
    }
  }
  free(rank);
  return ferror(f);
}

/* ---- all four files, through temporary names ---- */

im_status rp_write(const rp_report *rep, const rp_charts *ch, im_err *err) {
  enum { NMAX = 5 };
  const int N = rep->cal_path ? 5 : 4;
  char final[NMAX][4200], tmp[NMAX][4300];
  snprintf(final[0], sizeof final[0], "%s", rep->out_html);
  rp_side_path(rep->out_html, "summary.json", final[1], sizeof final[1]);
  rp_side_path(rep->out_html, "summary_models.csv", final[2], sizeof final[2]);
  rp_side_path(rep->out_html, "summary_portfolios.csv", final[3], sizeof final[3]);
  rp_side_path(rep->out_html, "summary_calibration.csv", final[4], sizeof final[4]);
  const char *base = strrchr(rep->out_html, '/');
  base = base ? base + 1 : rep->out_html;
  im_status st = IM_OK;
  int made = 0;
  for (int i = 0; i < N && !st; i++) {
    im_tmp_path(final[i], (long)getpid(), tmp[i], sizeof tmp[i]);
    FILE *f = fopen(tmp[i], "w");
    if (!f) {
      st = im_err_set(err, IM_EIO, "%s: cannot write: %s", final[i], strerror(errno));
      break;
    }
    made = i + 1;
    int bad = i == 0   ? write_html(f, rep, ch)
              : i == 1 ? rp_write_json(f, rep, ch, base)
              : i == 2 ? write_models_csv(f, rep)
              : i == 3 ? write_ports_csv(f, rep)
                       : write_cal_csv(f, rep);
    if (fclose(f) != 0 || bad)
      st = im_err_set(err, IM_EIO, "%s: write failed (disk full?)", final[i]);
  }
  for (int i = 0; i < N && !st; i++)
    if (rename(tmp[i], final[i]) != 0)
      st = im_err_set(err, IM_EIO, "%s: cannot rename into place: %s", final[i], strerror(errno));
  if (st)
    for (int i = 0; i < made; i++)
      remove(tmp[i]);
  return st;
}
