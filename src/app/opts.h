/* One table-driven option parser for every command: the table says each
 * option's names, value, meaning and check, and the same table generates the
 * command's --help. Built on getopt_long (its messages for an unknown option
 * or a missing value are unchanged). */
#ifndef IM_OPTS_H
#define IM_OPTS_H

#include <stddef.h>
#include <stdio.h>

typedef enum {
  IM_OPT_FLAG,   /* int *: set to 1 */
  IM_OPT_STR,    /* const char **: the value */
  IM_OPT_LIST,   /* im_opt_list *: every value, in order (repeatable) */
  IM_OPT_LONG,   /* long *: an integer in [lo, hi] */
  IM_OPT_CUSTOM, /* parse(value, dst) */
} im_opt_kind;

typedef struct {
  char **v; /* [n] the values (pointers into argv) */
  size_t n;
} im_opt_list;

typedef struct {
  const char *name;  /* long name without "--" */
  char short_name;   /* 0: none */
  const char *arg;   /* the value's name in the help ("FILE"); NULL for a flag */
  const char *help;  /* lines separated by '\n' */
  im_opt_kind kind;
  void *dst;
  long lo, hi;                               /* IM_OPT_LONG */
  int (*parse)(const char *arg, void *dst);  /* IM_OPT_CUSTOM: 1 if valid */
  const char *bad; /* why a value is invalid, printed as
                      "imvar <cmd>: --<name> '<value>'<bad>"; NULL: the help alone */
} im_opt;

typedef struct {
  const char *name;   /* "validate", "portfolios generate" */
  const char *usage;  /* the usage lines after "usage: " */
  const char *about;  /* what the command does */
  const im_opt *opts;
  size_t n_opts;
  const char *epilog; /* after the options (environment, exit codes), or NULL */
} im_cmd_spec;

/* Writes the --help text: usage, about, the option table (with -h, --help)
 * and the epilog. */
void im_opts_help(const im_cmd_spec *c, FILE *f);

/* Parses argv[1..argc) into the table's destinations (on every rank; only
 * rank 0 prints). Returns -1 when the command should run, with the operands
 * in argv[*first..argc); else the exit code: 0 after --help (printed on
 * stdout), 2 on a bad option (the message, then the help on stderr). */
int im_opts_parse(const im_cmd_spec *c, int argc, char **argv, int rank, int *first);

/* The usage error of a command whose options parsed but whose operands or
 * required options are wrong: "imvar <cmd>: <msg>" (msg may be NULL) and the
 * help on stderr, on rank 0; returns 2. */
int im_opts_usage_error(const im_cmd_spec *c, int rank, const char *msg);

/* A command with a subcommand ("portfolios generate"): -1 when argv[1] is
 * sub (parse argc - 1, argv + 1 then); else the exit code after --help (0)
 * or a missing or unknown subcommand (2, with the help on stderr). */
int im_opts_subcommand(const im_cmd_spec *c, const char *sub, int argc, char **argv, int rank);

/* Frees the lists im_opts_parse filled. */
void im_opts_free(const im_cmd_spec *c);

#endif
