/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* farceur: what the files of the template module share (not installed).
 * Calls run one way: template-messages.c (folders, which reading, the
 * format) -> template-text.c (text messages files), template-json.c (JSON
 * messages files) -> template.c (one template). */
#pragma once

#include <farceur/read-report.h>
#include <farceur/template.h>

#define TEMPLATE_MAX_SIZE (16 * 1024 * 1024)

typedef struct {
  const char *file;
  const char *dir;
  gboolean lenient; /* lab messages file: the header block may end without a blank line,
                     * "Subject : x" is a Subject, "type: html" makes the body HTML */
} TemplateContext;

/* template.c */
gboolean template_fail(GError **error, const char *file, guint line, const char *format, ...)
    G_GNUC_PRINTF(4, 5);
gboolean template_fail_messages(GError **error, const char *file, guint line, const char *format,
                                ...) G_GNUC_PRINTF(4, 5);
FarceurTemplate *template_new(const TemplateContext *ctx);
FarceurTemplate *template_parse_with(const char *text, gsize length, const TemplateContext *ctx,
                                     guint first_line, GError **error);
FarceurTemplate *template_new_message(const TemplateContext *ctx, const char *subject,
                                      const char *body, guint subject_line, guint body_line,
                                      GError **error);
char *template_read_file(const char *path, gsize *length, GError **error);

/* template-text.c */
gboolean template_is_subject_line(const char *line);
GPtrArray *template_read_text(const char *path, const char *text,
                              const FarceurMessagesFormat *format, FarceurReadFile *file,
                              GError **error);

/* template-json.c */
GPtrArray *template_read_json(const char *path, const char *text, FarceurReadFile *file,
                              GError **error);
