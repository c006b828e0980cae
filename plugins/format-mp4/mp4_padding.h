// Padding for the next write, added after TagLib's save.
//
// TagLib 1.13 reuses a `free` atom beside `ilst` and, when the tags grow
// past it, adds a 1 KiB one and shifts what follows, patching the chunk
// offsets when `moov` comes before `mdat`. When that save moved the audio
// anyway, this grows the `free` atom after `ilst` to hold what the host asked
// for, fixing the sizes of its parents (meta, udta, moov) and every chunk
// offset (stco, co64) again, so the next write fits in place. It does
// nothing when the save fit in place, when `moov` follows the audio (the
// tags then only ever grow at the end, which moves nothing), for
// fragmented files (moof), or when an offset would no longer fit its
// 32-bit table: TagLib's own 1 KiB stays.
#ifndef NOMTAG_PLUGINS_FORMAT_MP4_MP4_PADDING_H_
#define NOMTAG_PLUGINS_FORMAT_MP4_MP4_PADDING_H_

#include <nomtag/stream.h>

#include <cstdint>
#include <vector>

#include "mp4_atoms.h"

namespace nomtag::plugins {

// original is the atom list before the save.
void EnsureMp4Padding(const nomtag_stream* stream,
                      const std::vector<Mp4Atom>& original, uint32_t padding);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_FORMAT_MP4_MP4_PADDING_H_
