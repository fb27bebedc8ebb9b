/* Small helpers over the HDF5 C API shared by the io/ files. Every helper
 * returns a negative value on failure, like HDF5 itself. */
#ifndef IM_H5UTIL_H
#define IM_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>

/* Fixed-length, NUL-padded string type of `len` bytes (parallel HDF5 cannot
 * write variable-length string datasets). */
hid_t im_h5_str_type(size_t len);

herr_t im_h5_attr_str(hid_t obj, const char *name, const char *value);
herr_t im_h5_attr_double(hid_t obj, const char *name, double v);
herr_t im_h5_attr_int(hid_t obj, const char *name, long v);

/* Reads a string attribute (fixed or variable length) into buf; -1 when it
 * is missing, not a string, or longer than len - 1. */
herr_t im_h5_attr_read_str(hid_t obj, const char *name, char *buf, size_t len);
/* The same into a fresh buffer (free it); NULL when missing or not a string. */
char *im_h5_attr_read_str_alloc(hid_t obj, const char *name);
herr_t im_h5_attr_read_int(hid_t obj, const char *name, long *v);

/* The provenance every imvar file carries at its root: format and
 * format_version, imvar_version and git_revision of the program writing it. */
herr_t im_h5_attr_provenance(hid_t file, const char *format, long format_version);

/* Creates a dataset of `rank` dims and writes all of buf (serial use). */
herr_t im_h5_write(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                   const void *buf);

/* Opens a dataset and checks it has `rank` dims; stores them in dims. */
hid_t im_h5_open_checked(hid_t loc, const char *name, int rank, hsize_t *dims);

/* The path of a temporary sibling of path ("<path>.tmp.<tag>"). */
void im_tmp_path(const char *path, long tag, char *out, size_t len);

/* Checks that the directory an output file goes to exists and is writable,
 * so the error names the user's path rather than a temporary one. Returns 0
 * or -1 with a sentence in msg. */
int im_output_dir_ok(const char *path, char *msg, size_t len);

/* H5Fclose, remembering a failure: HDF5 1.10 then leaves the file's ID
 * pointing at freed memory, and its own shutdown (at MPI_Finalize or exit)
 * crashes on it. im_h5_close_failed() says whether this process must leave
 * without shutting HDF5 down. */
herr_t im_h5_fclose(hid_t file);
int im_h5_close_failed(void);

/* The lock of an output being written, so that two runs with the same
 * output cannot rename each other's <output>.partial into place:
 * <output>.lock, created exclusively (O_CREAT | O_EXCL, which NFS v3+
 * honours), holding "pid P host H started T". Returns 0 when taken; 1 when
 * taken after removing a stale lock (one left on this host by a process that
 * no longer runs, e.g. after kill -9), msg saying whose; -1 when another run
 * holds it (or it cannot be created), msg naming that run and how to clear
 * the lock should the run be gone. */
int im_output_lock(const char *output, const char *started, char *msg, size_t len);
/* Removes the lock taken by im_output_lock. */
void im_output_unlock(const char *output);

/* Whether a and b name the same existing file (an output that would
 * overwrite an input). */
int im_same_file(const char *a, const char *b);

#endif
