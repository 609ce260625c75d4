#include <bson/bson.h>
#include <gtest/gtest.h>

#include <string>

#include "formats/bson.h"
#include "formats/reader.h"
#include "formats/test_support.h"

namespace canonry::formats {
namespace {

using test::read_all;

std::string bytes_of(const bson_t* document) {
  return std::string(reinterpret_cast<const char*>(bson_get_data(document)), document->len);
}

// One document with every BSON type, built with libbson as mongodump would have written it.
std::string every_type_document() {
  bson_t* doc = bson_new();
  bson_oid_t oid;
  bson_oid_init_from_string(&oid, "5f1b2c3d4e5f60718293a4b5");
  BSON_APPEND_OID(doc, "_id", &oid);
  BSON_APPEND_DOUBLE(doc, "double", 2.5);
  BSON_APPEND_DOUBLE(doc, "whole", 3.0);
  BSON_APPEND_UTF8(doc, "string", "héllo");
  bson_t child;
  BSON_APPEND_DOCUMENT_BEGIN(doc, "document", &child);
  BSON_APPEND_INT32(&child, "x", 1);
  bson_append_document_end(doc, &child);
  BSON_APPEND_ARRAY_BEGIN(doc, "array", &child);
  BSON_APPEND_INT32(&child, "0", 7);
  BSON_APPEND_UTF8(&child, "1", "b");
  bson_append_array_end(doc, &child);
  const uint8_t binary[] = {0xde, 0xad, 0xbe, 0xef};
  BSON_APPEND_BINARY(doc, "binary", BSON_SUBTYPE_BINARY, binary, sizeof binary);
  BSON_APPEND_BOOL(doc, "bool", true);
  BSON_APPEND_DATE_TIME(doc, "date", 1709288100000LL);
  BSON_APPEND_NULL(doc, "null");
  BSON_APPEND_REGEX(doc, "regex", "^a.*", "i");
  BSON_APPEND_INT32(doc, "int32", -42);
  BSON_APPEND_TIMESTAMP(doc, "timestamp", 1700000000, 5);
  BSON_APPEND_INT64(doc, "int64", 9007199254740993LL);
  bson_decimal128_t decimal;
  bson_decimal128_from_string("1.2345E+3", &decimal);
  BSON_APPEND_DECIMAL128(doc, "decimal", &decimal);
  bson_decimal128_from_string("NaN", &decimal);
  BSON_APPEND_DECIMAL128(doc, "decimal_nan", &decimal);
  BSON_APPEND_MINKEY(doc, "min");
  BSON_APPEND_MAXKEY(doc, "max");
  BSON_APPEND_UNDEFINED(doc, "undefined");
  BSON_APPEND_SYMBOL(doc, "symbol", "sym");
  BSON_APPEND_CODE(doc, "code", "function() {}");
  BSON_APPEND_DBPOINTER(doc, "dbpointer", "db.things", &oid);
  std::string out = bytes_of(doc);
  bson_destroy(doc);
  return out;
}

std::string small_document(int n) {
  bson_t* doc = bson_new();
  BSON_APPEND_INT32(doc, "n", n);
  std::string out = bytes_of(doc);
  bson_destroy(doc);
  return out;
}

TEST(Bson, DecodesEveryType) {
  std::string input = every_type_document();
  Format detected;
  auto items = read_all(input, {}, &detected);
  EXPECT_EQ(detected, Format::kBson);
  ASSERT_EQ(items.size(), 1u);
  ASSERT_EQ(items[0].kind, RecordReader::Next::kRecord) << items[0].message;
  EXPECT_EQ(items[0].types,
            "object{_id:objectId,double:number,whole:number,string:string,"
            "document:object{x:integer},array:array[integer,string],binary:binary,bool:boolean,"
            "date:date,null:null,regex:regex,int32:integer,timestamp:timestamp,int64:integer,"
            "decimal:decimal,decimal_nan:decimal,min:minKey,max:maxKey,undefined:null,"
            "symbol:string,code:string,dbpointer:object{$ref:string,$id:objectId}}");
  EXPECT_EQ(items[0].document,
            R"({"_id":{"$oid":"5f1b2c3d4e5f60718293a4b5"},"double":2.5,"whole":3.0,)"
            R"("string":"héllo","document":{"x":1},"array":[7,"b"],)"
            R"("binary":{"$binary":{"base64":"3q2+7w==","subType":"00"}},"bool":true,)"
            R"("date":{"$date":"2024-03-01T10:15:00.000Z"},"null":null,)"
            R"("regex":{"$regularExpression":{"pattern":"^a.*","options":"i"}},"int32":-42,)"
            R"("timestamp":{"$timestamp":{"t":1700000000,"i":5}},"int64":9007199254740993,)"
            R"("decimal":1234.5,"decimal_nan":{"$numberDecimal":"NaN"},)"
            R"("min":{"$minKey":1},"max":{"$maxKey":1},"undefined":null,"symbol":"sym",)"
            R"("code":"function() {}",)"
            R"("dbpointer":{"$ref":"db.things","$id":{"$oid":"5f1b2c3d4e5f60718293a4b5"}}})");
  EXPECT_TRUE(items[0].raw_is_binary);
  EXPECT_EQ(items[0].raw, input);
  EXPECT_EQ(items[0].position, "test@0");
}

TEST(Bson, ConcatenatedDocumentsAcrossChunks) {
  std::string input;
  std::vector<size_t> offsets;
  for (int i = 0; i < 50; ++i) {
    offsets.push_back(input.size());
    input += i == 7 ? every_type_document() : small_document(i);
  }
  auto items = read_all(input, {.format = Format::kBson, .read_chunk_bytes = 16});
  ASSERT_EQ(items.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(items[i].kind, RecordReader::Next::kRecord) << i << ": " << items[i].message;
    EXPECT_EQ(items[i].position, "test@" + std::to_string(offsets[i]));
    if (i != 7) {
      EXPECT_EQ(items[i].document, "{\"n\":" + std::to_string(i) + "}");
    }
  }
}

TEST(Bson, CorruptDocumentIsAnErrorAndReadingGoesOn) {
  std::string bad = small_document(2);
  bad[4] = 0x55;  // not an element type
  std::string input = small_document(1) + bad + small_document(3);
  auto items = read_all(input, {.format = Format::kBson});
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].document, R"({"n":1})");
  EXPECT_EQ(items[1].kind, RecordReader::Next::kError);
  EXPECT_EQ(items[1].code, ErrorCode::kBson);
  EXPECT_EQ(items[1].raw, bad);
  EXPECT_TRUE(items[1].raw_is_binary);
  EXPECT_EQ(items[1].position, "test@" + std::to_string(small_document(1).size()));
  EXPECT_EQ(items[2].document, R"({"n":3})");
}

TEST(Bson, InvalidUtf8AndDepth) {
  bson_t* doc = bson_new();
  bson_append_utf8(doc, "s", 1, "\xC3\x28", 2);
  std::string bad_utf8 = bytes_of(doc);
  bson_destroy(doc);

  bson_t* deep = bson_new();
  bson_t levels[6];
  bson_t* parent = deep;
  for (int i = 0; i < 5; ++i) {
    bson_append_document_begin(parent, "d", 1, &levels[i]);
    parent = &levels[i];
  }
  BSON_APPEND_INT32(parent, "x", 1);
  for (int i = 4; i >= 0; --i) bson_append_document_end(i == 0 ? deep : &levels[i - 1], &levels[i]);
  std::string too_deep = bytes_of(deep);
  bson_destroy(deep);

  ReaderOptions options{.format = Format::kBson};
  options.parse.max_depth = 3;
  auto items = read_all(bad_utf8 + too_deep + small_document(9), options);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].code, ErrorCode::kJsonUtf8);
  EXPECT_EQ(items[1].code, ErrorCode::kJsonDepth);
  EXPECT_EQ(items[2].document, R"({"n":9})");
}

TEST(Bson, TruncatedLastDocument) {
  std::string second = small_document(2);
  std::string input = small_document(1) + second.substr(0, second.size() - 3);
  auto items = read_all(input, {.format = Format::kBson});
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].document, R"({"n":1})");
  EXPECT_EQ(items[1].code, ErrorCode::kBson);
  EXPECT_NE(items[1].message.find("cut short"), std::string::npos) << items[1].message;
  EXPECT_EQ(items[1].raw, second.substr(0, second.size() - 3));
}

TEST(Bson, UnusableLengthEndsTheFileWithOneError) {
  std::string input =
      small_document(1) + std::string("\x02\x00\x00\x00garbage", 11) + small_document(2);
  auto items = read_all(input, {.format = Format::kBson});
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].code, ErrorCode::kBson);
  EXPECT_NE(items[1].message.find("cannot be split"), std::string::npos);
  EXPECT_EQ(items[1].raw.size(), 11 + small_document(2).size());
}

TEST(Bson, OversizedDocumentIsSkipped) {
  bson_t* doc = bson_new();
  BSON_APPEND_UTF8(doc, "pad", std::string(3000, 'z').c_str());
  std::string big = bytes_of(doc);
  bson_destroy(doc);
  ReaderOptions options{.format = Format::kBson, .read_chunk_bytes = 64};
  options.parse.max_document_bytes = 1000;
  auto items = read_all(small_document(1) + big + small_document(2), options);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[1].code, ErrorCode::kTooLarge);
  EXPECT_LE(items[1].raw.size(), 1000u);
  EXPECT_EQ(items[2].document, R"({"n":2})");
}

TEST(Bson, DetectionNeedsAPlausibleDocument) {
  std::string doc = small_document(1);
  EXPECT_TRUE(looks_like_bson(doc.data(), doc.size()));
  EXPECT_TRUE(looks_like_bson(doc.data(), 6));  // only the start is there yet
  std::string json = "{\"n\":1}";
  EXPECT_FALSE(looks_like_bson(json.data(), json.size()));
  std::string unterminated = doc;
  unterminated.back() = 'x';
  EXPECT_FALSE(looks_like_bson(unterminated.data(), unterminated.size()));
}

}  // namespace
}  // namespace canonry::formats
