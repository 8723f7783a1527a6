/* engine_fixture.h: the small engine and sampling parameters the robustness tests start from (builtin:fake,
 * 64 blocks of 4 tokens; 4 tokens per request). */
#ifndef FOLIO_ENGINE_FIXTURE_H
#define FOLIO_ENGINE_FIXTURE_H

#include <string.h>

#include "check.h"
#include "folio.h"

static inline folio_engine* make_engine(void) {
    folio_engine_params p;
    p.struct_size = sizeof p;
    folio_engine_params_init(&p);
    p.model = "builtin:fake";
    p.model_len = strlen(p.model);
    p.num_gpu_blocks = 64;
    p.block_size_tokens = 4;
    folio_engine* e = NULL;
    EXPECT(folio_engine_create(&p, &e), FOLIO_STATUS_OK);
    return e;
}

static inline folio_sampling_params sampling(void) {
    folio_sampling_params sp;
    sp.struct_size = sizeof sp;
    folio_sampling_params_init(&sp);
    sp.max_tokens = 4;
    return sp;
}

#endif
