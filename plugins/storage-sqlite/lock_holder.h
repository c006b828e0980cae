// Who keeps an SQLite database locked, for the message of a call that gave
// up waiting. SQLite takes POSIX record locks (on the -shm file's writer
// byte in WAL mode, on the lock bytes of the database file otherwise), so
// F_GETLK names the process holding them when it runs on this machine.
// Only for messages: liveness is never judged from a pid.
#ifndef NOMTAG_PLUGINS_STORAGE_SQLITE_LOCK_HOLDER_H_
#define NOMTAG_PLUGINS_STORAGE_SQLITE_LOCK_HOLDER_H_

#include <cstdint>
#include <string>

namespace nomtag::sqlite {

// "the database D is locked by process 1234 (nomtag reconcile music); gave
// up after 30 s (--wait SECONDS waits longer or shorter)", or "by another
// process" when none can be named.
std::string BusyMessage(const std::string& database, int64_t waited_ms);

}  // namespace nomtag::sqlite

#endif  // NOMTAG_PLUGINS_STORAGE_SQLITE_LOCK_HOLDER_H_
