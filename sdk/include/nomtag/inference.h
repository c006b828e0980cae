/* nomtag SDK — the inference interface ("nomtag.inference/1").
 *
 * An inference plugin turns audio into head outputs (model id, label,
 * score in [0,1]) and numeric descriptors. The host stores them in the
 * database; an inference plugin never writes an audio file (the stream it
 * gets is read-only).
 *
 * Since ABI 1.4 a plugin may also declare what decoded audio it wants
 * (native or a given rate and channel count, as float), the shortest file
 * it analyses, and which of its outputs feed the mood tiers; the host then
 * decodes each file once and streams it to the plugin in blocks
 * (audio_begin / audio_block / audio_end), so memory stays bounded for
 * long files. Results of a plugin are "current" for a file while the
 * plugin's id, version and settings digest match what the host stored.
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

  /* Since ABI 1.4; call only when NOMTAG_HAS_FIELD says it is there.
   * One head output with its spread: the standard deviation (ddof 0) of
   * the score across the segments the plugin pooled, which the tier rule's
   * stability caps read. Use instead of head, not after it. */
  nomtag_status (*head_with_spread)(void *ctx, const char *model_id,
                                    size_t model_id_len, const char *label,
                                    size_t label_len, double score,
                                    double spread);
  /* Since ABI 1.4. An optional track-level embedding (for similarity),
   * count floats, copied by the host during the call. */
  nomtag_status (*embedding)(void *ctx, const char *model_id,
                             size_t model_id_len, const float *values,
                             size_t count);
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

/* One output that feeds the mood tiers (SPEC section 4): the head output
 * (model_id, label) and the label of its opposite in the same model (NULL
 * for none). A label and its opposite in the same tier cancel out. Static,
 * NUL-terminated strings. Since ABI 1.4. */
typedef struct nomtag_tier_source {
  uint32_t struct_size;
  const char *model_id;
  const char *label;
  const char *opposite;
} nomtag_tier_source;

/* What audio_begin is told about the stream that follows. */
typedef struct nomtag_audio_format {
  uint32_t struct_size;
  uint32_t sample_rate;
  uint32_t channels;          /* interleaved in each block */
  double duration_s;          /* from the container; <= 0 when unknown */
  uint32_t source_channels;   /* channels in the file, before any mix */
  uint32_t source_rate;       /* rate in the file, before any resampling */
} nomtag_audio_format;

/* audio_channels values */
enum {
  NOMTAG_AUDIO_NATIVE = 0,   /* the file's own channel count (1 or 2) */
  NOMTAG_AUDIO_MONO = 1,     /* 0.5*(L+R), in float */
  NOMTAG_AUDIO_STEREO = 2    /* mono is duplicated */
};

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

  /* ---- Since ABI 1.4: read only when NOMTAG_HAS_FIELD says so. ---- */

  /* The audio the plugin wants: sample rate (0 = the file's own; a plugin
   * that must reproduce a particular resampler asks for native and
   * resamples itself) and channels (NOMTAG_AUDIO_*). Files with more
   * channels than max_channels (0 = any) and files shorter than
   * min_duration_s are per-file results with a reason, not errors of the
   * run. */
  uint32_t audio_sample_rate;
  uint32_t audio_channels;
  uint32_t max_channels;
  double min_duration_s;

  /* The outputs that feed the mood tiers. Static. */
  const nomtag_tier_source *tier_sources;
  size_t tier_source_count;

  /* Streaming analysis of decoded audio, preferred over analyze_audio
   * when present (all three or none). audio_begin starts one file's
   * analysis (*out_run plugin-owned); audio_block hands frame_count
   * interleaved frames (host-owned, valid for the call, at most a few
   * seconds each); audio_end reports the results through sink and
   * releases the run; audio_abort releases a run without results (a
   * decode error, a refused file). Calls for one run come from one
   * thread; distinct runs may run on distinct threads when
   * concurrent_analyze is non-zero. */
  nomtag_status (*audio_begin)(void *session, const nomtag_audio_format *fmt,
                               void **out_run, nomtag_error *err);
  nomtag_status (*audio_block)(void *run, const float *samples,
                               uint64_t frame_count, nomtag_error *err);
  nomtag_status (*audio_end)(void *run, const nomtag_inference_sink *sink,
                             nomtag_error *err);
  void (*audio_abort)(void *run);
} nomtag_inference;

#ifdef __cplusplus
}
#endif

#endif
