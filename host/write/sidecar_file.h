// Creating a file a write leaves beside the one it writes (its journal or
// its temporary copy, sidecar_names.h) so that its lock says from the
// start that its writer lives.
//
// A new name exists a moment before its creator can lock it, and every
// `nomtag reconcile` begins by recovering the whole library while other
// runs write. Recovery takes an unlocked sidecar for a dead writer's: it
// locks it to look at it, and removes an empty journal (torn) or any
// temporary copy. So the creator waits for that lock, then makes sure the
// name still is its file; when recovery removed it meanwhile, the sidecar
// is made again. Liveness stays a lock: nothing here looks at pids or
// ages.
#ifndef NOMTAG_WRITE_SIDECAR_FILE_H_
#define NOMTAG_WRITE_SIDECAR_FILE_H_

#include <string>

#include "core/status.h"

namespace nomtag {

// Creates `name` in the folder dir_fd (mode 0600, never over an existing
// file), locked for writing and still under that name; returns its
// descriptor, whose lock lasts until it is closed. `what` says what it is
// in messages ("journal"), path where; `created` is the test hook point
// (fault_injection.h) between the creation and the lock. An existing name
// is a kConflict error.
Result<int> CreateLockedSidecar(int dir_fd, const std::string& name,
                                const std::string& path, const char* what,
                                const char* created);

}  // namespace nomtag

#endif  // NOMTAG_WRITE_SIDECAR_FILE_H_
