/* nomtag SDK — the plugin entry point.
 *
 * A plugin is a shared library exporting one C function,
 *
 *     const nomtag_plugin_entry *nomtag_entry(void);
 *
 * (NOMTAG_ENTRY_SYMBOL). It returns a pointer to a static, immutable
 * descriptor that stays valid while the library is loaded. The host reads
 * struct_size and the ABI numbers before anything else and refuses the
 * plugin when they do not fit (see version.h).
 *
 * Lifecycle, all on the host's main thread:
 *   entry() -> init(host, settings) -> get_interface(id)* -> ... -> deinit()
 * If init fails, deinit is not called and the library is unloaded.
 *
 * Conventions, for this header and every interface header:
 *   - every struct opens with uint32_t struct_size; tables are append-only,
 *     and the host calls a tail entry only when struct_size covers it;
 *   - strings are UTF-8; "(ptr, len)" pairs are not NUL-terminated unless
 *     said so; NUL-terminated strings are marked so;
 *   - errors are a nomtag_status plus a caller-owned nomtag_error;
 *   - no C++ type, exception or allocation crosses this boundary. Memory a
 *     plugin hands out is returned through a function named next to it.
 */
#ifndef NOMTAG_PLUGIN_H
#define NOMTAG_PLUGIN_H

#include "status.h"
#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define NOMTAG_EXPORT __declspec(dllexport)
#else
#define NOMTAG_EXPORT __attribute__((visibility("default")))
#endif

#define NOMTAG_ENTRY_SYMBOL "nomtag_entry"

/* What a plugin mainly provides; the interfaces it returns are what count,
 * this is what `nomtag plugins` shows and how the host sorts plugins. */
typedef uint32_t nomtag_plugin_kind;
enum {
  NOMTAG_KIND_FORMAT = 1,    /* tag container: format.h */
  NOMTAG_KIND_INFERENCE = 2, /* analysis backend: inference.h */
  NOMTAG_KIND_STORAGE = 3    /* database adapter: storage.h */
};

typedef enum nomtag_log_level {
  NOMTAG_LOG_DEBUG = 0,
  NOMTAG_LOG_INFO = 1,
  NOMTAG_LOG_WARNING = 2,
  NOMTAG_LOG_ERROR = 3
} nomtag_log_level;

/* What the host offers a plugin. Host-owned; valid from init until deinit
 * returns. */
typedef struct nomtag_host {
  uint32_t struct_size;
  uint32_t abi_major; /* the host's ABI */
  uint32_t abi_minor;
  void *host_data; /* opaque, pass back unchanged */

  /* Logs a message (msg, len) under the plugin's name. [thread-safe] */
  void (*log)(void *host_data, nomtag_log_level level, const char *msg,
              size_t len);
} nomtag_host;

/* A setting a plugin takes under its `settings:` in plugins.yaml (since
 * ABI 1.2). */
typedef enum nomtag_setting_kind {
  NOMTAG_SETTING_VALUE = 0, /* passed as written */
  NOMTAG_SETTING_PATH = 1   /* a relative path is resolved against the
                               folder of plugins.yaml before init */
} nomtag_setting_kind;

typedef struct nomtag_setting {
  const char *name; /* the key, NUL-terminated */
  nomtag_setting_kind kind;
} nomtag_setting;

typedef struct nomtag_plugin_entry {
  uint32_t struct_size; /* sizeof(nomtag_plugin_entry) */
  uint32_t abi_major;   /* NOMTAG_ABI_MAJOR the plugin was built with */
  uint32_t abi_minor;   /* NOMTAG_ABI_MINOR the plugin was built with */
  nomtag_plugin_kind kind;

  /* Reverse-DNS id, unique among loaded plugins, e.g.
   * "org.nomtag.format.mp3". Static, NUL-terminated. */
  const char *id;
  /* Human name and version ("1.2.0"). Static, NUL-terminated. */
  const char *name;
  const char *version;

  /* Called once after the ABI check, before any other call. settings is
   * the YAML text of the plugin's `settings:` block in plugins.yaml
   * (len may be 0). host is valid until deinit returns; settings only for
   * the call. Returns NOMTAG_OK or an error with a message; on error the
   * host unloads the plugin without calling deinit. [main-thread] */
  nomtag_status (*init)(const nomtag_host *host, const char *settings,
                        size_t settings_len, nomtag_error *err);

  /* Called once before unloading, after every object obtained from the
   * plugin has been released. [main-thread] */
  void (*deinit)(void);

  /* Returns the interface table for a versioned id such as
   * NOMTAG_FORMAT_INTERFACE_ID, or NULL when not supported. The table is
   * static and valid until deinit. [thread-safe] */
  const void *(*get_interface)(const char *interface_id);

  /* Since ABI 1.2. The settings the plugin takes (static). With a list,
   * the host refuses any other key, naming its line in plugins.yaml, and
   * resolves NOMTAG_SETTING_PATH values before init; NULL (as from an
   * older plugin) leaves the settings unchecked. */
  const nomtag_setting *settings;
  size_t settings_count;
} nomtag_plugin_entry;

/* The one exported symbol. */
typedef const nomtag_plugin_entry *(*nomtag_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif
