#include "io/file_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace nomtag {
namespace {

Status Errno(const std::string& path, const std::string& what) {
  int e = errno;
  std::string msg = path + ": " + what + ": " + std::strerror(e);
  if (e == ENOENT) return Status::NotFound(msg);
  return Status::IoError(msg);
}

}  // namespace

FileIdentity IdentityFromStat(const struct stat& st) {
  FileIdentity id;
  id.dev = st.st_dev;
  id.ino = st.st_ino;
  id.size = st.st_size;
  // tv_nsec is always in [0, 1e9), also before 1970.
  id.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  id.ctime_ns = int64_t{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec;
  id.atime_ns = int64_t{st.st_atim.tv_sec} * 1000000000 + st.st_atim.tv_nsec;
  id.mode = st.st_mode;
  id.uid = st.st_uid;
  id.gid = st.st_gid;
  id.nlink = st.st_nlink;
  return id;
}

Result<FileIdentity> StatPath(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return Errno(path, "stat");
  return IdentityFromStat(st);
}

Result<std::unique_ptr<FileSource>> FileSource::Open(const std::string& path) {
  // O_NONBLOCK: a FIFO in a library must not hang the scan.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ELOOP)
      return Status::InvalidArgument(path +
                                     ": is a symbolic link; nomtag "
                                     "writes only regular files");
    return Errno(path, "open for reading");
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status s = Errno(path, "stat");
    ::close(fd);
    return s;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(path + ": not a regular file");
  }
  return std::unique_ptr<FileSource>(
      new FileSource(path, fd, IdentityFromStat(st)));
}

std::unique_ptr<FileSource> FileSource::Adopt(int fd, std::string path,
                                              const FileIdentity& identity) {
  return std::unique_ptr<FileSource>(
      new FileSource(std::move(path), fd, identity));
}

void FileSource::Reset(const FileIdentity& identity) {
  identity_ = identity;
  blocks_.clear();
  order_.clear();
}

FileSource::FileSource(std::string path, int fd, FileIdentity identity)
    : path_(std::move(path)), fd_(fd), identity_(identity) {
  // Reads here are a tag's headers, a few blocks at scattered offsets,
  // or a payload range asked for whole: the kernel's readahead would
  // fetch hundreds of kilobytes around each header from a cold disk (a
  // NAS library is rarely in the page cache). Advice only; ignored where
  // unsupported.
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_RANDOM);
}

FileSource::~FileSource() { ::close(fd_); }

Status FileSource::ReadBlock(uint64_t index, const Block** block) {
  auto it = blocks_.find(index);
  if (it != blocks_.end()) {
    *block = &it->second;
    return Status::OK();
  }
  Block data{std::unique_ptr<char[]>(new char[kBlockSize]), 0};
  while (data.size < kBlockSize) {
    ssize_t n = ::pread(fd_, data.data.get() + data.size,
                        kBlockSize - data.size, index * kBlockSize + data.size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno(path_, "read");
    }
    if (n == 0) break;
    data.size += n;
  }
  if (blocks_.size() >= kMaxBlocks) {
    blocks_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(index);
  *block = &(blocks_[index] = std::move(data));
  return Status::OK();
}

Status FileSource::ReadAt(uint64_t offset, void* buf, size_t len, size_t* got) {
  *got = 0;
  auto* out = static_cast<char*>(buf);
  if (len >= kBlockSize) {  // big reads (the payload) bypass the cache
    while (*got < len) {
      ssize_t n = ::pread(fd_, out + *got, len - *got, offset + *got);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno(path_, "read");
      }
      if (n == 0) break;
      *got += n;
    }
    return Status::OK();
  }
  while (*got < len) {
    uint64_t at = offset + *got;
    const Block* block = nullptr;
    if (Status s = ReadBlock(at / kBlockSize, &block); !s.ok()) return s;
    uint64_t in_block = at % kBlockSize;
    if (in_block >= block->size) break;  // end of file
    size_t n = std::min<uint64_t>(len - *got, block->size - in_block);
    std::memcpy(out + *got, block->data.get() + in_block, n);
    *got += n;
  }
  return Status::OK();
}

}  // namespace nomtag
