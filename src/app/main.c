#include <errno.h>
#include <gsl/gsl_errno.h>
#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "h5util.h"

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
  int mine[2] = {rc, im_h5_close_failed()}, all[2] = {rc, mine[1]};
  /* If the agreement itself fails, each rank keeps its own code (non-zero
   * on the ranks that failed: mpirun then reports the worst). */
  if (MPI_Allreduce(mine, all, 2, MPI_INT, MPI_MAX, MPI_COMM_WORLD) == MPI_SUCCESS) rc = all[0];
  if (all[1]) {
    /* An HDF5 file failed to close (a full disk): HDF5's shutdown, which
     * MPI_Finalize and exit() run, would crash on it (segfault, exit 139).
     * Every rank agreed above, so all leave here with the error's code (a
     * failed close is never a success); mpirun reports it as usual. */
    if (rc == 0) rc = IM_EXIT_FAIL;
    fflush(stdout);
    fflush(stderr);
    _exit(rc);
  }
  MPI_Finalize();
  return rc;
}
