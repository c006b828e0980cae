// Reading SOCI rows and running transactions, for the files that implement
// the storage table (storage_plugin.cc, analysis_store.cc): one reading of
// a column, one corrupt-row message, one transaction shape.
#ifndef NOMTAG_PLUGINS_STORAGE_SQLITE_SOCI_ROWS_H_
#define NOMTAG_PLUGINS_STORAGE_SQLITE_SOCI_ROWS_H_

#include <soci/soci.h>

#include <cstddef>
#include <nomtag/cpp/error.hpp>
#include <string>

#include "storage_db.h"

namespace nomtag::sqlite {

inline std::string Text(const char* s) { return s ? s : ""; }

// A whole-number column, whatever width SQLite's declared type maps to.
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

// Runs body in BEGIN IMMEDIATE ... COMMIT, rolling back on any exception
// (a failed rollback is ignored: the first error is the one to report).
template <class Body>
void InTransaction(nomtag_storage_db* db, Body&& body) {
  db->sql << "BEGIN IMMEDIATE";
  try {
    body();
    db->sql << "COMMIT";
  } catch (...) {
    try {
      db->sql << "ROLLBACK";
    } catch (...) {  // nothing to roll back
    }
    throw;
  }
}

}  // namespace nomtag::sqlite

#endif  // NOMTAG_PLUGINS_STORAGE_SQLITE_SOCI_ROWS_H_
