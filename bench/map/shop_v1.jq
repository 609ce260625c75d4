# examples/orders/mappings/shop_v1.json as a jq 1.6 program: the benchmark's jq peer.
#   jq -c -f bench/map/shop_v1.jq INPUT > OUTPUT
# jq 1.6 has no trim, no Unicode case mapping and no decimals: trim is a regex, case mapping is
# ASCII (every field cased here is ASCII in the generated data) and amounts become doubles, which
# the benchmark's comparison accepts because it compares numbers by value.

# Applies f unless the value is null: transforms pass null through.
def nn(f): if . == null then null else f end;

def trim:
  if test("^\\s|\\s$") then sub("^\\s+"; "") | sub("\\s+$"; "") else . end;

# Extended JSON number wrappers and numeric strings to a number.
def number:
  if type == "object" then
    (."$numberDecimal" // ."$numberInt" // ."$numberLong" // ."$numberDouble") | tonumber
  elif type == "string" then tonumber
  elif type == "number" then .
  else error("not a number: \(tojson)") end;

def to_int:
  number | if . == floor then . else error("not an integer: \(.)") end;

def iso_millis:
  capture("^(?<d>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ](?<t>[0-9]{2}:[0-9]{2}:[0-9]{2})(?<f>\\.[0-9]+)?(?<z>[Zz]|[+-][0-9]{2}:?[0-9]{2})?$")
  | ((.d + "T" + .t + "Z") | fromdateiso8601) * 1000
    + (if .f then (.f[1:] + "00")[0:3] | tonumber else 0 end)
    - (if .z == null or .z == "Z" or .z == "z" then 0
       else .z | (if .[0:1] == "-" then -1 else 1 end)
                 * ((.[1:3] | tonumber) * 60 + (.[-2:] | tonumber)) * 60000
       end);

def to_timestamp:
  (if type == "object" then
     (if has("$date") then
        ."$date" | (if type == "object" then ."$numberLong" | tonumber
                    elif type == "string" then iso_millis
                    else . end)
      else number end)
   elif type == "string" then iso_millis
   else . end)
  | . as $ms
  | (($ms / 1000 | floor | todate)[0:19]) + "." + ("00" + ($ms % 1000 | tostring))[-3:] + "Z";

def to_string:
  if type == "string" then .
  elif type == "object" then
    (if has("$oid") then ."$oid"
     elif has("$date") then to_timestamp
     else ."$numberDecimal" // ."$numberInt" // ."$numberLong" // ."$numberDouble" end)
  else tostring end;

def to_bool:
  if type == "boolean" then .
  elif type == "object" then number | to_bool
  elif . == 1 then true
  elif . == 0 then false
  elif type == "string" then
    (ascii_downcase
     | if . == "true" or . == "1" or . == "yes" then true
       elif . == "false" or . == "0" or . == "no" then false
       else error("not a boolean: \(.)") end)
  else error("not a boolean: \(tojson)") end;

def status_name:
  {"P": "pending", "A": "paid", "S": "shipped", "D": "delivered", "X": "cancelled",
   "R": "returned"}[trim | ascii_upcase] // "unknown";

def region:
  {"DE": "EU", "FR": "EU", "IT": "EU", "ES": "EU", "NL": "EU", "PL": "EU", "SE": "EU",
   "GB": "EU", "US": "NA", "CA": "NA", "MX": "NA", "BR": "LATAM", "JP": "APAC", "AU": "APAC",
   "SG": "APAC"}[trim | ascii_upcase] // "OTHER";

# {($to): (.[$from] | f)} when the object has the member, {} when it is missing.
def member($from; $to; f):
  if type == "object" and has($from) then {($to): (.[$from] | nn(f))} else {} end;

. as $d
| (($d.orderId // $d._id) | if . == null then {} else {order_id: to_string} end)
  + ($d | member("status"; "status"; status_name))
  + ($d.customer
     | (member("email"; "email"; trim | ascii_downcase) + member("name"; "name"; trim))
     | if . == {} then {} else {customer: .} end)
  + (if ($d.items | type) == "array" then
       {line_items: [$d.items[]
                     | member("sku"; "sku"; trim | ascii_upcase)
                       + member("qty"; "quantity"; to_int)
                       + member("price"; "unit_price"; number)]}
     else {} end)
  + (($d.total // $d.amount) | if . == null then {} else {total: number} end)
  + ($d | member("currency"; "currency"; trim | ascii_upcase))
  + ($d | member("createdAt"; "created_at"; to_timestamp))
  + ($d.shipping | member("country"; "region"; region))
  + ($d | member("giftWrap"; "gift_wrap"; to_bool))
  + ($d | member("channel"; "channel"; trim | ascii_downcase))
  + {source: "shop_v1"}
  | if has("currency") then . else . + {currency: "USD"} end
