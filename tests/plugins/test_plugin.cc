// A plugin for the loading tests, compiled several times with different
// definitions to make each kind of bad plugin the host must refuse:
//   TEST_PLUGIN_ID      the plugin id (two builds share one: duplicate id)
//   TEST_ABI_MAJOR      overrides the ABI major it claims
//   TEST_NO_ENTRY       exports no entry symbol
//   TEST_UNRESOLVED     references a symbol no library defines
//   TEST_NO_INTERFACE   declares kind format but provides no format table
//   TEST_FORMAT_1_5     its format table ends where ABI 1.5's did (no
//                       `self` calls), as from a plugin built before 1.6
//
// Settings understood by init (YAML, parsed crudely on purpose: a plugin
// may bring any parser it likes):
//   reject: <message>      init fails with that message
//   deinit_mark: <file>    deinit appends "deinit\n" to that file
#include <nomtag/format.h>

#include <cstddef>
#include <cstdio>
#include <nomtag/cpp/plugin.hpp>
#include <string>

#ifndef TEST_PLUGIN_ID
#define TEST_PLUGIN_ID "org.nomtag.test.good"
#endif

namespace {

std::string deinit_mark;

std::string SettingValue(const std::string& settings, const std::string& key) {
  size_t at = settings.find(key + ":");
  if (at == std::string::npos) return "";
  size_t start = settings.find_first_not_of(' ', at + key.size() + 1);
  size_t end = settings.find('\n', start);
  return settings.substr(start, end == std::string::npos ? end : end - start);
}

[[maybe_unused]] nomtag_status Init(const nomtag_host*, const char* settings,
                                    size_t len, nomtag_error* err) {
  std::string s(settings, len);
  std::string reject = SettingValue(s, "reject");
  if (!reject.empty()) {
    nomtag::sdk::set_error(err, reject);
    return NOMTAG_ERR_SETTINGS;
  }
  deinit_mark = SettingValue(s, "deinit_mark");
  return NOMTAG_OK;
}

[[maybe_unused]] void Deinit() {
  if (deinit_mark.empty()) return;
  if (FILE* f = std::fopen(deinit_mark.c_str(), "a")) {
    std::fputs("deinit\n", f);
    std::fclose(f);
  }
}

#ifdef TEST_UNRESOLVED
extern "C" int nomtag_test_symbol_that_nobody_defines(void);
#endif

// A format table that recognises nothing: enough to test lifetimes.
nomtag_status Probe(const nomtag_stream*, int32_t* out, nomtag_error*) {
#ifdef TEST_UNRESOLVED
  *out = nomtag_test_symbol_that_nobody_defines();
#else
  *out = 0;
#endif
  return NOMTAG_OK;
}
nomtag_status Unsupported(nomtag_error* err) {
  nomtag::sdk::set_error(err, "the test plugin reads no container");
  return NOMTAG_ERR_UNSUPPORTED;
}
nomtag_status ReadNs(const nomtag_stream*, const nomtag_tag_sink*,
                     nomtag_error* e) {
  return Unsupported(e);
}
nomtag_status ReadForeign(const nomtag_stream*, const nomtag_snapshot_sink*,
                          nomtag_error* e) {
  return Unsupported(e);
}
nomtag_status WriteNs(const nomtag_stream*, const nomtag_tag*, size_t,
                      const nomtag_write_options*, nomtag_error* e) {
  return Unsupported(e);
}
nomtag_status ReadPayload(const nomtag_stream*, const nomtag_payload_sink*,
                          nomtag_error* e) {
  return Unsupported(e);
}

#ifndef TEST_FORMAT_1_5
// The calls that take `self` (ABI 1.6) say so in their message, and check
// that the host passed back the self of this table.
int self_mark = 0;
nomtag_status SelfUnsupported(void* self, nomtag_error* err) {
  nomtag::sdk::set_error(err, self == &self_mark
                                  ? "the test plugin reads no container "
                                    "(called with its self)"
                                  : "the test plugin got a wrong self");
  return NOMTAG_ERR_UNSUPPORTED;
}
nomtag_status ProbeWith(void*, const nomtag_stream* s, int32_t* out,
                        nomtag_error* e) {
  return Probe(s, out, e);
}
nomtag_status ReadNsWith(void* self, const nomtag_stream*,
                         const nomtag_tag_sink*, nomtag_error* e) {
  return SelfUnsupported(self, e);
}
nomtag_status ReadForeignWith(void* self, const nomtag_stream*,
                              const nomtag_snapshot_sink*, nomtag_error* e) {
  return SelfUnsupported(self, e);
}
nomtag_status WriteNsWith(void* self, const nomtag_stream*, const nomtag_tag*,
                          size_t, const nomtag_write_options*,
                          nomtag_error* e) {
  return SelfUnsupported(self, e);
}
nomtag_status ReadPayloadWith(void* self, const nomtag_stream*,
                              const nomtag_payload_sink*, nomtag_error* e) {
  return SelfUnsupported(self, e);
}

#endif  // TEST_FORMAT_1_5

#ifndef TEST_EXTENSION
#define TEST_EXTENSION "nomtest"
#endif
const char* const kExtensions[] = {TEST_EXTENSION, nullptr};
nomtag_format MakeFormat() {
  nomtag_format f{};
  f.struct_size = sizeof f;
  f.container = "nomtest";
  f.extensions = kExtensions;
  f.probe = Probe;
  f.read_namespace = ReadNs;
  f.read_foreign = ReadForeign;
  f.write_namespace = WriteNs;
  f.read_payload = ReadPayload;
#ifdef TEST_FORMAT_1_5
  // Ends where 1.5's table did, zero past it, as an older plugin's reads.
  f.struct_size = offsetof(nomtag_format, self);
#else
  f.self = &self_mark;
  f.probe_with = ProbeWith;
  f.read_namespace_with = ReadNsWith;
  f.read_foreign_with = ReadForeignWith;
  f.write_namespace_with = WriteNsWith;
  f.read_payload_with = ReadPayloadWith;
#endif
  return f;
}
const nomtag_format kFormat = MakeFormat();

[[maybe_unused]] const void* GetInterface(const char* id) {
#ifdef TEST_NO_INTERFACE
  (void)id;
  return nullptr;
#else
  if (nomtag::sdk::interface_is(id, NOMTAG_FORMAT_INTERFACE_ID))
    return &kFormat;
  return nullptr;
#endif
}

}  // namespace

#ifdef TEST_ABI_MAJOR
#undef NOMTAG_ABI_MAJOR
#define NOMTAG_ABI_MAJOR TEST_ABI_MAJOR
#endif

#ifndef TEST_NO_ENTRY
NOMTAG_PLUGIN(NOMTAG_KIND_FORMAT, TEST_PLUGIN_ID, "Loading-test plugin",
              "0.0.1", Init, Deinit, GetInterface)
#else
// Exports something, so the library is valid but not a nomtag plugin.
extern "C" NOMTAG_EXPORT int not_a_nomtag_entry(void) { return 0; }
#endif
