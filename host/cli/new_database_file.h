// The database file a command makes, taken back when the command fails.
//
// `nomtag db copy FROM new.db` creates new.db before anything is copied;
// a copy refused after that (rows the target refuses, a plugin too old)
// would leave an empty nomtag database behind, which looks created. A
// NewDatabaseFile, made just before the target is opened, notes what of
// the file does not exist yet and makes the file itself, exclusively (so
// that it is known to be this command's and not another process's);
// Discard removes what was made: the file, the companions SQLite makes
// beside it (-wal, -shm, -journal) and the folders made for it when they
// are empty. A file that existed before is never removed.
//
// Only for a database named by a path (storage_choice.h): a URL's
// database is the server's, and an import into it is one transaction.
#ifndef NOMTAG_CLI_NEW_DATABASE_FILE_H_
#define NOMTAG_CLI_NEW_DATABASE_FILE_H_

#include <string>
#include <vector>

namespace nomtag::cli {

class NewDatabaseFile {
 public:
  // Notes the folders missing above path and, when its folder exists,
  // creates path (empty, 0644 before the umask) unless something of that
  // name exists; SQLite takes an empty file for a new database. A path
  // that cannot be created is left to the storage plugin to report.
  explicit NewDatabaseFile(const std::string& path);
  NewDatabaseFile(const NewDatabaseFile&) = delete;
  NewDatabaseFile& operator=(const NewDatabaseFile&) = delete;

  // Whether this command made the file (or its folder, and so the file).
  bool made() const { return made_; }

  // Removes what this command made; call once the database is closed.
  // Best effort: what cannot be removed stays, and is named in the
  // returned text ("" when everything went).
  std::string Discard() const;

 private:
  std::string path_;
  bool made_ = false;
  std::vector<std::string> companions_;  // absent when noted
  std::vector<std::string> folders_;     // missing when noted, deepest first
};

}  // namespace nomtag::cli

#endif  // NOMTAG_CLI_NEW_DATABASE_FILE_H_
