/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for catch's two pure functions over client octets: the
 * command parser, fed every line of the input, and the DATA decoder, fed
 * the input in chunks whose size the first octet picks.  Must never crash
 * or leak, and the decoder keeps its invariants: it never uses more than
 * it is given, stops right after CRLF.CRLF, never releases more octets
 * than it took (but for a held CR), and counts what it released. */
#include <string.h>

#include "catch/catch-private.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static void
fuzz_commands(const guint8 *data, size_t size)
{
  size_t start = 0;

  for (size_t i = 0; i <= size; i++) {
    if (i < size && data[i] != '\n')
      continue;
    size_t len = i - start;
    CatchCommand command;

    if (len > 0 && data[start + len - 1] == '\r')
      len--;
    catch_command_parse((const char *)data + start, len, &command);
    g_assert(command.name != NULL);
    g_assert(command.code == 0 || command.error != NULL);
    catch_command_clear(&command);
    if (len < 300) {
      g_autofree char *name = g_strndup((const char *)data + start, len);
      catch_command_helo_is_valid(name);
    }
    start = i + 1;
  }
}

static void
fuzz_data(const guint8 *data, size_t size)
{
  g_autoptr(GByteArray) out = g_byte_array_new();
  size_t step = size > 0 ? (size_t)(data[0] % 16) + 1 : 1;
  size_t used = 0;
  CatchData decoder;

  catch_data_init(&decoder);
  while (used < size && decoder.state != CATCH_DATA_DONE) {
    size_t chunk = MIN(step, size - used);
    size_t took = catch_data_feed(&decoder, data + used, chunk, out);

    g_assert(took <= chunk);
    g_assert(took == chunk || decoder.state == CATCH_DATA_DONE);
    used += took;
  }
  g_assert(out->len <= used);
  g_assert(decoder.size == out->len);
  if (decoder.state == CATCH_DATA_DONE)
    g_assert(used >= 3 && memcmp(data + used - 3, ".\r\n", 3) == 0);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
  fuzz_commands(data, size);
  fuzz_data(data, size);
  return 0;
}
