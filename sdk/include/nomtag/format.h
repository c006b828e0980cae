/* nomtag SDK — the tag-format interface ("nomtag.tag-format/1").
 *
 * A format plugin reads and renders one container family (MP3, MP4,
 * FLAC, ...). It is a pure reader and renderer over a nomtag_stream: it
 * never opens files, keeps no state between calls and owns nothing the
 * host sees after a call returns.
 *
 * The `nom` namespace (SPEC section 3) is the plugin's only business:
 *   - read_namespace reports every key of the namespace found on disk, in
 *     both the current and the older encodings;
 *   - read_foreign reports everything else, as comparable items, so that
 *     the host can prove a write changed nothing that is not ours;
 *   - write_namespace clears every namespace key (both encodings) and
 *     writes the desired set in the current encoding, touching nothing
 *     else;
 *   - read_payload names the audio payload, so that the host can prove a
 *     write left it unchanged.
 *
 * Threads: every function is [thread-safe] for distinct streams; a stream
 * is used only by the calling thread.
 */
#ifndef NOMTAG_FORMAT_H
#define NOMTAG_FORMAT_H

#include "status.h"
#include "stream.h"
#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NOMTAG_FORMAT_INTERFACE_ID "nomtag.tag-format/1"

/* A UTF-8 text, (data, len), not NUL-terminated. */
typedef struct nomtag_string {
  const char *data;
  size_t len;
} nomtag_string;

/* One key of the namespace with its values (one or more; more is a
 * multi-value list). key is the logical key without the "nom:" prefix,
 * e.g. "mood-strict". Caller-owned, valid for the call. */
typedef struct nomtag_tag {
  uint32_t struct_size; /* sizeof(nomtag_tag) */
  nomtag_string key;
  const nomtag_string *values;
  size_t value_count;
} nomtag_tag;

/* Which on-disk spelling a key was read from (SPEC section 3). */
typedef uint32_t nomtag_key_encoding;
enum {
  NOMTAG_ENCODING_CURRENT = 0, /* TXXX nom:k, ----:...:nom.k, NOM:K */
  NOMTAG_ENCODING_LEGACY = 1   /* ----:...:nom:k, NOM_K */
};

/* Receives the namespace as read. Host-owned, valid for the call. */
typedef struct nomtag_tag_sink {
  uint32_t struct_size;
  void *ctx;
  /* One call per value, in file order; a key seen again appends to its
   * list. key is the on-disk key after the prefix, lower-cased where the
   * container is case-insensitive and with the legacy '_' turned back
   * into '-'; it may break the key grammar (the host classifies it).
   * Strings are valid for the call only. A non-OK return stops the read
   * and is returned by it. */
  nomtag_status (*add)(void *ctx, const char *key, size_t key_len,
                       const char *value, size_t value_len,
                       nomtag_key_encoding encoding);
} nomtag_tag_sink;

/* Receives the foreign snapshot. Host-owned, valid for the call. */
typedef struct nomtag_snapshot_sink {
  uint32_t struct_size;
  void *ctx;
  /* One call per item that is not ours, in a deterministic order (file
   * order where the container has one). id names the item
   * ("id3v2:TIT2", "mp4:----:com.apple.iTunes:MOOD", "vorbis:TITLE",
   * "struct:...") and data is everything that makes it what it is (its
   * rendered bytes or its fields). Two snapshots are equal when their
   * item lists are equal. Valid for the call only. */
  nomtag_status (*item)(void *ctx, const char *id, size_t id_len,
                        const void *data, size_t data_len);
} nomtag_snapshot_sink;

/* Receives the audio payload's identity. Host-owned, valid for the call. */
typedef struct nomtag_payload_sink {
  uint32_t struct_size;
  void *ctx;
  /* The stream's bytes [offset, offset+len) are audio payload. */
  nomtag_status (*range)(void *ctx, uint64_t offset, uint64_t len);
  /* Bytes derived by the plugin that belong to the payload's identity
   * (e.g. Ogg granule positions). Valid for the call only. */
  nomtag_status (*bytes)(void *ctx, const void *data, size_t len);

  /* ---- Since ABI 1.8: read only when NOMTAG_HAS_FIELD says so. ---- */
  /* NOMTAG_PAYLOAD_COARSE_OK or 0, set by the host. */
  uint32_t flags;
} nomtag_payload_sink;

/* The host accepts, this time, a coarse description: ranges that contain
 * the payload together with its framing (an Ogg stream's audio pages
 * whole, sequence numbers and CRCs included), for a plugin that can name
 * them without reading the audio but needs to read all of it for the
 * exact one. The host uses a coarse description only to prove, from the
 * edited stream's mapping, that none of those bytes were touched; when
 * that proof fails it asks again without the flag. A plugin that ignores
 * the flag and always reports the exact payload is correct. */
#define NOMTAG_PAYLOAD_COARSE_OK 1u

typedef struct nomtag_write_options {
  uint32_t struct_size; /* sizeof(nomtag_write_options) */
  /* Padding in bytes to leave when the tag area has to grow, so the next
   * write fits in place; 0 lets the plugin choose its default. */
  uint32_t padding;
} nomtag_write_options;

typedef struct nomtag_format {
  uint32_t struct_size; /* sizeof(nomtag_format) */

  /* Container name ("mp3", "mp4", "flac", "ogg-vorbis", "opus") and the
   * lower-case file extensions it handles, without the dot, NULL-ended.
   * Static. */
  const char *container;
  const char *const *extensions;

  /* *out_matches = 1 when the stream holds this container, else 0. Reads
   * only what it needs (a header or two). */
  nomtag_status (*probe)(const nomtag_stream *stream, int32_t *out_matches,
                         nomtag_error *err);

  /* Reports the namespace to sink. A file with no tags at all reports
   * nothing and returns NOMTAG_OK. */
  nomtag_status (*read_namespace)(const nomtag_stream *stream,
                                  const nomtag_tag_sink *sink,
                                  nomtag_error *err);

  /* Reports every foreign tag item, pictures and binary frames included,
   * plus the raw structure the plugin can see (frame ids and sizes, atom
   * paths, comment counts), so that an item the format library skipped on
   * parse still shows as a difference. */
  nomtag_status (*read_foreign)(const nomtag_stream *stream,
                                const nomtag_snapshot_sink *sink,
                                nomtag_error *err);

  /* Replaces the namespace by tags[0..tag_count) (tag_count may be 0:
   * clear). REQUIRES: stream is writable; keys match the key grammar;
   * values are UTF-8. Returns NOMTAG_ERR_REFUSED, having possibly edited
   * the stream, when it cannot write without losing something foreign;
   * the host then discards the stream. opts may be NULL.
   * The plugin need not verify its own result: the host reads the edited
   * stream back once through read_namespace and read_foreign (or
   * read_tags_with) and read_payload, and discards it unless they prove
   * the write. */
  nomtag_status (*write_namespace)(const nomtag_stream *stream,
                                   const nomtag_tag *tags, size_t tag_count,
                                   const nomtag_write_options *opts,
                                   nomtag_error *err);

  /* Reports the audio payload (not tags, padding or container offsets) to
   * sink, so that the host can hash it or prove it unchanged; or, when
   * sink->flags allows it, a coarse description (see
   * NOMTAG_PAYLOAD_COARSE_OK). */
  nomtag_status (*read_payload)(const nomtag_stream *stream,
                                const nomtag_payload_sink *sink,
                                nomtag_error *err);

  /* ---- Since ABI 1.6: read only when NOMTAG_HAS_FIELD says so. ----
   * The same five calls with the plugin's context, the way CLAP passes
   * `plugin` back: the host passes `self` back unchanged as the first
   * argument of each, so one plugin library can serve several tables and
   * keep what a table needs in its own context instead of in globals.
   * `self` is plugin-owned and valid while the table is. A host that
   * knows these calls uses them whenever the table carries them (non-NULL)
   * and the five above otherwise; a plugin fills both sets so that older
   * hosts keep working. Same contracts and threads as above. */
  void *self;
  nomtag_status (*probe_with)(void *self, const nomtag_stream *stream,
                              int32_t *out_matches, nomtag_error *err);
  nomtag_status (*read_namespace_with)(void *self, const nomtag_stream *stream,
                                       const nomtag_tag_sink *sink,
                                       nomtag_error *err);
  nomtag_status (*read_foreign_with)(void *self, const nomtag_stream *stream,
                                     const nomtag_snapshot_sink *sink,
                                     nomtag_error *err);
  nomtag_status (*write_namespace_with)(void *self, const nomtag_stream *stream,
                                        const nomtag_tag *tags,
                                        size_t tag_count,
                                        const nomtag_write_options *opts,
                                        nomtag_error *err);
  nomtag_status (*read_payload_with)(void *self, const nomtag_stream *stream,
                                     const nomtag_payload_sink *sink,
                                     nomtag_error *err);

  /* ---- Since ABI 1.9: read only when NOMTAG_HAS_FIELD says so. ----
   * What read_namespace_with reports to `tags` and read_foreign_with to
   * `foreign`, from one parse of the stream: a write reads the original
   * and the edited stream this way, so a format library's parse is not
   * paid twice for each. The reports are exactly those of the two calls
   * (the host may compare them with either); a failure reports the error
   * either call would have. May be NULL: the host then makes the two
   * calls. Same threads as above. */
  nomtag_status (*read_tags_with)(void *self, const nomtag_stream *stream,
                                  const nomtag_tag_sink *tags,
                                  const nomtag_snapshot_sink *foreign,
                                  nomtag_error *err);
} nomtag_format;

#ifdef __cplusplus
}
#endif

#endif
