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

}  // namespace nomtag::sqlstore

#endif  // NOMTAG_PLUGINS_STORAGE_SQL_COMMON_ROW_COPY_H_
