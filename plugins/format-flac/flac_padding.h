// Padding for the next write, added after TagLib's save.
//
// TagLib 1.13 has no padding option and trims a PADDING block it finds
// larger than needed (over 1% of the file, minimum 4 KiB), which moves the
// audio though the tags would have fit. After the save this settles the
// padding: when the metadata shrank, it is filled back to its old length
// so the audio stays in place; when it grew, the padding is made what the
// host asked for (0: TagLib's own), so the next write fits in place. When
// the save fit in place it does nothing.
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
