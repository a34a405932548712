#include "http/json.h"

#include <gtest/gtest.h>

namespace authd::http {
namespace {

bool parses(std::string_view body) {
  return parse_strict_object(body).has_value();
}

TEST(StrictJson, AcceptsPlainObjects) {
  EXPECT_TRUE(parses(R"({})"));
  EXPECT_TRUE(parses(R"( {"a": "b", "n": [1, 2, {"x": null}]} )"));
  EXPECT_TRUE(parses(R"({"e": "\ud83d\ude00 caf\u00e9"})")) << "surrogate pair is fine";
  EXPECT_TRUE(parses("{\"a\":\"\xc3\xa9\"}"));
}

TEST(StrictJson, RefusesInvalidUtf8Bytes) {
  EXPECT_FALSE(parses("{\"a\":\"\xff\"}"));
  EXPECT_FALSE(parses("{\"a\":\"\xc3\"}"));
  EXPECT_FALSE(parses("{\"a\":\"\xed\xa0\x80\"}")) << "raw surrogate bytes";
  EXPECT_FALSE(parses("{\"a\":\"\xc0\xaf\"}")) << "overlong";
  EXPECT_FALSE(parses("{\"\xff\":1}")) << "in a member name";
}

TEST(StrictJson, RefusesLoneSurrogateEscapes) {
  EXPECT_FALSE(parses(R"({"a": "\udc00"})"));
  EXPECT_FALSE(parses(R"({"a": "\ud800"})"));
  EXPECT_FALSE(parses(R"({"a": "\ud800x"})"));
  EXPECT_FALSE(parses(R"({"\udc00": 1})"));
  EXPECT_FALSE(parses(R"({"a": {"b": ["\udfff"]}})")) << "nested";
}

TEST(StrictJson, RefusesDuplicateMembersAtAnyDepth) {
  EXPECT_FALSE(parses(R"({"a": 1, "a": 2})"));
  EXPECT_FALSE(parses(R"({"a": 1, "\u0061": 2})")) << "same name once unescaped";
  EXPECT_FALSE(parses(R"({"x": {"b": 1, "b": 1}})"));
  EXPECT_FALSE(parses(R"({"x": [{"b": 1, "b": 1}]})"));
  EXPECT_TRUE(parses(R"({"a": {"a": 1}, "b": {"a": 2}})")) << "same name in different objects";
}

TEST(StrictJson, RefusesWhatIsNotOneObject) {
  for (std::string_view body : {"", " ", "[]", "\"x\"", "1", "null", "{", "{}}", "{} {}", "{}x",
                                "{\"a\":1,}", "{'a':1}", "{\"a\":01}"}) {
    EXPECT_FALSE(parses(body)) << body;
  }
}

TEST(StrictJson, RefusesRawNulEvenAfterTheObject) {
  EXPECT_FALSE(parses(std::string_view("{}\0junk", 7)));
  EXPECT_FALSE(parses(std::string_view("{\"a\":\"x\0y\"}", 11)));
  EXPECT_TRUE(parses(R"({"a":"x\u0000y"})")) << "an escaped NUL is a valid string";
}

TEST(StrictJson, DeepNestingIsAnsweredNotCrashed) {
  std::string deep(16000, '[');
  EXPECT_FALSE(parses(deep));
  std::string nested = "{\"a\":" + std::string(8000, '[') + std::string(8000, ']') + "}";
  EXPECT_TRUE(parses(nested));
  std::string objects;
  for (int i = 0; i < 3000; ++i)
    objects += "{\"a\":";
  objects += "1";
  objects += std::string(3000, '}');
  EXPECT_TRUE(parses(objects));
}

TEST(MediaType, FollowsTheContract) {
  EXPECT_TRUE(is_json_media_type("application/json"));
  EXPECT_TRUE(is_json_media_type("Application/JSON"));
  EXPECT_TRUE(is_json_media_type("application/json; charset=utf-8"));
  EXPECT_TRUE(is_json_media_type("application/json;charset=UTF-8"));
  EXPECT_TRUE(is_json_media_type("application/json; charset=\"utf-8\""));
  EXPECT_TRUE(is_json_media_type("application/json ; Charset=Utf-8"));
  EXPECT_FALSE(is_json_media_type(""));
  EXPECT_FALSE(is_json_media_type("text/plain"));
  EXPECT_FALSE(is_json_media_type("application/json-patch+json"));
  EXPECT_FALSE(is_json_media_type("application/jsonx"));
  EXPECT_FALSE(is_json_media_type("application/json; charset=latin1"));
  EXPECT_FALSE(is_json_media_type("application/json; boundary=x"));
  EXPECT_FALSE(is_json_media_type("application/json; charset=utf-8; x=y"));
  EXPECT_FALSE(is_json_media_type("application/json; charset"));
  EXPECT_FALSE(is_json_media_type("application/x-www-form-urlencoded"));
}

TEST(JsonOut, EscapesAndReplacesInvalidUtf8) {
  JsonOut out;
  out.str("a", "q\"\\\n\x01").str("ua", "bad\xff").num("n", -5).boolean("b", true).null("z");
  EXPECT_EQ(out.finish(),
            "{\"a\":\"q\\\"\\\\\\n\\u0001\",\"ua\":\"bad\xef\xbf\xbd\",\"n\":-5,\"b\":true,"
            "\"z\":null}");
}

}  // namespace
}  // namespace authd::http
