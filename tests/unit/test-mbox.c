/* mboxrd quoting at every split, envelope senders, MDA arguments. */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "../../src/pullmail.h"
#include "tap.h"

struct out {
	char	 buf[4096];
	size_t	 len;
};

static int
collect(void *arg, const char *s, size_t n)
{
	struct out	*o = arg;

	memcpy(o->buf + o->len, s, n);
	o->len += n;
	return 0;
}

static void
quote(const char *in, const char *want)
{
	size_t		 len = strlen(in), a, b;
	struct mboxq	 q;
	struct out	 o;
	int		 bad = 0;

	for (a = 0; a <= len && !bad; a++)
		for (b = a; b <= len && !bad; b++) {
			o.len = 0;
			mboxq_init(&q);
			mboxq_run(&q, in, a, collect, &o);
			mboxq_run(&q, in + a, b - a, collect, &o);
			mboxq_run(&q, in + b, len - b, collect, &o);
			mboxq_finish(&q, collect, &o);
			o.buf[o.len] = '\0';
			if (strcmp(o.buf, want) != 0) {
				printf("# split %zu/%zu: got \"%s\"\n", a, b,
				    o.buf);
				bad = 1;
			}
		}
	ok(!bad, "mboxrd quoting of \"%.20s...\", every split", in);
}

int
main(void)
{
	struct account	 a;
	char		*tmpl[] = { (char *)"deliver", (char *)"-u", (char *)"%u",
			    (char *)"--from=%F", (char *)"%a%%", (char *)"%x",
			    NULL };
	char		**argv, *s;

	quote("Subject: x\n\nFrom me\n", "Subject: x\n\n>From me\n");
	quote(">From a\n>>From b\n", ">>From a\n>>>From b\n");
	quote("From the start\n", ">From the start\n");
	quote("Fromage\nFrom\n From x\n", "Fromage\nFrom\n From x\n");
	quote(">>>Fro\nFrom: header\n", ">>>Fro\nFrom: header\n");
	quote("no final newline", "no final newline\n");
	quote("ends in >>Fro", "ends in >>Fro\n");
	quote(">", ">\n");
	quote("\n\nFrom \n", "\n\n>From \n");
	quote("", "\n");

	s = deliver_sender_parse("From: x\nReturn-Path: <joe@example.org>\n"
	    "\nReturn-Path: <body@x>\n", 60);
	is_str(s, "joe@example.org", "Return-Path gives the sender");
	free(s);
	s = deliver_sender_parse("Return-path:   <a.b+c@d.e>\n\n", 28);
	is_str(s, "a.b+c@d.e", "header name case and blanks");
	free(s);
	s = deliver_sender_parse("Return-Path: <>\n\n", 17);
	is_str(s, "MAILER-DAEMON", "null sender");
	free(s);
	s = deliver_sender_parse("Subject: x\n\nReturn-Path: <body@x>\n", 34);
	is_str(s, "MAILER-DAEMON", "a Return-Path in the body is ignored");
	free(s);
	s = deliver_sender_parse("Return-Path: <a b@c>\n\n", 22);
	is_str(s, "MAILER-DAEMON", "blank in the address refused");
	free(s);
	s = deliver_sender_parse("Return-Path: <x@y;rm -rf ~>\n\n", 29);
	is_str(s, "MAILER-DAEMON", "no blank can be smuggled in");
	free(s);
	s = deliver_sender_parse("Return-Path: <x\x1b[31m@y>\n\n", 25);
	is_str(s, "MAILER-DAEMON", "control characters refused");
	free(s);

	memset(&a, 0, sizeof(a));
	a.name = (char *)"work";
	argv = mda_args(tmpl, &a, "evil; rm -rf / @x");
	ok(strcmp(argv[0], "deliver") == 0 && strcmp(argv[1], "-u") == 0 &&
	    strlen(argv[2]) > 0 && strchr(argv[2], '%') == NULL,
	    "%%u is the local user");
	is_str(argv[3], "--from=evil; rm -rf / @x",
	    "%F stays inside one argument");
	is_str(argv[4], "work%", "%a and %%");
	is_str(argv[5], "%x", "unknown % sequence kept");
	ok(argv[6] == NULL, "argument count unchanged");
	free_words(argv);
	return done();
}
