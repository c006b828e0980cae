// Splices our freeform items into moov/udta/meta/ilst and touches nothing
// else.
//
// Every foreign ilst item keeps its bytes and its order (TagLib would
// re-render them: `gnre` as `©gen`, a cover's `name` atom dropped); our
// items (old ones removed) follow them. What is missing is created: an
// ilst at the end of meta, a meta (with an iTunes `hdlr`) at the end of
// udta, a udta at the end of moov. Only what the container requires is
// fixed: the sizes of the atoms around the change and, when bytes before
// the samples grow or shrink, every chunk offset (stco, co64) past them.
//
// A `free` atom right after ilst is the padding: the new ilst takes from
// it or leaves the rest in it, so a change that fits moves nothing and is
// patched in place. When ilst outgrows it, the new free atom holds the
// padding the host asked for if the samples move anyway, else TagLib's
// rounding of ilst and free to the next KiB.
#ifndef NOMTAG_PLUGINS_FORMAT_MP4_MP4_SPLICE_H_
#define NOMTAG_PLUGINS_FORMAT_MP4_MP4_SPLICE_H_

#include <nomtag/stream.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mp4_atoms.h"

namespace nomtag::plugins {

// One item of ours: its ilst name "----:com.apple.iTunes:nom.<key>" and
// its values (UTF-8).
struct Mp4Freeform {
  std::string mean;  // "com.apple.iTunes"
  std::string name;  // "nom.<key>"
  std::vector<std::string> values;
};

// atoms: ReadMp4Atoms(stream). is_ours(index) tells whether the ilst item
// atoms[index] is ours. Throws sdk::Error (REFUSED) naming why for a file
// it cannot splice: no moov, a fragmented file whose moov would change
// size, a size or offset that no longer fits its field.
void SpliceMp4(const nomtag_stream* stream, const std::vector<Mp4Atom>& atoms,
               const std::vector<bool>& ours,
               const std::vector<Mp4Freeform>& items, uint32_t padding);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_FORMAT_MP4_MP4_SPLICE_H_
