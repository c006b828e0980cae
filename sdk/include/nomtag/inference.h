/* nomtag SDK — the inference interface ("nomtag.inference/1").
 *
 * An inference plugin turns audio into head outputs (model id, label,
 * score in [0,1]) and numeric descriptors. The host stores them in the
 * database; an inference plugin never writes an audio file (the stream it
 * gets is read-only).
 *
 * Threads: open/close [main-thread]; analyze is [thread-safe] across
 * distinct sessions, and within one session when the table's
 * `concurrent_analyze` is non-zero.
 */
#ifndef NOMTAG_INFERENCE_H
#define NOMTAG_INFERENCE_H

#include "status.h"
#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NOMTAG_INFERENCE_INTERFACE_ID "nomtag.inference/1"

/* Receives the results of one analysis. Host-owned, valid for the call;
 * strings valid for the callback only. A non-OK return stops the
 * analysis and is returned by it. */
typedef struct nomtag_inference_sink {
  uint32_t struct_size;
  void *ctx;
  /* One head output. model_id is versioned ("mood-happy/2"). */
  nomtag_status (*head)(void *ctx, const char *model_id, size_t model_id_len,
                        const char *label, size_t label_len, double score);
  /* One numeric descriptor ("bpm", "loudness-lufs"). */
  nomtag_status (*descriptor)(void *ctx, const char *name, size_t name_len,
                              double value);
} nomtag_inference_sink;

/* Decoded audio the host hands over instead of a file: interleaved
 * float samples, host-owned, valid for the call. */
typedef struct nomtag_audio {
  uint32_t struct_size;
  const float *samples;
  uint64_t frame_count;
  uint32_t channels;
  uint32_t sample_rate;
} nomtag_audio;

typedef struct nomtag_inference {
  uint32_t struct_size; /* sizeof(nomtag_inference) */
  int32_t concurrent_analyze;

  /* Opens a session with settings (YAML text, may be empty). *out_session
   * is plugin-owned until close. */
  nomtag_status (*open)(const char *settings, size_t settings_len,
                        void **out_session, nomtag_error *err);

  /* Analyzes one file: path (NUL-terminated, for plugins that hand it to
   * an external tool) and a read-only stream over its bytes. */
  nomtag_status (*analyze_file)(void *session, const char *path,
                                const nomtag_stream *stream,
                                const nomtag_inference_sink *sink,
                                nomtag_error *err);

  /* Analyzes decoded audio. May be NULL when the plugin only reads files. */
  nomtag_status (*analyze_audio)(void *session, const nomtag_audio *audio,
                                 const nomtag_inference_sink *sink,
                                 nomtag_error *err);

  /* Releases the session. */
  void (*close)(void *session);
} nomtag_inference;

#ifdef __cplusplus
}
#endif

#endif
