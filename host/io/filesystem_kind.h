// What the write path relies on from the filesystem a file lives on,
// decided by its type (statfs(2) f_type): whether one syncfs makes every
// write on it durable, and whether it may clone file ranges. Both are
// about the filesystem, not the file, and both are only ever guesses on
// the safe side: an unknown type syncs each file and copies bytes.
#ifndef NOMTAG_IO_FILESYSTEM_KIND_H_
#define NOMTAG_IO_FILESYSTEM_KIND_H_

namespace nomtag {

// The type of the filesystem holding fd (statfs(2) f_type); 0 when it
// cannot be asked.
long FilesystemType(int fd);

// True when syncfs on this type writes back every dirty page and inode
// and commits them with a cache flush before it returns (its sync_fs
// waits for the journal or transaction commit). NFS, CIFS and FUSE may
// return before the server has the data: false.
bool SyncfsIsThorough(long type);

// True when this type may clone file ranges instead of copying them
// (XFS, Btrfs, ZFS, bcachefs; NFS and SMB, whose server may): worth
// laying a copy out so that its ranges can be shared.
bool MayShareExtents(long type);

// True when the filesystem holding fd can insert a range into this file
// (fallocate FALLOC_FL_INSERT_RANGE) and, cut by a power failure while
// doing it, leaves the file grown with one hole where the blocks had not
// moved yet (write/journal.h): ext4 for a file kept in extents (not one
// left in ext2/ext3's block maps) and neither encrypted nor DAX, XFS.
bool MayInsertRanges(int fd);

}  // namespace nomtag

#endif  // NOMTAG_IO_FILESYSTEM_KIND_H_
