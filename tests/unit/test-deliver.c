/* Maildir names and delivery: exact bytes, nothing visible on abort. */

#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "../../src/pullmail.h"
#include "tap.h"

static int
count(const char *dir)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	int		 n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static char *
only_file(const char *dir)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	char		*p = NULL;

	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			xasprintf(&p, "%s/%s", dir, de->d_name);
	closedir(d);
	return p;
}

int
main(void)
{
	char		 dir[] = "/tmp/pm-deliver-XXXXXX", md[300], sub[320];
	char		*a, *b, *f, buf[256], big[100000];
	struct account	 acct;
	struct deliver	 d;
	struct pm_err	 err = { 0, NULL };
	struct stat	 st;
	regex_t		 re;
	FILE		*fp;
	size_t		 n, i;
	int		 good;

	mkdtemp(dir);

	a = maildir_name("host", 1700000000, 42, 123, 7);
	b = maildir_name("host", 1700000000, 42, 123, 8);
	is_str(a, "1700000000.M000042P123Q7.host", "maildir name format");
	ok(strcmp(a, b) != 0, "sequence makes names unique");
	free(a);
	free(b);
	a = maildir_host();
	ok(strchr(a, '/') == NULL && strchr(a, ':') == NULL && *a != '\0',
	    "host part has no / or :");
	free(a);

	snprintf(md, sizeof(md), "%s/mail/box", dir);
	memset(&acct, 0, sizeof(acct));
	acct.maildir = md;
	ok(deliver_open(&d, &acct, dir, &err) == 0, "open creates the Maildir");
	snprintf(sub, sizeof(sub), "%s/cur", md);
	ok(stat(sub, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (st.st_mode & 0777) == 0700, "cur/ created 0700");

	/* One message, delivered in pieces, with 8-bit bytes. */
	ok(deliver_begin(&d, &err) == 0, "begin");
	snprintf(sub, sizeof(sub), "%s/tmp", md);
	ok(count(sub) == 1, "message is in tmp/ while written");
	deliver_write(&d, "Subject: caf\xc3\xa9\n\n", 16, &err);
	deliver_write(&d, "From here\n.\n\xff\n", 14, &err);
	ok(deliver_commit(&d, &err) == 0 && deliver_sync(&d, &err) == 0,
	    "commit and sync");
	ok(count(sub) == 0, "tmp/ empty after commit");
	snprintf(sub, sizeof(sub), "%s/new", md);
	ok(count(sub) == 1, "one message in new/");
	f = only_file(sub);
	fp = fopen(f, "r");
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	ok(n == 30 && memcmp(buf, "Subject: caf\xc3\xa9\n\nFrom here\n.\n\xff\n",
	    30) == 0, "bytes exactly as written");
	regcomp(&re, "/new/[0-9]+\\.M[0-9]{6}P[0-9]+Q[0-9]+\\.[^/:]+,S=30$",
	    REG_EXTENDED | REG_NOSUB);
	ok(regexec(&re, f, 0, NULL, 0) == 0, "final name carries S=size");
	regfree(&re);
	stat(f, &st);
	ok((st.st_mode & 0777) == 0600, "message mode 0600");
	unlink(f);
	free(f);

	/* A large message passes through the buffer intact. */
	for (i = 0; i < sizeof(big); i++)
		big[i] = i % 251;
	deliver_begin(&d, &err);
	for (i = 0; i < 30; i++)
		deliver_write(&d, big, sizeof(big), &err);
	deliver_commit(&d, &err);
	f = only_file(sub);
	stat(f, &st);
	good = st.st_size == 30 * (off_t)sizeof(big);
	fp = fopen(f, "r");
	for (i = 0; i < 30 && good; i++) {
		static char chk[sizeof(big)];
		good = fread(chk, 1, sizeof(chk), fp) == sizeof(chk) &&
		    memcmp(chk, big, sizeof(big)) == 0;
	}
	fclose(fp);
	ok(good, "3 MB message intact");
	unlink(f);
	free(f);

	/* Abort leaves nothing anywhere. */
	deliver_begin(&d, &err);
	deliver_write(&d, "partial", 7, &err);
	deliver_abort(&d);
	snprintf(sub, sizeof(sub), "%s/tmp", md);
	ok(count(sub) == 0, "abort removes the tmp/ file");
	snprintf(sub, sizeof(sub), "%s/new", md);
	ok(count(sub) == 0, "abort puts nothing in new/");
	deliver_close(&d);

	/* A Maildir that cannot be created is a delivery error. */
	snprintf(md, sizeof(md), "%s/file", dir);
	fp = fopen(md, "w");
	fclose(fp);
	strlcat(md, "/box", sizeof(md));
	acct.maildir = md;
	ok(deliver_open(&d, &acct, dir, &err) == -1 && err.status == EX_IOERR &&
	    strstr(err.msg, "cannot create tmp/") != NULL,
	    "uncreatable Maildir: error");
	err_clear(&err);
	deliver_close(&d);

	snprintf(sub, sizeof(sub), "rm -rf %s", dir);
	return system(sub) == 0 ? done() : 1;
}
