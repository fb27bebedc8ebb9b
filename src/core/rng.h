/* Counter-based random streams for GSL's distributions: a gsl_rng type
 * backed by Random123 Philox4x32-10. A stream is a pure function of
 * (seed, purpose, a, b) -- e.g. (run seed, model, date, path) -- so every
 * draw is the same whatever rank or tile makes it. */
#ifndef IM_RNG_H
#define IM_RNG_H

#include <gsl/gsl_rng.h>
#include <stdint.h>

extern const gsl_rng_type *im_rng_philox;

/* Points r (allocated with gsl_rng_alloc(im_rng_philox)) at the start of the
 * stream (seed, purpose, a, b). */
void im_rng_stream(gsl_rng *r, uint64_t seed, uint32_t purpose, uint32_t a, uint32_t b);

/* FNV-1a of a string, for turning names into stream purposes. */
uint32_t im_rng_hash(const char *s);

/* FNV-1a continued from h over a separator byte and then s: the purpose of a
 * stream named by several strings (model, underlying, "ivol"), so that
 * ("ab", "c") and ("a", "bc") differ. */
uint32_t im_rng_hash_join(uint32_t h, const char *s);

#endif
