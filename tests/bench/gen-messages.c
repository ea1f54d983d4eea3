/*
 * gen-messages.c: print N synthetic NDJSON message records on stdout, the
 * corpus of tests/bench/segment.sh.
 *
 * The mix imitates a business SMS inbox. About 71% of the bodies are GSM-7:
 * plain English, some with GSM accents (é, ñ, ü, £), some with extension
 * characters (€ [ ] { } ~ ^ | \) that cost two septets, some in Spanish or
 * Portuguese without non-GSM letters. About 29% need UCS-2: curly quotes
 * and apostrophes, dashes and ellipses; non-GSM accents (á, ç, ã, ş, ł);
 * emoji with skin tones, ZWJ sequences, flags and keycaps; whole texts in
 * Cyrillic, Chinese or Japanese, and Arabic. Any body may have line breaks,
 * LF or CRLF. Lengths are mostly 20-300 characters (code points) with a
 * tail to about 1,000; a record averages about 190 bytes.
 *
 * The seed is a constant and the arithmetic is integer only, so N gives the
 * same bytes on every machine, and the first K records of any run are the
 * records of a run with N = K.
 *
 * usage: gen-messages N
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX 8192
#define LEN(a) (sizeof(a) / sizeof((a)[0]))

enum lang { EN, LAT, RU, CJK, AR };

/* The token that makes a body what its kind says; SP_NONE: no such token. */
enum special { SP_NONE, SP_GSMACC, SP_EXT, SP_CURLY, SP_EMOJI, SP_NONGSM };

struct kind {
	unsigned permille;	/* share of the corpus */
	enum lang lang;
	enum special special;
	unsigned pct;		/* chance, in %, of that token at each word */
};

/* 710 GSM-7 + 290 UCS-2. */
static const struct kind kinds[] = {
	{ 560, EN, SP_NONE, 0 },
	{ 70, EN, SP_GSMACC, 12 },
	{ 60, EN, SP_EXT, 10 },
	{ 20, LAT, SP_NONE, 0 },
	{ 90, EN, SP_CURLY, 12 },
	{ 80, EN, SP_EMOJI, 10 },
	{ 50, LAT, SP_NONGSM, 20 },
	{ 30, RU, SP_NONE, 0 },
	{ 22, CJK, SP_NONE, 0 },
	{ 18, AR, SP_NONE, 0 },
};

static const char *const en[] = {
	"the", "the", "you", "your", "your", "order", "is", "is", "ready",
	"for", "pickup", "at", "our", "store", "today", "tomorrow", "please",
	"reply", "to", "to", "confirm", "appointment", "thanks", "thank",
	"we", "have", "received", "payment", "of", "and", "and", "will",
	"ship", "it", "by", "call", "us", "if", "any", "questions", "hi",
	"hello", "running", "late", "see", "soon", "can", "meet", "after",
	"work", "delivery", "window", "between", "driver", "on", "way",
	"code", "verification", "do", "not", "share", "this", "with",
	"anyone", "account", "balance", "due", "reminder", "booking",
	"table", "sorry", "missed", "back", "when", "free", "great",
	"sounds", "good", "ok", "yes", "no", "maybe", "lunch", "dinner",
	"tonight", "weekend", "plan", "ticket", "number", "update",
	"status", "shipped", "arrived", "door", "left", "package", "front",
	"new", "message", "from", "support", "team", "help", "offer",
	"off", "sale", "ends", "visit", "link", "here", "open", "now",
	"closed", "hours", "Monday", "Friday", "room", "check", "in", "out",
	"flight", "gate", "boarding", "delayed", "minutes", "parking",
	"level", "key", "desk", "invoice", "attached", "receipt", "total",
	"refund", "processed", "days", "business", "just", "wanted", "let",
	"know", "about", "change", "schedule", "meeting", "moved", "pm",
	"bring", "ID", "documents", "address", "street", "suite", "floor",
	"don't", "we're", "it's", "you're", "I'll", "can't", "we'll",
	"that's", "let's", "I'm", "won't", "didn't",
};

/* GSM-7 only: ASCII and the GSM accents (é è à ù ì ò ñ ü ö ä Ç ...). */
static const char *const lat[] = {
	"hola", "gracias", "por", "favor", "su", "pedido", "cita", "hoy",
	"de", "de", "que", "en", "para", "tu", "con", "el", "la", "los",
	"mañana", "señor", "llamar", "confirmar", "muito", "obrigado", "bom",
	"dia", "entrega", "amigo", "hasta", "luego", "buenas", "tardes",
	"merci", "bonjour", "demain", "le", "rendez-vous", "à", "très",
	"bien", "voilà", "après", "grazie", "domani", "più", "perché",
};

static const char *const gsmacc[] = {
	"café", "résumé", "señor", "mañana", "Zürich", "Müller", "crème",
	"Ørsted", "Åsa", "Straße", "¿Qué?", "¡Hola!", "Ça", "déjà", "Peña",
	"Ærø", "Björk", "à", "über", "§4",
};

static const char *const nongsm[] = {
	"está", "cómo", "día", "información", "adiós", "llegó", "você",
	"não", "amanhã", "ação", "português", "garçon", "français", "hôtel",
	"fenêtre", "Noël", "çok", "teşekkürler", "kapıda", "Łódź",
	"dziękuję", "Dvořák", "Ángel", "Íñigo", "sí", "aquí", "Mónica",
	"Raúl", "bientôt", "ça",
};

static const char *const ru[] = {
	"привет", "спасибо", "заказ", "готов", "доставка", "завтра",
	"сегодня", "пожалуйста", "позвоните", "нам", "ваш", "код",
	"подтверждения", "встреча", "в", "на", "и", "до", "свидания",
	"хорошо", "да", "нет", "время", "адрес", "оплата", "получена",
	"курьер", "будет", "через", "минут", "Москва", "ждём", "вас",
};

static const char *const cjk[] = {
	"您好", "您的订单", "已发货", "明天", "下午", "三点", "请回复",
	"确认", "谢谢", "验证码", "会议", "改到", "地址", "取件", "欢迎光临",
	"预约", "成功", "今天", "晚上", "见面", "こんにちは", "ご注文",
	"ありがとうございます", "明日", "予約", "確認", "お願いします",
	"届きました", "、", "，",
};

static const char *const ar[] = {
	"مرحبا", "طلبك", "جاهز", "شكرا", "غدا", "الموعد", "رمز", "التحقق",
	"هو", "يرجى", "الاتصال", "بنا", "اليوم", "في", "المساء", "العنوان",
	"تم", "الدفع", "مع", "السلامة", "،",
};

static const char *const emoji[] = {
	"😀", "😂", "😊", "😍", "👍", "🙏", "🎉", "🔥", "😢", "😅", "✅",
	"⭐", "🙂", "😉", "👌", "❤\uFE0F", "☺\uFE0F", "✔\uFE0F",
	"☀\uFE0F", "👍🏽", "👋🏻", "🙏🏾", "💪🏿",
	"👩\u200D💻", "👨\u200D👩\u200D👧\u200D👦",
	"🏳\uFE0F\u200D🌈", "👩\u200D🦰",
	"🧑🏾\u200D🤝\u200D🧑🏻", "❤\uFE0F\u200D🔥",
	"🧑\u200D🍳", "🇺🇸", "🇮🇹", "🇧🇷", "🇯🇵", "🇩🇪", "🇬🇧",
	"1\uFE0F\u20E3",
};

static const char *const ends[] = { ".", ".", ".", ".", "!", "?" };
static const char *const cjk_ends[] = { "。", "。", "！", "？" };
static const char *const ar_ends[] = { ".", ".", "؟", "!" };

struct rng {
	uint64_t s;
};

/* splitmix64 */
static uint64_t
rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15u);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

static unsigned
pick(struct rng *r, unsigned n)
{
	return (unsigned)(rng_next(r) % n);
}

struct body {
	char s[BODY_MAX];
	size_t len;
	size_t cps;		/* code points */
	int sentence_start;	/* capitalize the next word */
};

static void
add(struct body *b, const char *w)
{
	size_t n = strlen(w);

	if (b->len + n >= BODY_MAX)
		return;
	if (b->sentence_start && w[0] >= 'a' && w[0] <= 'z') {
		b->s[b->len] = (char)(w[0] - 'a' + 'A');
		memcpy(b->s + b->len + 1, w + 1, n - 1);
	} else {
		memcpy(b->s + b->len, w, n);
	}
	b->sentence_start = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)w[i] & 0xC0) != 0x80)
			b->cps++;
	b->len += n;
}

/* A word with its straight apostrophe turned into U+2019. */
static void
add_curly(struct body *b, const char *w)
{
	char tmp[64];
	const char *q = strchr(w, '\'');

	if (q == NULL || strlen(w) + 3 > sizeof(tmp)) {
		add(b, w);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%.*s\u2019%s", (int)(q - w), w, q + 1);
	add(b, tmp);
}

/* Order numbers, times, prices, links: GSM-7 and common in real traffic. */
static void
add_number(struct rng *r, struct body *b)
{
	static const char alnum[] =
	    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
	char tmp[48];
	char id[7];

	b->sentence_start = 0;
	switch (pick(r, 6)) {
	case 0:
		snprintf(tmp, sizeof(tmp), "#%05u", pick(r, 100000));
		break;
	case 1:
		snprintf(tmp, sizeof(tmp), "%u:%02u%s", 1 + pick(r, 12),
		    pick(r, 4) * 15, pick(r, 2) ? "pm" : "am");
		break;
	case 2:
		snprintf(tmp, sizeof(tmp), "$%u.%02u", pick(r, 300),
		    pick(r, 100));
		break;
	case 3:
		snprintf(tmp, sizeof(tmp), "%06u", pick(r, 1000000));
		break;
	case 4:
		for (size_t i = 0; i < sizeof(id) - 1; i++)
			id[i] = alnum[pick(r, sizeof(alnum) - 1)];
		id[sizeof(id) - 1] = '\0';
		snprintf(tmp, sizeof(tmp), "https://ex.co/r/%s", id);
		break;
	default:
		snprintf(tmp, sizeof(tmp), "%u%%", 5 + 5 * pick(r, 12));
		break;
	}
	add(b, tmp);
}

/* Extension-table characters: two septets each in GSM-7. */
static void
add_ext(struct rng *r, struct body *b)
{
	static const char *const fixed[] = {
		"{code}", "a|b", "C:\\temp", "^_^", "[OK]", "{name}",
		"~/inbox", "\\o/", "[urgent]",
	};
	char tmp[32];

	switch (pick(r, 4)) {
	case 0:
		snprintf(tmp, sizeof(tmp), "\u20AC%u", 1 + pick(r, 500));
		break;
	case 1:
		snprintf(tmp, sizeof(tmp), "[ref %u]", pick(r, 10000));
		break;
	case 2:
		snprintf(tmp, sizeof(tmp), "~%u min", 5 + pick(r, 55));
		break;
	default:
		add(b, fixed[pick(r, LEN(fixed))]);
		return;
	}
	add(b, tmp);
}

static void
add_special(struct rng *r, struct body *b, enum special sp)
{
	char tmp[64];

	switch (sp) {
	case SP_GSMACC:
		if (pick(r, 4) == 0) {
			snprintf(tmp, sizeof(tmp), "%s%u",
			    pick(r, 2) ? "\u00A3" : "\u00A5", 1 + pick(r, 900));
			add(b, tmp);
		} else {
			add(b, gsmacc[pick(r, LEN(gsmacc))]);
		}
		break;
	case SP_EXT:
		add_ext(r, b);
		break;
	case SP_CURLY:
		switch (pick(r, 10)) {
		case 0:
			add(b, "\u2014");
			break;
		case 1:
			add(b, "\u2026");
			break;
		case 2: case 3:
			snprintf(tmp, sizeof(tmp), "\u201C%s\u201D",
			    en[pick(r, LEN(en))]);
			add(b, tmp);
			break;
		default:
			add_curly(b, en[LEN(en) - 1 - pick(r, 12)]);
			break;
		}
		break;
	case SP_EMOJI:
		add(b, emoji[pick(r, LEN(emoji))]);
		break;
	case SP_NONGSM:
		add(b, nongsm[pick(r, LEN(nongsm))]);
		break;
	case SP_NONE:
		break;
	}
}

static void
add_word(struct rng *r, struct body *b, enum lang lang)
{
	switch (lang) {
	case EN:
		if (pick(r, 100) < 6)
			add_number(r, b);
		else
			add(b, en[pick(r, LEN(en))]);
		break;
	case LAT:
		add(b, lat[pick(r, LEN(lat))]);
		break;
	case RU:
		add(b, ru[pick(r, LEN(ru))]);
		break;
	case CJK:
		if (pick(r, 100) < 4) {
			char tmp[16];

			snprintf(tmp, sizeof(tmp), "%u", pick(r, 10000));
			add(b, tmp);
		} else {
			add(b, cjk[pick(r, LEN(cjk))]);
		}
		break;
	case AR:
		add(b, ar[pick(r, LEN(ar))]);
		break;
	}
}

static void
add_end(struct rng *r, struct body *b, enum lang lang)
{
	if (lang == CJK)
		add(b, cjk_ends[pick(r, LEN(cjk_ends))]);
	else if (lang == AR)
		add(b, ar_ends[pick(r, LEN(ar_ends))]);
	else
		add(b, ends[pick(r, LEN(ends))]);
}

/* Mostly 20-300 code points, with a tail to 1,000. */
static size_t
pick_length(struct rng *r)
{
	unsigned u = pick(r, 1000);
	uint64_t v;

	if (u < 440)
		return 20 + pick(r, 40);
	if (u < 790)
		return 60 + pick(r, 90);
	if (u < 975)
		return 150 + pick(r, 151);
	v = pick(r, 1001);
	return 300 + (size_t)(v * v * v * 700 / 1000000000u);
}

/*
 * Sentences of 3-12 words until the target length; nl: 0 none, 1 LF, 2 CRLF
 * between some sentences.
 */
static void
compose(struct rng *r, struct body *b, const struct kind *k, int nl)
{
	size_t target = pick_length(r);
	const char *sep = k->lang == CJK ? "" : " ";
	unsigned left = 0, specials = 0;

	b->len = b->cps = 0;
	b->sentence_start = 1;
	while (b->cps < target) {
		if (left == 0 && b->len > 0) {
			add_end(r, b, k->lang);
			if (nl && pick(r, 3) == 0)
				add(b, nl == 2 ? "\r\n" : "\n");
			else
				add(b, sep);
			b->sentence_start = 1;
		} else if (b->len > 0) {
			add(b, sep);
		}
		if (left == 0)
			left = 3 + pick(r, 10);
		if (k->special != SP_NONE && pick(r, 100) < k->pct) {
			add_special(r, b, k->special);
			specials++;
		} else {
			add_word(r, b, k->lang);
		}
		left--;
	}
	if (k->special != SP_NONE && specials == 0) {
		add(b, sep);
		add_special(r, b, k->special);
	}
	if (k->special != SP_EMOJI || pick(r, 2))
		add_end(r, b, k->lang);
}

/* Append s[0..n) to out as the inside of a JSON string. */
static size_t
json_escape(char *out, const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':  out[o++] = '\\'; out[o++] = '"'; break;
		case '\\': out[o++] = '\\'; out[o++] = '\\'; break;
		case '\n': out[o++] = '\\'; out[o++] = 'n'; break;
		case '\r': out[o++] = '\\'; out[o++] = 'r'; break;
		case '\t': out[o++] = '\\'; out[o++] = 't'; break;
		default:
			if (c < 0x20)
				o += (size_t)sprintf(out + o, "\\u%04x", c);
			else
				out[o++] = (char)c;
		}
	}
	return o;
}

static int
parse_count(const char *s, unsigned long long *n)
{
	char *end;

	errno = 0;
	*n = strtoull(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && s[0] != '-' ? 0 : -1;
}

int
main(int argc, char *argv[])
{
	static struct body b;
	static char rec[BODY_MAX * 6 + 256];
	struct rng r = { 0x534D534445534B31u };	/* "SMSDESK1" */
	unsigned long long n;

	if (argc != 2 || parse_count(argv[1], &n) == -1) {
		fputs("usage: gen-messages N\n", stderr);
		return 2;
	}
	for (unsigned long long i = 0; i < n; i++) {
		unsigned u = pick(&r, 1000), acc = 0, nl = pick(&r, 100);
		const struct kind *k = &kinds[0];
		size_t len;

		for (size_t j = 0; j < LEN(kinds); j++) {
			acc += kinds[j].permille;
			if (u < acc) {
				k = &kinds[j];
				break;
			}
		}
		compose(&r, &b, k, nl < 8 ? 1 : nl < 12 ? 2 : 0);
		len = (size_t)sprintf(rec, "{\"type\":\"message\","
		    "\"thread\":\"+1555%07u\",\"direction\":\"%s\",\"body\":\"",
		    pick(&r, 10000000), pick(&r, 100) < 55 ? "in" : "out");
		len += json_escape(rec + len, b.s, b.len);
		memcpy(rec + len, "\"}\n", 3);
		len += 3;
		if (fwrite(rec, 1, len, stdout) != len)
			break;
	}
	if (fflush(stdout) == EOF || ferror(stdout) || fclose(stdout) == EOF) {
		fprintf(stderr, "gen-messages: stdout: %s\n", strerror(errno));
		return 74;
	}
	return 0;
}
