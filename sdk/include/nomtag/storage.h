/* nomtag SDK — the storage interface ("nomtag.storage/1").
 *
 * A storage plugin keeps the source of truth (SPEC section 5): libraries
 * with their write mode, the files found in them with their projection
 * state, the tags the database holds per file, the active calibration,
 * and the claims workers take on files to reconcile them.
 *
 * "Needs reconciliation" is never stored as a flag: the plugin derives it
 * at query time from the library's mode, the active calibration and what
 * was last written, and answers from an index.
 *
 * Conventions (see plugin.h): struct_size first, tables append-only;
 * strings are UTF-8 and NUL-terminated; records reach the host through
 * sinks it owns, valid for the callback only; errors are a status plus
 * the caller's nomtag_error.
 *
 * Threads: a nomtag_storage_db is used by one thread at a time; open one
 * per thread for parallel work. Several processes (and, for a server
 * backend, several machines) may open the same database at once: claims
 * are atomic across all of them.
 */
#ifndef NOMTAG_STORAGE_H
#define NOMTAG_STORAGE_H

#include "format.h"
#include "status.h"
#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NOMTAG_STORAGE_INTERFACE_ID "nomtag.storage/1"

typedef struct nomtag_storage_db nomtag_storage_db; /* opaque, plugin-owned */

typedef struct nomtag_library_info {
  uint32_t struct_size;
  int64_t id;                  /* 0 when adding */
  const char *name;            /* unique */
  const char *root;            /* absolute path */
  const char *file_write_mode; /* "none" | "minimal" | "full" */
  int32_t keep_mtime;          /* give written files their old mtime */
  const char *write_strategy;  /* "auto" | "copy" */
  const char *hardlinks;       /* "keep" | "break" */
  /* Since ABI 1.1; read it only when NOMTAG_HAS_FIELD says it is there.
   * Bytes of room a write leaves when it has to move a file anyway, so
   * the next change fits in place; 0 = each format's default. */
  uint32_t padding;
} nomtag_library_info;

/* One file of a library, as the scanner records it. */
typedef struct nomtag_file_info {
  uint32_t struct_size;
  int64_t id;       /* 0 when recording a new file */
  const char *path; /* relative to the library root */
  uint64_t size;
  int64_t mtime_ns;
  const char *format;    /* container name of the format plugin */
  int32_t has_namespace; /* nom keys were found on disk */
  /* Set by the scanner for files nomtag has not written itself (SPEC
   * section 6): NULL (no keys), "minimal", "full" or "unknown". Ignored
   * for files nomtag wrote. */
  const char *inferred_mode;
  int32_t missing; /* gone from disk at the last scan */
  /* Since ABI 1.3; read them only when NOMTAG_HAS_FIELD says they are
   * there. The file's device and inode as the scan saw them (0: unknown),
   * so that a file moved or renamed within the library is recognised. */
  uint64_t dev;
  uint64_t inode;
  /* Since ABI 1.3. Set by the scanner when it read the namespace: the
   * host's digest of it, an opaque string to the plugin (NULL = not
   * read). When nomtag wrote the file and what it wrote had another
   * digest, the file was changed by someone else since: it needs
   * reconciliation again. Not reported by file_list. */
  const char *namespace_digest;
} nomtag_file_info;

/* What a successful write left, for set_written_v2 (since ABI 1.3). */
typedef struct nomtag_written_info {
  uint32_t struct_size;
  int64_t file_id;
  int64_t claim_token;
  const char *mode;             /* "none" | "minimal" | "full" */
  const char *calibration_hash; /* "" or NULL for none */
  int64_t tags_rev;             /* the tags revision written */
  int32_t has_namespace;
  int64_t now_ms;
  /* The file as the write left it (size 0 and mtime 0: unknown), stored
   * as the file's size and mtime so the next scan does not take nomtag's
   * own write for a change; and the digest of the namespace written. */
  uint64_t size;
  int64_t mtime_ns;
  uint64_t dev;
  uint64_t inode;
  const char *namespace_digest; /* NULL: unknown */
  /* Since ABI 1.8; read them only when NOMTAG_HAS_FIELD says they are
   * there. The file as the write found it: size and mtime from fstat of
   * the descriptor it wrote through, taken when the file was last checked
   * immediately before the first byte (0 and 0: unknown, or nothing was
   * written). A write changes only the nom namespace, never the audio,
   * so an analysis recorded at exactly this size and mtime is just as
   * valid for the file the write left: when the record is made (the
   * token matched), the plugin moves every analysis of the file stored
   * with before_size and before_mtime_ns to size and mtime_ns, in the
   * same transaction. An analysis stored with any other size or mtime
   * (someone else changed the file since) is left due. */
  uint64_t before_size;
  int64_t before_mtime_ns;
} nomtag_written_info;

/* A file claimed for reconciliation. */
typedef struct nomtag_claimed_file {
  uint32_t struct_size;
  int64_t file_id;
  const char *path;    /* relative to the library root */
  int64_t claim_token; /* pass back to set_written / release_claim */
  int64_t tags_rev;    /* revision of the tags this claim saw */
} nomtag_claimed_file;

/* struct_size is the host's: a plugin fills only the fields that fit in
 * it, and leaves struct_size as it found it. */
typedef struct nomtag_library_status {
  uint32_t struct_size;
  int64_t files; /* present on disk */
  int64_t missing;
  int64_t pending;     /* need reconciliation */
  int64_t in_progress; /* claimed, lease not expired */
  int64_t failed;      /* pending with an error from the last attempt */
  /* Since ABI 1.5. Folders (the root included) holding at least one
   * present file; left as the host set it (-1) by an older plugin. */
  int64_t folders;
} nomtag_library_status;

/* Sinks: host-owned, valid for the call; records valid for the callback.
 * A non-OK return stops the query and is returned by it. */
typedef struct nomtag_library_sink {
  uint32_t struct_size;
  void *ctx;
  nomtag_status (*library)(void *ctx, const nomtag_library_info *info);
} nomtag_library_sink;

typedef struct nomtag_file_sink {
  uint32_t struct_size;
  void *ctx;
  nomtag_status (*file)(void *ctx, const nomtag_file_info *info);
} nomtag_file_sink;

typedef struct nomtag_claim_sink {
  uint32_t struct_size;
  void *ctx;
  nomtag_status (*claimed)(void *ctx, const nomtag_claimed_file *file);
} nomtag_claim_sink;

/* Who holds claims on files of a library (since ABI 1.2). */
typedef struct nomtag_claim_holder {
  uint32_t struct_size;
  const char *worker_id;
  int64_t files;      /* files of the library it holds */
  int64_t expires_ms; /* latest expiry of those claims (ms since epoch) */
  int32_t alive;      /* its liveness lock is held (1) or free (0) */
} nomtag_claim_holder;

typedef struct nomtag_claim_holder_sink {
  uint32_t struct_size;
  void *ctx;
  nomtag_status (*holder)(void *ctx, const nomtag_claim_holder *holder);
} nomtag_claim_holder_sink;

/* How to open a database (since ABI 1.2). */
enum {
  /* Only read: nothing in the database or beside it changes; refused
   * (NOMTAG_ERR_REFUSED) when the schema needs an upgrade that cannot be
   * written. */
  NOMTAG_OPEN_READ_ONLY = 1,
  /* Create the database when it does not exist (and its missing parent
   * folders, reporting them through the host's log at INFO). Without
   * it, a missing database is NOMTAG_ERR_NOT_FOUND. */
  NOMTAG_OPEN_CREATE = 2
};

typedef struct nomtag_open_options {
  uint32_t struct_size;
  uint32_t flags;  /* NOMTAG_OPEN_* */
  int64_t wait_ms; /* how long a call waits for another process's lock
                      before failing; < 0: the plugin's default */
} nomtag_open_options;

typedef struct nomtag_failure_sink {
  uint32_t struct_size;
  void *ctx;
  nomtag_status (*failure)(void *ctx, const char *path, const char *error);
} nomtag_failure_sink;

/* ---- Analysis (since ABI 1.4) -------------------------------------------
 *
 * Per file and inference plugin the database keeps the plugin's results
 * and what produced them (plugin id, version, settings digest). A file is
 * "due" for a plugin when no result is stored, the stored one came from
 * another version or settings, or the file changed (size or mtime) since.
 * Storing a result bumps the file's tags revision, so the next reconcile
 * projects it. */

/* What makes a plugin's results current. */
typedef struct nomtag_analysis_key {
  uint32_t struct_size;
  const char *plugin_id;
  const char *plugin_version;
  const char *settings_digest;
} nomtag_analysis_key;

/* One head output. opposite: NULL when the output does not feed the mood
 * tiers, else the label of its opposite ("" for none). spread < 0 when
 * unknown. */
typedef struct nomtag_head_output {
  uint32_t struct_size;
  const char *model_id;
  const char *label;
  double score;
  double spread;
  const char *opposite;
} nomtag_head_output;

typedef struct nomtag_descriptor_value {
  uint32_t struct_size;
  const char *name;
  double value;
} nomtag_descriptor_value;

/* One analysis of one file. error non-NULL: the file could not be
 * analysed (the reason; no outputs); it is not retried until the file,
 * the plugin version or its settings change. */
typedef struct nomtag_analysis_result {
  uint32_t struct_size;
  const char *error;
  const nomtag_head_output *heads;
  size_t head_count;
  const nomtag_descriptor_value *descriptors;
  size_t descriptor_count;
  const char *embedding_model; /* NULL: no embedding */
  const float *embedding;
  size_t embedding_count;
  double audio_seconds;
} nomtag_analysis_result;

/* Receives stored analysis outputs. plugin_id names the plugin that made
 * them. Either callback may be NULL when not wanted. */
typedef struct nomtag_analysis_sink {
  uint32_t struct_size;
  void *ctx;
  nomtag_status (*head)(void *ctx, const char *plugin_id,
                        const nomtag_head_output *head);
  nomtag_status (*descriptor)(void *ctx, const char *plugin_id,
                              const nomtag_descriptor_value *value);
} nomtag_analysis_sink;

typedef struct nomtag_analysis_status {
  uint32_t struct_size;
  int64_t analysed;    /* present files with a current result */
  int64_t due;         /* present files without one */
  int64_t failed;      /* of the analysed, those whose result is an error */
  int64_t in_progress; /* due and claimed under a live lease */
} nomtag_analysis_status;

/* Receives a text (a calibration definition), valid for the call. */
typedef struct nomtag_text_sink {
  uint32_t struct_size;
  void *ctx;
  nomtag_status (*text)(void *ctx, const char *text, size_t len);
} nomtag_text_sink;

/* ---- Row export and import (since ABI 1.7) ------------------------------
 *
 * What `nomtag db copy` moves from one database to another, whatever
 * plugin serves each: every row a user cares about, with the state that
 * says what is done (a file's written key, tags revision and digest, its
 * last error; an analysis's plugin version and settings digest), so that
 * nothing becomes due again in the copy. The tables and columns are the
 * plugin's schema, named as SPEC section 5 names them (libraries, files,
 * tags, calibration, analyses, analysis_heads, analysis_descriptors,
 * analysis_embeddings); claims are not rows of it and are never exported.
 * A plugin that receives a table or column it does not know refuses the
 * import (NOMTAG_ERR_UNSUPPORTED) rather than drop it. */

enum {
  NOMTAG_VALUE_NULL = 0,
  NOMTAG_VALUE_INT = 1,  /* i */
  NOMTAG_VALUE_REAL = 2, /* r */
  NOMTAG_VALUE_TEXT = 3, /* bytes, len: as stored (a file path is the
                            file system's bytes, not always UTF-8) */
  NOMTAG_VALUE_BYTES = 4 /* bytes, len: binary (an embedding) */
};

/* An element of nomtag_storage_row.values: a fixed layout, never
 * appended to (a later minor would add a new row struct instead). */
typedef struct nomtag_storage_value {
  int32_t type; /* NOMTAG_VALUE_* */
  int64_t i;
  double r;
  const char *bytes; /* not NUL-terminated; len counts them */
  size_t len;
} nomtag_storage_value;

typedef struct nomtag_storage_row {
  uint32_t struct_size;
  const char *table;
  const char *const *columns;         /* column_count names */
  const nomtag_storage_value *values; /* column_count values */
  size_t column_count;
} nomtag_storage_row;

/* Receives exported rows, table by table, parents before children (a
 * library before its files, a file before its tags and analyses). */
typedef struct nomtag_row_sink {
  uint32_t struct_size;
  void *ctx;
  /* Before a table's rows: how many follow (for progress). */
  nomtag_status (*table)(void *ctx, const char *table, int64_t rows);
  nomtag_status (*row)(void *ctx, const nomtag_storage_row *row);
} nomtag_row_sink;

typedef struct nomtag_storage {
  uint32_t struct_size; /* sizeof(nomtag_storage) */

  /* Opens (creating and migrating when needed) the database named by
   * database (NUL-terminated path or URL; NULL = the plugin's settings or
   * its default). *out is plugin-owned until close. */
  nomtag_status (*open)(const char *database, nomtag_storage_db **out,
                        nomtag_error *err);
  void (*close)(nomtag_storage_db *db);

  /* Where the database lives, for messages. Valid until close. */
  const char *(*location)(nomtag_storage_db *db);

  /* A transaction around many small changes (a scan, an import). */
  nomtag_status (*begin)(nomtag_storage_db *db, nomtag_error *err);
  nomtag_status (*commit)(nomtag_storage_db *db, nomtag_error *err);
  void (*rollback)(nomtag_storage_db *db);

  /* Libraries. */
  nomtag_status (*library_add)(nomtag_storage_db *db,
                               const nomtag_library_info *info, int64_t *out_id,
                               nomtag_error *err);
  nomtag_status (*library_list)(nomtag_storage_db *db,
                                const nomtag_library_sink *sink,
                                nomtag_error *err);
  /* Updates mode and options of info->id. *out_affected gets how many
   * present files need reconciliation afterwards. */
  nomtag_status (*library_update)(nomtag_storage_db *db,
                                  const nomtag_library_info *info,
                                  int64_t *out_affected, nomtag_error *err);

  /* Files. file_list reports every file of the library, missing ones
   * too. file_record inserts or updates by path (and clears missing).
   * file_mark_missing flags the given ids as gone from disk; their tags
   * are kept. */
  nomtag_status (*file_list)(nomtag_storage_db *db, int64_t library_id,
                             const nomtag_file_sink *sink, nomtag_error *err);
  nomtag_status (*file_record)(nomtag_storage_db *db, int64_t library_id,
                               const nomtag_file_info *info, nomtag_error *err);
  nomtag_status (*file_mark_missing)(nomtag_storage_db *db,
                                     const int64_t *file_ids, size_t count,
                                     nomtag_error *err);

  /* Tags. tags_replace sets the database's tags of the file at path
   * (creating the file row when the scan has not seen it yet) and bumps
   * its tags revision. tags_get reports them (encoding unused). */
  nomtag_status (*tags_replace)(nomtag_storage_db *db, int64_t library_id,
                                const char *path, const nomtag_tag *tags,
                                size_t tag_count, nomtag_error *err);
  nomtag_status (*tags_get)(nomtag_storage_db *db, int64_t file_id,
                            const nomtag_tag_sink *sink, nomtag_error *err);

  /* The active calibration: its hash (NULL or "" for none) and canonical
   * definition. get copies the hash into buf (NUL-terminated, "" for
   * none); NOMTAG_ERR_INVALID_ARGUMENT when it does not fit. */
  nomtag_status (*calibration_set)(nomtag_storage_db *db, const char *hash,
                                   const char *definition, nomtag_error *err);
  nomtag_status (*calibration_get)(nomtag_storage_db *db, char *buf,
                                   size_t capacity, nomtag_error *err);

  /* Reconciliation. claim_batch atomically claims up to batch_size files
   * of the library that need reconciliation, giving each a fresh claim
   * token and the expiry now_ms + lease_ms (stored with the claim, so
   * every claimer judges it alike). It skips files under an unexpired
   * claim of a live worker (see worker_start) and never re-claims what
   * worker_id already holds, expired or not. pending_list reports what
   * needs reconciliation without claiming (for dry runs). */
  nomtag_status (*claim_batch)(nomtag_storage_db *db, int64_t library_id,
                               const char *worker_id, uint32_t batch_size,
                               int64_t lease_ms, int64_t now_ms,
                               const nomtag_claim_sink *sink,
                               nomtag_error *err);
  nomtag_status (*pending_list)(nomtag_storage_db *db, int64_t library_id,
                                const nomtag_file_sink *sink,
                                nomtag_error *err);
  /* Records what was written (mode, calibration hash, the tags revision
   * written, has_namespace) and clears the claim — only when claim_token
   * still matches. *out_recorded = 0 means another worker took the file
   * over: the write just made may have superseded the new owner's, so the
   * file is marked as needing reconciliation again (and the new owner's
   * token is fenced off too) so that the right value is written. */
  nomtag_status (*set_written)(nomtag_storage_db *db, int64_t file_id,
                               int64_t claim_token, const char *mode,
                               const char *calibration_hash, int64_t tags_rev,
                               int32_t has_namespace, int64_t now_ms,
                               int32_t *out_recorded, nomtag_error *err);
  /* Clears the claim and records error (NULL: none); the file stays
   * pending. Fenced like set_written. */
  nomtag_status (*release_claim)(nomtag_storage_db *db, int64_t file_id,
                                 int64_t claim_token, const char *error,
                                 nomtag_error *err);
  /* in_progress counts unexpired claims; lease_ms is unused since ABI
   * 1.2 (the expiry is stored with each claim). */
  nomtag_status (*library_status)(nomtag_storage_db *db, int64_t library_id,
                                  int64_t lease_ms, int64_t now_ms,
                                  nomtag_library_status *out,
                                  nomtag_error *err);
  nomtag_status (*failure_list)(nomtag_storage_db *db, int64_t library_id,
                                const nomtag_failure_sink *sink,
                                nomtag_error *err);
  /* How many present files need reconciliation; cheaper than
   * library_status (answered from the mismatch indexes alone). */
  nomtag_status (*count_pending)(nomtag_storage_db *db, int64_t library_id,
                                 int64_t *out, nomtag_error *err);

  /* --- since ABI 1.2: read NOMTAG_HAS_FIELD before calling these ------ */

  /* Like open, with options (NULL: as open). Opening is read-only until
   * the database is known to be nomtag's: a database that is not (a
   * non-empty file without the plugin's schema marker) is refused with
   * NOMTAG_ERR_REFUSED and left byte-identical; a missing one is created
   * only with NOMTAG_OPEN_CREATE. */
  nomtag_status (*open_v2)(const char *database,
                           const nomtag_open_options *options,
                           nomtag_storage_db **out, nomtag_error *err);

  /* Makes the caller a worker: the plugin takes a lock that proves it
   * alive for as long as db stays open (an OFD lock on a per-worker file
   * beside an SQLite database; a session lock on a server), and copies
   * the worker's id, NUL-terminated, into buf (NOMTAG_ERR_INVALID_ARGUMENT
   * when it does not fit). Pass that id to claim_batch: claims of a
   * worker whose lock is free are taken over at once; claims of a live
   * worker only when they expire. Claims of ids no worker_start made are
   * treated as a dead worker's. */
  nomtag_status (*worker_start)(nomtag_storage_db *db, char *buf,
                                size_t capacity, nomtag_error *err);

  /* The gate before a commit. *out_held = 1 when claim_token still holds
   * the file (and its lease is then extended to now_ms + lease_ms), 0
   * when another worker took it over; then nothing may be written. */
  nomtag_status (*claim_check)(nomtag_storage_db *db, int64_t file_id,
                               int64_t claim_token, int64_t lease_ms,
                               int64_t now_ms, int32_t *out_held,
                               nomtag_error *err);

  /* Extends every claim worker_id still holds to now_ms + lease_ms (a
   * heartbeat during long batches). *out_renewed: how many. */
  nomtag_status (*claims_renew)(nomtag_storage_db *db, const char *worker_id,
                                int64_t lease_ms, int64_t now_ms,
                                int64_t *out_renewed, nomtag_error *err);

  /* One record per worker holding claims on files of the library that
   * need reconciliation (expired claims included). */
  nomtag_status (*claim_holders)(nomtag_storage_db *db, int64_t library_id,
                                 const nomtag_claim_holder_sink *sink,
                                 nomtag_error *err);

  /* --- since ABI 1.3: read NOMTAG_HAS_FIELD before calling these ------ */

  /* Gives the row file_id (a file gone from its old path) the path
   * new_path, keeping its tags and projection state: a file moved or
   * renamed within its library keeps its identity.
   * NOMTAG_ERR_INVALID_ARGUMENT when another row of the library already
   * has new_path. */
  nomtag_status (*file_move)(nomtag_storage_db *db, int64_t file_id,
                             const char *new_path, nomtag_error *err);
  /* set_written, also storing what the write left on disk and (since
   * ABI 1.8) carrying analyses made at the stamp the write found forward
   * to it (see nomtag_written_info). Fenced by the claim token like
   * set_written. */
  nomtag_status (*set_written_v2)(nomtag_storage_db *db,
                                  const nomtag_written_info *info,
                                  int32_t *out_recorded, nomtag_error *err);

  /* --- since ABI 1.4: read NOMTAG_HAS_FIELD before calling these ------ */

  /* Claims up to batch_size present files of the library that are due for
   * key's plugin (or, when force_since_ms > 0, were analysed before that
   * moment) and not under a live analysis lease; like claim_batch, atomic
   * across processes. tags_rev of each claimed file is unused (0). */
  nomtag_status (*analysis_claim_batch)(
      nomtag_storage_db *db, int64_t library_id, const nomtag_analysis_key *key,
      int64_t force_since_ms, const char *worker_id, uint32_t batch_size,
      int64_t lease_ms, int64_t now_ms, const nomtag_claim_sink *sink,
      nomtag_error *err);
  /* The files analysis_claim_batch would claim, without claiming. */
  nomtag_status (*analysis_due_list)(nomtag_storage_db *db, int64_t library_id,
                                     const nomtag_analysis_key *key,
                                     int64_t force_since_ms,
                                     const nomtag_file_sink *sink,
                                     nomtag_error *err);
  /* Stores a result (replacing the plugin's earlier one for the file) and
   * clears the claim, only while claim_token still matches:
   * *out_recorded = 0 means another worker owns the file now. */
  nomtag_status (*analysis_record)(nomtag_storage_db *db, int64_t file_id,
                                   int64_t claim_token,
                                   const nomtag_analysis_key *key,
                                   const nomtag_analysis_result *result,
                                   int64_t now_ms, int32_t *out_recorded,
                                   nomtag_error *err);
  /* Clears an analysis claim without storing anything (fenced). */
  nomtag_status (*analysis_release)(nomtag_storage_db *db, int64_t file_id,
                                    int64_t claim_token,
                                    const nomtag_analysis_key *key,
                                    nomtag_error *err);
  /* Reports the stored outputs of one file (file_id > 0, every plugin);
   * with file_id 0, of every present file of the library (library_id > 0)
   * or of every library (0): what calibration reads, streamed, so memory
   * does not grow with the library. */
  nomtag_status (*analysis_get)(nomtag_storage_db *db, int64_t library_id,
                                int64_t file_id,
                                const nomtag_analysis_sink *sink,
                                nomtag_error *err);
  nomtag_status (*analysis_status)(nomtag_storage_db *db, int64_t library_id,
                                   const nomtag_analysis_key *key,
                                   int64_t lease_ms, int64_t now_ms,
                                   nomtag_analysis_status *out,
                                   nomtag_error *err);
  /* The current failed results of key's plugin: path and reason. */
  nomtag_status (*analysis_failure_list)(nomtag_storage_db *db,
                                         int64_t library_id,
                                         const nomtag_analysis_key *key,
                                         const nomtag_failure_sink *sink,
                                         nomtag_error *err);
  /* The active calibration's canonical definition ("" for none). */
  nomtag_status (*calibration_definition)(nomtag_storage_db *db,
                                          const nomtag_text_sink *sink,
                                          nomtag_error *err);

  /* --- since ABI 1.5: read NOMTAG_HAS_FIELD before calling these ------ */

  /* Forgets library_id: its row and every row of its files (tags,
   * analyses, claims), in one transaction. Never touches a file on disk.
   * NOMTAG_ERR_NOT_FOUND when there is no such library;
   * NOMTAG_ERR_REFUSED, removing nothing, while a live worker (one whose
   * lock is held) has a claim on one of its files. Thread: as every
   * entry, one call at a time per db. */
  nomtag_status (*library_remove)(nomtag_storage_db *db, int64_t library_id,
                                  nomtag_error *err);

  /* --- since ABI 1.7: read NOMTAG_HAS_FIELD before calling these ------ */

  /* Reports every row of the database through sink (see "Row export and
   * import" above), from one consistent snapshot: a worker writing
   * meanwhile changes nothing the export sees. Claims are left out.
   * NOMTAG_ERR_REFUSED, exporting nothing, while a live worker (one whose
   * lock is held) holds a claim: what it is writing would be missing from
   * the copy; the message names the workers. The sink's records are
   * plugin-owned, valid for the callback. Thread: one call at a time per
   * db, like every entry; the sink may call another db's entries. */
  nomtag_status (*rows_export)(nomtag_storage_db *db,
                               const nomtag_row_sink *sink, nomtag_error *err);
  /* Opens the transaction an import runs in, refusing
   * (NOMTAG_ERR_REFUSED, nothing changed) unless the database holds no
   * library, no file and no calibration: an import never merges. The
   * host ends it with commit, or rollback on any failure, so that the
   * target holds the whole copy or nothing of it. */
  nomtag_status (*rows_import_begin)(nomtag_storage_db *db, nomtag_error *err);
  /* Inserts rows as rows_export reported them (ids kept: a file keeps its
   * id, and its tags and analyses their file), inside the transaction
   * rows_import_begin opened. The rows are the host's, valid for the
   * call. NOMTAG_ERR_UNSUPPORTED for a table or column the plugin does
   * not know; NOMTAG_ERR_INVALID_ARGUMENT for a value of the wrong type. */
  nomtag_status (*rows_import)(nomtag_storage_db *db,
                               const nomtag_storage_row *rows, size_t count,
                               nomtag_error *err);
} nomtag_storage;

#ifdef __cplusplus
}
#endif

#endif
