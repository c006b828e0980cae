// The two dialects, in one place: what storage-sqlite and
// storage-postgresql tell the shared code about their engine (backend.h
// says what each field means). Tests build the queries from these too.
#ifndef NOMTAG_PLUGINS_STORAGE_SQL_COMMON_DIALECTS_H_
#define NOMTAG_PLUGINS_STORAGE_SQL_COMMON_DIALECTS_H_

#include "backend.h"

namespace nomtag::sqlstore {

// SQLite: the write lock up front, an integer expression index for
// changed tags (the schema's), triggers keeping the pending counts, no
// statistics.
inline constexpr Dialect kSqliteDialect = {
    "BEGIN IMMEDIATE",
    "(f.tags_rev <> f.written_tags_rev) = 1",
    /*row_locks=*/false,
    /*pending_count_kept=*/true,
    /*begin_snapshot=*/"BEGIN",
    "hex(",
    ")",
    /*analyze_after_import=*/false};

// PostgreSQL: rows locked as they are picked, a boolean expression index,
// pending counts read from the index ranges, statistics of a copy
// gathered at once.
inline constexpr Dialect kPostgresDialect = {
    "BEGIN",
    "(f.tags_rev <> f.written_tags_rev)",
    /*row_locks=*/true,
    /*pending_count_kept=*/false,
    /*begin_snapshot=*/"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    "encode(",
    ", 'hex')",
    /*analyze_after_import=*/true};

}  // namespace nomtag::sqlstore

#endif  // NOMTAG_PLUGINS_STORAGE_SQL_COMMON_DIALECTS_H_
