// Is the audio payload of a rewritten file the same as the original's?
//
// The format plugin names the payload of each version (ranges of the
// stream plus derived bytes). Where the new file's payload ranges map,
// piece by piece, onto the very ranges of the original through the
// overlay, the answer is proven without reading audio. Otherwise both
// payloads are hashed (SHA-256) and compared.
#ifndef NOMTAG_WRITE_PAYLOAD_CHECK_H_
#define NOMTAG_WRITE_PAYLOAD_CHECK_H_

#include <string>
#include <vector>

#include "core/status.h"
#include "formats/format_plugin.h"
#include "io/overlay_stream.h"

namespace nomtag {

// SHA-256 of the payload parts, reading ranges from stream.
Result<std::string> PayloadDigest(const std::vector<PayloadPart>& parts,
                                  OverlayStream& stream);

// True when every range of after maps, through edited's overlay, onto
// the very ranges of before (derived bytes equal): the payload's bytes
// were not touched. Reads nothing; sound for coarse descriptions too.
bool PayloadProvenByMapping(const std::vector<PayloadPart>& before,
                            const std::vector<PayloadPart>& after,
                            OverlayStream& edited);

// OK when equal; Refused naming the difference otherwise.
// before: parts of the original (read through original, a read-only
// overlay over the same source); after: parts of the edited overlay.
Status CheckPayloadUnchanged(const std::vector<PayloadPart>& before,
                             OverlayStream& original,
                             const std::vector<PayloadPart>& after,
                             OverlayStream& edited, bool* proven_by_mapping);

}  // namespace nomtag

#endif  // NOMTAG_WRITE_PAYLOAD_CHECK_H_
