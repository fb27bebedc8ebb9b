/* The imvar command line. Each command is collective over comm and returns
 * the process exit code (the same on every rank). */
#ifndef IM_APP_H
#define IM_APP_H

#include <mpi.h>
#include <signal.h>

#include "im_status.h"

enum {
  IM_EXIT_OK = 0,
  IM_EXIT_FAIL = 1,   /* I/O, memory or MPI failure */
  IM_EXIT_USAGE = 2,  /* bad command line */
  IM_EXIT_INPUT = 3,  /* bad configuration or input data */
  IM_EXIT_INTERRUPTED = 75, /* stopped by SIGTERM/SIGINT with a checkpoint (EX_TEMPFAIL) */
};

int im_run(int argc, char **argv, MPI_Comm comm);

/* Set by a stop signal once im_catch_stop_signals ran: backtest and calibrate
 * stop every rank after its current item and exit 75. */
extern volatile sig_atomic_t im_stop_requested;
/* SIGTERM (srun's and Slurm's --signal), SIGINT (Ctrl-C), and SIGUSR1 and
 * SIGUSR2, which Open MPI's mpirun forwards to the ranks: Open MPI's mpirun
 * exits 1 whenever it is itself sent SIGTERM or SIGINT (whatever the ranks
 * return), so under mpirun `kill -USR1 <mpirun>` is the stop that gives 75. */
void im_catch_stop_signals(void);

int im_cmd_import(int argc, char **argv, MPI_Comm comm);
int im_cmd_backtest(int argc, char **argv, MPI_Comm comm);
int im_cmd_validate(int argc, char **argv, MPI_Comm comm);
int im_cmd_portfolios(int argc, char **argv, MPI_Comm comm);
int im_cmd_stats(int argc, char **argv, MPI_Comm comm);
int im_cmd_smile(int argc, char **argv, MPI_Comm comm);
int im_cmd_report(int argc, char **argv, MPI_Comm comm);
int im_cmd_calibrate(int argc, char **argv, MPI_Comm comm);

/* Exit code of a status. */
int im_exit_code(im_status st);

/* Prints "imvar: error: <msg>" to stderr if st is an error and msg is set. */
void im_report(im_status st, const im_err *err);

/* Prints one error message for a status agreed by all ranks: rank 0's if it
 * has one, else each other rank's own. */
void im_report_collective(MPI_Comm comm, im_status st, const im_err *err);

/* Rank 0 broadcasts its status (after work only rank 0 did). */
im_status im_bcast_status(MPI_Comm comm, im_status st);

#include "par.h"

/* Rank 0: reads the market and portfolios job->cfg names and sets the
 * backtest dates [d0, d1) from its start and end. */
im_status im_app_load_inputs(const char *cfg_path, im_job *job, im_err *err);

#endif
