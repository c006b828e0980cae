// plugins.yaml parsing: shapes users get wrong, reported with file and line.
#include "plugins/plugin_config.h"

#include <gtest/gtest.h>

namespace nomtag {
namespace {

Status ParseError(const std::string& yaml) {
  auto r = ParsePluginConfig(yaml, "plugins.yaml", "/base");
  EXPECT_FALSE(r.ok()) << "parsed:\n" << yaml;
  return r.ok() ? Status::OK() : r.status();
}

TEST(PluginConfigTest, ParsesNamesPathsAndSettings) {
  auto r = ParsePluginConfig(
      "plugin_dirs: [extra]\n"
      "plugins:\n"
      "  - name: format-mp3\n"
      "  - path: sub/../my.so\n"
      "    settings:\n"
      "      padding: 4096\n"
      "      labels: [a, b]\n",
      "plugins.yaml", "/base");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->plugins.size(), 2u);
  EXPECT_EQ(r->plugin_dirs, std::vector<std::string>{"/base/extra"});
  EXPECT_EQ(r->plugins[0].name, "format-mp3");
  EXPECT_EQ(r->plugins[0].line, 3);
  EXPECT_EQ(r->plugins[1].path, "/base/my.so");
  EXPECT_NE(r->plugins[1].settings_yaml.find("padding: 4096"),
            std::string::npos);
  EXPECT_NE(r->plugins[1].settings_yaml.find("labels"), std::string::npos);
}

TEST(PluginConfigTest, EmptyFileLoadsNothing) {
  auto r = ParsePluginConfig("", "plugins.yaml", "/base");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->plugins.empty());
}

TEST(PluginConfigTest, SyntaxErrorNamesLineAndColumn) {
  Status s = ParseError("plugins:\n  - name: a\n  - name: [unclosed\n");
  EXPECT_NE(s.message().find("plugins.yaml:"), std::string::npos)
      << s.message();
  // yaml-cpp reports where it noticed the problem: the end of the flow.
  EXPECT_TRUE(s.message().find("plugins.yaml:3:") != std::string::npos ||
              s.message().find("plugins.yaml:4:") != std::string::npos)
      << s.message();
}

TEST(PluginConfigTest, BadIndentationIsAnError) {
  Status s = ParseError("plugins:\n  - name: a\n   bad: indentation\n");
  EXPECT_NE(s.message().find("plugins.yaml:3"), std::string::npos)
      << s.message();
}

TEST(PluginConfigTest, UnknownTopLevelKeyNamesItsLine) {
  Status s = ParseError("plugins: []\nplugin: []\n");
  EXPECT_NE(s.message().find("plugins.yaml:2: unknown key `plugin`"),
            std::string::npos)
      << s.message();
}

TEST(PluginConfigTest, PluginNeedsExactlyOneOfNameAndPath) {
  Status s = ParseError("plugins:\n  - settings: {}\n");
  EXPECT_NE(s.message().find("plugins.yaml:2: a plugin needs exactly one"),
            std::string::npos)
      << s.message();
  ParseError("plugins:\n  - name: a\n    path: b.so\n");
}

TEST(PluginConfigTest, UnknownPluginFieldIsAnError) {
  Status s = ParseError("plugins:\n  - name: a\n    setings: {}\n");
  EXPECT_NE(s.message().find("plugins.yaml:3: unknown plugin field `setings`"),
            std::string::npos)
      << s.message();
}

TEST(PluginConfigTest, NameWithSlashIsAnError) {
  Status s = ParseError("plugins:\n  - name: ../evil\n");
  EXPECT_NE(s.message().find("use `path:`"), std::string::npos) << s.message();
}

TEST(PluginConfigTest, PluginsMustBeAList) {
  Status s = ParseError("plugins: format-mp3\n");
  EXPECT_NE(s.message().find("plugins.yaml:1: `plugins` must be a list"),
            std::string::npos)
      << s.message();
}

// Found by fuzzing: a non-text key used to throw out of the parser.
TEST(PluginConfigTest, NonTextKeyIsAnError) {
  Status s = ParseError("? [a]\n: b\n");
  EXPECT_NE(s.message().find("plugins.yaml:1: keys must be plain text"),
            std::string::npos)
      << s.message();
  ParseError("plugins:\n  - {[x]: 1}\n");
}

TEST(PluginConfigTest, MissingFileIsNotFound) {
  auto r = LoadPluginConfig("/nonexistent/plugins.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/plugins.yaml"),
            std::string::npos);
}

TEST(PluginConfigTest, DuplicateKeysAreErrorsWithTheirLine) {
  Status s = ParseError("plugins:\n  - name: a\n    name: b\n");
  EXPECT_NE(s.message().find("plugins.yaml:3: `name` given twice"),
            std::string::npos)
      << s.message();
  s = ParseError(
      "plugins:\n  - name: a\n    settings:\n      x: 1\n      x: 2\n");
  EXPECT_NE(s.message().find("plugins.yaml:5: setting `x` given twice"),
            std::string::npos)
      << s.message();
  s = ParseError("plugins: []\nplugins: []\n");
  EXPECT_NE(s.message().find("plugins.yaml:2: `plugins` given twice"),
            std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace nomtag
