/*
 * jsonpath.c — compile and evaluate the JSONPath subset of jsonpath.h.
 *
 * Compilation is a tokenizer plus a precedence-climbing parser producing a small tree kept in
 * one node array (indices, not pointers, so the array may grow). Operator precedence follows
 * jsonpath-ng's grammar: '..' < '.' < '|', all left-associative; postfix brackets are taken
 * only at the outermost level of an expression, so they apply to everything on their left.
 *
 * Evaluation is continuation-passing without closures: CHILD(l, r) evaluates l with "then r"
 * pushed onto a stack-allocated continuation list, DESC(l, r) pushes "then walk r below", and
 * the empty continuation hands the value to the caller's callback. A callback that returns
 * non-zero stops the whole walk, which is how sl_jsonpath_first gets the first match without
 * building a list. Invariants: nodes[root] is the whole path; every CHILD/UNION/DESC node has
 * two valid children; FIELDS nodes hold at least one name; a SLICE step is never 0.
 */
#include "base/jsonpath.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define PATH_MAX_LEN 4096

/* ============================================================================================
 * Tree
 * ========================================================================================== */

enum nkind { N_ROOT, N_THIS, N_FIELDS, N_WILD, N_INDEX, N_SLICE, N_CHILD, N_UNION, N_DESC };

struct node {
    enum nkind kind;
    size_t left, right;    /* CHILD/UNION/DESC */
    char **names;          /* FIELDS */
    size_t nnames;
    int64_t *idx;          /* INDEX */
    size_t nidx;
    int64_t sl[3];         /* SLICE start, end, step */
    bool has[3];
};

struct sl_jsonpath {
    char *text;
    struct node *nodes;
    size_t nnodes, cap;
    size_t root;
};

static void node_cleanup(struct node *n)
{
    for (size_t i = 0; i < n->nnames; i++)
        sl_free(n->names[i]);
    sl_free(n->names);
    sl_free(n->idx);
}

void sl_jsonpath_free(struct sl_jsonpath **pp)
{
    if (!pp || !*pp)
        return;
    struct sl_jsonpath *p = *pp;
    for (size_t i = 0; i < p->nnodes; i++)
        node_cleanup(&p->nodes[i]);
    sl_free(p->nodes);
    sl_free(p->text);
    sl_free(p);
    *pp = NULL;
}

/* ============================================================================================
 * Tokenizer
 * ========================================================================================== */

enum tok {
    T_END, T_DOLLAR, T_AT, T_THIS, T_DOT, T_DDOT, T_PIPE, T_LBRACK, T_RBRACK, T_LPAREN,
    T_RPAREN, T_COMMA, T_COLON, T_STAR, T_QUESTION, T_ID, T_NUM, T_STR
};

struct parser {
    struct sl_ctx *ctx;
    struct sl_jsonpath *p;
    const char *s;
    size_t len;
    size_t pos;           /* next unread byte */
    enum tok t;           /* current token */
    size_t tstart;        /* its offset */
    char *tval;           /* T_ID / T_NUM / T_STR text (owned) */
    int64_t tnum;         /* T_NUM value */
    sluice_status rc;
};

static sluice_status perr(struct parser *ps, size_t at, const char *why)
{
    if (ps->rc == SLUICE_OK)
        ps->rc = sl_fail(ps->ctx, SLUICE_ERR_CONFIG, "invalid JSONPath '%s': %s at offset %zu",
                         ps->s, why, at);
    return ps->rc;
}

static sluice_status pnomem(struct parser *ps)
{
    if (ps->rc == SLUICE_OK)
        ps->rc = sl_nomem(ps->ctx);
    return ps->rc;
}

static bool is_id_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_id_char(char c)
{
    return is_id_start(c) || is_digit(c) || c == '-';
}

/* Read a quoted string starting at ps->pos (the quote). */
static sluice_status lex_string(struct parser *ps)
{
    char q = ps->s[ps->pos];
    size_t i = ps->pos + 1;
    struct sl_buf b;
    sl_buf_init(&b, PATH_MAX_LEN);
    sluice_status rc = SLUICE_OK;
    while (i < ps->len && ps->s[i] != q) {
        char c = ps->s[i];
        if (c == '\\' && i + 1 < ps->len && (ps->s[i + 1] == q || ps->s[i + 1] == '\\')) {
            c = ps->s[i + 1];
            i++;
        }
        if (sl_buf_putc(&b, c)) {
            rc = pnomem(ps);
            goto done;
        }
        i++;
    }
    if (i >= ps->len) {
        rc = perr(ps, ps->pos, "unterminated quoted name");
        goto done;
    }
    ps->tval = sl_buf_take(&b);
    if (!ps->tval) {
        ps->tval = sl_strdup("");
        if (!ps->tval) {
            rc = pnomem(ps);
            goto done;
        }
    }
    ps->t = T_STR;
    ps->pos = i + 1;
done:
    sl_buf_cleanup(&b);
    return rc;
}

static sluice_status lex_number(struct parser *ps)
{
    size_t i = ps->pos;
    bool neg = false;
    if (ps->s[i] == '-') {
        neg = true;
        i++;
    }
    uint64_t v = 0;
    size_t d0 = i;
    while (i < ps->len && is_digit(ps->s[i])) {
        unsigned dg = (unsigned)(ps->s[i] - '0');
        if (v > (UINT64_MAX - dg) / 10 || v * 10 + dg > (uint64_t)INT64_MAX)
            return perr(ps, ps->pos, "number too large");
        v = v * 10 + dg;
        i++;
    }
    ps->tval = sl_strndup(ps->s + d0, i - d0);
    if (!ps->tval)
        return pnomem(ps);
    ps->tnum = neg ? -(int64_t)v : (int64_t)v;
    ps->t = T_NUM;
    ps->pos = i;
    return SLUICE_OK;
}

/* Advance to the next token. */
static sluice_status next(struct parser *ps)
{
    sl_free(ps->tval);
    ps->tval = NULL;
    while (ps->pos < ps->len && (ps->s[ps->pos] == ' ' || ps->s[ps->pos] == '\t' ||
                                 ps->s[ps->pos] == '\n' || ps->s[ps->pos] == '\r'))
        ps->pos++;
    ps->tstart = ps->pos;
    if (ps->pos >= ps->len) {
        ps->t = T_END;
        return SLUICE_OK;
    }
    char c = ps->s[ps->pos];
    static const struct {
        char c;
        enum tok t;
    } single[] = {
        {'$', T_DOLLAR}, {'@', T_AT},     {'|', T_PIPE},   {'[', T_LBRACK}, {']', T_RBRACK},
        {'(', T_LPAREN}, {')', T_RPAREN}, {',', T_COMMA},  {':', T_COLON},  {'*', T_STAR},
        {'?', T_QUESTION},
    };
    if (c == '.') {
        bool dd = ps->pos + 1 < ps->len && ps->s[ps->pos + 1] == '.';
        ps->t = dd ? T_DDOT : T_DOT;
        ps->pos += dd ? 2 : 1;
        return SLUICE_OK;
    }
    for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
        if (single[i].c == c) {
            ps->t = single[i].t;
            ps->pos++;
            return SLUICE_OK;
        }
    }
    if (c == '\'' || c == '"')
        return lex_string(ps);
    if (is_digit(c) || (c == '-' && ps->pos + 1 < ps->len && is_digit(ps->s[ps->pos + 1])))
        return lex_number(ps);
    if (c == '`') {
        if (ps->len - ps->pos >= 6 && memcmp(ps->s + ps->pos, "`this`", 6) == 0) {
            ps->t = T_THIS;
            ps->pos += 6;
            return SLUICE_OK;
        }
        return perr(ps, ps->pos, "only `this` is supported between backquotes");
    }
    if (is_id_start(c)) {
        size_t i = ps->pos;
        while (i < ps->len && is_id_char(ps->s[i]))
            i++;
        ps->tval = sl_strndup(ps->s + ps->pos, i - ps->pos);
        if (!ps->tval)
            return pnomem(ps);
        ps->t = T_ID;
        ps->pos = i;
        return SLUICE_OK;
    }
    return perr(ps, ps->pos, "unexpected character");
}

/* ============================================================================================
 * Parser
 * ========================================================================================== */

static sluice_status new_node(struct parser *ps, enum nkind k, size_t *out)
{
    struct sl_jsonpath *p = ps->p;
    if (p->nnodes == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 8;
        struct node *n = sl_realloc(p->nodes, ncap * sizeof(*n));
        if (!n)
            return pnomem(ps);
        p->nodes = n;
        p->cap = ncap;
    }
    memset(&p->nodes[p->nnodes], 0, sizeof(struct node));
    p->nodes[p->nnodes].kind = k;
    *out = p->nnodes++;
    return SLUICE_OK;
}

static sluice_status binary(struct parser *ps, enum nkind k, size_t l, size_t r, size_t *out)
{
    if (new_node(ps, k, out))
        return ps->rc;
    ps->p->nodes[*out].left = l;
    ps->p->nodes[*out].right = r;
    return SLUICE_OK;
}

/* Append the current token's text to FIELDS node n (takes ps->tval). */
static sluice_status add_name(struct parser *ps, size_t n)
{
    struct node *nd = &ps->p->nodes[n];
    char **names = sl_realloc(nd->names, (nd->nnames + 1) * sizeof(*names));
    if (!names)
        return pnomem(ps);
    nd->names = names;
    nd->names[nd->nnames++] = ps->tval;
    ps->tval = NULL;
    return SLUICE_OK;
}

static bool is_name_tok(enum tok t)
{
    return t == T_ID || t == T_STR || t == T_NUM;
}

/* A field list: name (',' name)*, current token is the first name. Stops after the last. */
static sluice_status parse_fields(struct parser *ps, size_t *out)
{
    if (new_node(ps, N_FIELDS, out))
        return ps->rc;
    for (;;) {
        if (ps->t == T_NUM && ps->tnum < 0)
            return perr(ps, ps->tstart, "a negative number is not a field name");
        if (add_name(ps, *out) || next(ps))
            return ps->rc;
        if (ps->t != T_COMMA)
            return SLUICE_OK;
        if (next(ps))
            return ps->rc;
        if (!is_name_tok(ps->t))
            return perr(ps, ps->tstart, "expected a field name after ','");
    }
}

static sluice_status add_index(struct parser *ps, size_t n, int64_t v)
{
    struct node *nd = &ps->p->nodes[n];
    int64_t *idx = sl_realloc(nd->idx, (nd->nidx + 1) * sizeof(*idx));
    if (!idx)
        return pnomem(ps);
    nd->idx = idx;
    nd->idx[nd->nidx++] = v;
    return SLUICE_OK;
}

/* After '[': wildcard, field list, index list or slice, then ']'. */
static sluice_status parse_bracket(struct parser *ps, size_t *out)
{
    if (ps->t == T_STAR) {
        if (new_node(ps, N_WILD, out) || next(ps))
            return ps->rc;
    } else if (ps->t == T_QUESTION) {
        return perr(ps, ps->tstart, "filter expressions are not supported");
    } else if (ps->t == T_ID || ps->t == T_STR) {
        if (parse_fields(ps, out))
            return ps->rc;
    } else if (ps->t == T_NUM || ps->t == T_COLON) {
        int64_t first = 0;
        bool has_first = ps->t == T_NUM;
        if (has_first) {
            first = ps->tnum;
            if (next(ps))
                return ps->rc;
        }
        if (ps->t == T_COLON) {
            if (new_node(ps, N_SLICE, out))
                return ps->rc;
            struct node *nd = &ps->p->nodes[*out];
            nd->sl[0] = first;
            nd->has[0] = has_first;
            for (int part = 1; part < 3 && ps->t == T_COLON; part++) {
                if (next(ps))
                    return ps->rc;
                if (ps->t == T_NUM) {
                    nd->sl[part] = ps->tnum;
                    nd->has[part] = true;
                    if (next(ps))
                        return ps->rc;
                }
            }
            if (nd->has[2] && nd->sl[2] == 0)
                return perr(ps, ps->tstart, "slice step cannot be zero");
        } else {
            if (new_node(ps, N_INDEX, out) || add_index(ps, *out, first))
                return ps->rc;
            while (ps->t == T_COMMA) {
                if (next(ps))
                    return ps->rc;
                if (ps->t != T_NUM)
                    return perr(ps, ps->tstart, "expected an index after ','");
                if (add_index(ps, *out, ps->tnum) || next(ps))
                    return ps->rc;
            }
        }
    } else {
        return perr(ps, ps->tstart, "expected '*', a name, an index or a slice after '['");
    }
    if (ps->t != T_RBRACK)
        return perr(ps, ps->tstart, "expected ']'");
    return next(ps);
}

static sluice_status parse_expr(struct parser *ps, int min_prec, size_t *out);

static sluice_status parse_atom(struct parser *ps, size_t *out)
{
    switch (ps->t) {
    case T_DOLLAR:
        if (new_node(ps, N_ROOT, out))
            return ps->rc;
        return next(ps);
    case T_AT:
    case T_THIS:
        if (new_node(ps, N_THIS, out))
            return ps->rc;
        return next(ps);
    case T_STAR:
        if (new_node(ps, N_WILD, out))
            return ps->rc;
        return next(ps);
    case T_ID:
    case T_STR:
    case T_NUM: return parse_fields(ps, out);
    case T_LBRACK:
        if (next(ps))
            return ps->rc;
        return parse_bracket(ps, out);
    case T_LPAREN:
        if (next(ps) || parse_expr(ps, 0, out))
            return ps->rc;
        if (ps->t != T_RPAREN)
            return perr(ps, ps->tstart, "expected ')'");
        return next(ps);
    case T_END: return perr(ps, ps->tstart, "unexpected end of path");
    case T_QUESTION: return perr(ps, ps->tstart, "filter expressions are not supported");
    default: return perr(ps, ps->tstart, "expected a field name");
    }
}

static int precedence(enum tok t)
{
    switch (t) {
    case T_DDOT: return 1;
    case T_DOT: return 2;
    case T_PIPE: return 3;
    default: return -1;
    }
}

static sluice_status parse_expr(struct parser *ps, int min_prec, size_t *out)
{
    size_t left;
    if (parse_atom(ps, &left))
        return ps->rc;
    for (;;) {
        if (ps->t == T_LBRACK && min_prec == 0) {
            size_t br, ch;
            if (next(ps) || parse_bracket(ps, &br) || binary(ps, N_CHILD, left, br, &ch))
                return ps->rc;
            left = ch;
            continue;
        }
        int prec = precedence(ps->t);
        if (prec < 0 || prec < min_prec)
            break;
        enum nkind k = ps->t == T_DDOT ? N_DESC : ps->t == T_DOT ? N_CHILD : N_UNION;
        size_t right, n;
        if (next(ps) || parse_expr(ps, prec + 1, &right) || binary(ps, k, left, right, &n))
            return ps->rc;
        left = n;
    }
    *out = left;
    return SLUICE_OK;
}

sluice_status sl_jsonpath_compile(struct sl_ctx *ctx, const char *path, struct sl_jsonpath **out)
{
    *out = NULL;
    struct parser ps;
    memset(&ps, 0, sizeof(ps));
    ps.ctx = ctx;
    ps.s = path ? path : "";
    ps.len = strlen(ps.s);
    if (ps.len > PATH_MAX_LEN)
        return sl_fail(ctx, SLUICE_ERR_CONFIG, "invalid JSONPath: longer than %d bytes",
                       PATH_MAX_LEN);
    ps.p = sl_calloc(1, sizeof(*ps.p));
    if (!ps.p)
        return sl_nomem(ctx);
    ps.p->text = sl_strdup(ps.s);
    if (!ps.p->text) {
        pnomem(&ps);
        goto done;
    }
    if (next(&ps) || parse_expr(&ps, 0, &ps.p->root))
        goto done;
    if (ps.t != T_END) {
        perr(&ps, ps.tstart, ps.t == T_RBRACK || ps.t == T_RPAREN ? "unbalanced bracket"
                                                                  : "unexpected token");
        goto done;
    }
done:
    sl_free(ps.tval);
    if (ps.rc != SLUICE_OK) {
        sl_jsonpath_free(&ps.p);
        return ps.rc;
    }
    *out = ps.p;
    return SLUICE_OK;
}

const char *sl_jsonpath_simple_field(const struct sl_jsonpath *p)
{
    const struct node *n = &p->nodes[p->root];
    if (n->kind == N_FIELDS && n->nnames == 1)
        return n->names[0];
    return NULL;
}

int sl_jsonpath_append_key(struct sl_buf *b, const char *key, size_t n)
{
    bool plain = n > 0 && !(key[0] >= '0' && key[0] <= '9') && key[0] != '-';
    for (size_t i = 0; plain && i < n; i++) {
        char c = key[i];
        plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-';
    }
    if (plain)
        return (b->len && sl_buf_putc(b, '.')) || sl_buf_append(b, key, n) ? -1 : 0;
    if (sl_buf_puts(b, "['"))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if ((key[i] == '\'' || key[i] == '\\') && sl_buf_putc(b, '\\'))
            return -1;
        if (sl_buf_putc(b, key[i]))
            return -1;
    }
    return sl_buf_puts(b, "']");
}

const char *sl_jsonpath_text(const struct sl_jsonpath *p)
{
    return p->text;
}

/* ============================================================================================
 * Evaluation
 * ========================================================================================== */

struct cont {
    size_t node;
    bool desc;               /* walk node at the value and every value below it */
    const struct cont *next; /* NULL: hand the value to the sink */
};

/* Evaluation steps allowed per document: `$` mid-path and chained `..` can make the work grow
 * as a power of the document size (jsonpath-ng behaves the same; the fuzzer found
 * "$..$..$..$..zz" taking seconds per item). Past the budget the evaluation stops with no
 * further match; no item of a real pipeline needs a million steps to find its cursor. */
#define MAX_STEPS 1000000u

struct sink {
    const struct sl_jsonpath *p;
    const struct sl_json *root;
    sl_jsonpath_fn fn;
    void *ud;
    unsigned *steps;
};

static int eval(const struct sink *s, size_t n, const struct sl_json *v, const struct cont *k);

static int desc_walk(const struct sink *s, size_t n, const struct sl_json *v, const struct cont *k)
{
    int rc = eval(s, n, v, k);
    if (rc)
        return rc;
    if (v->type == SL_JSON_ARRAY) {
        for (uint32_t i = 0; i < v->len; i++) {
            rc = desc_walk(s, n, &v->u.items[i], k);
            if (rc)
                return rc;
        }
    } else if (v->type == SL_JSON_OBJECT) {
        for (uint32_t i = 0; i < v->len; i++) {
            rc = desc_walk(s, n, &v->u.members[i].val, k);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int emit(const struct sink *s, const struct sl_json *v, const struct cont *k)
{
    if (!k)
        return s->fn(s->ud, v);
    if (k->desc)
        return desc_walk(s, k->node, v, k->next);
    return eval(s, k->node, v, k->next);
}

/* Python's slice indices for a list of length n. */
static void slice_bounds(const struct node *nd, int64_t n, int64_t *start, int64_t *end,
                         int64_t *step)
{
    *step = nd->has[2] ? nd->sl[2] : 1;
    int64_t lo = *step > 0 ? 0 : -1;
    int64_t hi = *step > 0 ? n : n - 1;
    int64_t def_start = *step > 0 ? 0 : n - 1;
    int64_t def_end = *step > 0 ? n : -1;
    for (int i = 0; i < 2; i++) {
        int64_t *dst = i == 0 ? start : end;
        if (!nd->has[i]) {
            *dst = i == 0 ? def_start : def_end;
            continue;
        }
        int64_t x = nd->sl[i];
        if (x < 0)
            x += n;
        if (x < lo)
            x = lo;
        if (x > hi)
            x = hi;
        *dst = x;
    }
}

static int eval(const struct sink *s, size_t n, const struct sl_json *v, const struct cont *k)
{
    const struct node *nd = &s->p->nodes[n];
    int rc = 0;
    if (++*s->steps > MAX_STEPS)
        return -1;
    switch (nd->kind) {
    case N_ROOT: return emit(s, s->root, k);
    case N_THIS: return emit(s, v, k);
    case N_FIELDS:
        if (v->type != SL_JSON_OBJECT)
            return 0;
        for (size_t i = 0; i < nd->nnames && !rc; i++) {
            const struct sl_json *m = sl_json_get(v, nd->names[i]);
            if (m)
                rc = emit(s, m, k);
        }
        return rc;
    case N_WILD:
        if (v->type == SL_JSON_ARRAY) {
            for (uint32_t i = 0; i < v->len && !rc; i++)
                rc = emit(s, &v->u.items[i], k);
        } else if (v->type == SL_JSON_OBJECT) {
            for (uint32_t i = 0; i < v->len && !rc; i++)
                rc = emit(s, &v->u.members[i].val, k);
        }
        return rc;
    case N_INDEX:
        if (v->type != SL_JSON_ARRAY)
            return 0;
        for (size_t i = 0; i < nd->nidx && !rc; i++) {
            int64_t x = nd->idx[i];
            if (x < 0)
                x += (int64_t)v->len;
            if (x >= 0 && x < (int64_t)v->len)
                rc = emit(s, &v->u.items[x], k);
        }
        return rc;
    case N_SLICE: {
        if (v->type != SL_JSON_ARRAY)
            return 0;
        int64_t start, end, step;
        slice_bounds(nd, (int64_t)v->len, &start, &end, &step);
        for (int64_t i = start; (step > 0 ? i < end : i > end) && !rc; i += step)
            rc = emit(s, &v->u.items[i], k);
        return rc;
    }
    case N_CHILD: {
        struct cont c = {nd->right, false, k};
        return eval(s, nd->left, v, &c);
    }
    case N_UNION:
        rc = eval(s, nd->left, v, k);
        if (rc)
            return rc;
        return eval(s, nd->right, v, k);
    case N_DESC: {
        struct cont c = {nd->right, true, k};
        return eval(s, nd->left, v, &c);
    }
    }
    return 0;
}

int sl_jsonpath_each(const struct sl_jsonpath *p, const struct sl_json *doc, sl_jsonpath_fn fn,
                     void *ud)
{
    unsigned steps = 0;
    struct sink s = {p, doc, fn, ud, &steps};
    return eval(&s, p->root, doc, NULL);
}

static int first_fn(void *ud, const struct sl_json *match)
{
    *(const struct sl_json **)ud = match;
    return 1;
}

const struct sl_json *sl_jsonpath_first(const struct sl_jsonpath *p, const struct sl_json *doc)
{
    const struct sl_json *found = NULL;
    sl_jsonpath_each(p, doc, first_fn, &found);
    return found;
}
