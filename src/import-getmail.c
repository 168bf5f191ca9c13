#include "config.h"
#include "pullmail.h"
int
imp_getmail(const char *path, const char *dir, struct imp_src *src,
    char **cause)
{
	(void)dir;
	imp_src_init(src, "getmail", path);
	xasprintf(cause, "%s: not yet", path);
	return -1;
}
