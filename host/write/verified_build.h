// Build and verify, in memory: the part of the safe write that never
// touches the disk.
//
// Given the original (a read-only overlay) and an empty edit overlay over
// the same bytes, the format plugin writes the desired namespace into the
// edit overlay, and the result is checked through it: the namespace reads
// back exactly as desired, every foreign item is unchanged, the audio
// payload is unchanged. Used by the safe write, and by the fuzzers on
// buffers.
//
// The audio is proven one of two ways: every byte of the coarse
// description (an Ogg stream from its first audio page on) left where it
// was, by the overlay's mapping; or the exact payload read from both and
// compared. So a file whose exact payload cannot be read (an Ogg page
// deep in the audio that no reader parses) is written when its audio
// bytes stay untouched, and refused when the write would move them.
#ifndef NOMTAG_WRITE_VERIFIED_BUILD_H_
#define NOMTAG_WRITE_VERIFIED_BUILD_H_

#include <cstdint>
#include <string>

#include "core/status.h"
#include "core/tag_set.h"
#include "formats/format_plugin.h"
#include "io/overlay_stream.h"

namespace nomtag {

struct BuildOutcome {
  bool unchanged = false;  // the namespace already was the desired one
  bool payload_proven_by_mapping = false;
};

// On success edited holds the verified new file (unless unchanged). A
// failed verification is Refused and says what would have changed;
// label names the file in messages.
Result<BuildOutcome> BuildVerified(const FormatPlugin& format,
                                   OverlayStream& original,
                                   OverlayStream& edited, const TagSet& desired,
                                   uint32_t padding, const std::string& label);

}  // namespace nomtag

#endif  // NOMTAG_WRITE_VERIFIED_BUILD_H_
