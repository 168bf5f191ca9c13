#include "config.h"
#include "pullmail.h"
int
imp_fetchmail(const char *path, const char *idfile, struct imp_src *src,
    char **cause)
{
	(void)idfile;
	imp_src_init(src, "fetchmail", path);
	xasprintf(cause, "%s: not yet", path);
	return -1;
}
