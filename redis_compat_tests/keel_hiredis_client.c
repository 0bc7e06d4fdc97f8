/*
 * keel_hiredis_client: a line-oriented hiredis client for the compatibility runner.
 *
 *   keel_hiredis_client [-h host] [-p port]
 *
 * Reads commands from stdin, one per line, in redis-cli syntax: arguments are split on
 * whitespace; "double quotes" understand \xHH, \n, \r, \t, \b, \a and \<any char>;
 * 'single quotes' understand only \'. A closing quote must be followed by whitespace or
 * the end of the line. Each command is sent with redisCommandArgv and its reply is
 * printed on exactly one line of stdout (flushed), in this canonical form:
 *
 *   $"bytes"    bulk string              +"text"   status reply
 *   -"text"     error reply              :123      integer
 *   _           nil (null bulk / null array / RESP3 null)
 *   *N[a b ..]  array of N replies, space separated
 *   RESP3 types, when the linked hiredis knows them:
 *   ,"1.5" double   #t/#f bool   ="txt:..." verbatim   ("123" big number
 *   %N{k v ..} map (N pairs)      ~N[..] set     >N[..] push
 *
 * Inside quotes, bytes 0x20..0x7e other than '"' and '\' are printed as they are, '"' and
 * '\' as \" and \\, every other byte as \xHH (lower-case hex): the output is binary safe
 * and pure ASCII. A line that cannot be split prints "!invalid"; an empty line "!empty".
 * A connection or protocol error prints "!io <message>" and exits with status 1.
 */
#define _POSIX_C_SOURCE 200809L /* getline */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

/* ---- growable byte buffer ---- */

typedef struct {
  char *data;
  size_t len;
  size_t cap;
} Buf;

static void buf_push(Buf *b, char c) {
  if (b->len == b->cap) {
    b->cap = b->cap ? b->cap * 2 : 64;
    b->data = realloc(b->data, b->cap);
    if (b->data == NULL) {
      perror("realloc");
      exit(2);
    }
  }
  b->data[b->len++] = c;
}

/* ---- argument splitting (redis-cli conventions) ---- */

typedef struct {
  char **argv;
  size_t *argvlen;
  int argc;
  int cap;
} Args;

static void args_free(Args *a) {
  for (int i = 0; i < a->argc; i++) free(a->argv[i]);
  free(a->argv);
  free(a->argvlen);
  memset(a, 0, sizeof(*a));
}

static void args_push(Args *a, Buf *token) {
  if (a->argc == a->cap) {
    a->cap = a->cap ? a->cap * 2 : 8;
    a->argv = realloc(a->argv, sizeof(char *) * (size_t)a->cap);
    a->argvlen = realloc(a->argvlen, sizeof(size_t) * (size_t)a->cap);
    if (a->argv == NULL || a->argvlen == NULL) {
      perror("realloc");
      exit(2);
    }
  }
  buf_push(token, '\0'); /* keep C-string friendly; length excludes it */
  a->argv[a->argc] = token->data;
  a->argvlen[a->argc] = token->len - 1;
  a->argc++;
  memset(token, 0, sizeof(*token));
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Returns 0 on success, -1 on unbalanced quotes or a quote not followed by a space. */
static int split_line(const char *p, Args *out) {
  memset(out, 0, sizeof(*out));
  for (;;) {
    while (*p != '\0' && isspace((unsigned char)*p)) p++;
    if (*p == '\0') return 0;

    Buf token = {0};
    int in_double = 0, in_single = 0, done = 0;
    while (!done) {
      char c = *p;
      if (in_double) {
        if (c == '\0') goto fail;
        if (c == '\\' && p[1] == 'x' && hex_value(p[2]) >= 0 && hex_value(p[3]) >= 0) {
          buf_push(&token, (char)(hex_value(p[2]) * 16 + hex_value(p[3])));
          p += 3;
        } else if (c == '\\' && p[1] != '\0') {
          char e = *++p;
          switch (e) {
            case 'n': buf_push(&token, '\n'); break;
            case 'r': buf_push(&token, '\r'); break;
            case 't': buf_push(&token, '\t'); break;
            case 'b': buf_push(&token, '\b'); break;
            case 'a': buf_push(&token, '\a'); break;
            default: buf_push(&token, e); break;
          }
        } else if (c == '"') {
          if (p[1] != '\0' && !isspace((unsigned char)p[1])) goto fail;
          done = 1;
        } else {
          buf_push(&token, c);
        }
      } else if (in_single) {
        if (c == '\0') goto fail;
        if (c == '\\' && p[1] == '\'') {
          buf_push(&token, '\'');
          p++;
        } else if (c == '\'') {
          if (p[1] != '\0' && !isspace((unsigned char)p[1])) goto fail;
          done = 1;
        } else {
          buf_push(&token, c);
        }
      } else if (c == '\0' || isspace((unsigned char)c)) {
        done = 1;
        p--; /* leave the separator for the outer loop */
      } else if (c == '"') {
        in_double = 1;
      } else if (c == '\'') {
        in_single = 1;
      } else {
        buf_push(&token, c);
      }
      p++;
    }
    args_push(out, &token);
    continue;
  fail:
    free(token.data);
    args_free(out);
    return -1;
  }
}

/* ---- canonical reply printing ---- */

static void print_quoted(const char *s, size_t len) {
  putchar('"');
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      putchar('\\');
      putchar(c);
    } else if (c >= 0x20 && c <= 0x7e) {
      putchar(c);
    } else {
      printf("\\x%02x", c);
    }
  }
  putchar('"');
}

static void print_reply(const redisReply *r);

static void print_elements(const redisReply *r, char open, char close) {
  putchar(open);
  for (size_t i = 0; i < r->elements; i++) {
    if (i > 0) putchar(' ');
    print_reply(r->element[i]);
  }
  putchar(close);
}

static void print_reply(const redisReply *r) {
  switch (r->type) {
    case REDIS_REPLY_STRING:
      putchar('$');
      print_quoted(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      putchar('+');
      print_quoted(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      putchar('-');
      print_quoted(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      printf(":%lld", r->integer);
      break;
    case REDIS_REPLY_NIL:
      putchar('_');
      break;
    case REDIS_REPLY_ARRAY:
      printf("*%zu", r->elements);
      print_elements(r, '[', ']');
      break;
#ifdef REDIS_REPLY_MAP
    case REDIS_REPLY_MAP:
      printf("%%%zu", r->elements / 2);
      print_elements(r, '{', '}');
      break;
    case REDIS_REPLY_SET:
      printf("~%zu", r->elements);
      print_elements(r, '[', ']');
      break;
    case REDIS_REPLY_PUSH:
      printf(">%zu", r->elements);
      print_elements(r, '[', ']');
      break;
    case REDIS_REPLY_DOUBLE:
      putchar(',');
      print_quoted(r->str, r->len);
      break;
    case REDIS_REPLY_BOOL:
      printf("#%c", r->integer ? 't' : 'f');
      break;
    case REDIS_REPLY_VERB:
      putchar('=');
      print_quoted(r->str, r->len);
      break;
#endif
#ifdef REDIS_REPLY_BIGNUM
    case REDIS_REPLY_BIGNUM:
      putchar('(');
      print_quoted(r->str, r->len);
      break;
#endif
    default:
      printf("?%d", r->type);
      break;
  }
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 6379;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0 && i + 1 < argc) {
      host = argv[++i];
    } else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
      port = atoi(argv[++i]);
    } else {
      fprintf(stderr, "usage: %s [-h host] [-p port] < commands\n", argv[0]);
      return 2;
    }
  }

  redisContext *ctx = redisConnect(host, port);
  if (ctx == NULL || ctx->err) {
    printf("!io %s\n", ctx ? ctx->errstr : "cannot allocate context");
    return 1;
  }

  char *line = NULL;
  size_t line_cap = 0;
  ssize_t n;
  int status = 0;
  while ((n = getline(&line, &line_cap, stdin)) >= 0) {
    if (n > 0 && line[n - 1] == '\n') line[--n] = '\0';
    Args args;
    if (split_line(line, &args) != 0) {
      puts("!invalid");
    } else if (args.argc == 0) {
      puts("!empty");
    } else {
      redisReply *reply =
          redisCommandArgv(ctx, args.argc, (const char **)args.argv, args.argvlen);
      if (reply == NULL) {
        printf("!io %s\n", ctx->errstr);
        status = 1;
        args_free(&args);
        break;
      }
      print_reply(reply);
      putchar('\n');
      freeReplyObject(reply);
    }
    args_free(&args);
    fflush(stdout);
  }
  fflush(stdout);
  free(line);
  redisFree(ctx);
  return status;
}
