/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The preconditions of the public entry points: a required argument that is
 * NULL (or of the wrong type, or an error already set) is a programming error
 * that GLib's g_return_if_fail() reports as a critical in the library's log
 * domain, and the call returns its failure value without touching anything.
 * One or more calls per module prove the checks are there; the free
 * functions and the (nullable) arguments prove NULL is still accepted where
 * it is documented. */
#include <string.h>

#include <farceur/farceur.h>

#include "gmime-autoptr.h"

/* The library's G_LOG_DOMAIN (src/lib/meson.build). */
#define API_LOG_DOMAIN "farceur"

/* Runs @call expecting exactly one failed precondition. */
#define EXPECT_CHECK(call)                                                                         \
  G_STMT_START                                                                                     \
  {                                                                                                \
    g_test_expect_message(API_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*assertion*failed*");             \
    call;                                                                                          \
    g_test_assert_expected_messages();                                                             \
  }                                                                                                \
  G_STMT_END

static GMimeMessage *
api_message(void)
{
  static const char text[] = "From: a@a.example\nTo: b@b.example\nSubject: x\n\nbody\n";
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
  g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);

  return g_mime_parser_construct_message(parser, NULL);
}

/* An error already set: every function taking GError ** refuses it. */
static GError *
api_set_error(void)
{
  return g_error_new_literal(FARCEUR_ERROR, FARCEUR_ERROR_DATA, "already set");
}

static void
test_envelope(void)
{
  g_autoptr(FarceurEnvelope) env = farceur_envelope_new(NULL); /* (nullable): "" */
  g_autoptr(GMimeStream) not_a_message = g_mime_stream_mem_new();
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) set = api_set_error();
  FarceurEnvelope *copy = NULL;
  gboolean ok = TRUE;

  g_assert_cmpstr(env->mail_from, ==, "");
  EXPECT_CHECK(copy = farceur_envelope_copy(NULL));
  g_assert_null(copy);
  EXPECT_CHECK(farceur_envelope_add_rcpt(env, NULL));
  g_assert_cmpuint(env->rcpt_to->len, ==, 0);
  EXPECT_CHECK(ok = farceur_envelope_validate(NULL, &error));
  g_assert_false(ok);
  g_assert_no_error(error);
  ok = TRUE;
  EXPECT_CHECK(ok = farceur_envelope_check_address(NULL, &error));
  g_assert_false(ok);
  g_assert_no_error(error);
  /* an error already set is refused and left as it was */
  farceur_envelope_add_rcpt(env, "b@b.example");
  ok = TRUE;
  EXPECT_CHECK(ok = farceur_envelope_validate(env, &set));
  g_assert_false(ok);
  g_assert_cmpstr(set->message, ==, "already set");
  /* a GObject of another type */
  copy = (FarceurEnvelope *)0x1;
  EXPECT_CHECK(copy = farceur_envelope_from_message((GMimeMessage *)not_a_message, &error));
  g_assert_null(copy);
  g_assert_no_error(error);
}

static void
test_input(void)
{
  g_autoptr(GError) error = NULL;
  FarceurInput *input = (FarceurInput *)0x1;
  FarceurInputMessage *msg = (FarceurInputMessage *)0x1;
  GMimeMessage *message = (GMimeMessage *)0x1;

  EXPECT_CHECK(input = farceur_input_open(NULL, &error));
  g_assert_null(input);
  EXPECT_CHECK(msg = farceur_input_next(NULL, &error));
  g_assert_null(msg);
  EXPECT_CHECK(message = farceur_input_parse_stream(NULL, "x", &error));
  g_assert_null(message);
  g_assert_no_error(error);
}

static void
test_template(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) set = api_set_error();
  FarceurTemplate *tmpl = (FarceurTemplate *)0x1;
  const char *header = "x";
  char *out = (char *)0x1;

  EXPECT_CHECK(tmpl = farceur_template_load(NULL, &error));
  g_assert_null(tmpl);
  tmpl = (FarceurTemplate *)0x1;
  EXPECT_CHECK(tmpl = farceur_template_parse("Subject: x\n\nbody\n", -1, "t", NULL, 1, &set));
  g_assert_null(tmpl);
  EXPECT_CHECK(header = farceur_template_get_header(NULL, "Subject"));
  g_assert_null(header);
  EXPECT_CHECK(out = farceur_template_expand(NULL, NULL, "t", 1, &error));
  g_assert_null(out);
  g_assert_no_error(error);
  /* @vars is (nullable) */
  out = farceur_template_expand("no placeholder", NULL, "t", 1, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(out, ==, "no placeholder");
  g_free(out);
}

static void
test_trace(void)
{
  g_autoptr(FarceurTrace) empty = farceur_trace_new(NULL, NULL); /* both (nullable) */
  FarceurHop *hop = (FarceurHop *)0x1;
  FarceurTrace *trace = (FarceurTrace *)0x1;
  JsonNode *node = (JsonNode *)0x1;

  g_assert_cmpuint(empty->hops->len, ==, 0);
  EXPECT_CHECK(hop = farceur_hop_parse(NULL));
  g_assert_null(hop);
  EXPECT_CHECK(trace = farceur_trace_from_message(NULL));
  g_assert_null(trace);
  EXPECT_CHECK(node = farceur_trace_to_json(NULL, "x"));
  g_assert_null(node);
}

static void
test_inspect(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = farceur_inspect_safe_filename(NULL, "fallback"); /* (nullable) */
  FarceurInspectMessage *msg = (FarceurInspectMessage *)0x1;
  const FarceurInspectPart *part = (const FarceurInspectPart *)0x1;
  char *text = (char *)0x1;

  g_assert_cmpstr(name, ==, "fallback");
  EXPECT_CHECK(msg = farceur_inspect_message(NULL, 0, &error));
  g_assert_null(msg);
  g_assert_no_error(error);
  EXPECT_CHECK(part = farceur_inspect_message_find_part(NULL, "1"));
  g_assert_null(part);
  EXPECT_CHECK(text = farceur_inspect_safe_filename("a.txt", NULL));
  g_assert_null(text);
}

static void
test_smtp_reply(void)
{
  g_autoptr(FarceurSmtpReplyParser) parser = farceur_smtp_reply_parser_new();
  g_autoptr(GError) error = NULL;
  FarceurSmtpReply *reply = (FarceurSmtpReply *)0x1;
  gboolean ok = TRUE;

  EXPECT_CHECK(reply = farceur_smtp_reply_parse(NULL, 5, &error));
  g_assert_null(reply);
  g_assert_no_error(error);
  EXPECT_CHECK(ok = farceur_smtp_reply_parser_feed(NULL, "250 ok\r\n", 8, &error));
  g_assert_false(ok);
  ok = TRUE;
  EXPECT_CHECK(ok = farceur_smtp_reply_parser_feed(parser, NULL, 8, &error));
  g_assert_false(ok);
  g_assert_no_error(error);
  g_assert_true(farceur_smtp_reply_parser_is_empty(parser));
  EXPECT_CHECK(reply = farceur_smtp_reply_parser_pop(NULL));
  g_assert_null(reply);
  /* no data and no length is an incomplete reply, not a programming error */
  reply = farceur_smtp_reply_parse(NULL, 0, &error);
  g_assert_null(reply);
  g_assert_error(error, FARCEUR_ERROR, FARCEUR_ERROR_PROTOCOL);
}

static void
api_ready_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(gboolean *)user_data = TRUE;
}

static void
test_smtp_client(void)
{
  g_autoptr(FarceurSmtpClient) client = farceur_smtp_client_new();
  g_autoptr(GMimeStream) not_a_client = g_mime_stream_mem_new();
  g_autoptr(GMimeMessage) message = api_message();
  g_autoptr(FarceurEnvelope) env = farceur_envelope_new("a@a.example");
  g_autoptr(GError) error = NULL;
  gboolean called = FALSE;
  gboolean ok = TRUE;
  guint64 size = 1;

  EXPECT_CHECK(ok = farceur_smtp_client_is_ready(NULL));
  g_assert_false(ok);
  EXPECT_CHECK(size = farceur_smtp_client_get_max_size(NULL));
  g_assert_cmpuint(size, ==, 0);
  ok = TRUE;
  EXPECT_CHECK(ok = farceur_smtp_client_is_tls((FarceurSmtpClient *)not_a_client));
  g_assert_false(ok);
  ok = TRUE;
  EXPECT_CHECK(ok = farceur_smtp_client_has_extension(client, NULL));
  g_assert_false(ok);
  EXPECT_CHECK(farceur_smtp_client_set_helo(client, NULL));
  ok = TRUE;
  EXPECT_CHECK(ok = farceur_smtp_client_connect_finish(client, NULL, &error));
  g_assert_false(ok);
  g_assert_no_error(error);
  /* refused before any task exists: the callback never runs */
  EXPECT_CHECK(farceur_smtp_client_send_async(client, NULL, GMIME_OBJECT(message), NULL, NULL, NULL,
                                              api_ready_cb, &called));
  EXPECT_CHECK(farceur_smtp_client_connect_async(client, NULL, NULL, api_ready_cb, &called));
  EXPECT_CHECK(farceur_smtp_client_send_stream_async(client, env, NULL, NULL, NULL, NULL,
                                                     api_ready_cb, &called));
  while (g_main_context_iteration(NULL, FALSE))
    ;
  g_assert_false(called);
  /* (nullable) credentials */
  farceur_smtp_client_set_auth(client, NULL, NULL, NULL);
}

static void
test_compose(void)
{
  g_autoptr(FarceurTemplate) tmpl
      = farceur_template_parse("Subject: x\n\nbody\n", -1, "t", NULL, 1, NULL);
  FarceurComposeRequest request = { .from = "a@a.example" };
  g_autoptr(GError) error = NULL;
  GMimeMessage *message = (GMimeMessage *)0x1;
  GHashTable *vars = (GHashTable *)0x1;
  gboolean ok = TRUE;

  g_assert_nonnull(tmpl);
  EXPECT_CHECK(message = farceur_compose_message(NULL, &request, &error));
  g_assert_null(message);
  message = (GMimeMessage *)0x1;
  EXPECT_CHECK(message = farceur_compose_message(tmpl, NULL, &error));
  g_assert_null(message);
  EXPECT_CHECK(vars = farceur_compose_bind_vars(NULL, &error));
  g_assert_null(vars);
  EXPECT_CHECK(ok = farceur_compose_check_header_value("Subject", NULL, &error));
  g_assert_false(ok);
  ok = TRUE;
  EXPECT_CHECK(ok = farceur_compose_verify(NULL, &error));
  g_assert_false(ok);
  g_assert_no_error(error);
}

static void
test_target(void)
{
  g_autoptr(FarceurTarget) target = farceur_target_new("smtp://127.0.0.1:1", NULL);
  g_autoptr(GMimeMessage) message = api_message();
  g_autoptr(FarceurDelivery) delivery = farceur_delivery_new();
  g_autoptr(GError) error = NULL;
  FarceurTargetUrl *url = (FarceurTargetUrl *)0x1;
  FarceurRcptOutcome *outcome = (FarceurRcptOutcome *)0x1;
  const char *description = "x";
  gboolean ok = TRUE;
  guint count = 1;

  g_assert_nonnull(target); /* opening a network target does no I/O */
  EXPECT_CHECK(url = farceur_target_url_parse(NULL, &error));
  g_assert_null(url);
  /* every delivery is asynchronous (there is no blocking one) */
  EXPECT_CHECK(farceur_target_deliver_async(target, NULL, GMIME_OBJECT(message), NULL, NULL, NULL));
  EXPECT_CHECK(description = farceur_target_describe(NULL));
  g_assert_null(description);
  EXPECT_CHECK(ok = farceur_target_host_is_loopback(NULL));
  g_assert_false(ok);
  ok = TRUE;
  EXPECT_CHECK(outcome
               = farceur_delivery_add(NULL, "b@b.example", FARCEUR_RCPT_ACCEPTED, 250, NULL, NULL));
  g_assert_null(outcome);
  EXPECT_CHECK(outcome
               = farceur_delivery_add(delivery, NULL, FARCEUR_RCPT_ACCEPTED, 250, NULL, NULL));
  g_assert_null(outcome);
  g_assert_cmpuint(delivery->rcpts->len, ==, 0);
  EXPECT_CHECK(count = farceur_delivery_count(NULL, FARCEUR_RCPT_ACCEPTED));
  g_assert_cmpuint(count, ==, 0);
  /* (nullable) */
  json_node_unref(farceur_delivery_rcpts_to_json(NULL));
}

static FarceurTarget *
api_open_target(gpointer user_data, GError **error)
{
  g_assert_not_reached();
  return NULL;
}

static void
test_batch(void)
{
  FarceurBatchOptions options;
  g_autoptr(FarceurBatch) batch = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) set = api_set_error();
  FarceurBatch *none = (FarceurBatch *)0x1;
  gboolean ok = TRUE;
  guint count = 1;

  farceur_batch_options_init(&options);
  batch = farceur_batch_new(&options);
  EXPECT_CHECK(none = farceur_batch_new(NULL));
  g_assert_null(none);
  EXPECT_CHECK(ok = farceur_batch_add_input(batch, NULL, &error));
  g_assert_false(ok);
  g_assert_no_error(error);
  EXPECT_CHECK(count = farceur_batch_get_count(NULL));
  g_assert_cmpuint(count, ==, 0);
  ok = TRUE;
  EXPECT_CHECK(ok = farceur_batch_run(batch, NULL, NULL, NULL, &error));
  g_assert_false(ok);
  ok = TRUE;
  EXPECT_CHECK(ok = farceur_batch_run(batch, api_open_target, NULL, NULL, &set));
  g_assert_false(ok);
  g_assert_cmpuint(farceur_batch_get_count(batch), ==, 0);
}

static void
test_journal(void)
{
  g_autoptr(GError) error = NULL;
  FarceurJournal *journal = (FarceurJournal *)0x1;
  FarceurJournalState state = FARCEUR_JOURNAL_DELIVERED;

  EXPECT_CHECK(journal = farceur_journal_open(NULL, &error));
  g_assert_null(journal);
  g_assert_no_error(error);
  EXPECT_CHECK(state = farceur_journal_lookup(NULL, "00", "a@a.example", "b@b.example"));
  g_assert_cmpint(state, ==, FARCEUR_JOURNAL_NONE);
  /* (nullable) */
  g_assert_cmpint(farceur_journal_state_from_string(NULL), ==, FARCEUR_JOURNAL_NONE);
}

static void
test_campaign(void)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *victims = (GPtrArray *)0x1;
  FarceurCampaign *campaign = (FarceurCampaign *)0x1;
  char *mailbox = (char *)0x1;
  guint32 seed = 7;
  gboolean ok = TRUE;

  EXPECT_CHECK(victims = farceur_campaign_load_victims(NULL, &error));
  g_assert_null(victims);
  EXPECT_CHECK(ok = farceur_campaign_parse_seed("42", NULL, &error));
  g_assert_false(ok);
  EXPECT_CHECK(campaign = farceur_campaign_prepare(NULL, &error));
  g_assert_null(campaign);
  EXPECT_CHECK(seed = farceur_campaign_get_seed(NULL));
  g_assert_cmpuint(seed, ==, 0);
  EXPECT_CHECK(mailbox = farceur_victim_to_mailbox(NULL));
  g_assert_null(mailbox);
  g_assert_no_error(error);
}

static void
test_json(void)
{
  g_autoptr(JsonBuilder) builder = json_builder_new();
  g_autoptr(JsonNode) root = NULL;

  EXPECT_CHECK(farceur_json_add_string_member(NULL, "a", "b"));
  json_builder_begin_object(builder);
  EXPECT_CHECK(farceur_json_add_string_member(builder, NULL, "b"));
  EXPECT_CHECK(farceur_json_add_strings_member(builder, NULL, NULL));
  farceur_json_add_string_member(builder, "null", NULL); /* (nullable) value */
  json_builder_end_object(builder);
  root = json_builder_get_root(builder);
  g_assert_cmpuint(json_object_get_size(json_node_get_object(root)), ==, 1);
  g_assert_true(json_object_get_null_member(json_node_get_object(root), "null"));
}

static void
test_error(void)
{
  FarceurError category = FARCEUR_ERROR_DATA;

  EXPECT_CHECK(category = farceur_error_classify(NULL));
  g_assert_cmpint(category, ==, FARCEUR_ERROR_INTERNAL);
}

/* Free functions take NULL, as g_free() does: none may complain (a critical
 * would be fatal here). */
static void
test_free_null(void)
{
  farceur_envelope_free(NULL);
  farceur_input_free(NULL);
  farceur_input_message_free(NULL);
  farceur_template_free(NULL);
  farceur_hop_free(NULL);
  farceur_trace_free(NULL);
  farceur_inspect_message_free(NULL);
  farceur_inspect_extractor_free(NULL);
  farceur_smtp_reply_free(NULL);
  farceur_smtp_reply_parser_free(NULL);
  farceur_smtp_result_free(NULL);
  farceur_target_url_free(NULL);
  farceur_delivery_free(NULL);
  farceur_target_free(NULL);
  farceur_batch_free(NULL);
  farceur_journal_free(NULL);
  farceur_victim_free(NULL);
  farceur_campaign_config_free(NULL);
  farceur_campaign_plan_free(NULL);
  farceur_campaign_free(NULL);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  farceur_init();
  g_test_add_func("/api/envelope", test_envelope);
  g_test_add_func("/api/input", test_input);
  g_test_add_func("/api/template", test_template);
  g_test_add_func("/api/trace", test_trace);
  g_test_add_func("/api/inspect", test_inspect);
  g_test_add_func("/api/smtp-reply", test_smtp_reply);
  g_test_add_func("/api/smtp-client", test_smtp_client);
  g_test_add_func("/api/compose", test_compose);
  g_test_add_func("/api/target", test_target);
  g_test_add_func("/api/batch", test_batch);
  g_test_add_func("/api/journal", test_journal);
  g_test_add_func("/api/campaign", test_campaign);
  g_test_add_func("/api/json", test_json);
  g_test_add_func("/api/error", test_error);
  g_test_add_func("/api/free-null", test_free_null);
  return g_test_run();
}
