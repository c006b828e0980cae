/* nomtag SDK — the byte stream the host hands to a plugin.
 *
 * Plugins never open audio files. The host opens the file (or an in-memory
 * overlay of it) and passes this table; the plugin reads and, when asked to
 * write, edits through it. For a write the host gives an overlay that
 * records edits in memory, verifies the result and only then commits it to
 * disk, so a plugin may edit freely: nothing it does reaches the file
 * directly.
 *
 * Ownership: the host owns the table and ctx; both are valid for the
 * duration of the plugin call that received them and must not be kept.
 * Threads: a stream is used by one thread at a time (the calling thread).
 */
#ifndef NOMTAG_STREAM_H
#define NOMTAG_STREAM_H

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nomtag_stream {
  uint32_t struct_size; /* sizeof(nomtag_stream) */
  void *ctx;            /* host-owned, passed back to every callback */

  /* UTF-8 name for messages (usually the file path). Host-owned, NUL-ended. */
  const char *name;

  /* Non-zero when write/insert/remove/truncate will fail. */
  int32_t read_only;

  /* Current length in bytes. */
  uint64_t (*length)(void *ctx);

  /* Reads up to len bytes at offset into buf (caller-owned); *out_read gets
   * the count, less than len only at the end of the stream. */
  nomtag_status (*read)(void *ctx, uint64_t offset, void *buf, size_t len,
                        size_t *out_read);

  /* Overwrites len bytes at offset, extending the stream if it passes the
   * end. offset must be <= length. */
  nomtag_status (*write)(void *ctx, uint64_t offset, const void *buf,
                         size_t len);

  /* Replaces `replace` bytes at offset with len bytes of buf; the rest of
   * the stream shifts (TagLib's IOStream::insert). */
  nomtag_status (*insert)(void *ctx, uint64_t offset, const void *buf,
                          size_t len, uint64_t replace);

  /* Removes len bytes at offset; the rest shifts down. */
  nomtag_status (*remove)(void *ctx, uint64_t offset, uint64_t len);

  /* Cuts or zero-extends the stream to len bytes. */
  nomtag_status (*truncate)(void *ctx, uint64_t len);
} nomtag_stream;

#ifdef __cplusplus
}
#endif

#endif
