// Reading SOCI rows and running transactions, for the files that implement
// the storage table (storage_table.cc, analysis_store.cc): one reading of
// a column, one corrupt-row message, one transaction shape, one guard.
#ifndef NOMTAG_PLUGINS_STORAGE_SQL_COMMON_SOCI_ROWS_H_
#define NOMTAG_PLUGINS_STORAGE_SQL_COMMON_SOCI_ROWS_H_

#include <soci/soci.h>

#include <cstddef>
#include <nomtag/cpp/error.hpp>
#include <string>

#include "storage_db.h"

namespace nomtag::sqlstore {

inline std::string Text(const char* s) { return s ? s : ""; }

// A whole-number column, whatever width the engine's type maps to.
inline long long Int(const soci::row& r, std::size_t i) {
  if (r.get_indicator(i) == soci::i_null) return 0;
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_integer:
      return r.get<int>(i);
    case soci::dt_long_long:
      return r.get<long long>(i);
    case soci::dt_unsigned_long_long:
      return static_cast<long long>(r.get<unsigned long long>(i));
    case soci::dt_double:
      return static_cast<long long>(r.get<double>(i));
    default:
      throw sdk::Error(NOMTAG_ERR_CORRUPT,
                       "column " + r.get_properties(i).get_name() +
                           " holds text where a number belongs (a corrupt "
                           "row?)");
  }
}

// A text column; "" for NULL.
inline std::string Str(const soci::row& r, std::size_t i) {
  if (r.get_indicator(i) == soci::i_null) return "";
  if (r.get_properties(i).get_data_type() != soci::dt_string)
    throw sdk::Error(NOMTAG_ERR_CORRUPT,
                     "column " + r.get_properties(i).get_name() +
                         " holds a number where text belongs (a corrupt "
                         "row?)");
  return r.get<std::string>(i);
}

// Runs body inside the transaction already open on db, rolling it back on
// any exception (a failed rollback is ignored: the first error is the one
// to report).
template <class Body>
void RollBackOnError(nomtag_storage_db* db, Body&& body) {
  try {
    body();
  } catch (...) {
    try {
      db->sql << "ROLLBACK";
    } catch (...) {  // nothing to roll back
    }
    throw;
  }
}

// Runs body in a writing transaction (the dialect's begin_write) ...
// COMMIT, rolling back on any exception.
template <class Body>
void InTransaction(nomtag_storage_db* db, Body&& body) {
  db->sql << db->backend->dialect().begin_write;
  RollBackOnError(db, [&] {
    body();
    db->sql << "COMMIT";
  });
}

// sdk::guard, plus the engine's errors worth explaining (a database
// another process keeps locked past the wait, a lost connection) in words.
template <class Body>
nomtag_status Guard(nomtag_storage_db* db, nomtag_error* err, Body&& body) {
  return sdk::guard(err, [&] {
    try {
      body();
    } catch (const soci::soci_error& e) {
      db->prepared.clear();  // none is reused after an error
      db->backend->Explain(db, e);
      throw;
    } catch (...) {
      db->prepared.clear();
      throw;
    }
  });
}

}  // namespace nomtag::sqlstore

#endif  // NOMTAG_PLUGINS_STORAGE_SQL_COMMON_SOCI_ROWS_H_
