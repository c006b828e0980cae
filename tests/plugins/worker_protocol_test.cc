// The inference-external protocol parser: what a worker may say, and the
// reason nomtag gives for each way of breaking the protocol.
#include "worker_protocol.h"

#include <gtest/gtest.h>

#include <string>

namespace nomtag::external {
namespace {

TEST(WorkerProtocol, RequestCarriesIdAndPath) {
  EXPECT_EQ(RequestLine(7, "/music/a \"b\".flac"),
            "{\"id\": 7, \"path\": \"/music/a \\\"b\\\".flac\"}\n");
  // UTF-8 as is, control characters escaped.
  EXPECT_EQ(RequestLine(1, "/m/caf\xc3\xa9\t.mp3"),
            "{\"id\": 1, \"path\": \"/m/caf\xc3\xa9\\u0009.mp3\"}\n");
}

TEST(WorkerProtocol, BytesThatAreNotUtf8TravelAsSurrogateEscapes) {
  // Latin-1 é, a lone continuation byte, an overlong '/', a surrogate.
  EXPECT_EQ(RequestLine(2, "/m/\xe9\x80\xc0\xaf\xed\xa0\x80"),
            "{\"id\": 2, \"path\": "
            "\"/m/\\udce9\\udc80\\udcc0\\udcaf\\udced\\udca0\\udc80\"}\n");
}

TEST(WorkerProtocol, Hello) {
  EXPECT_EQ(CheckHello(R"({"ready": true, "protocol": 1})"), "");
  EXPECT_EQ(CheckHello(R"({"protocol": 1, "ready": true, "name": "x"})"), "");
  EXPECT_EQ(CheckHello("hello"), "its first line is not JSON");
  EXPECT_EQ(CheckHello("[1]"), "its first line is not a JSON object");
  EXPECT_NE(CheckHello(R"({"ready": false, "protocol": 1})"), "");
  EXPECT_NE(CheckHello(R"({"ready": true, "protocol": 2})").find("protocol"),
            std::string::npos);
}

TEST(WorkerProtocol, FullAnswer) {
  ParsedAnswer p = ParseAnswer(
      R"({"id": 3, "heads": [{"model": "mood-happy/1", "label": "happy",
          "value": 0.8, "spread": 0.05},
          {"model": "mood-happy/1", "label": "sad", "value": 0}],
          "descriptors": {"bpm": 121.5, "key-strength": -2},
          "embedding": {"model": "effnet/1", "values": [0.5, -1, 2e3]},
          "extra": "ignored"})",
      3);
  ASSERT_TRUE(p.ok) << p.error;
  const Answer& a = p.answer;
  ASSERT_EQ(a.heads.size(), 2u);
  EXPECT_EQ(a.heads[0].model_id, "mood-happy/1");
  EXPECT_EQ(a.heads[0].label, "happy");
  EXPECT_DOUBLE_EQ(a.heads[0].value, 0.8);
  EXPECT_DOUBLE_EQ(a.heads[0].spread, 0.05);
  EXPECT_DOUBLE_EQ(a.heads[1].spread, -1);  // none given
  ASSERT_EQ(a.descriptors.size(), 2u);
  EXPECT_EQ(a.descriptors[0].first, "bpm");
  EXPECT_DOUBLE_EQ(a.descriptors[0].second, 121.5);
  EXPECT_EQ(a.embedding_model, "effnet/1");
  EXPECT_EQ(a.embedding, (std::vector<float>{0.5f, -1.f, 2000.f}));
  EXPECT_TRUE(a.refusal.empty());
}

TEST(WorkerProtocol, EmptyAnswerAndNullSpreadAreFine) {
  ParsedAnswer p = ParseAnswer(
      R"({"id": 1, "heads": [{"model": "m/1", "label": "l", "value": 1,
          "spread": null}], "embedding": null})",
      1);
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_DOUBLE_EQ(p.answer.heads[0].spread, -1);
  EXPECT_TRUE(ParseAnswer(R"({"id": 1})", 1).ok);
}

TEST(WorkerProtocol, Refusal) {
  ParsedAnswer p = ParseAnswer(R"({"id": 4, "error": "no audio"})", 4);
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.answer.refusal, "no audio");
  EXPECT_FALSE(ParseAnswer(R"({"id": 4, "error": ""})", 4).ok);
  EXPECT_FALSE(ParseAnswer(R"({"id": 4, "error": 3})", 4).ok);
}

struct Broken {
  const char* line;
  const char* error;
};

TEST(WorkerProtocol, BrokenAnswersSayWhatIsWrong) {
  const Broken cases[] = {
      {"", "the answer is not valid JSON"},
      {"{\"id\": 1", "the answer is not valid JSON"},
      {"garbage", "the answer is not valid JSON"},
      {"\"text\"", "the answer is not a JSON object"},
      {"{}", "the answer has no \"id\""},
      {R"({"id": -1})", "the answer has no \"id\""},
      {R"({"id": "1"})", "the answer has no \"id\""},
      {R"({"id": 2})", "the answer is for request 2, not 1"},
      {R"({"id": 1, "heads": {}})", "\"heads\" must be an array"},
      {R"({"id": 1, "heads": [3]})", "heads[0] is not an object"},
      {R"({"id": 1, "heads": [{"label": "l", "value": 0.5}]})",
       "heads[0].model must be a non-empty string of at most 256 bytes"},
      {R"({"id": 1, "heads": [{"model": "m", "label": "", "value": 0.5}]})",
       "heads[0].label must be a non-empty string of at most 256 bytes"},
      {R"({"id": 1, "heads": [{"model": "m", "label": "l", "value": 1.5}]})",
       "heads[0].value must be a number in [0, 1]"},
      {R"({"id": 1, "heads": [{"model": "m", "label": "l", "value": "1"}]})",
       "heads[0].value must be a number in [0, 1]"},
      {R"({"id": 1, "heads": [{"model": "m", "label": "l", "value": 1,
           "spread": -0.1}]})",
       "heads[0].spread must be a number >= 0"},
      {R"({"id": 1, "descriptors": [1]})",
       "\"descriptors\" must be an object of numbers"},
      {R"({"id": 1, "descriptors": {"bpm": "fast"}})",
       "descriptor \"bpm\" is not a finite number"},
      {R"({"id": 1, "descriptors": {"": 1}})",
       "a descriptor name must have 1 to 256 bytes"},
      {R"({"id": 1, "embedding": [1, 2]})",
       "\"embedding\" must be {\"model\": string, \"values\": [numbers]}"},
      {R"({"id": 1, "embedding": {"model": "e", "values": [1, "x"]}})",
       "the embedding holds a value that is not a float"},
      {R"({"id": 1, "embedding": {"model": "e", "values": [1e300]}})",
       "the embedding holds a value that is not a float"},
  };
  for (const Broken& c : cases) {
    ParsedAnswer p = ParseAnswer(c.line, 1);
    EXPECT_FALSE(p.ok) << c.line;
    EXPECT_EQ(p.error, c.error) << c.line;
  }
}

TEST(WorkerProtocol, NamesAreBounded) {
  std::string name(257, 'x');
  ParsedAnswer p = ParseAnswer("{\"id\": 1, \"heads\": [{\"model\": \"" + name +
                                   "\", \"label\": \"l\", \"value\": 0}]}",
                               1);
  EXPECT_FALSE(p.ok);
}

TEST(WorkerProtocol, DeepNestingIsRefusedWithoutCrashing) {
  std::string deep(100000, '[');
  EXPECT_FALSE(ParseAnswer(deep, 1).ok);
  std::string closed = "{\"id\": 1, \"x\": " + std::string(50000, '[') +
                       std::string(50000, ']') + "}";
  EXPECT_TRUE(ParseAnswer(closed, 1).ok);  // unknown keys are ignored
}

}  // namespace
}  // namespace nomtag::external
