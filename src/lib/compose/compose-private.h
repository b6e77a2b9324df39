/* farceur: internals shared by compose.c, compose-body.c and compose-verify.c.
 * Never installed. */
#pragma once

#include <farceur/compose.h>

G_BEGIN_DECLS

/* Fails with FARCEUR_ERROR_DATA, prefixed "template 'FILE' line N: " when
 * @tmpl is given (line 0: no line). */
gboolean compose_fail(GError **error, const FarceurTemplate *tmpl, guint line, const char *format,
                      ...) G_GNUC_PRINTF(4, 5);

/* The MIME body of the message: text, optional HTML alternative, related
 * inline images, attachments (template ones, then @extra paths). */
GMimeObject *compose_body_new(const FarceurTemplate *tmpl, GHashTable *vars,
                              const char *const *extra, GError **error);

/* Gives every multipart under @object a boundary derived from @seed. */
void compose_seed_boundaries(GMimeObject *object, const char *seed);

/* @text for an error message: controls escaped (\r, \n, \xNN), UTF-8 kept. */
char *compose_escape(const char *text);

/* House-style text for an errno ("no such file", "permission denied", ...):
 * lower case, without GLib's wording. */
char *compose_errno_text(int err);

/* The same for a G_FILE_ERROR from g_file_get_contents(). */
char *compose_file_error_text(const GError *error);

/* TRUE for a header holding an address list (From, To, Resent-To, ...). */
gboolean compose_is_address_name(const char *name);

/* The display name of @address as a reader sees it (a group name is
 * decoded too; GMime leaves it as written), or %NULL. */
char *compose_address_name(InternetAddress *address);

G_END_DECLS
