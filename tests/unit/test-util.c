/* Word splitting, sizes for people, paths, escaping. */

#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/pullmail.h"
#include "tap.h"

static void
words(const char *in, const char *want)
{
	char		**w, buf[512] = "";
	const char	 *why;
	size_t		  i;

	if (split_words(in, &w, &why) == -1) {
		is_str(why, want, in);
		return;
	}
	for (i = 0; w[i] != NULL; i++) {
		strlcat(buf, "<", sizeof(buf));
		strlcat(buf, w[i], sizeof(buf));
		strlcat(buf, ">", sizeof(buf));
	}
	free_words(w);
	is_str(buf, want, in);
}

int
main(void)
{
	char	 hs[32], *p;

	words("procmail -d joe", "<procmail><-d><joe>");
	words("  spaced\t out  ", "<spaced><out>");
	words("sh -c 'exec procmail -d \"$USER\"'",
	    "<sh><-c><exec procmail -d \"$USER\">");
	words("a\\ b \"c d\" 'e\\f'", "<a b><c d><e\\f>");
	words("\"x\\\"y\\$z\\q\"", "<x\"y$z\\q>");
	words("''", "<>");
	words("a''b", "<ab>");
	words("'unterminated", "unterminated single quote");
	words("\"unterminated", "unterminated double quote");
	words("trailing\\", "backslash at end of command");
	words("   ", "empty command");

	is_str(human_size(0, hs, sizeof(hs)), "0 B", "0 B");
	is_str(human_size(999, hs, sizeof(hs)), "999 B", "999 B");
	is_str(human_size(1400, hs, sizeof(hs)), "1.4 KB", "1.4 KB");
	is_str(human_size(1400000, hs, sizeof(hs)), "1.4 MB", "1.4 MB");
	is_str(human_size(999999, hs, sizeof(hs)), "1.0 MB", "rounds up a unit");
	is_str(human_size(2500000000ULL, hs, sizeof(hs)), "2.5 GB", "2.5 GB");

	setenv("HOME", "/home/joe", 1);
	p = path_expand("~/Mail");
	is_str(p, "/home/joe/Mail", "~/ expanded");
	free(p);
	p = path_expand("~other/x");
	is_str(p, "~other/x", "~user is left alone");
	free(p);
	p = path_tilde("/home/joe/Mail");
	is_str(p, "~/Mail", "home shown as ~");
	free(p);
	p = path_tilde("/home/joella");
	is_str(p, "/home/joella", "prefix that is not the home");
	free(p);

	p = log_vis("a\x1b[31mb\r\n\x7f\xc3", 11);
	ok(strchr(p, '\x1b') == NULL && strchr(p, '\r') == NULL &&
	    strchr(p, '\n') == NULL && strchr(p, '\x7f') == NULL &&
	    strchr(p, '\xc3') == NULL, "escape sequences neutralised");
	printf("# %s\n", p);
	free(p);
	/* ~/.netrc */
	{
		char	 dir[] = "/tmp/pm-netrc-XXXXXX", path[300];
		struct pm_err err = { 0, NULL };
		FILE	*f;

		mkdtemp(dir);
		snprintf(path, sizeof(path), "%s/netrc", dir);
		f = fopen(path, "w");
		fputs("default login joe password dflt\n"
		    "machine other.example login joe password nope\n"
		    "macdef init\nmachine pop.example.net password evil\n\n"
		    "machine pop.example.net login ann password annpw\n"
		    "machine POP.example.net\n  login joe\n  password \"s p\"\n",
		    f);
		fclose(f);
		chmod(path, 0600);
		p = netrc_password(path, "pop.example.net", "joe", &err);
		is_str(p, "s p", "netrc: machine and login match, quoted value");
		free(p);
		p = netrc_password(path, "pop.example.net", "ann", &err);
		is_str(p, "annpw", "netrc: the entry for that login");
		free(p);
		p = netrc_password(path, "elsewhere.example", "joe", &err);
		is_str(p, "dflt", "netrc: default entry as the fallback");
		free(p);
		p = netrc_password(path, "elsewhere.example", "bob", &err);
		ok(p == NULL, "netrc: no entry for that login");
		chmod(path, 0644);
		p = netrc_password(path, "pop.example.net", "joe", &err);
		ok(p == NULL && err.status == 78 &&
		    strstr(err.msg, "mode 0644") != NULL,
		    "netrc readable by others: refused");
		err_clear(&err);
		unlink(path);
		p = netrc_password(path, "pop.example.net", "joe", &err);
		ok(p == NULL && err.status == 0, "no netrc: nothing, no error");
		rmdir(dir);
	}
	return done();
}
