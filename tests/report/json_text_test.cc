// JsonText: the same text as nlohmann's dump for valid text, in both
// layouts, and lossless \udcXX escapes where a string is not UTF-8.
#include "report/json_text.h"

#include <gtest/gtest.h>

namespace nomtag {
namespace {

nlohmann::json Sample() {
  return {{"name", "Bj\xC3\xB6rk \"live\"\n\ttab\x01"},
          {"n", 42},
          {"x", 0.8125},
          {"ok", true},
          {"none", nullptr},
          {"empty", nlohmann::json::object()},
          {"list", {1, "two", nlohmann::json::array(), {{"k", "v"}}}}};
}

TEST(JsonText, ValidTextReadsAsNlohmannWritesIt) {
  EXPECT_EQ(JsonText(Sample(), JsonLayout::kCompact), Sample().dump());
  EXPECT_EQ(JsonText(Sample()), Sample().dump(2));
}

TEST(JsonText, StrayBytesBecomeLowSurrogateEscapes) {
  nlohmann::json j = {{"path", std::string("a\xFF/b\xC3.mp3")}};
  EXPECT_EQ(JsonText(j, JsonLayout::kCompact),
            "{\"path\":\"a\\udcff/b\\udcc3.mp3\"}");
}

TEST(JsonText, IsUtf8RefusesOverlongFormsAndSurrogates) {
  EXPECT_TRUE(IsUtf8("Bj\xC3\xB6rk \xF0\x9F\x8E\xB5"));
  EXPECT_FALSE(IsUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsUtf8("\xED\xA0\x80"));      // U+D800
  EXPECT_FALSE(IsUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsUtf8("abc\xE2\x82"));       // cut short
}

}  // namespace
}  // namespace nomtag
