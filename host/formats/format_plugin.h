// FormatPlugin: the host's typed view of one tag-format plugin.
//
// Wraps a plugin's nomtag_format table and turns its C calls into Results
// of host types. Keeps the plugin's library loaded for as long as any copy
// of it lives. Every method reads or edits only the stream it is given; a
// FormatPlugin is immutable and [thread-safe] for distinct streams.
#ifndef NOMTAG_FORMATS_FORMAT_PLUGIN_H_
#define NOMTAG_FORMATS_FORMAT_PLUGIN_H_

#include <nomtag/format.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tag_set.h"

namespace nomtag {

// The namespace as a file holds it.
struct NamespaceRead {
  TagSet tags;
  bool has_legacy_keys = false;  // some key was in the older encoding
};

// One foreign item; a file's items in order form its snapshot.
struct ForeignItem {
  std::string id;
  std::string data;
  bool operator==(const ForeignItem&) const = default;
};
using ForeignSnapshot = std::vector<ForeignItem>;

// One part of the audio payload: a range of the stream, or derived bytes.
struct PayloadPart {
  bool is_range = true;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string bytes;  // when !is_range
  bool operator==(const PayloadPart&) const = default;
};

// What a file holds: its namespace and its foreign items.
struct FileTags {
  NamespaceRead nom;
  ForeignSnapshot foreign;
};

class FormatPlugin {
 public:
  // REQUIRES: table is a valid nomtag_format whose struct_size covers
  // version 1; keepalive owns the library the table lives in.
  FormatPlugin(std::string plugin_id, const nomtag_format* table,
               std::shared_ptr<const void> keepalive);

  const std::string& plugin_id() const { return plugin_id_; }
  const std::string& container() const { return container_; }
  const std::vector<std::string>& extensions() const { return extensions_; }
  bool HandlesExtension(const std::string& lower_ext) const;

  Result<bool> Probe(const nomtag_stream& stream) const;
  Result<NamespaceRead> ReadNamespace(const nomtag_stream& stream) const;
  Result<ForeignSnapshot> ReadForeign(const nomtag_stream& stream) const;
  // Both of the above; from one parse where the plugin offers it (ABI
  // 1.9 read_tags_with), else by the two calls.
  Result<FileTags> ReadTags(const nomtag_stream& stream) const;
  // Whether ReadTags takes one parse (the plugin has read_tags_with).
  bool ReadsTagsAtOnce() const { return reads_tags_at_once_; }
  // Clears the namespace and writes desired into the (writable) stream.
  Status WriteNamespace(const nomtag_stream& stream, const TagSet& desired,
                        uint32_t padding) const;
  // The exact payload; with coarse_ok, possibly a coarse description
  // (NOMTAG_PAYLOAD_COARSE_OK), good only for a proof by mapping.
  Result<std::vector<PayloadPart>> ReadPayload(const nomtag_stream& stream,
                                               bool coarse_ok = false) const;

 private:
  std::string plugin_id_;
  const nomtag_format* table_;
  // The table carries the calls that take `self` back (ABI 1.6).
  bool with_self_ = false;
  // The table carries read_tags_with (ABI 1.9), non-NULL.
  bool reads_tags_at_once_ = false;
  std::shared_ptr<const void> keepalive_;
  std::string container_;
  std::vector<std::string> extensions_;
};

}  // namespace nomtag

#endif  // NOMTAG_FORMATS_FORMAT_PLUGIN_H_
