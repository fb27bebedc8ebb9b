/* MPI return codes in par/ (run at 2 ranks):
 *  1. the tile queue's window returns errors (a window does not inherit the
 *     communicator's handler: the default aborts the job, rc 134 style);
 *  2. a failing RMA call in the queue becomes IM_EMPI with a message naming
 *     the MPI call and the function (a counter window of 0 bytes: the
 *     fetch-and-add is out of range, MPI_ERR_RMA_RANGE);
 *  3. the queue hands out 0 .. N-1 exactly once across the ranks.
 * Exit 0 when every check passes. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "par.h"

static int failures = 0;
static void check(int ok, const char *what, int rank) {
  if (!ok) {
    failures++;
    fprintf(stderr, "rank %d: FAIL %s\n", rank, what);
  }
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  im_err err = {""};

  /* 1 and 3: a real queue. */
  im_par_queue q;
  check(im_par_queue_open(MPI_COMM_WORLD, &q, &err) == IM_OK, "queue open", rank);
  MPI_Errhandler eh = MPI_ERRHANDLER_NULL;
  MPI_Win_get_errhandler(q.win, &eh);
  check(eh == MPI_ERRORS_RETURN, "the queue's window returns errors", rank);
  enum { N = 100 };
  long seen[N] = {0}, all[N] = {0}, next = 0;
  while (im_par_queue_next(&q, &next, &err) == IM_OK && next >= 0 && next < N) seen[next]++;
  check(im_par_queue_close(&q, &err) == IM_OK, "queue close", rank);
  MPI_Allreduce(seen, all, N, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  int once = 1;
  for (int i = 0; i < N; i++) once &= all[i] == 1;
  check(once, "every item handed out exactly once", rank);

  /* 2: a counter window too small for the fetch-and-add. */
  im_par_queue bad = {MPI_WIN_NULL, NULL};
  MPI_Win_allocate(0, sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &bad.counter, &bad.win);
  MPI_Win_set_errhandler(bad.win, MPI_ERRORS_RETURN);
  err.msg[0] = 0;
  im_status st = im_par_queue_next(&bad, &next, &err);
  check(st == IM_EMPI, "failed fetch-and-add reported as IM_EMPI", rank);
  check(strstr(err.msg, "MPI_Fetch_and_op failed in im_par_queue_next") != NULL,
        "the message names the call and the function", rank);
  check(im_par_agree(MPI_COMM_WORLD, rank == 0 ? st : IM_OK) == IM_EMPI,
        "the failure agreed on every rank", rank);
  if (rank == 0) fprintf(stderr, "message: %s\n", err.msg);
  MPI_Win_free(&bad.win);

  int total = 0;
  MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) printf("%s (%d failed checks)\n", total ? "FAIL" : "ok", total);
  MPI_Finalize();
  return total ? 1 : 0;
}
