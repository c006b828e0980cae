// The plugin's per-connection state, shared by the files that implement
// the storage table (storage_plugin.cc, analysis_store.cc).
#ifndef NOMTAG_PLUGINS_STORAGE_SQLITE_STORAGE_DB_H_
#define NOMTAG_PLUGINS_STORAGE_SQLITE_STORAGE_DB_H_

#include <soci/soci.h>

#include <string>

struct nomtag_storage_db {
  soci::session sql;
  std::string location;
};

#endif  // NOMTAG_PLUGINS_STORAGE_SQLITE_STORAGE_DB_H_
