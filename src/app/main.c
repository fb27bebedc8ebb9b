#include <gsl/gsl_errno.h>
#include <hdf5.h>
#include <mpi.h>

#include "app.h"

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  /* Errors come back as codes and are agreed across ranks; nothing aborts
   * one rank behind the others' backs. */
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  gsl_set_error_handler_off();
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  int rc = im_run(argc, argv, MPI_COMM_WORLD);
  MPI_Finalize();
  return rc;
}
