/*
 * segments.c: how many segments a body is, as Twilio counts them.
 *
 * gsm_analyze() counts them, with Twilio's Smart Encoding if a create
 * asks for it (SmartEncoded=true), and gives the text as sent, which is
 * the body the sim stores. Each thread keeps a gsm context of its own.
 */
#include <pthread.h>

#include "buf.h"
#include "diag.h"
#include "gsm.h"

#include "sms-sim/sim.h"

struct gsm_ctx *
sim_thread_gsm(const struct sim *s)
{
	struct gsm_ctx *ctx = pthread_getspecific(s->gsm_key);

	if (!ctx && (ctx = gsm_ctx_new()) &&
	    pthread_setspecific(s->gsm_key, ctx) != 0) {
		gsm_ctx_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

void
sim_thread_gsm_free(void *ctx)
{
	gsm_ctx_free(ctx);
}

int
sim_analyze(struct gsm_ctx *ctx, const char *body, size_t len, int smart,
    unsigned *segments, int *too_long, struct buf *sent)
{
	struct gsm_opts opts = { .smart = smart };
	struct gsm_ctx *own = ctx ? NULL : gsm_ctx_new();
	struct gsm_result res;
	struct errbuf e;
	const char *t;
	size_t n;
	int rc = -1;

	if (!ctx && !(ctx = own))
		return -1;
	if (gsm_analyze(ctx, body, len, &opts, &res, &e) == 0) {
		*segments = (unsigned)res.segments;
		if (too_long)
			*too_long = (res.flags & GSM_TOO_LONG) != 0;
		rc = 0;
		if (!sent)
			;
		else if (res.n_changes == 0)
			rc = buf_add(sent, body, len);
		else if (!(t = gsm_text(ctx, &res, 0, res.code_points, &n)) ||
		    buf_add(sent, t, n) < 0)
			rc = -1;
	}
	gsm_ctx_free(own);
	return rc;
}
