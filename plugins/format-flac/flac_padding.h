// Padding for the next write, added after TagLib's save.
//
// TagLib 1.13 has no padding option and trims a PADDING block it finds
// larger than needed (over 1% of the file, minimum 4 KiB). When the save
// moved the audio anyway, this grows the padding to what the host asked
// for, so the next write fits in place; when the save fit in place it
// does nothing.
#ifndef NOMTAG_PLUGINS_FORMAT_FLAC_FLAC_PADDING_H_
#define NOMTAG_PLUGINS_FORMAT_FLAC_FLAC_PADDING_H_

#include <nomtag/stream.h>

#include <cstdint>

namespace nomtag::plugins {

// original_frames_offset is where the audio frames began before the save.
void EnsureFlacPadding(const nomtag_stream* stream,
                       uint64_t original_frames_offset, uint32_t padding);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_FORMAT_FLAC_FLAC_PADDING_H_
