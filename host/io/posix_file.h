// Small POSIX helpers shared by the code that writes files: errors as
// Status values naming the path and the step.
#ifndef NOMTAG_IO_POSIX_FILE_H_
#define NOMTAG_IO_POSIX_FILE_H_

#include <cstdint>
#include <string>

#include "core/status.h"

namespace nomtag {

// A Status for errno after a failed call: NotFound for ENOENT, else
// IoError; "<path>: <step>: <strerror>".
Status ErrnoStatus(const std::string& path, const std::string& step);

// Writes all of data at offset, retrying short writes.
Status PWriteAll(int fd, const char* data, uint64_t len, uint64_t offset,
                 const std::string& path, const char* step);

// fsyncs the directory holding file, so a rename or unlink in it lasts.
Status FsyncDirectoryOf(const std::string& file);
// The same for an open folder; label names it in messages.
Status FsyncDirectory(int dir_fd, const std::string& label);

// Sets a file's access and modification times (nanoseconds since epoch).
Status SetFileTimes(int fd, int64_t atime_ns, int64_t mtime_ns,
                    const std::string& path);

}  // namespace nomtag

#endif  // NOMTAG_IO_POSIX_FILE_H_
