/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include <farceur/farceur.h>

#include "gmime-autoptr.h"

static GMimeMessage *
parse_message(const char *text)
{
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
  g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);

  return g_mime_parser_construct_message(parser, NULL);
}

static void
test_from_headers(void)
{
  g_autoptr(GMimeMessage) msg = parse_message("From: \"Doe, J\" <j@a.example>\n"
                                              "To: b@b.example, Team: c@c.example, "
                                              "B@B.example;\nCc: d@d.example\n"
                                              "Bcc: e@e.example\nSubject: x\n\nbody\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurEnvelope) env = farceur_envelope_from_message(msg, &error);

  g_assert_no_error(error);
  g_assert_cmpstr(env->mail_from, ==, "j@a.example");
  g_assert_cmpuint(env->rcpt_to->len, ==, 4);
  g_assert_cmpstr(env->rcpt_to->pdata[0], ==, "b@b.example");
  g_assert_cmpstr(env->rcpt_to->pdata[1], ==, "c@c.example");
  g_assert_cmpstr(env->rcpt_to->pdata[2], ==, "d@d.example");
  g_assert_cmpstr(env->rcpt_to->pdata[3], ==, "e@e.example");
}

static void
test_sender_wins(void)
{
  g_autoptr(GMimeMessage) msg
      = parse_message("From: a@a.example\nSender: s@s.example\nTo: b@b.example\n\nx\n");
  g_autoptr(FarceurEnvelope) env = farceur_envelope_from_message(msg, NULL);

  g_assert_nonnull(env);
  g_assert_cmpstr(env->mail_from, ==, "s@s.example");
}

static void
test_resent_block(void)
{
  g_autoptr(GMimeMessage) msg = parse_message("Resent-From: r@r.example\n"
                                              "Resent-To: x@x.example\n"
                                              "From: a@a.example\nTo: b@b.example\n\nx\n");
  g_autoptr(FarceurEnvelope) env = farceur_envelope_from_message(msg, NULL);

  g_assert_nonnull(env);
  g_assert_cmpstr(env->mail_from, ==, "r@r.example");
  g_assert_cmpuint(env->rcpt_to->len, ==, 1);
  g_assert_cmpstr(env->rcpt_to->pdata[0], ==, "x@x.example");
}

static void
test_no_recipient(void)
{
  g_autoptr(GMimeMessage) msg = parse_message("From: a@a.example\nSubject: x\n\nx\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurEnvelope) env = farceur_envelope_from_message(msg, &error);

  g_assert_null(env);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
}

static void
test_check_address(void)
{
  static const char *good[]
      = { "a@b.example", "", "\"a b\"@c.example", "x@[192.0.2.1]", "jérôme@exemple.fr" };
  static const char *bad[] = { "a@b.example\r\nRCPT TO:<x@y>",
                               "a",
                               "@b.example",
                               "a@",
                               "a@b..example",
                               "a b@c.example",
                               "<a@b.example>",
                               "a@b\x01.x",
                               "a@.example" };

  for (gsize i = 0; i < G_N_ELEMENTS(good); i++)
    g_assert_true(farceur_envelope_check_address(good[i], NULL));
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_false(farceur_envelope_check_address(bad[i], &error));
    g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  }
}

/* The one envelope check: MAIL FROM may be empty, one recipient at least
 * (FARCEUR_ERROR_DATA, as every transport reports it), each one an address. */
static void
test_validate(void)
{
  g_autoptr(FarceurEnvelope) env = farceur_envelope_new("");
  g_autoptr(GError) error = NULL;

  g_assert_false(farceur_envelope_validate(env, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "no recipient"));
  g_clear_error(&error);
  farceur_envelope_add_rcpt(env, "b@b.example");
  g_assert_true(farceur_envelope_validate(env, &error));
  g_assert_no_error(error);
  farceur_envelope_add_rcpt(env, "c@c.example\r\nDATA");
  g_assert_false(farceur_envelope_validate(env, &error));
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
}

static void
test_withheld(void)
{
  g_autoptr(GMimeMessage) msg = parse_message("From: a@a.example\nBcc: b@b.example\n"
                                              "return-path: <a@a.example>\nTo: c@c.example\n"
                                              "BCC: d@d.example\nResent-Bcc: e@e.example\n"
                                              "Subject: x\n\nx\n");

  g_assert_true(farceur_envelope_field_is_withheld("bcc"));
  g_assert_true(farceur_envelope_field_is_withheld("Return-Path"));
  g_assert_false(farceur_envelope_field_is_withheld("Cc"));
  farceur_envelope_strip_withheld(GMIME_OBJECT(msg));
  g_assert_null(g_mime_object_get_header(GMIME_OBJECT(msg), "Bcc"));
  g_assert_null(g_mime_object_get_header(GMIME_OBJECT(msg), "Resent-Bcc"));
  g_assert_null(g_mime_object_get_header(GMIME_OBJECT(msg), "Return-Path"));
  g_assert_cmpstr(g_mime_object_get_header(GMIME_OBJECT(msg), "To"), ==, "c@c.example");
}

/* The envelope a delivery stored leaves with nobody: every spelling goes. */
static void
test_withheld_stored(void)
{
  g_autoptr(GMimeMessage) msg
      = parse_message("Return-Path: <a@a.example>\nEnvelope-to: c@c.example, w@w.example\n"
                      "delivered-to: c@c.example\nX-Original-To: c@c.example\nFrom: a@a.example\n"
                      "To: c@c.example\nSubject: x\n\nx\n");
  static const char *const gone[]
      = { "Return-Path", "Envelope-to", "Delivered-To", "X-Original-To" };

  g_assert_true(farceur_envelope_field_is_withheld("envelope-TO"));
  g_assert_true(farceur_envelope_field_is_withheld("Delivered-To"));
  g_assert_true(farceur_envelope_field_is_withheld("x-original-to"));
  g_assert_false(farceur_envelope_field_is_withheld("X-Envelope-To"));
  farceur_envelope_strip_withheld(GMIME_OBJECT(msg));
  for (gsize i = 0; i < G_N_ELEMENTS(gone); i++)
    g_assert_null(g_mime_object_get_header(GMIME_OBJECT(msg), gone[i]));
  g_assert_cmpstr(g_mime_object_get_header(GMIME_OBJECT(msg), "To"), ==, "c@c.example");
}

static FarceurEnvelope *
stored_of(const char *text, GError **error)
{
  g_autoptr(GMimeMessage) msg = parse_message(text);
  FarceurEnvelope *env = NULL;

  if (!farceur_envelope_from_stored(msg, &env, error))
    g_assert_null(env);
  return env;
}

/* Return-Path + Envelope-to (folded, witness included) give the envelope;
 * either alone gives none; a bad one is an error naming the field. */
static void
test_from_stored(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FarceurEnvelope) env
      = stored_of("Return-Path: <alice@a.example>\nEnvelope-to: bob@b.example, carol@c.example,\n"
                  " archives@w.example\nFrom: x@x.example\nTo: bob@b.example\n\nx\n",
                  &error);

  g_assert_no_error(error);
  g_assert_nonnull(env);
  g_assert_cmpstr(env->mail_from, ==, "alice@a.example");
  g_assert_cmpuint(env->rcpt_to->len, ==, 3);
  g_assert_cmpstr(env->rcpt_to->pdata[2], ==, "archives@w.example");
  g_clear_pointer(&env, farceur_envelope_free);

  env = stored_of("Return-Path: <>\nEnvelope-to: bob@b.example\n\nx\n", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(env->mail_from, ==, "");
  g_clear_pointer(&env, farceur_envelope_free);

  env = stored_of("Return-Path: <a@a.example>\nFrom: a@a.example\nTo: b@b.example\n\nx\n", &error);
  g_assert_no_error(error);
  g_assert_null(env);

  env = stored_of("Return-Path: a@a.example\nEnvelope-to: b@b.example\n\nx\n", &error);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "Return-Path"));
  g_clear_error(&error);
  env = stored_of("Return-Path: <a@a.example>\nEnvelope-to: b@b.example, nobody\n\nx\n", &error);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_DATA);
  g_assert_nonnull(strstr(error->message, "nobody"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  farceur_init();
  g_test_add_func("/envelope/from-headers", test_from_headers);
  g_test_add_func("/envelope/sender-wins", test_sender_wins);
  g_test_add_func("/envelope/resent-block", test_resent_block);
  g_test_add_func("/envelope/no-recipient", test_no_recipient);
  g_test_add_func("/envelope/check-address", test_check_address);
  g_test_add_func("/envelope/validate", test_validate);
  g_test_add_func("/envelope/withheld", test_withheld);
  g_test_add_func("/envelope/withheld-stored", test_withheld_stored);
  g_test_add_func("/envelope/from-stored", test_from_stored);
  return g_test_run();
}
