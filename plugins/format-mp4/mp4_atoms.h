// A small MP4 atom walker, independent of TagLib.
//
// It lists the atom tree (for the raw-structure part of the foreign
// snapshot: atoms TagLib skipped on parse, such as a duplicate freeform
// atom, show up here and vanish after a save) and reads the sample tables
// (stco/co64, stsc, stsz) that address the audio, so the payload is the
// samples where the new file's tables say they are.
#ifndef NOMTAG_PLUGINS_FORMAT_MP4_MP4_ATOMS_H_
#define NOMTAG_PLUGINS_FORMAT_MP4_MP4_ATOMS_H_

#include <nomtag/stream.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nomtag::plugins {

struct Mp4Atom {
  std::string path;  // "moov/udta/meta/ilst/----", names joined by '/'
  uint64_t offset;   // of the atom header
  uint64_t size;     // header included
  uint64_t header;   // 8, or 16 with a 64-bit size
};

// Every atom, depth first in file order, descending into the containers
// that hold what nomtag cares about (moov, trak, mdia, minf, stbl, udta,
// meta, ilst and ilst's items). Throws sdk::Error(NOMTAG_ERR_CORRUPT)
// naming the stream and offset for an atom that runs past its parent.
std::vector<Mp4Atom> ReadMp4Atoms(const nomtag_stream* stream);

// The name an ilst item has in TagLib's item map: its atom name, or
// "----:<mean>:<name>" for a freeform item. item indexes atoms.
std::string Mp4ItemName(const nomtag_stream* stream,
                        const std::vector<Mp4Atom>& atoms, size_t item);

// One stream range of samples (a chunk), in table order.
struct Mp4SampleRange {
  uint64_t offset;
  uint64_t length;
};

// Every track's chunks, track by track, as the sample tables address them.
// CORRUPT when a table is malformed or a chunk lies outside the stream.
std::vector<Mp4SampleRange> ReadMp4SampleRanges(
    const nomtag_stream* stream, const std::vector<Mp4Atom>& atoms);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_FORMAT_MP4_MP4_ATOMS_H_
