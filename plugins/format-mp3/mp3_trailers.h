// Tags at the end of an MP3 (ID3v1, APEv2, Lyrics3v2), found by their
// markers. They are foreign and never written by nomtag: the plugin
// reports them raw and excludes them from the audio payload.
#ifndef NOMTAG_PLUGINS_FORMAT_MP3_MP3_TRAILERS_H_
#define NOMTAG_PLUGINS_FORMAT_MP3_MP3_TRAILERS_H_

#include <nomtag/stream.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nomtag::plugins {

struct Mp3Trailer {
  std::string kind;  // "id3v1", "ape", "lyrics3"
  uint64_t offset;
  uint64_t length;
};

// The trailers, innermost first; trailers[0].offset (or the stream length
// when there are none) is where the audio must end.
std::vector<Mp3Trailer> FindMp3Trailers(const nomtag_stream* stream);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_FORMAT_MP3_MP3_TRAILERS_H_
