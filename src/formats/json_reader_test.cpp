#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "formats/reader.h"
#include "formats/test_support.h"
#include "json/writer.h"

namespace canonry::formats {
namespace {

using test::read_all;

TEST(Format, NamesRoundTrip) {
  for (Format f : {Format::kAuto, Format::kJson, Format::kBson, Format::kDebezium, Format::kKcat}) {
    auto parsed = parse_format(format_name(f));
    ASSERT_TRUE(parsed.is_ok());
    EXPECT_EQ(*parsed, f);
  }
  auto bad = parse_format("xml");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("auto, json, bson, debezium, kcat"), std::string::npos);
}

TEST(Position, ToString) {
  Position file{.source = "orders.jsonl", .line = 12, .offset = 400};
  EXPECT_EQ(file.to_string(), "orders.jsonl:12");
  Position bson{.source = "dump.bson", .line = 0, .offset = 4096};
  EXPECT_EQ(bson.to_string(), "dump.bson@4096");
  Position kafka{.source = "x", .line = 3, .offset = 1200, .partition = 3, .topic = "raw.orders"};
  EXPECT_EQ(kafka.to_string(), "raw.orders/3@1200");
}

TEST(JsonLines, ReadsDocumentsWithPositions) {
  std::string input = "{\"a\":1}\n\n  \n{\"b\":\"x\"}\r\n[1,2]\n{\"c\":true}";
  Format detected;
  auto items = read_all(input, {.format = Format::kJson, .read_chunk_bytes = 16}, &detected);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(detected, Format::kJson);
  EXPECT_EQ(items[0].document, R"({"a":1})");
  EXPECT_EQ(items[0].position, "test:1");
  EXPECT_EQ(items[0].raw, R"({"a":1})");
  EXPECT_EQ(items[1].document, R"({"b":"x"})");
  EXPECT_EQ(items[1].position, "test:4");
  EXPECT_EQ(items[1].raw, R"({"b":"x"})");  // without the \r
  EXPECT_EQ(items[1].offset, 12);
  EXPECT_EQ(items[2].document, "[1,2]");
  EXPECT_EQ(items[3].document, R"({"c":true})");
  EXPECT_EQ(items[3].position, "test:6");
}

// open_mapped_reader hands out lines in place up to the last one followed by json::kPadding
// bytes and reads the rest through its buffer: whatever falls on either side of that point, it
// reads what the copying reader reads.
TEST(JsonLines, MappedReaderReadsWhatTheCopyReads) {
  std::vector<std::string> inputs = {
      "",
      "{\"a\":1}",
      "{\"a\":1}\n",
      "{\"a\":1}\r\n{\"b\":2}\r\n",
      "{\"a\":1}\n\n  \n{\"b\":[1,2,3]}\n{broken\n{\"c\":\"x\"}",
      "{\n  \"a\": 1\n}\n{\n  \"b\": 2\n}\n",
      "[{\"a\":1},\n{\"b\":2}]\n",
  };
  // Lines of every length around the padding, so that the in-place end falls everywhere.
  for (int last = 0; last < 140; last += 7) {
    std::string input;
    for (int line = 0; line < 5; ++line) {
      input +=
          "{\"n\":" + std::to_string(line) + ",\"s\":\"" + std::string(line * 13, 'x') + "\"}\n";
    }
    input += "{\"t\":\"" + std::string(last, 'y') + "\"}";
    inputs.push_back(input);
    inputs.push_back(input + "\n");
    inputs.push_back(input + "\n{\"unclosed\":[1,");
  }
  for (const std::string& input : inputs) {
    for (size_t chunk : {size_t{16}, size_t{1} << 20}) {
      ReaderOptions options;
      options.read_chunk_bytes = chunk;
      auto copied = read_all(input, options);
      auto mapped = read_all(input, options, nullptr, nullptr, true);
      ASSERT_EQ(copied.size(), mapped.size()) << input;
      for (size_t i = 0; i < copied.size(); ++i) {
        EXPECT_EQ(copied[i].kind, mapped[i].kind) << input;
        EXPECT_EQ(copied[i].document, mapped[i].document) << input;
        EXPECT_EQ(copied[i].position, mapped[i].position) << input;
        EXPECT_EQ(copied[i].offset, mapped[i].offset) << input;
        EXPECT_EQ(copied[i].raw, mapped[i].raw) << input;
        EXPECT_EQ(copied[i].code, mapped[i].code) << input;
        EXPECT_EQ(copied[i].message, mapped[i].message) << input;
      }
    }
  }
}

TEST(JsonLines, FirstLineArrayMeansArrayOfDocuments) {
  auto items = read_all("[1,2]\n[3]\n", {.format = Format::kJson});
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].document, "1");
  EXPECT_EQ(items[2].document, "3");
}

TEST(JsonLines, SkipsByteOrderMark) {
  auto items = read_all("\xEF\xBB\xBF{\"a\":1}\n{\"a\":2}\n", {});
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].kind, RecordReader::Next::kRecord);
  EXPECT_EQ(items[0].document, R"({"a":1})");
}

TEST(JsonLines, ExtendedJsonIsRecognised) {
  auto items = read_all(
      R"({"_id":{"$oid":"5f1b2c3d4e5f60718293a4b5"},"t":{"$date":"2024-03-01T10:15:00Z"},"d":{"$numberDecimal":"19.990"}})"
      "\n",
      {});
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].types, "object{_id:objectId,t:date,d:decimal}");
}

TEST(JsonLines, BadLinesAreErrorsAndReadingGoesOn) {
  std::string input =
      "{\"ok\":1}\n"
      "{\"a\": [1, 2\n"         // truncated
      "{\"s\":\"\xC3\x28\"}\n"  // invalid UTF-8
      "[[[[1]]]]\n"             // too deep for max_depth 3
      "{\"a\":1} {\"b\":2}\n"   // two documents on a line
      "{\"ok\":2}\n";
  ReaderOptions options{.format = Format::kJson};
  options.parse.max_depth = 3;
  auto items = read_all(input, options);
  ASSERT_EQ(items.size(), 6u);
  EXPECT_EQ(items[0].kind, RecordReader::Next::kRecord);
  EXPECT_EQ(items[1].kind, RecordReader::Next::kError);
  EXPECT_EQ(items[1].code, ErrorCode::kJsonTruncated);
  EXPECT_EQ(items[1].raw, "{\"a\": [1, 2");
  EXPECT_EQ(items[1].position, "test:2");
  EXPECT_EQ(items[2].code, ErrorCode::kJsonUtf8);
  EXPECT_EQ(items[2].position, "test:3");
  EXPECT_EQ(items[3].code, ErrorCode::kJsonDepth);
  EXPECT_EQ(items[4].code, ErrorCode::kJsonSyntax);
  EXPECT_EQ(items[5].kind, RecordReader::Next::kRecord);
  EXPECT_EQ(items[5].document, R"({"ok":2})");
  EXPECT_EQ(items[5].position, "test:6");
}

// Found by fuzzing: an unclosed array on the last line, followed in the buffer by bytes of an
// earlier read that start another array, made the parser walk off the end.
TEST(JsonLines, UnclosedLastLineAfterBufferMove) {
  auto items = read_all(std::string("\0\0`p    [    [  ", 16),
                        {.format = Format::kJson, .read_chunk_bytes = 16});
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].code, ErrorCode::kJsonSyntax);
  EXPECT_EQ(items[1].code, ErrorCode::kJsonTruncated);
  EXPECT_EQ(items[1].raw, "[    [  ");
}

TEST(JsonLines, OversizedLineIsSkippedWithoutBufferingIt) {
  std::string big = "{\"pad\":\"" + std::string(5000, 'x') + "\"}";
  std::string input = "{\"a\":1}\n" + big + "\n{\"a\":2}\n" + big;
  ReaderOptions options{.format = Format::kJson, .read_chunk_bytes = 64};
  options.parse.max_document_bytes = 1000;
  auto items = read_all(input, options);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].document, R"({"a":1})");
  EXPECT_EQ(items[1].code, ErrorCode::kTooLarge);
  EXPECT_EQ(items[1].position, "test:2");
  EXPECT_LE(items[1].raw.size(), 1000u);
  EXPECT_EQ(items[1].raw.substr(0, 8), "{\"pad\":\"");
  EXPECT_EQ(items[2].document, R"({"a":2})");
  EXPECT_EQ(items[2].position, "test:3");
  EXPECT_EQ(items[3].code, ErrorCode::kTooLarge);
  EXPECT_EQ(items[3].position, "test:4");
}

TEST(JsonLines, SmallChunksCarryPartialLinesOver) {
  std::string input;
  for (int i = 0; i < 200; ++i) {
    input += "{\"i\":" + std::to_string(i) + ",\"s\":\"" + std::string(i % 37, 'y') + "\"}\n";
  }
  auto items = read_all(input, {.format = Format::kJson, .read_chunk_bytes = 16});
  ASSERT_EQ(items.size(), 200u);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(items[i].document,
              "{\"i\":" + std::to_string(i) + ",\"s\":\"" + std::string(i % 37, 'y') + "\"}");
    EXPECT_EQ(items[i].position, "test:" + std::to_string(i + 1));
  }
}

TEST(Concatenated, PrettyPrintedDocuments) {
  std::string input =
      "{\n  \"a\": 1,\n  \"s\": \"}{\\\"\"\n}\n"
      "{\n  \"b\": [\n    1\n  ]\n}{\"c\":3}\n"
      "\n"
      "\"text\" 42 null\n";
  Format detected;
  auto items = read_all(input, {.read_chunk_bytes = 16}, &detected);
  EXPECT_EQ(detected, Format::kJson);
  ASSERT_EQ(items.size(), 6u);
  EXPECT_EQ(items[0].document, R"({"a":1,"s":"}{\""})");
  EXPECT_EQ(items[0].position, "test:1");
  EXPECT_EQ(items[1].document, R"({"b":[1]})");
  EXPECT_EQ(items[1].position, "test:5");
  EXPECT_EQ(items[2].document, R"({"c":3})");
  EXPECT_EQ(items[2].position, "test:9");
  EXPECT_EQ(items[3].document, "\"text\"");
  EXPECT_EQ(items[4].document, "42");
  EXPECT_EQ(items[5].document, "null");
  EXPECT_EQ(items[5].position, "test:11");
}

TEST(Concatenated, TruncatedLastDocumentIsAnError) {
  auto items = read_all("{\n \"a\": 1\n}\n{\n \"b\": [1,\n", {});
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].document, R"({"a":1})");
  EXPECT_EQ(items[1].code, ErrorCode::kJsonTruncated);
  EXPECT_EQ(items[1].position, "test:4");
}

TEST(Concatenated, OversizedDocumentResynchronisesAtNextDocumentLine) {
  std::string big = "{\n \"pad\": [\n" + std::string(3000, ' ') + "\n";  // never closed
  std::string input = "{\n \"a\": 1\n}\n" + big + "{\n \"a\": 2\n}\n";
  ReaderOptions options{.read_chunk_bytes = 128};
  options.parse.max_document_bytes = 500;
  auto items = read_all(input, options);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].document, R"({"a":1})");
  EXPECT_EQ(items[1].code, ErrorCode::kTooLarge);
  EXPECT_EQ(items[1].position, "test:4");
  EXPECT_EQ(items[2].document, R"({"a":2})");
  EXPECT_EQ(items[2].position, "test:7");
}

TEST(ArrayOfDocuments, MongoexportJsonArray) {
  std::string input =
      "[{\"_id\":{\"$oid\":\"5f1b2c3d4e5f60718293a4b5\"},\"n\":1},\n"
      "{\"_id\":{\"$oid\":\"5f1b2c3d4e5f60718293a4b6\"},\"n\":2}]\n";
  Format detected;
  auto items = read_all(input, {.read_chunk_bytes = 16}, &detected);
  EXPECT_EQ(detected, Format::kJson);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].document, R"({"_id":{"$oid":"5f1b2c3d4e5f60718293a4b5"},"n":1})");
  EXPECT_EQ(items[1].document, R"({"_id":{"$oid":"5f1b2c3d4e5f60718293a4b6"},"n":2})");
  EXPECT_EQ(items[1].position, "test:2");
}

TEST(ArrayOfDocuments, PrettyArrayWithBadElement) {
  std::string input = "[\n  {\"a\": 1},\n  {\"a\": tru},\n  {\"a\": 3}\n]\n";
  auto items = read_all(input, {});
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].document, R"({"a":1})");
  EXPECT_EQ(items[1].code, ErrorCode::kJsonSyntax);
  EXPECT_EQ(items[1].position, "test:3");
  EXPECT_EQ(items[2].document, R"({"a":3})");
}

TEST(Auto, EmptyInputHasNoRecords) {
  Format detected;
  EXPECT_TRUE(read_all("", {}, &detected).empty());
  EXPECT_EQ(detected, Format::kJson);
  EXPECT_TRUE(read_all(" \n\n", {}, &detected).empty());
}

TEST(Auto, BinaryGarbageIsRejectedNamingTheFormatsTried) {
  auto reader = open_memory_reader(std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), "img.png", {});
  ASSERT_FALSE(reader.is_ok());
  EXPECT_EQ(reader.status().code(), ErrorCode::kInvalidArgument);
  const std::string& message = reader.status().message();
  for (const char* name : {"img.png", "bson", "json", "debezium", "kcat"}) {
    EXPECT_NE(message.find(name), std::string::npos) << name << " missing from: " << message;
  }
}

TEST(Files, ReadsAFileAndReportsMissingOnes) {
  char path[] = "/tmp/canonry_formats_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string content;
  for (int i = 0; i < 1000; ++i) content += "{\"i\":" + std::to_string(i) + "}\n";
  ASSERT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  close(fd);
  auto reader = open_reader(path, {.read_chunk_bytes = 100});
  ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
  Arena arena;
  Record record;
  Status error;
  int count = 0;
  while ((*reader)->next(arena, record, error) == RecordReader::Next::kRecord) {
    EXPECT_EQ(record.document.find("i")->as_int(), count);
    EXPECT_EQ(record.position.line, count + 1);
    ++count;
    arena.reset();
  }
  EXPECT_EQ(count, 1000);
  EXPECT_EQ((*reader)->bytes_read(), content.size());
  unlink(path);

  auto directory = open_reader("/tmp", {});
  ASSERT_FALSE(directory.is_ok());
  EXPECT_EQ(directory.status().code(), ErrorCode::kIo);

  auto missing = open_reader("/nonexistent/canonry/input.jsonl", {});
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kIo);
  EXPECT_NE(missing.status().message().find("/nonexistent/canonry/input.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace canonry::formats
