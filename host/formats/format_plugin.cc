#include "formats/format_plugin.h"

#include <utility>

#include "core/plugin_error.h"

namespace nomtag {
namespace {

using ErrorBuffer = PluginErrorBuffer;

Status FromPlugin(nomtag_status st, const ErrorBuffer& eb,
                  const std::string& what, const nomtag_stream& stream) {
  const std::string name = stream.name ? stream.name : "(stream)";
  std::string message = eb.text;
  // Plugins often name the stream too; say it once.
  if (message.rfind(name + ": ", 0) == 0) message.erase(0, name.size() + 2);
  return StatusFromPlugin(st, name + ": " + what, message);
}

nomtag_status AddTag(void* ctx, const char* key, size_t key_len,
                     const char* value, size_t value_len,
                     nomtag_key_encoding encoding) {
  auto* read = static_cast<NamespaceRead*>(ctx);
  read->tags[std::string(key, key_len)].emplace_back(value, value_len);
  if (encoding == NOMTAG_ENCODING_LEGACY) read->has_legacy_keys = true;
  return NOMTAG_OK;
}

nomtag_status AddItem(void* ctx, const char* id, size_t id_len,
                      const void* data, size_t data_len) {
  auto* snap = static_cast<ForeignSnapshot*>(ctx);
  snap->push_back({std::string(id, id_len),
                   std::string(static_cast<const char*>(data), data_len)});
  return NOMTAG_OK;
}

nomtag_status AddRange(void* ctx, uint64_t offset, uint64_t len) {
  static_cast<std::vector<PayloadPart>*>(ctx)->push_back(
      {true, offset, len, {}});
  return NOMTAG_OK;
}

nomtag_status AddBytes(void* ctx, const void* data, size_t len) {
  static_cast<std::vector<PayloadPart>*>(ctx)->push_back(
      {false, 0, 0, std::string(static_cast<const char*>(data), len)});
  return NOMTAG_OK;
}

// A 1.6 table with all five calls that take `self`; a table from an older
// plugin (shorter struct_size) or one that left them NULL uses the others.
bool HasSelfCalls(const nomtag_format* t) {
  return NOMTAG_HAS_FIELD(t, nomtag_format, read_payload_with) &&
         t->probe_with && t->read_namespace_with && t->read_foreign_with &&
         t->write_namespace_with && t->read_payload_with;
}

}  // namespace

FormatPlugin::FormatPlugin(std::string plugin_id, const nomtag_format* table,
                           std::shared_ptr<const void> keepalive)
    : plugin_id_(std::move(plugin_id)),
      table_(table),
      keepalive_(std::move(keepalive)) {
  with_self_ = HasSelfCalls(table_);
  reads_tags_at_once_ =
      with_self_ && NOMTAG_HAS_FIELD(table_, nomtag_format, read_tags_with) &&
      table_->read_tags_with != nullptr;
  container_ = table_->container ? table_->container : "";
  for (const char* const* e = table_->extensions; e && *e; ++e)
    extensions_.emplace_back(*e);
}

bool FormatPlugin::HandlesExtension(const std::string& lower_ext) const {
  for (const auto& e : extensions_)
    if (e == lower_ext) return true;
  return false;
}

Result<bool> FormatPlugin::Probe(const nomtag_stream& stream) const {
  ErrorBuffer eb;
  int32_t matches = 0;
  nomtag_status st =
      with_self_ ? table_->probe_with(table_->self, &stream, &matches, &eb.err)
                 : table_->probe(&stream, &matches, &eb.err);
  if (st != NOMTAG_OK) return FromPlugin(st, eb, "probe", stream);
  return matches != 0;
}

Result<NamespaceRead> FormatPlugin::ReadNamespace(
    const nomtag_stream& stream) const {
  ErrorBuffer eb;
  NamespaceRead read;
  nomtag_tag_sink sink{sizeof sink, &read, AddTag};
  nomtag_status st =
      with_self_
          ? table_->read_namespace_with(table_->self, &stream, &sink, &eb.err)
          : table_->read_namespace(&stream, &sink, &eb.err);
  if (st != NOMTAG_OK)
    return FromPlugin(st, eb, "reading the nom namespace", stream);
  return read;
}

Result<ForeignSnapshot> FormatPlugin::ReadForeign(
    const nomtag_stream& stream) const {
  ErrorBuffer eb;
  ForeignSnapshot snap;
  nomtag_snapshot_sink sink{sizeof sink, &snap, AddItem};
  nomtag_status st = with_self_ ? table_->read_foreign_with(
                                      table_->self, &stream, &sink, &eb.err)
                                : table_->read_foreign(&stream, &sink, &eb.err);
  if (st != NOMTAG_OK)
    return FromPlugin(st, eb, "reading foreign tags", stream);
  return snap;
}

Result<FileTags> FormatPlugin::ReadTags(const nomtag_stream& stream) const {
  if (!reads_tags_at_once_) {
    auto nom = ReadNamespace(stream);
    if (!nom.ok()) return nom.status();
    auto foreign = ReadForeign(stream);
    if (!foreign.ok()) return foreign.status();
    return FileTags{std::move(*nom), std::move(*foreign)};
  }
  ErrorBuffer eb;
  FileTags tags;
  nomtag_tag_sink nom{sizeof nom, &tags.nom, AddTag};
  nomtag_snapshot_sink foreign{sizeof foreign, &tags.foreign, AddItem};
  nomtag_status st =
      table_->read_tags_with(table_->self, &stream, &nom, &foreign, &eb.err);
  if (st != NOMTAG_OK) return FromPlugin(st, eb, "reading tags", stream);
  return tags;
}

Status FormatPlugin::WriteNamespace(const nomtag_stream& stream,
                                    const TagSet& desired,
                                    uint32_t padding) const {
  // The C call borrows these; they outlive it.
  std::vector<std::vector<nomtag_string>> values;
  std::vector<nomtag_tag> tags;
  values.reserve(desired.size());
  tags.reserve(desired.size());
  for (const auto& [key, vals] : desired) {
    auto& v = values.emplace_back();
    for (const auto& s : vals) v.push_back({s.data(), s.size()});
    tags.push_back(
        {sizeof(nomtag_tag), {key.data(), key.size()}, v.data(), v.size()});
  }
  nomtag_write_options opts{sizeof opts, padding};
  ErrorBuffer eb;
  nomtag_status st =
      with_self_
          ? table_->write_namespace_with(table_->self, &stream, tags.data(),
                                         tags.size(), &opts, &eb.err)
          : table_->write_namespace(&stream, tags.data(), tags.size(), &opts,
                                    &eb.err);
  return FromPlugin(st, eb, "writing the nom namespace", stream);
}

Result<std::vector<PayloadPart>> FormatPlugin::ReadPayload(
    const nomtag_stream& stream, bool coarse_ok) const {
  ErrorBuffer eb;
  std::vector<PayloadPart> parts;
  nomtag_payload_sink sink{sizeof sink, &parts, AddRange, AddBytes,
                           coarse_ok ? NOMTAG_PAYLOAD_COARSE_OK : 0u};
  nomtag_status st = with_self_ ? table_->read_payload_with(
                                      table_->self, &stream, &sink, &eb.err)
                                : table_->read_payload(&stream, &sink, &eb.err);
  if (st != NOMTAG_OK)
    return FromPlugin(st, eb, "reading the audio payload", stream);
  return parts;
}

}  // namespace nomtag
