// Statements prepared once per connection and run again and again: the
// per-file statements of a batch (a reconcile records, checks and reads
// each file of a group with the same few statements). SQLite spends more
// on preparing such a statement than on running it.
//
// A prepared statement is a struct holding the variables its parameters
// and results are bound to, and the soci::statement bound to them; the
// caller sets the variables, then executes. Guard (soci_rows.h) drops
// every cached statement when an entry fails, so a statement an error
// left half-run is never reused; a connection lost is a new handle, with
// an empty cache.
#ifndef NOMTAG_PLUGINS_STORAGE_SQL_COMMON_PREPARED_STATEMENTS_H_
#define NOMTAG_PLUGINS_STORAGE_SQL_COMMON_PREPARED_STATEMENTS_H_

#include <soci/soci.h>

#include <memory>
#include <string>
#include <typeinfo>
#include <utility>

#include "storage_db.h"

namespace nomtag::sqlstore {

// The statement S, constructed as S(db->sql, args...) the first time
// this connection asks for it under key (S and key together name it).
// Its variables keep their addresses for as long as it is cached.
template <class S, class... Args>
S& PreparedOnce(nomtag_storage_db* db, const std::string& key, Args&&... args) {
  std::shared_ptr<void>& slot =
      db->prepared[std::string(typeid(S).name()) + '\n' + key];
  if (!slot) slot = std::make_shared<S>(db->sql, std::forward<Args>(args)...);
  return *static_cast<S*>(slot.get());
}

// A query with one whole-number parameter :id, its rows read as
// soci::row: the per-file reads.
struct RowsById {
  RowsById(soci::session& sql, const std::string& query)
      : st((sql.prepare << query, soci::into(row), soci::use(id, "id"))) {}
  long long id = 0;
  soci::row row;
  soci::statement st;
};

// Runs query for id, calling each(row) for every row, in order; the
// statement is prepared once per connection. Every row is read, so the
// statement ends finished (no read transaction left open by it).
template <class Each>
void ForEachRowById(nomtag_storage_db* db, const std::string& query,
                    long long id, Each&& each) {
  RowsById& q = PreparedOnce<RowsById>(db, query, query);
  q.id = id;
  q.st.execute();
  while (q.st.fetch()) each(static_cast<const soci::row&>(q.row));
}

}  // namespace nomtag::sqlstore

#endif  // NOMTAG_PLUGINS_STORAGE_SQL_COMMON_PREPARED_STATEMENTS_H_
