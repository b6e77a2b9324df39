/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for reading and inspecting a whole message (or mbox).
 *
 * The input becomes a memfd read through farceur_input_open() (so the mbox
 * detection and walk are covered), every message is inspected with all
 * headers, and rendered as JSON and as text; both must be valid UTF-8 and
 * the text must hold no escape character.  Hangs (GMime issue #165) show up
 * as libFuzzer timeouts. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <farceur/farceur.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_inspect(FarceurInputMessage *input)
{
  g_autoptr(FarceurInspectMessage) msg = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *json = NULL;
  g_autofree char *text = NULL;

  msg = farceur_inspect_message(input, FARCEUR_INSPECT_HEADERS, NULL);
  if (msg == NULL)
    return;
  node = farceur_inspect_message_to_json(msg);
  json = json_to_string(node, FALSE);
  text = farceur_inspect_message_format(msg, FARCEUR_INSPECT_FORMAT_GLYPHS);
  g_assert_true(g_utf8_validate(json, -1, NULL));
  g_assert_true(g_utf8_validate(text, -1, NULL));
  g_assert_null(strchr(text, '\033'));
  for (guint i = 0; i < msg->parts->len; i++) {
    const FarceurInspectPart *part = msg->parts->pdata[i];
    g_autofree char *name = farceur_inspect_safe_filename(part->filename, "fallback");

    g_assert_null(strchr(name, '/'));
    g_assert_true(name[0] != '.' && name[0] != '\0');
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  int fd = memfd_create("fuzz-message", MFD_CLOEXEC);
  g_autofree char *path = g_strdup_printf("/proc/self/fd/%d", fd);
  g_autoptr(FarceurInput) input = NULL;
  FarceurInputMessage *msg;
  GError *error = NULL;

  farceur_init();
  g_assert_cmpint(fd, >=, 0);
  g_assert_cmpint(write(fd, data, size), ==, (ssize_t)size);
  input = farceur_input_open(path, NULL);
  for (guint n = 0; input && n < 1000; n++) {
    msg = farceur_input_next(input, &error);
    if (msg == NULL && error == NULL)
      break;
    g_clear_error(&error);
    if (msg)
      fuzz_inspect(msg);
    farceur_input_message_free(msg);
  }
  g_clear_pointer(&input, farceur_input_free);
  close(fd);
  return 0;
}
