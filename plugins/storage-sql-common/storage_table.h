// The storage table shared by the SQL storage plugins: every entry of
// nomtag_storage but open and open_v2, which each plugin gives its own
// (they make the db handle, connect, check the database is nomtag's,
// migrate it, and set db->backend). See nomtag/storage.h for each entry.
#ifndef NOMTAG_PLUGINS_STORAGE_SQL_COMMON_STORAGE_TABLE_H_
#define NOMTAG_PLUGINS_STORAGE_SQL_COMMON_STORAGE_TABLE_H_

#include <nomtag/storage.h>

#include <string>

namespace nomtag::sqlstore {

// struct_size: what the plugin sends (a test builds an older table).
nomtag_storage StorageTable(decltype(nomtag_storage::open) open,
                            decltype(nomtag_storage::open_v2) open_v2,
                            uint32_t struct_size = sizeof(nomtag_storage));

// `database:` from a storage plugin's settings (YAML text; "" without
// it). Throws sdk::Error (NOMTAG_ERR_SETTINGS) when they do not parse.
std::string DatabaseSetting(const char* settings, size_t len);

}  // namespace nomtag::sqlstore

#endif  // NOMTAG_PLUGINS_STORAGE_SQL_COMMON_STORAGE_TABLE_H_
