// Padding for the next write, added after TagLib's save.
//
// TagLib 1.13 has no padding option: a tag that grows gets 1 KiB, and it
// shrinks padding over 1% of the file, which moves the audio though the
// tag would have fit. After the save this settles the padding: a tag that
// shrank is filled back to its old length, so the audio stays in place;
// a tag that grew gets the padding the host asked for (0: TagLib's own),
// so the next write fits in place. When the save fit in place it does
// nothing: adding bytes then would move the file.
#ifndef NOMTAG_PLUGINS_FORMAT_MP3_ID3V2_PADDING_H_
#define NOMTAG_PLUGINS_FORMAT_MP3_ID3V2_PADDING_H_

#include <nomtag/stream.h>

#include <cstdint>

namespace nomtag::plugins {

// original_length is the tag's length on disk before the save (0 when the
// file had none). Padding is counted as the zero bytes ending the tag.
void EnsureId3v2Padding(const nomtag_stream* stream, uint64_t original_length,
                        uint32_t padding);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_FORMAT_MP3_ID3V2_PADDING_H_
