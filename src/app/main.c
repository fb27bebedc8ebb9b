#include <errno.h>
#include <gsl/gsl_errno.h>
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "app.h"

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  /* Errors come back as codes and are agreed across ranks; nothing aborts
   * one rank behind the others' backs. */
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  gsl_set_error_handler_off();
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  int rc = im_run(argc, argv, MPI_COMM_WORLD);
  /* Output lost to a full disk is a failure, not a success (on every rank). */
  errno = 0;
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "imvar: error: standard output: %s\n", errno ? strerror(errno) : "write error");
    if (rc == 0) rc = 1;
  }
  int all = rc;
  /* If the agreement itself fails, each rank keeps its own code (non-zero
   * on the ranks that failed: mpirun then reports the worst). */
  if (MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) == MPI_SUCCESS) rc = all;
  MPI_Finalize();
  return rc;
}
