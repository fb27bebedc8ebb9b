#include "h5util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Set once an H5Fclose failed (im_h5_fclose). */
static int close_failed;

herr_t im_h5_fclose(hid_t file) {
  const herr_t r = H5Fclose(file);
  if (r < 0) close_failed = 1;
  return r;
}

int im_h5_close_failed(void) { return close_failed; }

hid_t im_h5_str_type(size_t len) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0) return t;
  if (H5Tset_size(t, len) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0) {
    H5Tclose(t);
    return -1;
  }
  return t;
}

static herr_t attr_write(hid_t obj, const char *name, hid_t type, const void *v) {
  hid_t sp = H5Screate(H5S_SCALAR);
  if (sp < 0) return -1;
  if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
  hid_t a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
  herr_t r = a < 0 ? -1 : H5Awrite(a, type, v);
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp);
  return r;
}

herr_t im_h5_attr_str(hid_t obj, const char *name, const char *value) {
  hid_t t = im_h5_str_type(strlen(value) + 1);
  if (t < 0) return -1;
  herr_t r = attr_write(obj, name, t, value);
  H5Tclose(t);
  return r;
}

herr_t im_h5_attr_double(hid_t obj, const char *name, double v) {
  return attr_write(obj, name, H5T_NATIVE_DOUBLE, &v);
}

herr_t im_h5_attr_int(hid_t obj, const char *name, long v) {
  return attr_write(obj, name, H5T_NATIVE_LONG, &v);
}

char *im_h5_attr_read_str_alloc(hid_t obj, const char *name) {
  if (H5Aexists(obj, name) <= 0) return NULL;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return NULL;
  char *out = NULL;
  hid_t ft = H5Aget_type(a);
  if (ft >= 0 && H5Tget_class(ft) == H5T_STRING) {
    if (H5Tis_variable_str(ft) > 0) {
      char *s = NULL;
      hid_t mt = H5Tcopy(H5T_C_S1);
      H5Tset_size(mt, H5T_VARIABLE);
      if (H5Aread(a, mt, &s) >= 0 && s) {
        out = strdup(s);
        H5free_memory(s);
      }
      H5Tclose(mt);
    } else {
      size_t n = H5Tget_size(ft);
      out = calloc(n + 1, 1);
      hid_t mt = out ? im_h5_str_type(n) : -1;
      if (mt < 0 || H5Aread(a, mt, out) < 0) {
        free(out);
        out = NULL;
      }
      if (mt >= 0) H5Tclose(mt);
    }
  }
  if (ft >= 0) H5Tclose(ft);
  H5Aclose(a);
  return out;
}

herr_t im_h5_attr_read_str(hid_t obj, const char *name, char *buf, size_t len) {
  char *s = im_h5_attr_read_str_alloc(obj, name);
  if (!s) return -1;
  snprintf(buf, len, "%s", s);
  const herr_t r = strlen(s) < len ? 0 : -1; /* a value that does not fit is not returned cut */
  free(s);
  return r;
}

herr_t im_h5_attr_read_int(hid_t obj, const char *name, long *v) {
  if (H5Aexists(obj, name) <= 0) return -1;
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return -1;
  herr_t r = H5Aread(a, H5T_NATIVE_LONG, v);
  H5Aclose(a);
  return r;
}

herr_t im_h5_write(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                   const void *buf) {
  hid_t sp = H5Screate_simple(rank, dims, NULL);
  if (sp < 0) return -1;
  hid_t d = H5Dcreate2(loc, name, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  herr_t r = d < 0 ? -1 : H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
  if (d >= 0) H5Dclose(d);
  H5Sclose(sp);
  return r;
}

hid_t im_h5_open_checked(hid_t loc, const char *name, int rank, hsize_t *dims) {
  if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) return -1;
  hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
  if (d < 0) return -1;
  hid_t sp = H5Dget_space(d);
  int r = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
  if (r != rank || H5Sget_simple_extent_dims(sp, dims, NULL) < 0) {
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(d);
    return -1;
  }
  H5Sclose(sp);
  return d;
}

void im_tmp_path(const char *path, long tag, char *out, size_t len) {
  snprintf(out, len, "%s.tmp.%ld", path, tag);
}

int im_output_dir_ok(const char *path, char *msg, size_t len) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash)
    snprintf(dir, sizeof dir, ".");
  else if (slash == dir)
    dir[1] = '\0';
  else
    *slash = '\0';
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    snprintf(msg, len, "%s: is a directory; an output file name is expected", path);
    return -1;
  }
  if (access(dir, W_OK | X_OK) == 0) return 0;
  snprintf(msg, len, "%s: cannot write there: directory '%s' does not exist or is not writable",
           path, dir);
  return -1;
}

int im_same_file(const char *a, const char *b) {
  struct stat sa, sb;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

herr_t im_h5_attr_provenance(hid_t file, const char *format, long format_version) {
  herr_t e = im_h5_attr_str(file, "format", format);
  e |= im_h5_attr_int(file, "format_version", format_version);
  e |= im_h5_attr_str(file, "imvar_version", IMVAR_VERSION);
  e |= im_h5_attr_str(file, "git_revision", IMVAR_GIT_REV);
  return e < 0 ? -1 : 0;
}

/* The lock file's holder. */
typedef struct {
  long pid;
  char host[256], started[64];
} lock_holder;

static void lock_name(const char *output, char *out, size_t len) { snprintf(out, len, "%s.lock", output); }

static int lock_read(const char *lock, lock_holder *h) {
  FILE *f = fopen(lock, "r");
  if (!f) return -1;
  int n = fscanf(f, "pid %ld host %255s started %63s", &h->pid, h->host, h->started);
  fclose(f);
  return n == 3 && h->pid > 0 ? 0 : -1;
}

/* Whether process pid is gone: no such process (EPERM: there is one, of
 * another user), or a zombie no one reaps (an orphaned rank in a container
 * whose init does not reap). */
static int pid_gone(long pid) {
  if (kill((pid_t)pid, 0) != 0) return errno == ESRCH;
  char path[64], state = '?';
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "r");
  if (f) {
    if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1) state = '?';
    fclose(f);
  }
  return state == 'Z' || state == 'X';
}

/* Whether the holder is certainly gone: on this host (another host's cannot
 * be told) and its process gone, waiting up to 3 s for it to go: mpirun can
 * return while a rank it killed is still exiting, and a --resume started at
 * once must not be refused. */
static int lock_stale(const char *lock, const lock_holder *h) {
  char me[256] = "";
  gethostname(me, sizeof me - 1);
  if (strcmp(me, h->host) != 0) return 0;
  for (int i = 0; i < 30; i++) {
    if (pid_gone(h->pid)) {
      /* Gone after releasing its lock (a run that just ended) is no stale
       * lock: the caller tries again. */
      lock_holder now;
      return lock_read(lock, &now) == 0 && now.pid == h->pid &&
             strcmp(now.started, h->started) == 0;
    }
    nanosleep(&(struct timespec){0, 100000000}, NULL);
  }
  return 0;
}

/* Creates the lock exclusively with this process as holder: 0, or errno. */
static int lock_create(const char *lock, const char *started) {
  int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0) return errno;
  char host[256] = "", line[400];
  gethostname(host, sizeof host - 1);
  int n = snprintf(line, sizeof line, "pid %ld host %s started %s\n", (long)getpid(),
                   host[0] ? host : "unknown", started);
  int e = write(fd, line, (size_t)n) == n ? 0 : errno ? errno : EIO;
  if (close(fd) != 0 && !e) e = errno;
  if (e) unlink(lock);
  return e;
}

int im_output_lock(const char *output, const char *started, char *msg, size_t len) {
  char lock[4200];
  lock_name(output, lock, sizeof lock);
  int took_over = 0;
  for (;;) {
    int e = lock_create(lock, started);
    if (!e) return took_over;
    if (e != EEXIST) {
      snprintf(msg, len, "%s: cannot create the lock file %s: %s", output, lock, strerror(e));
      return -1;
    }
    lock_holder h;
    if (lock_read(lock, &h) != 0) {
      if (access(lock, F_OK) != 0) continue; /* released meanwhile: try again */
      snprintf(msg, len,
               "%s: locked by another run (%s exists but does not name it); if no run writes %s, "
               "remove %s",
               output, lock, output, lock);
      return -1;
    }
    const int stale = !took_over && lock_stale(lock, &h);
    if (!stale && access(lock, F_OK) != 0) continue; /* its run ended meanwhile: try again */
    if (!stale) {
      snprintf(msg, len,
               "%s: another imvar run is writing it (pid %ld on host %s, started %s; lock file "
               "%s): wait for it to end or choose another output. If that run is no longer "
               "running, remove %s",
               output, h.pid, h.host, h.started, lock, lock);
      return -1;
    }
    snprintf(msg, len,
             "%s: removed the stale lock %s of pid %ld on this host (started %s), which no longer "
             "runs",
             output, lock, h.pid, h.started);
    unlink(lock);
    took_over = 1;
  }
}

void im_output_unlock(const char *output) {
  char lock[4200];
  lock_name(output, lock, sizeof lock);
  unlink(lock);
}
