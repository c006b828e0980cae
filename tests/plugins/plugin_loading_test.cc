// Loading plugins: the good one loads, each bad one is refused with a
// reason naming its file, and a refusal never stops the others.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "plugins/plugin_config.h"
#include "plugins/plugin_registry.h"

namespace nomtag {
namespace {

namespace fs = std::filesystem;

std::string Plugin(const std::string& name) {
  return std::string(TEST_PLUGIN_DIR) + "/" + name + ".so";
}

class PluginLoadingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("nomtag-loading-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  PluginRegistry LoadYaml(const std::string& yaml) {
    auto config = ParsePluginConfig(yaml, "test.yaml", TEST_PLUGIN_DIR);
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    PluginRegistry reg;
    if (config.ok()) reg.LoadAll(*config, {TEST_PLUGIN_DIR});
    return reg;
  }

  // The single refusal's reason; fails the test when there is not exactly
  // one.
  static std::string OnlyRefusal(const PluginRegistry& reg) {
    EXPECT_EQ(reg.refused().size(), 1u);
    return reg.refused().empty() ? "" : reg.refused()[0].reason;
  }

  fs::path dir_;
};

TEST_F(PluginLoadingTest, LoadsAGoodPluginByName) {
  // Names resolve as nomtag-<name>.so; make one by copying.
  fs::copy_file(Plugin("good"), dir_ / "nomtag-good.so");
  auto config =
      ParsePluginConfig("plugins:\n  - name: good\n", "t.yaml", dir_.string());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  PluginRegistry reg;
  reg.LoadAll(*config, {dir_.string()});
  ASSERT_EQ(reg.plugins().size(), 1u);
  EXPECT_TRUE(reg.refused().empty());
  const auto& e = reg.plugins()[0]->entry();
  EXPECT_STREQ(e.id, "org.nomtag.test.good");
  EXPECT_EQ(e.kind, static_cast<uint32_t>(NOMTAG_KIND_FORMAT));
  EXPECT_EQ(e.abi_major, static_cast<uint32_t>(NOMTAG_ABI_MAJOR));
  ASSERT_NE(reg.FormatForExtension("nomtest"), nullptr);
  EXPECT_EQ(reg.FormatForExtension("mp3"), nullptr);
}

// A command loads only the kinds it uses, judged by the plugins' names
// (tags write loads no analysis plugin, and so not FFmpeg); a plugin
// whose name announces another kind than its own is refused, since a
// command that skipped it would have skipped the wrong thing.
TEST_F(PluginLoadingTest, PluginsOfKindsACommandDoesNotUseAreNotLoaded) {
  fs::copy_file(Plugin("good"), dir_ / "nomtag-format-good.so");
  fs::copy_file(Plugin("good"), dir_ / "nomtag-plain.so");
  auto config = ParsePluginConfig(
      "plugins:\n  - name: format-good\n  - name: plain\n"
      "  - name: inference-not-there\n  - name: storage-not-there\n",
      "t.yaml", dir_.string());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  PluginRegistry formats_only;
  formats_only.LoadAll(*config, {dir_.string()}, kFormatPlugins);
  // The plain name says no kind, so it is loaded (and refused as a
  // duplicate id of format-good); the other two are never looked for.
  EXPECT_EQ(formats_only.plugins().size(), 1u);
  ASSERT_EQ(formats_only.refused().size(), 1u);
  EXPECT_EQ(formats_only.refused()[0].label, "plain");
  PluginRegistry storage_only;
  storage_only.LoadAll(*config, {dir_.string()}, kStoragePlugins);
  EXPECT_TRUE(storage_only.plugins().size() == 1u &&
              storage_only.plugins()[0]->path().find("nomtag-plain.so") !=
                  std::string::npos);
  ASSERT_EQ(storage_only.refused().size(), 1u);
  EXPECT_EQ(storage_only.refused()[0].label, "storage-not-there");
}

TEST_F(PluginLoadingTest, APluginNamedForAnotherKindIsRefused) {
  fs::copy_file(Plugin("good"), dir_ / "nomtag-storage-liar.so");
  auto config = ParsePluginConfig("plugins:\n  - name: storage-liar\n",
                                  "t.yaml", dir_.string());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  PluginRegistry reg;
  reg.LoadAll(*config, {dir_.string()});
  EXPECT_TRUE(reg.plugins().empty());
  EXPECT_NE(OnlyRefusal(reg).find("is of kind format but its name says "
                                  "otherwise"),
            std::string::npos)
      << OnlyRefusal(reg);
  EXPECT_TRUE(reg.formats().empty());
}

TEST_F(PluginLoadingTest, UnknownNameIsRefusedNamingTheDirectories) {
  auto reg = LoadYaml("plugins:\n  - name: does-not-exist\n");
  std::string why = OnlyRefusal(reg);
  EXPECT_NE(why.find("nomtag-does-not-exist.so"), std::string::npos) << why;
  EXPECT_NE(why.find(TEST_PLUGIN_DIR), std::string::npos) << why;
  EXPECT_EQ(reg.refused()[0].line, 2);
}

TEST_F(PluginLoadingTest, MissingEntrySymbolIsRefused) {
  auto reg = LoadYaml("plugins:\n  - path: no-entry.so\n  - path: good.so\n");
  std::string why = OnlyRefusal(reg);
  EXPECT_NE(why.find("no-entry.so"), std::string::npos) << why;
  EXPECT_NE(why.find("nomtag_entry"), std::string::npos) << why;
  EXPECT_EQ(reg.plugins().size(), 1u) << "the good plugin loads anyway";
}

TEST_F(PluginLoadingTest, WrongAbiMajorIsRefusedWithBothVersions) {
  auto reg = LoadYaml("plugins:\n  - path: wrong-abi.so\n  - path: good.so\n");
  std::string why = OnlyRefusal(reg);
  EXPECT_NE(why.find("wrong-abi.so"), std::string::npos) << why;
  EXPECT_NE(why.find("ABI 2."), std::string::npos) << why;
  EXPECT_NE(why.find("ABI " + std::to_string(NOMTAG_ABI_MAJOR) + "."),
            std::string::npos)
      << why;
  EXPECT_EQ(reg.plugins().size(), 1u);
}

TEST_F(PluginLoadingTest, FailingInitIsRefusedWithThePluginsMessage) {
  auto reg = LoadYaml(
      "plugins:\n"
      "  - path: good.so\n"
      "    settings:\n"
      "      reject: model file missing\n");
  std::string why = OnlyRefusal(reg);
  EXPECT_NE(why.find("failed to initialise"), std::string::npos) << why;
  EXPECT_NE(why.find("model file missing"), std::string::npos) << why;
  EXPECT_TRUE(reg.plugins().empty());
}

TEST_F(PluginLoadingTest, DuplicateIdIsRefusedAndTheFirstKept) {
  auto reg = LoadYaml("plugins:\n  - path: good.so\n  - path: good-twin.so\n");
  std::string why = OnlyRefusal(reg);
  EXPECT_NE(why.find("duplicate plugin id 'org.nomtag.test.good'"),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("good-twin.so"), std::string::npos) << why;
  ASSERT_EQ(reg.plugins().size(), 1u);
  EXPECT_EQ(reg.plugins()[0]->path(), Plugin("good"));
  EXPECT_EQ(reg.formats().size(), 1u);
}

TEST_F(PluginLoadingTest, DuplicateIsNotInitialised) {
  // The twin would write the mark on deinit if it had been initialised.
  std::string mark = (dir_ / "mark").string();
  {
    auto reg = LoadYaml(
        "plugins:\n  - path: good.so\n  - path: good-twin.so\n"
        "    settings:\n      deinit_mark: " +
        mark + "\n");
    EXPECT_EQ(reg.refused().size(), 1u);
  }
  EXPECT_FALSE(fs::exists(mark));
}

TEST_F(PluginLoadingTest, NotASharedLibraryIsRefused) {
  std::ofstream(dir_ / "text.so") << "this is not an ELF file\n";
  auto config = ParsePluginConfig("plugins:\n  - path: text.so\n", "t.yaml",
                                  dir_.string());
  ASSERT_TRUE(config.ok());
  PluginRegistry reg;
  reg.LoadAll(*config, {});
  std::string why = OnlyRefusal(reg);
  EXPECT_NE(why.find("text.so"), std::string::npos) << why;
  EXPECT_NE(why.find("cannot load as a shared library"), std::string::npos)
      << why;
}

TEST_F(PluginLoadingTest, MissingFileIsRefused) {
  auto reg = LoadYaml("plugins:\n  - path: /nonexistent/plugin.so\n");
  std::string why = OnlyRefusal(reg);
  EXPECT_NE(why.find("/nonexistent/plugin.so: no such plugin file"),
            std::string::npos)
      << why;
}

TEST_F(PluginLoadingTest, UnresolvedSymbolFailsAtLoadNotAtCall) {
  // RTLD_NOW: a missing symbol must refuse the plugin at load time instead
  // of killing the process on first call.
  auto reg = LoadYaml("plugins:\n  - path: unresolved.so\n");
  std::string why = OnlyRefusal(reg);
  EXPECT_NE(why.find("nomtag_test_symbol_that_nobody_defines"),
            std::string::npos)
      << why;
}

TEST_F(PluginLoadingTest, KindWithoutItsInterfaceIsRefused) {
  auto reg = LoadYaml("plugins:\n  - path: no-interface.so\n");
  std::string why = OnlyRefusal(reg);
  EXPECT_NE(why.find("provides no nomtag.tag-format/1"), std::string::npos)
      << why;
}

TEST_F(PluginLoadingTest, LibraryStaysLoadedWhileAViewOfItLives) {
  std::string mark = (dir_ / "mark").string();
  std::optional<FormatPlugin> view;
  {
    auto reg = LoadYaml(
        "plugins:\n  - path: good.so\n    settings:\n"
        "      deinit_mark: " +
        mark + "\n");
    ASSERT_EQ(reg.formats().size(), 1u);
    view = reg.formats()[0];
  }
  // The registry is gone; the plugin must still be loaded and callable.
  EXPECT_FALSE(fs::exists(mark)) << "deinit ran while a view was alive";
  std::string bytes = "abc";
  nomtag_stream stream{};  // Probe of the test plugin reads nothing.
  stream.struct_size = sizeof stream;
  stream.name = "mem";
  auto matches = view->Probe(stream);
  ASSERT_TRUE(matches.ok()) << matches.status().ToString();
  EXPECT_FALSE(*matches);
  view.reset();
  std::ifstream in(mark);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "deinit") << "deinit runs once the last view is gone";
}

// What a format call of the test plugin answers (it reads no container).
std::string ReadNamespaceMessage(const FormatPlugin& format) {
  nomtag_stream stream{};  // the test plugin reads nothing
  stream.struct_size = sizeof stream;
  stream.name = "mem";
  auto read = format.ReadNamespace(stream);
  EXPECT_FALSE(read.ok());
  return read.ok() ? "" : read.status().message();
}

// A 1.6 format table is called through the calls that take `self` back,
// with the table's own self.
TEST_F(PluginLoadingTest, FormatCallsPassTheTablesSelfBack) {
  auto reg = LoadYaml("plugins:\n  - path: good.so\n");
  ASSERT_EQ(reg.formats().size(), 1u);
  EXPECT_NE(ReadNamespaceMessage(reg.formats()[0]).find("with its self"),
            std::string::npos);
}

// A format table built before ABI 1.6 (shorter, no `self`) still loads and
// is called through its original calls.
TEST_F(PluginLoadingTest, FormatTableFromBeforeSelfStillWorks) {
  auto reg = LoadYaml("plugins:\n  - path: format-1-5.so\n");
  EXPECT_TRUE(reg.refused().empty());
  ASSERT_EQ(reg.formats().size(), 1u);
  std::string message = ReadNamespaceMessage(reg.formats()[0]);
  EXPECT_NE(message.find("reads no container"), std::string::npos) << message;
  EXPECT_EQ(message.find("self"), std::string::npos) << message;
}

// The CLI reports loaded and refused plugins, in JSON too.
TEST_F(PluginLoadingTest, PluginsCommandListsLoadedAndRefused) {
  fs::path yaml = dir_ / "plugins.yaml";
  std::ofstream(yaml) << "plugins:\n  - path: " << Plugin("good")
                      << "\n  - path: " << Plugin("wrong-abi") << "\n";
  std::string cmd = std::string(NOMTAG_BINARY) + " --config " + yaml.string() +
                    " plugins --json";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2) << "a refusal shows in the exit status";
  auto json = nlohmann::json::parse(out);
  ASSERT_EQ(json["loaded"].size(), 1u) << out;
  EXPECT_EQ(json["loaded"][0]["id"], "org.nomtag.test.good");
  EXPECT_EQ(json["loaded"][0]["kind"], "format");
  EXPECT_EQ(json["loaded"][0]["abi"], std::to_string(NOMTAG_ABI_MAJOR) + "." +
                                          std::to_string(NOMTAG_ABI_MINOR));
  EXPECT_EQ(json["loaded"][0]["formats"][0], "nomtest");
  ASSERT_EQ(json["refused"].size(), 1u) << out;
  EXPECT_EQ(json["refused"][0]["line"], 3);
  EXPECT_NE(json["refused"][0]["reason"].get<std::string>().find("ABI 2."),
            std::string::npos);
}

}  // namespace
}  // namespace nomtag
