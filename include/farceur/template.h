/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: prank templates (data/doc/formats.md, Templates).
 *
 * A template is a header block in RFC 5322 syntax, a blank line and a
 * plain-text body; {{placeholders}} may appear in header values, the body
 * and the HTML alternative.  Pseudo-headers Attach: and Html: are consumed.
 */
#pragma once

#if !defined(FARCEUR_INSIDE) && !defined(FARCEUR_COMPILATION)
#error "Only <farceur/farceur.h> can be included directly."
#endif

#include <glib.h>

#include <farceur/export.h>
#include <farceur/read-report.h>

G_BEGIN_DECLS

typedef struct {
  char *name;   /* as written */
  char *value;  /* unfolded, leading/trailing blanks removed, placeholders not expanded */
  guint line;   /* 1-based line of the header in the file */
  char *folded; /* (nullable) for a folded header, the value with its line breaks
                 * kept (LF), so that an error names the line of the placeholder */
} FarceurTemplateHeader;

FARCEUR_API void farceur_template_header_free(FarceurTemplateHeader *header);

typedef struct {
  char *path; /* resolved against the template's folder */
  char *name; /* (nullable) file name to show instead of the path's basename */
  char *type; /* (nullable) content type, guessed from the file when NULL */
  gboolean is_inline;
  char *cid; /* (nullable) Content-ID without <> */
  guint line;
} FarceurAttachSpec;

typedef struct {
  char *file;             /* the file it came from, for error messages */
  char *dir;              /* folder against which Attach:/Html: paths resolve */
  guint index;            /* 1-based index in a messages file, 0 for a plain template */
  GPtrArray *headers;     /* (element-type FarceurTemplateHeader) in order */
  GPtrArray *attachments; /* (element-type FarceurAttachSpec) */
  char *html_path;        /* (nullable) resolved path of the Html: file */
  guint html_line;
  char *body;            /* plain-text body, LF line ends */
  guint body_line;       /* line of the first body line in the file */
  gboolean body_is_html; /* a lab messages file said "type: html": the body is HTML */
} FarceurTemplate;

/**
 * FarceurMessagesKind:
 * @FARCEUR_MESSAGES_AUTO: decide from the file (data/doc/formats.md, Messages files)
 * @FARCEUR_MESSAGES_TEMPLATE: one `.tmpl` template, or a folder of them
 * @FARCEUR_MESSAGES_BLOCKS: messages separated by a line such as `==` or `----`
 * @FARCEUR_MESSAGES_JSON: a JSON array of {subject, body} objects (or under a key)
 * @FARCEUR_MESSAGES_LINES: one message per line
 * @FARCEUR_MESSAGES_FILES: a folder holding one message per file
 */
typedef enum {
  FARCEUR_MESSAGES_AUTO,
  FARCEUR_MESSAGES_TEMPLATE,
  FARCEUR_MESSAGES_BLOCKS,
  FARCEUR_MESSAGES_JSON,
  FARCEUR_MESSAGES_LINES,
  FARCEUR_MESSAGES_FILES,
} FarceurMessagesKind;

/**
 * FarceurSubjectRule:
 * @FARCEUR_SUBJECT_AUTO: a `Subject:` line when the messages have one, else the first line
 * @FARCEUR_SUBJECT_HEADER: the `Subject:` line (`Subject :` too)
 * @FARCEUR_SUBJECT_FIRST_LINE: the first line of each message, without `Subject:`
 * @FARCEUR_SUBJECT_FILE_NAME: the file's name without its extension (one message per file)
 * @FARCEUR_SUBJECT_NONE: no subject (the whole text is the body)
 */
typedef enum {
  FARCEUR_SUBJECT_AUTO,
  FARCEUR_SUBJECT_HEADER,
  FARCEUR_SUBJECT_FIRST_LINE,
  FARCEUR_SUBJECT_FILE_NAME,
  FARCEUR_SUBJECT_NONE,
} FarceurSubjectRule;

/**
 * FarceurMessagesFormat:
 * @kind: how the file holds its messages
 * @subject: where each message's subject is
 * @separator: (nullable): the line that separates messages, when forced
 *
 * How to read a messages file: `--messages-format`, parsed by
 * farceur_messages_format_parse().  All zero is "decide from the file".
 */
typedef struct {
  FarceurMessagesKind kind;
  FarceurSubjectRule subject;
  char *separator;
} FarceurMessagesFormat;

FARCEUR_API FarceurTemplate *farceur_template_parse(const char *text, gssize length,
                                                    const char *file, const char *dir,
                                                    guint first_line, GError **error);
FARCEUR_API FarceurTemplate *farceur_template_load(const char *path, GError **error);
FARCEUR_API GPtrArray *farceur_template_load_all(const char *path, GError **error);
FARCEUR_API GPtrArray *farceur_template_read_messages(const char *path,
                                                      const FarceurMessagesFormat *format,
                                                      FarceurReadFile *file, GError **error);
FARCEUR_API gboolean farceur_messages_format_parse(const char *text, FarceurMessagesFormat *format,
                                                   GError **error);
FARCEUR_API void farceur_messages_format_clear(FarceurMessagesFormat *format);
FARCEUR_API void farceur_template_free(FarceurTemplate *tmpl);

FARCEUR_API const char *farceur_template_get_header(const FarceurTemplate *tmpl, const char *name);

FARCEUR_API char *farceur_template_expand(const char *text, GHashTable *vars, const char *file,
                                          guint first_line, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FarceurTemplate, farceur_template_free)

G_END_DECLS
