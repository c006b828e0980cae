// Which loaded storage plugin serves a database, chosen from what names it.
//
// A database named like a URL (`scheme://…`) is served by the storage
// plugin of that scheme (`postgresql://…` by storage-postgresql); anything
// else is a file path, served by a plugin that keeps the database in a file
// (storage-sqlite). A URL is never taken for a path: an unknown scheme, or
// one whose plugin is not loaded, is an error that names the plugin to add,
// so that no folder named `postgresql:` is ever made.
#ifndef NOMTAG_STORE_STORAGE_CHOICE_H_
#define NOMTAG_STORE_STORAGE_CHOICE_H_

#include <string>
#include <vector>

#include "core/status.h"
#include "plugins/plugin_registry.h"

namespace nomtag {

// The scheme of a URL-like database name, lower-cased ("postgresql" for
// "postgresql://…", "postgres://…" alike); "" for a path.
std::string DatabaseScheme(const std::string& database);

struct StorageChoice {
  const StoragePluginRef* plugin = nullptr;
  // What to hand the plugin's open: the name given, else the plugin's own
  // `database:` setting when that picked it; "" for the plugin's default.
  std::string database;
};

// Whether serving database ("" when not given) may take a plugin for URLs
// (storage-postgresql) under config: false when it is a file path, or
// nothing, and the file plugin is listed, so a command need not load the
// URL plugins (libpq and Kerberos cost about 8 ms at every start).
bool MayNeedUrlBackend(const PluginConfig& config, const std::string& database);

// True for the name of a bundled plugin that serves URLs.
bool IsUrlBackendName(const std::string& plugin_name);

// database: --db (or $NOMTAG_DB), "" when not given; then the first
// storage plugin with a `database:` setting decides, and without any the
// first storage plugin serves its default database.
Result<StorageChoice> ChooseStorage(const std::vector<StoragePluginRef>& loaded,
                                    const std::string& database);

}  // namespace nomtag

#endif  // NOMTAG_STORE_STORAGE_CHOICE_H_
