/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the SMTP reply parser: arbitrary server bytes, fed
 * whole and split at every eighth byte, must never crash or leak. */
#include <farceur/farceur.h>

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
  g_autoptr(FarceurSmtpReplyParser) parser = farceur_smtp_reply_parser_new();
  FarceurSmtpReply *reply;

  farceur_smtp_reply_free(farceur_smtp_reply_parse((const char *)data, size, NULL));
  for (size_t i = 0; i < size; i += 8) {
    if (!farceur_smtp_reply_parser_feed(parser, (const char *)data + i, MIN(8, size - i), NULL))
      break;
    while ((reply = farceur_smtp_reply_parser_pop(parser)) != NULL) {
      g_free(farceur_smtp_reply_to_string(reply));
      farceur_smtp_reply_free(reply);
    }
  }
  return 0;
}
