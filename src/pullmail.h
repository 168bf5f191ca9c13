/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The pullmail authors
 */
/*
 * pullmail: a POP3 mail downloader that never loses a message.
 *
 * One shared header: limits, shared structures and the prototypes of every
 * module, grouped by file, each group with a short interface comment.
 */

#ifndef PULLMAIL_H
#define PULLMAIL_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Hard limits on whatever the server sends us. */
#define PM_LINE_MAX	2048		/* a reply or listing line, CRLF excluded */
#define PM_UID_MAX	70		/* RFC 1939: 1 to 70 characters 0x21-0x7e */
#define PM_KEY_MAX	96		/* a UIDL cache key (see pop3.c) */
#define PM_MSGS_MAX	10000000	/* messages in one mailbox */
#define PM_CAPA_MAX	256		/* lines in a CAPA reply */
#ifndef PM_EXAMPLE_CONFIG	/* set by Makefile.am from docdir */
#define PM_EXAMPLE_CONFIG "/usr/local/share/doc/pullmail/examples/pullmail.conf.example"
#endif
#define PM_IOBUF	65536		/* network read buffer */
#define PM_WBUF		65536		/* delivery write buffer */
#define PM_WINDOW	1024		/* pipelined commands in flight, at most:
					 * ~14 KB of commands, which any
					 * server's socket buffer takes whole,
					 * so writes never wait on its reads */
#define PM_INFLIGHT	(4 << 20)	/* bytes of messages asked for (by LIST
					 * sizes) and not yet read: enough for
					 * the bandwidth-delay product of most
					 * paths (50 ms at 640 Mbit/s), and
					 * what a SIGTERM must still read */
#define PM_BATCH_MSGS	64		/* messages per durable batch */
#define PM_BATCH_BYTES	(16 * 1024 * 1024) /* bytes per durable batch */
#define PM_PASS_MAX	65536		/* a password or token (OAuth: KBs) */
#define PM_CMD_MAX	255		/* RFC 2449: a command line, CRLF excluded */

/*
 * An error: the exit status it maps to (sysexits.h) and a one-line message.
 * The first error set wins; later ones are consequences and are dropped.
 */
struct pm_err {
	int	 status;
	char	*msg;
};

enum auth_mech {
	AUTH_AUTO,
	AUTH_USER,
	AUTH_APOP,
	AUTH_PLAIN,
	AUTH_LOGIN,
	AUTH_CRAM,
	AUTH_SCRAM1,
	AUTH_SCRAM256,
	AUTH_XOAUTH2,
	AUTH_OAUTHBEARER,
	AUTH_EXTERNAL,
	AUTH_NMECHS
};

enum tls_mode {
	TLSM_IMPLICIT,
	TLSM_STARTTLS,
	TLSM_NONE
};

struct account {
	char			*name;
	char			*host;
	char			*port;		/* numeric string */
	enum tls_mode		 tls;
	char			*ca_file;
	char			*ca_path;
	char			*fingerprint;	/* "sha256:AB:CD:..." */
	unsigned char		 pin[32];	/* the same, decoded */
	int			 tls_min;	/* 12 or 13 */
	char			*client_cert;
	char			*client_key;
	char			*tls_server_name;
	char			*user;
	int			 auth;		/* enum auth_mech */
	char			*password;	/* wiped when freed */
	char			*password_command;
	int			 password_command_timeout; /* seconds */
	int			 allow_plaintext;
	char			*oauth2;	/* google, microsoft, custom */
	char			*oauth2_client_id;
	char			*oauth2_client_secret; /* wiped when freed */
	char			*oauth2_tenant;	/* microsoft */
	char			*oauth2_auth_url;
	char			*oauth2_token_url;
	char			*oauth2_device_url;
	char			*oauth2_scope;
	char			*oauth2_ca_file;
	int			 keep;
	int			 keep_days;
	int			 fetchall;	/* fetch_all */
	uint64_t		 skip_larger_than;
	uint64_t		 delete_larger_than;
	int			 max_messages;
	uint64_t		 max_bytes;
	int			 max_sessions;	/* logins a run, if capped */
	char			*maildir;	/* exactly one of these (the */
	char			*mbox;		/* fields of deliver_backends) */
	char			*mda;
	char			*lmtp;
	char			*smtp;
	char			*deliver_to;	/* lmtp, smtp: the recipients */
	int			 smtp_tls;	/* -1 auto (non-local), 0, 1 */
	char			*smtp_ca_file;
	char			*smtp_user;	/* AUTH PLAIN as this user */
	char			*smtp_password_command;
	int			 allow_8bit_headers; /* without SMTPUTF8 */
	int			 received_header;
	int			 mbox_lock_timeout; /* seconds */
	int			 mda_timeout;	/* seconds */
	int			 mda_partial_read; /* exit 0 without reading all */
	int			 timeout;	/* seconds */
	int			 pipelining;	/* -1 as advertised, 0 no, 1 yes */
	TAILQ_ENTRY(account)	 entry;
};
TAILQ_HEAD(accounts, account);

struct config {
	char		*path;
	int		 jobs;		/* [defaults] jobs */
	struct accounts	 accounts;
};

/* One message on the server, as listed by UIDL and LIST. */
enum msg_action {
	ACT_SKIP,		/* seen and kept: nothing to do */
	ACT_FETCH,		/* retrieve and deliver (then delete if m->del) */
	ACT_DELETE,		/* delivered on an earlier run: delete only */
	ACT_DEFER,		/* new, but over this run's limits: next run */
	ACT_SKIP_BIG,		/* new, larger than skip_larger_than: left */
	ACT_DELETE_BIG,		/* new, larger than delete_larger_than */
	ACT_MARK,		/* --mark-seen: record as seen, fetch nothing */
	ACT_SKIP_SUSPECT,	/* sent far larger than announced before: left */
	ACT_GONE		/* deleted by an earlier session of this run, but
				 * still listed: the server has not caught up */
};

struct msg {
	unsigned int	 num;
	uint64_t	 size;		/* as LIST says; may lie */
	char		*uid;		/* its cache key; NULL without UIDL */
	unsigned int	 copy;		/* n-th of copies sharing a UID, or 0 */
	unsigned int	 copies;
	int		 odd_uid;	/* not an RFC 1939 UID (key hashed) */
	enum msg_action	 action;
	int		 del;		/* ACT_FETCH: delete once recorded */
	int		 reused;	/* its UID was deleted, now new again */
	int		 retry;		/* arrived damaged before: fetch last */
	int		 delivered;	/* this session, durably */
	int		 recorded;	/* UID in the cache, durably */
	int		 deleted;	/* DELE answered +OK this session */
	time_t		 seen;		/* when first recorded (the cache's) */
};

/* What this run was asked to do, from the command line. */
struct run_opts {
	int		 nodelete;	/* -k */
	int		 fetchall;	/* -a */
	int		 mark_seen;	/* --mark-seen */
	int		 check;		/* -c */
	int		 list;		/* -l */
	int		 wait;		/* --wait: wait for the account lock */
	int		 progress;	/* a progress line on the terminal */
};

/* Counters for the summary line. */
struct fetch_stats {
	unsigned int	 listed;
	unsigned int	 fetched;
	uint64_t	 bytes;
	unsigned int	 deleted;
	unsigned int	 kept;
	unsigned int	 fresh;		/* new (unseen) messages listed */
	uint64_t	 fresh_bytes;
	unsigned int	 deferred;	/* over max_messages / max_bytes */
	unsigned int	 too_big;	/* left: skip_larger_than */
	unsigned int	 big_deleted;	/* delete_larger_than */
	unsigned int	 marked;	/* --mark-seen */
	unsigned int	 damaged;	/* arrived damaged: not delivered */
	unsigned int	 gone;		/* deleted this run, listed again */
};

/* A write buffer in front of a file descriptor (util.c). */
struct obuf {
	int		 fd;
	size_t		 len;
	char		 buf[PM_WBUF];
};

/*
 * util.c: allocation that cannot fail (fatal on out-of-memory), error
 * helpers, paths and durability helpers.
 */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 err_set(struct pm_err *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 err_clear(struct pm_err *);
char	*path_expand(const char *);
char	*path_tilde(const char *);
int	 mkdir_p(const char *, mode_t);
int	 fsync_dir(const char *);
int	 fsync_parent(const char *);
int	 split_words(const char *, char ***, const char **);
void	 free_words(char **);
const char *human_size(uint64_t, char *, size_t);
void	 freezero_str(char *);
double	 mono_now(void);
int	 obuf_write(struct obuf *, const char *, size_t);
int	 obuf_flush(struct obuf *);
int	 write_all(int, const char *, size_t);

/*
 * log.c: all output. Errors always reach stderr; info needs -v (or a
 * terminal); the protocol trace needs -vv and hides secrets. Anything that
 * came from the network goes through log_vis first. A secret registered
 * with log_secret_add (4 bytes or more) shows as "***" in whatever log_vis
 * returns, and (8 bytes or more) in every line logged, until
 * log_secret_clear wipes the registry.
 */
void	 log_init(int, int);
int	 log_verbosity(void);
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_trace(int, const char *, size_t);
void	 log_trace_account(const char *);
char	*log_vis(const char *, size_t);
void	 log_secret_add(const char *);
void	 log_secret_clear(void);
__attribute__((noreturn))
void	 fatalx(const char *, ...) __attribute__((format(printf, 1, 2)));

/*
 * config.c: read and validate the configuration. On failure the error is
 * one line naming file, section, key and what is wrong; status EX_CONFIG.
 */
int	 conf_load(const char *, struct config *, struct pm_err *);
void	 conf_free(struct config *);
struct account *conf_find(struct config *, const char *);
char	*conf_default_path(void);
char	*conf_state_dir(void);
void	 conf_dump(FILE *, const struct config *, char **, int);
int	 conf_parse_size(const char *, uint64_t *);

/*
 * conn.c: a TCP connection, optionally TLS, with a timeout on every wait,
 * a bounded read buffer and a write buffer. Once fetch_stop is set, a wait
 * fails (EX_TEMPFAIL) if the server stays silent for a second. conn_close
 * also wipes the secrets registered for the session (log_secret_clear).
 */
struct conn {
	int		 fd;
	void		*ssl;		/* SSL *, NULL before TLS */
	void		*ctx;		/* SSL_CTX * */
	int		 timeout_ms;
	char		*host;
	char		 rbuf[PM_IOBUF];
	size_t		 roff;
	size_t		 rlen;
	char		*wbuf;
	size_t		 wlen;
	size_t		 wsize;
	int		 eof;
	int		 clean;		/* QUIT answered: close_notify */
	int		 inspect;	/* --serverinfo: record, do not refuse */
	int		 ca_lazy;	/* system CA file not loaded yet */
	long		 verify_result;
	char		*resume_key;	/* tls.c: the session it may keep */
	char		 first[64];	/* the first bytes TLS read */
	size_t		 firstlen;
};
/* conn_poll: ready, timed out, stopped (fetch_stop), poll failed. */
enum conn_wait {
	CW_READY,
	CW_TIMEOUT,
	CW_STOPPED,
	CW_ERROR
};
enum conn_wait conn_poll(int, short, int);
int	 conn_open(struct conn *, const char *, const char *, int,
	    struct pm_err *);
int	 conn_tls(struct conn *, const struct account *, struct pm_err *);
struct x509_st;
void	 tls_fingerprint(struct x509_st *, char *, size_t);
int	 conn_fill(struct conn *, struct pm_err *);
int	 conn_getline(struct conn *, char **, size_t *, struct pm_err *);
void	 conn_queue(struct conn *, const char *, size_t);
int	 conn_flush(struct conn *, struct pm_err *);
void	 conn_close(struct conn *);

/*
 * pop3.c: the protocol. Commands are queued (pipelined when the server
 * allows it) and their replies read back in order.
 */
enum pop3_cmd {
	CMD_NONE,
	CMD_RETR,
	CMD_DELE,
	CMD_OTHER
};

struct pop3_pending {
	enum pop3_cmd	 cmd;
	size_t		 idx;
};

/* Decoder state for a multi-line body: dot-unstuffing and CRLF to LF. */
struct body_dec {
	int		 state;
	uint64_t	 in;		/* bytes received, as on the wire */
	uint64_t	 lines;		/* line ends decoded */
	int		 done;
	int		 lenient;	/* it ended with ".\n", not ".\r\n" */
};

struct pop3 {
	struct conn		 conn;
	const struct account	*acct;
	struct pm_err		*err;
	int			 pipelining;
	int			 has_stls;
	int			 has_uidl;
	int			 has_user;
	int			 has_resp_codes;
	int			 has_capa;
	int			 has_utf8;	/* CAPA UTF8 (RFC 6856) */
	int			 utf8;		/* 1 enabled, -1 refused */
	int			 recapa;	/* CAPA asked after login */
	long			 login_delay;	/* CAPA LOGIN-DELAY, or -1 */
	char			 sasl[256];	/* CAPA SASL mechanisms */
	char			 capa_raw[2048]; /* for --serverinfo */
	char			 greeting[PM_LINE_MAX + 1];
	char			 apop_ts[128];	/* greeting timestamp */
	struct pop3_pending	 pend[PM_WINDOW];
	size_t			 phead;
	size_t			 pcount;
	char			 resp[PM_LINE_MAX + 1];	/* last reply text */
};

typedef int (*body_sink)(void *, const char *, size_t);

int	 pop3_connect(struct pop3 *, const struct account *, int,
	    struct pm_err *);
int	 pop3_auth_step(struct pop3 *, const char *, const char **);
void	 pop3_auth_refused(struct pop3 *, const char *, const char *);
int	 pop3_after_login(struct pop3 *);
int	 pop3_before_fetch(struct pop3 *, size_t);
int	 pop3_listing(struct pop3 *, struct msg **, size_t *);
int	 pop3_window(struct pop3 *);
int	 pop3_send(struct pop3 *, enum pop3_cmd, size_t, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
int	 pop3_reply(struct pop3 *, enum pop3_cmd *, size_t *, int *);
int	 pop3_body(struct pop3 *, body_sink, void *, struct body_dec *);
int	 pop3_unsolicited(struct pop3 *);
int	 pop3_quit(struct pop3 *);
char	*pop3_last_text(struct pop3 *);
void	 pop3_close(struct pop3 *);
void	 body_dec_init(struct body_dec *);
size_t	 body_dec_run(struct body_dec *, const char *, size_t, body_sink,
	    void *, int *);
int	 pop3_parse_status(const char *, size_t, int *, const char **);
char	*pop3_uid_key(const char *, size_t, int *);
int	 pop3_resp_status(const char *, int);

/*
 * uidl.c: the per-account cache of delivered UIDs: an append-only journal
 * replayed into a hash table at open, compacted atomically when worth it.
 */
struct uidl_ent {
	char		*uid;		/* the key */
	time_t		 first_seen;
	int		 live;		/* delivered or marked seen */
	int		 del;		/* its DELE not known to be done */
	uint64_t	 del_size;	/* ... when LIST said this */
	int		 suspect;	/* 0, 'd' damaged, 'o' oversized */
	uint64_t	 sus_size;	/* octets that arrived */
	time_t		 sus_time;	/* first found so */
	int		 accept;	/* the user takes it as it comes */
};

struct uidl {
	char		*path;
	int		 fd;
	struct uidl_ent	*ents;
	size_t		 nents;
	size_t		 nalloc;
	size_t		 nlive;
	size_t		 records;	/* in the file: lines after the magic */
	uint32_t	*table;		/* index+1 into ents, 0 = empty */
	size_t		 tsize;		/* power of two */
	char		*pending;	/* journal lines not yet written */
	size_t		 plen;
	size_t		 psize;
	size_t		 precs;		/* records in pending */
	int		 readonly;	/* uidl_open_ro: never written */
};
int	 uidl_open(struct uidl *, const char *, struct pm_err *);
int	 uidl_open_ro(struct uidl *, const char *, struct pm_err *);
const struct uidl_ent *uidl_get(const struct uidl *, const char *);
const struct uidl_ent *uidl_lookup(const struct uidl *, const char *);
int	 uidl_valid_key(const char *);
void	 uidl_add(struct uidl *, const char *, time_t);
void	 uidl_deleting(struct uidl *, const char *, uint64_t);
void	 uidl_forget(struct uidl *, const char *);
void	 uidl_suspect(struct uidl *, const char *, time_t, int, uint64_t);
void	 uidl_accept(struct uidl *, const char *);
int	 uidl_reserve(struct uidl *, uint64_t, struct pm_err *);
int	 uidl_commit(struct uidl *, struct pm_err *);
int	 uidl_prune(struct uidl *, const struct msg *, size_t,
	    struct pm_err *);
int	 uidl_compact(struct uidl *, struct pm_err *);
void	 uidl_close(struct uidl *);

/*
 * plan.c: pure decision of what to do with each listed message, from the
 * listing, the cache and the account's policy. No I/O.
 */
struct plan_policy {
	int		 keep;		/* leave messages on the server */
	int		 keep_days;	/* ... for this many days; 0: forever */
	int		 nodelete;	/* -k: delete nothing this run */
	int		 fetchall;	/* fetch seen messages too */
	int		 mark_seen;	/* record new messages, fetch nothing */
	uint64_t	 skip_larger;	/* 0: no limit */
	uint64_t	 delete_larger;	/* 0: no limit */
	unsigned int	 max_messages;	/* per run; 0: no limit */
	uint64_t	 max_bytes;	/* per run; 0: no limit */
	time_t		 now;
};
void	 plan_make(struct msg *, size_t, const struct uidl *,
	    const struct plan_policy *);

/*
 * deliver.c and deliver-*.c: one interface, several backends. begin opens
 * a message, write appends bytes, commit ends it (mbox, MDA, LMTP, SMTP:
 * delivered; Maildir: written to tmp/, pending), sync makes every
 * committed message durable and visible (or, failing, none of the pending
 * ones), abort throws the message being written away leaving nothing
 * visible, close also throws away whatever is pending.
 *
 * The backends are one table, deliver_backends: each row (defined in its
 * deliver-*.c) names its configuration key, how the key's value is read,
 * which struct account field holds it, and its operations; its state is
 * private to its file (d->priv, psize bytes, zeroed at open and freed at
 * close). Opening, the write errors, the configuration keys and their
 * "only one of" check, the summary line and --dump-config all consult the
 * table: a new backend is one deliver-*.c and one row.
 */
struct deliver;
enum deliver_arg {
	DARG_PATH,		/* a path, "~" expanded */
	DARG_CMD,		/* a command line, split without a shell */
	DARG_ADDR		/* a server: host:port, or a unix socket path */
};
#define DB_BATCH	0x1	/* synced a batch at a time (else each message
				   is delivered at commit and recorded at once) */
#define DB_SPOOL	0x2	/* received into a spool file first */
struct deliver_backend {
	const char	*name;		/* its key, and its name in messages */
	enum deliver_arg arg;
	size_t		 acct_off;	/* offsetof(struct account, its field) */
	unsigned int	 flags;		/* DB_* */
	size_t		 psize;		/* private state, allocated zeroed */
	/* The value at configuration time: NULL or why it is wrong. */
	const char *(*check)(const char *);
	/* For the summary line ("delivered to ..."); NULL: the value. */
	char	*(*label)(const char *);
	int	(*open)(struct deliver *, const char *, struct pm_err *);
	int	(*begin)(struct deliver *, struct pm_err *);
	int	(*commit)(struct deliver *, struct pm_err *);
	int	(*sync)(struct deliver *, struct pm_err *);
	void	(*abort)(struct deliver *);
	void	(*close)(struct deliver *);
};
extern const struct deliver_backend *const deliver_backends[];

struct deliver {
	const struct deliver_backend *be;
	const struct account *acct;
	char		*path;		/* the mailbox, command or server */
	char		*shown;		/* the same, with ~ for people */
	struct obuf	 out;		/* buffers writes to fd */
	int		 fd;		/* the message being written (readable) */
	uint64_t	 size;
	int		 dirty;		/* committed but not yet synced */
	int		 rejected;	/* commit failed for this message alone:
					   the next one may go on */
	void		*priv;		/* the backend's own state */
};

/* Streaming mboxrd quoting: ">" before every line matching ^>*From . */
struct mboxq {
	int		 bol;		/* at the start of a line */
	size_t		 gt;		/* '>' seen at this line's start */
	size_t		 matched;	/* bytes of "From " matched after them */
	int		 last;		/* last byte written, -1 if none */
};

int	 deliver_open(struct deliver *, const struct account *, const char *,
	    struct pm_err *);
int	 deliver_begin(struct deliver *, struct pm_err *);
int	 deliver_write(struct deliver *, const char *, size_t,
	    struct pm_err *);
int	 deliver_commit(struct deliver *, struct pm_err *);
int	 deliver_sync(struct deliver *, struct pm_err *);
void	 deliver_abort(struct deliver *);
void	 deliver_close(struct deliver *);
int	 deliver_batched(const struct deliver *);
const struct deliver_backend *deliver_backend_of(const struct account *);
const char *deliver_value(const struct account *,
	    const struct deliver_backend *);
char	*deliver_label(const struct account *);
int	 deliver_save_copy(struct deliver *, int, struct pm_err *);
int	 deliver_spool_open(struct deliver *, const char *, struct pm_err *);
int	 deliver_spool_begin(struct deliver *, struct pm_err *);
char	*deliver_sender(int);
char	*deliver_sender_parse(const char *, size_t);
char	*deliver_envelope_sender(int);
const char *deliver_local_user(void);
extern const struct deliver_backend maildir_backend;
extern const struct deliver_backend mbox_backend;
extern const struct deliver_backend mda_backend;
extern const struct deliver_backend lmtp_backend;
extern const struct deliver_backend smtp_backend;
#define MD_SYNCFS	1		/* flush a batch with one syncfs */
#define MD_FDATASYNC	2		/* flush a batch file by file */
char	*maildir_name(const char *, time_t, long, pid_t, unsigned long);
char	*maildir_host(void);
int	 maildir_create(const char *, const char *, struct pm_err *);
int	 maildir_flush_mode(int);
void	 maildir_set_flush(struct deliver *, int);
int	 maildir_clean_tmp(const char *, time_t);
void	 mboxq_init(struct mboxq *);
int	 mboxq_run(struct mboxq *, const char *, size_t, body_sink, void *);
int	 mboxq_finish(struct mboxq *, body_sink, void *);
int	 mbox_recover(const char *, const struct account *, struct pm_err *);
char	**mda_args(char **, const struct account *, const char *);
const char *sysexit_name(int);

/* list.c: --list, and the header helpers it uses. */
int	 list_messages(struct pop3 *, const struct msg *, size_t,
	    const struct uidl *);
char	*hdr_get(const char *, size_t, const char *);
char	*rfc2047_decode(const char *);
char	*sanitize_text(const char *, size_t);

/* sasl.c: logging in, and the base64 it needs. */
int	 auth_login(struct pop3 *, const char *);
int	 auth_mech_parse(const char *);
const char *auth_mech_name(int);
char	*b64_encode(const unsigned char *, size_t);
int	 b64_digit(unsigned char);
unsigned char *b64_decode(const char *, size_t *);

/* auth.c: the password for an account (config, command or prompt). */
char	*auth_password(const struct account *, struct pm_err *);
char	*netrc_password(const char *, const char *, const char *,
	    struct pm_err *);

/*
 * oauth2-util.c: the parts of OAuth2 that do no network I/O: the JSON of
 * the token endpoint's replies (RFC 6749 section 5, RFC 8628 section 3.2),
 * forms and URLs (application/x-www-form-urlencoded), the redirect a
 * browser was sent to (or what a user pasted of it), PKCE (RFC 7636, S256)
 * and the token file (JSON, written atomically, mode 0600).
 *
 * Whatever a server sent and a message repeats is escaped (log_vis) and cut
 * to OAUTH2_SHOWN_MAX bytes; no token or secret is ever part of a message.
 * Every parse function takes a body that may be hostile: any bytes, not
 * NUL-terminated, up to OAUTH2_BODY_MAX.
 */
#define OAUTH2_BODY_MAX		(1 << 20)	/* a reply body, at most */
#define OAUTH2_SHOWN_MAX	200		/* server text in a message */
struct oauth2_token {
	char	*access_token;	/* wiped when freed */
	char	*refresh_token;	/* wiped when freed; NULL: none */
	char	*scope;		/* as granted; NULL: not said */
	time_t	 expires_at;	/* the access token's end; 0: not said */
	time_t	 signed_in;	/* when --authorize got the tokens */
	time_t	 refreshed;	/* the last refresh; 0: never */
	time_t	 dead;		/* when a refresh got invalid_grant; 0 */
	char	*dead_why;	/* that error, escaped and cut; or NULL */
	char	*client_id;	/* the client they were issued to */
	char	*token_url;	/* ... by this token endpoint */
};
struct oauth2_device {
	char	*device_code;	/* wiped when freed */
	char	*user_code;
	char	*verification_uri;
	char	*verification_uri_complete;	/* NULL: not sent */
	int	 expires_in;	/* seconds the codes live */
	int	 interval;	/* seconds between polls */
};
void	 oauth2_token_free(struct oauth2_token *);
void	 oauth2_device_free(struct oauth2_device *);
int	 oauth2_parse_token(const char *, size_t, time_t,
	    struct oauth2_token *, char **);
int	 oauth2_parse_error(const char *, size_t, char **, char **);
int	 oauth2_parse_device(const char *, size_t, struct oauth2_device *,
	    char **);
char	*oauth2_form(const char *const *);
char	*oauth2_url(const char *, const char *const *);
int	 oauth2_parse_redirect(const char *, char **, char **, char **,
	    char **);
#define OAUTH2_VERIFIER_LEN	64		/* RFC 7636: 43 to 128 */
#define OAUTH2_CHALLENGE_LEN	43		/* base64url of SHA-256 */
void	 oauth2_pkce(char [OAUTH2_VERIFIER_LEN + 1],
	    char [OAUTH2_CHALLENGE_LEN + 1]);
void	 oauth2_pkce_challenge(const char *, char [OAUTH2_CHALLENGE_LEN + 1]);
char	*oauth2_random(size_t);
char	*oauth2_store_format(const struct oauth2_token *);
int	 oauth2_store_parse(const char *, size_t, struct oauth2_token *,
	    char **);
int	 oauth2_store_read(const char *, struct oauth2_token *,
	    struct pm_err *);
int	 oauth2_store_write(const char *, const struct oauth2_token *,
	    struct pm_err *);

/*
 * oauth2.c: signing in (--authorize: device code, browser with a loopback
 * redirect, or paste-back) and an access token for a login, refreshed
 * through the token endpoint when it is expired or about to be, the
 * rotated refresh token saved at once. HTTPS through libcurl, verified.
 */
char	*oauth2_access_token(const struct account *, const char *,
	    const char *, struct pm_err *);
int	 oauth2_authorize(const struct account *, const char *, const char *);
void	 oauth2_describe(const struct account *, const char *, char *,
	    size_t);
void	 oauth2_set_config(const char *);

#include <signal.h>
extern volatile sig_atomic_t fetch_stop;

/* info.c: --serverinfo. */
int	 fetch_serverinfo(const struct account *, struct pm_err *);

/* fetch.c: one account's whole session; returns its exit status. */
int	 lock_account(const char *, const char *, int, int, int *,
	    struct pm_err *);
int	 fetch_account(struct account *, const char *, const struct run_opts *,
	    struct fetch_stats *);
int	 fetch_size_ok(uint64_t, uint64_t, uint64_t);
int	 fetch_accept(struct account *, const char *, char **, int, int);

/*
 * import.c and import-*.c: "pullmail import", reading another downloader's
 * accounts and seen-state. A parser fills an imp_src with one imp_acct per
 * account; import.c writes the pullmail config and the UIDL caches. A
 * parser fails with *cause set to one line naming the file and line; it
 * never runs anything the old configuration names.
 */
#define IMP_LINE_MAX	8192		/* a line of an old tool's file */

struct imp_uid {
	char			*key;		/* the cache key pop3.c forms */
	time_t			 first;		/* first seen, or 0: now */
};

struct imp_acct {
	char			*name;		/* the pullmail section */
	char			*from;		/* "FILE line N" it came from */
	char			*host;
	char			*port;
	int			 tls;		/* enum tls_mode */
	char			*ca_file;
	char			*ca_path;
	char			*fingerprint;
	char			*tls_server_name;
	char			*client_cert;
	char			*client_key;
	char			*user;
	char			*password;	/* wiped when freed */
	char			*password_command;
	char			*auth;
	int			 allow_plaintext;
	int			 keep;
	int			 keep_days;
	int			 fetchall;
	uint64_t		 skip_larger;
	uint64_t		 delete_larger;
	int			 max_messages;
	char			*maildir;
	char			*mbox;
	char			*mda;
	int			 received_header; /* -1: default */
	int			 timeout;	/* seconds, 0: default */
	int			 pipelining;	/* -1 auto (default), 0, 1 */
	int			 disabled;	/* written commented out */
	int			 written;	/* its cache, by this import */
	char			*notes;		/* comment lines, '\n' ended */
	char			*state;		/* the seen-state file */
	char			*state_key;	/* its name there for this account */
	int			 state_found;
	struct imp_uid		*uids;		/* in file order */
	size_t			 nuids;
	TAILQ_ENTRY(imp_acct)	 entry;
};
TAILQ_HEAD(imp_accts, imp_acct);

struct imp_src {
	const char		*tool;
	char			*path;		/* the configuration read */
	struct imp_accts	 accts;
};

struct imp_lines {
	FILE			*f;
	const char		*path;
	int			 lineno;
	char			*buf;
	size_t			 size;
	int			 nul_ok;	/* NUL bytes are data */
};

int	 import_main(int, char **, const char *);
void	 imp_src_init(struct imp_src *, const char *, const char *);
void	 imp_src_free(struct imp_src *);
struct imp_acct *imp_acct_new(struct imp_src *, const char *, const char *,
	    int);
void	 imp_note(struct imp_acct *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
char	*imp_key(const char *, size_t);
int	 imp_add_uid(struct imp_acct *, const char *, size_t, time_t);
void	 imp_dedup(struct imp_acct *);
void	 imp_same_mailbox(struct imp_src *);
char	*imp_fingerprint(const char *);
void	 imp_timeout(struct imp_acct *, const char *);
int	 imp_lines_open(struct imp_lines *, const char *, char **);
int	 imp_getline(struct imp_lines *, char **, size_t *, char **);
void	 imp_lines_close(struct imp_lines *);
char	*imp_command(const char *, int);
char	*imp_mda_template(const char *, const char *const *);
int	 imp_write_config(FILE *, const struct imp_src *, int);
int	 imp_mpop(const char *, struct imp_src *, char **);
int	 imp_mpop_uidls(struct imp_acct *, const char *, const char *,
	    char **);
int	 imp_fetchmail(const char *, const char *, struct imp_src *, char **);
int	 imp_fetchids(struct imp_src *, const char *, char **);
int	 imp_getmail(const char *, const char *, struct imp_src *, char **);
int	 imp_oldmail(struct imp_acct *, const char *, char **);

#endif /* PULLMAIL_H */
