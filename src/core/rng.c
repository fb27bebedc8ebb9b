#include "rng.h"

#include <string.h>

#include <Random123/philox.h>

typedef struct {
  philox4x32_key_t key;
  philox4x32_ctr_t ctr; /* v[0] counts blocks; v[1..3] name the stream */
  philox4x32_ctr_t out;
  unsigned idx;         /* next word of out; 4 = exhausted */
} philox_state;

static unsigned long philox_get(void *vs) {
  philox_state *s = vs;
  if (s->idx == 4) {
    s->out = philox4x32(s->ctr, s->key);
    s->ctr.v[0]++;
    s->idx = 0;
  }
  return s->out.v[s->idx++];
}

static double philox_get_double(void *vs) {
  return (double)philox_get(vs) / 4294967296.0; /* [0, 1), as GSL expects */
}

static void philox_set(void *vs, unsigned long seed) {
  philox_state *s = vs;
  memset(s, 0, sizeof *s);
  s->key.v[0] = (uint32_t)seed;
  s->key.v[1] = (uint32_t)((uint64_t)seed >> 32);
  s->idx = 4;
}

static const gsl_rng_type philox_type = {"philox4x32-10", 0xffffffffUL, 0, sizeof(philox_state),
                                         &philox_set, &philox_get, &philox_get_double};
const gsl_rng_type *im_rng_philox = &philox_type;

void im_rng_stream(gsl_rng *r, uint64_t seed, uint32_t purpose, uint32_t a, uint32_t b) {
  philox_state *s = r->state;
  philox_set(s, 0);
  s->key.v[0] = (uint32_t)seed;
  s->key.v[1] = (uint32_t)(seed >> 32);
  s->ctr.v[1] = purpose;
  s->ctr.v[2] = a;
  s->ctr.v[3] = b;
}

static uint32_t fnv1a(uint32_t h, const char *s) {
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

uint32_t im_rng_hash(const char *s) { return fnv1a(2166136261u, s); }

uint32_t im_rng_hash_join(uint32_t h, const char *s) { return fnv1a((h ^ 0x1fu) * 16777619u, s); }
