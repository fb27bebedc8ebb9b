/* imvar report: the run of the report (checks, load, draw, write, the lines
 * it prints). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analysis.h"
#include "h5util.h"
#include "report.h"

/* Directories the report created for its output, removed again (when still
 * empty) if it fails: a failed report leaves nothing behind. */
typedef struct {
  char path[8][4200];
  int n;
} made_dirs;

/* Creates the missing directories above path (mkdir -p of its dirname), up
 * to 8 levels; one that cannot be made is left to im_output_dir_ok to name. */
static void make_parent_dirs(const char *path, made_dirs *made) {
  char dir[4200];
  snprintf(dir, sizeof dir, "%s", path);
  char *end = strrchr(dir, '/');
  if (!end || end == dir) return;
  *end = '\0';
  for (char *p = dir + 1; made->n < 8; p++) {
    if (*p != '/' && *p != '\0') continue;
    const char c = *p;
    *p = '\0';
    struct stat st;
    if (stat(dir, &st) != 0) {
      if (mkdir(dir, 0777) != 0) return;
      snprintf(made->path[made->n++], sizeof made->path[0], "%s", dir);
    }
    *p = c;
    if (!c) return;
  }
}

static void remove_made_dirs(const made_dirs *made) {
  for (int i = made->n; i-- > 0;) rmdir(made->path[i]);
}

/* No output of the report may overwrite an input file. */
static im_status check_outputs(const im_report_req *q, im_err *err) {
  if (im_output_dir_ok(q->output, err->msg, sizeof err->msg) < 0) return IM_EIO;
  const char *side[4] = {"summary.json", "summary_models.csv", "summary_portfolios.csv",
                         "summary_calibration.csv"};
  const char *input[2] = {q->results, q->calibration};
  for (int k = 0; k < 2 && input[k]; k++) {
    const char *what = k ? "calibration" : "results";
    for (int i = 0; i < 4; i++) {
      char p[4200];
      rp_side_path(q->output, side[i], p, sizeof p);
      if (im_same_file(p, input[k]))
        return im_err_set(err, IM_EINVAL,
                          "%s: the report would overwrite the %s file (it writes %s beside %s)",
                          input[k], what, side[i], q->output);
    }
    if (im_same_file(q->output, input[k]))
      return im_err_set(err, IM_EINVAL, "%s: the report would overwrite the %s file", q->output,
                        what);
  }
  return IM_OK;
}

static im_status load_calibration(rp_report *rep, const char *calib, im_err *err) {
  im_status st = im_calib_read(calib, &rep->cal, err);
  if (st) return st;
  rep->cal_path = calib;
  rep->cal_ref = rep->cal.recommended >= 0 ? (size_t)rep->cal.recommended
                                           : (size_t)rep->cal.ranking[0];
  return IM_OK;
}

/* What was written, each model's verdict and the calibration's answer. */
static void print_done(const im_report_req *q, const rp_report *rep, const rp_charts *ch,
                       double seconds) {
  size_t drawn = 0;
  for (size_t i = 0; i < ch->n; i++) drawn += ch->c[i].svg != NULL;
  char dir[4200];
  rp_side_path(q->output, "", dir, sizeof dir);
  printf("imvar report: %s (%zu models, %zu portfolios, %zu charts); summary.json, "
         "summary_models.csv, summary_portfolios.csv%s in %s; %.2f s\n",
         q->output, rep->M, rep->P, drawn, q->calibration ? ", summary_calibration.csv" : "",
         dir[0] ? dir : "./", seconds);
  for (size_t m = 0; m < rep->M; m++)
    printf("model %s: %s\n", rep->models[m].md.name,
           im_verdict_state_name(rep->models[m].verdict.state));
  if (q->calibration) {
    char l[160];
    im_calib_set_label(&rep->cal.sets[rep->cal_ref], l, sizeof l);
    printf("calibration %s: %s %s (set %zu)\n", q->calibration,
           rep->cal.recommended >= 0 ? "recommended" : "none eligible; nearest", l, rep->cal_ref);
  }
  fflush(stdout);
}

im_status im_report_make(const im_report_req *q, im_err *err) {
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  made_dirs made = {.n = 0};
  make_parent_dirs(q->output, &made);
  im_status st = check_outputs(q, err);
  if (st) {
    remove_made_dirs(&made);
    return st;
  }
  rp_report rep;
  memset(&rep, 0, sizeof rep);
  rep.results_path = q->results;
  rep.out_html = q->output;
  rep.worst = q->worst;
  rep.table_rows = q->rows;
  time_t now = time(NULL);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  strftime(rep.generated, sizeof rep.generated, "%Y-%m-%dT%H:%M:%SZ", &tmv);
  rp_charts ch = {0, NULL};
  st = rp_load(&rep, q->portfolios, err);
  if (!st && q->calibration) st = load_calibration(&rep, q->calibration, err);
  if (!st) st = rp_draw(&rep, &ch, err);
  if (!st) st = rp_write(&rep, &ch, err);
  if (!st) {
    clock_gettime(CLOCK_MONOTONIC, &t1);
    print_done(q, &rep, &ch, (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
  }
  im_calib_data_free(&rep.cal);
  rp_charts_free(&ch);
  rp_free(&rep);
  if (st) remove_made_dirs(&made);
  return st;
}
