#include "opts.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "csvfile.h"

#define HELP_COLUMN_MIN 16

/* "  -c, --config FILE" or "      --chunk I/N" */
static int left_column(const im_opt *o, char *buf, size_t n) {
  char s[8] = "    ";
  if (o->short_name) snprintf(s, sizeof s, "-%c, ", o->short_name);
  return snprintf(buf, n, "  %s--%s%s%s", s, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
}

/* One option: its left column, then its help lines at column col. */
static void help_option(FILE *f, const im_opt *o, int col) {
  char left[128];
  int w = left_column(o, left, sizeof left);
  fputs(left, f);
  const char *line = o->help;
  for (int first = 1; line; first = 0) {
    const char *nl = strchr(line, '\n');
    const int len = nl ? (int)(nl - line) : (int)strlen(line);
    fprintf(f, "%*s%.*s\n", first ? (w < col ? col - w : 1) : col, "", len, line);
    line = nl ? nl + 1 : NULL;
  }
}

static const im_opt help_opt = {"help", 'h', NULL, "this text", IM_OPT_FLAG, NULL, 0, 0, NULL, NULL};

void im_opts_help(const im_cmd_spec *c, FILE *f) {
  int col = HELP_COLUMN_MIN;
  for (size_t i = 0; i < c->n_opts; i++) {
    char left[128];
    const int w = left_column(&c->opts[i], left, sizeof left) + 3;
    if (w > col) col = w;
  }
  fprintf(f, "usage: %s\n\n%s\noptions:\n", c->usage, c->about);
  for (size_t i = 0; i < c->n_opts; i++) help_option(f, &c->opts[i], col);
  help_option(f, &help_opt, col);
  if (c->epilog) fprintf(f, "\n%s", c->epilog);
}

int im_opts_usage_error(const im_cmd_spec *c, int rank, const char *msg) {
  if (rank == 0) {
    if (msg) fprintf(stderr, "imvar %s: %s\n", c->name, msg);
    im_opts_help(c, stderr);
  }
  return IM_EXIT_USAGE;
}

/* Stores one value; 0 if it is invalid. */
static int store(const im_opt *o, char *arg, size_t cap) {
  switch (o->kind) {
    case IM_OPT_FLAG: *(int *)o->dst = 1; return 1;
    case IM_OPT_STR: *(const char **)o->dst = arg; return 1;
    case IM_OPT_LONG: return im_parse_long(arg, o->lo, o->hi, (long *)o->dst);
    case IM_OPT_CUSTOM: return o->parse(arg, o->dst);
    case IM_OPT_LIST: {
      im_opt_list *l = o->dst;
      if (!l->v && !(l->v = calloc(cap ? cap : 1, sizeof *l->v))) return 0;
      l->v[l->n++] = arg;
      return 1;
    }
  }
  return 0;
}

/* getopt_long's tables from the option table; index i + 256 names option i. */
static void build(const im_cmd_spec *c, struct option *lo, char *shorts) {
  size_t k = 0;
  for (size_t i = 0; i <= c->n_opts; i++) {
    const im_opt *o = i < c->n_opts ? &c->opts[i] : &help_opt;
    lo[i] = (struct option){o->name, o->arg ? required_argument : no_argument, NULL, (int)i + 256};
    if (o->short_name) {
      shorts[k++] = o->short_name;
      if (o->arg) shorts[k++] = ':';
    }
  }
  lo[c->n_opts + 1] = (struct option){0, 0, 0, 0};
  shorts[k] = '\0';
}

/* The option a getopt_long code names (a short letter or index + 256). */
static size_t which(const im_cmd_spec *c, int code) {
  if (code >= 256) return (size_t)code - 256;
  for (size_t i = 0; i < c->n_opts; i++)
    if (c->opts[i].short_name == code) return i;
  return code == 'h' ? c->n_opts : SIZE_MAX;
}

int im_opts_parse(const im_cmd_spec *c, int argc, char **argv, int rank, int *first) {
  struct option *lo = calloc(c->n_opts + 2, sizeof *lo);
  char *shorts = calloc(2 * c->n_opts + 4, 1);
  if (!lo || !shorts) {
    free(lo);
    free(shorts);
    if (rank == 0) fprintf(stderr, "imvar %s: out of memory\n", c->name);
    return IM_EXIT_FAIL;
  }
  build(c, lo, shorts);
  int bad = 0, help = 0, code;
  optind = 1;
  opterr = rank == 0;
  /* every bad value is reported, not only the first */
  while (!help && (code = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
    const size_t i = which(c, code);
    if (i == c->n_opts) {
      help = 1;
    } else if (i == SIZE_MAX) { /* getopt_long said why */
      bad = 1;
    } else if (!store(&c->opts[i], optarg, (size_t)argc)) {
      if (rank == 0 && c->opts[i].bad)
        fprintf(stderr, "imvar %s: --%s '%s'%s\n", c->name, c->opts[i].name, optarg, c->opts[i].bad);
      bad = 1;
    }
  }
  free(lo);
  free(shorts);
  *first = optind;
  if (help) {
    if (rank == 0) im_opts_help(c, stdout);
    return IM_EXIT_OK;
  }
  return bad ? im_opts_usage_error(c, rank, NULL) : -1;
}

int im_opts_subcommand(const im_cmd_spec *c, const char *sub, int argc, char **argv, int rank) {
  const char *a = argc >= 2 ? argv[1] : NULL;
  if (a && strcmp(a, sub) == 0) return -1;
  if (a && (!strcmp(a, "--help") || !strcmp(a, "-h"))) {
    if (rank == 0) im_opts_help(c, stdout);
    return IM_EXIT_OK;
  }
  const char *top = c->name;
  const size_t n = strcspn(top, " ");
  if (rank == 0 && a) fprintf(stderr, "imvar %.*s: unknown subcommand '%s'\n", (int)n, top, a);
  return im_opts_usage_error(c, rank, NULL);
}

void im_opts_free(const im_cmd_spec *c) {
  for (size_t i = 0; i < c->n_opts; i++)
    if (c->opts[i].kind == IM_OPT_LIST) {
      im_opt_list *l = c->opts[i].dst;
      free(l->v);
      *l = (im_opt_list){NULL, 0};
    }
}
