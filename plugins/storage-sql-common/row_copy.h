// Row export and import (nomtag/storage.h, ABI 1.7): what `nomtag db copy`
// moves between two databases, whatever engine serves each. The tables and
// columns copied are listed once, in row_copy.cc; claims are not among them.
#ifndef NOMTAG_PLUGINS_STORAGE_SQL_COMMON_ROW_COPY_H_
#define NOMTAG_PLUGINS_STORAGE_SQL_COMMON_ROW_COPY_H_

#include <nomtag/storage.h>

namespace nomtag::sqlstore {

nomtag_status RowsExport(nomtag_storage_db* db, const nomtag_row_sink* sink,
                         nomtag_error* err);
nomtag_status RowsImportBegin(nomtag_storage_db* db, nomtag_error* err);
nomtag_status RowsImport(nomtag_storage_db* db, const nomtag_storage_row* rows,
                         size_t count, nomtag_error* err);

// What an import does last, inside its transaction, when the host commits
// it (the storage table's commit, while db->importing): gathers the
// planner's statistics of the copied tables where the dialect asks for it
// (Dialect::analyze_after_import). Throws on an engine error, which then
// fails the commit: the import is all or nothing.
void FinishImport(nomtag_storage_db* db);

}  // namespace nomtag::sqlstore

#endif  // NOMTAG_PLUGINS_STORAGE_SQL_COMMON_ROW_COPY_H_
