-- Wireshark dissector for NAT64 handoff: the handoff v1 messages on UDP port 62863
-- (docs/protocol/handoff-v1.md), the same datagrams inside Geneve control packets (Protocol Type
-- 0x88B5), and our Geneve options, mapping and authentication (docs/protocol/geneve-options.md).
--
--   tshark -X lua_script:contrib/wireshark/nat64-handoff.lua -r capture.pcapng -V
--   or copy it to ~/.local/lib/wireshark/plugins/ for Wireshark.
--
-- Every field of every message is decoded: header (version, type, length, flags, epoch, cookie,
-- sequence), bodies, entries with their times in UTC, ACK blocks, the authentication tag. A datagram
-- that breaks the checks of handoff-v1 section 6.1 is marked with an expert error (Malformed) naming
-- the check. Preferences: the UDP port (nat64handoff.udp_port) and the Geneve option class
-- (nat64geneve.option_class, default 0xFF64).

local handoff = Proto("nat64handoff", "NAT64 Handoff v1")

local HEADER_LENGTH = 28
local ENTRY_LENGTH = 40
local TAG_LENGTH = 16

local MESSAGE_TYPES = { [1] = "HELLO", [2] = "HELLO-ACK", [3] = "CREATED", [4] = "DELETED", [5] = "ACK", [6] = "QUERY", [7] = "ANSWER", [8] = "RELEASE" }
local PROTOCOLS = { [1] = "ICMP", [6] = "TCP", [17] = "UDP" }
local REASONS = { [0] = "unspecified", [1] = "idle timeout", [2] = "TCP closed", [3] = "evicted", [4] = "administrative" }
local STATUSES = { [0] = "FOUND", [1] = "NOT_FOUND", [2] = "NOT_AUTHORITATIVE" }

-- Gives a protocol its fields and its one expert for malformed data, and returns the expert.
local function register(proto, fields, malformed_abbreviation, malformed_text)
  local list = {}
  for _, field in pairs(fields) do table.insert(list, field) end
  proto.fields = list
  local malformed = ProtoExpert.new(malformed_abbreviation, malformed_text, expert.group.MALFORMED, expert.severity.ERROR)
  proto.experts = { malformed }
  return malformed
end

-- Adds the fields of a structure to the tree from its layout: rows { field, offset, length, bits },
-- a nil length reaching the end of the range, bits the flag fields shown under the field.
local function add_fields(tree, range, layout)
  for _, row in ipairs(layout) do
    local item = tree:add(row[1], range(row[2], row[3]))
    for _, bit in ipairs(row[4] or {}) do item:add(bit, range(row[2], row[3])) end
  end
end

-- "2019-03-18 10:06:28.436754 UTC" for a time in microseconds since 1970.
local function utc(micros)
  local seconds = (micros / 1000000):tonumber()
  local fraction = (micros % 1000000):tonumber()
  return os.date("!%Y-%m-%d %H:%M:%S", seconds) .. string.format(".%06d UTC", fraction)
end

-- A time field (8 octets, microseconds since 1970) followed by its UTC text.
local function add_time(tree, field, range)
  tree:add(field, range):append_text(" (" .. utc(range:uint64()) .. ")")
end

local function protocol_name(range)
  return PROTOCOLS[range:uint()] or tostring(range:uint())
end

local hf = {
  version = ProtoField.uint8("nat64handoff.version", "Version"),
  type = ProtoField.uint8("nat64handoff.type", "Type", base.DEC, MESSAGE_TYPES),
  length = ProtoField.uint16("nat64handoff.length", "Length"),
  flags = ProtoField.uint16("nat64handoff.flags", "Flags", base.HEX),
  flag_auth = ProtoField.bool("nat64handoff.flags.auth", "A (authentication tag present)", 16, nil, 0x8000),
  reserved8 = ProtoField.uint8("nat64handoff.reserved8", "Reserved", base.HEX),
  reserved16 = ProtoField.uint16("nat64handoff.reserved", "Reserved", base.HEX),
  reserved24 = ProtoField.uint24("nat64handoff.reserved24", "Reserved", base.HEX),
  epoch = ProtoField.uint64("nat64handoff.epoch", "Epoch", base.HEX),
  cookie = ProtoField.uint64("nat64handoff.cookie", "Cookie", base.HEX),
  sequence = ProtoField.uint32("nat64handoff.sequence", "Sequence"),
  nat_address = ProtoField.ipv4("nat64handoff.nat_address", "NAT Address"),
  capabilities = ProtoField.uint16("nat64handoff.capabilities", "Capabilities", base.HEX),
  cap_handoff = ProtoField.bool("nat64handoff.capabilities.handoff_v1", "HANDOFF_V1", 16, nil, 0x0001),
  cap_geneve = ProtoField.bool("nat64handoff.capabilities.geneve", "GENEVE", 16, nil, 0x0002),
  receiver_flags = ProtoField.uint16("nat64handoff.receiver_flags", "Receiver Flags", base.HEX),
  authoritative = ProtoField.bool("nat64handoff.receiver_flags.authoritative", "AUTHORITATIVE", 16, nil, 0x8000),
  window = ProtoField.uint16("nat64handoff.window", "Window"),
  count = ProtoField.uint16("nat64handoff.count", "Count"),
  entry = ProtoField.none("nat64handoff.entry", "Entry"),
  protocol = ProtoField.uint8("nat64handoff.entry.protocol", "Protocol", base.DEC, PROTOCOLS),
  reason = ProtoField.uint8("nat64handoff.entry.reason", "Reason", base.DEC, REASONS),
  nat_port = ProtoField.uint16("nat64handoff.entry.nat_port", "NAT Port"),
  entry_nat_address = ProtoField.ipv4("nat64handoff.entry.nat_address", "NAT Address"),
  client_address = ProtoField.ipv6("nat64handoff.entry.client_address", "Client Address"),
  client_port = ProtoField.uint16("nat64handoff.entry.client_port", "Client Port"),
  server_port = ProtoField.uint16("nat64handoff.entry.server_port", "Server Port"),
  server_address = ProtoField.ipv4("nat64handoff.entry.server_address", "Server Address"),
  time = ProtoField.uint64("nat64handoff.entry.time", "Time (µs since 1970, UTC)"),
  cumulative = ProtoField.uint32("nat64handoff.cumulative", "Cumulative"),
  block_count = ProtoField.uint8("nat64handoff.block_count", "Block Count"),
  block = ProtoField.none("nat64handoff.block", "Block"),
  block_start = ProtoField.uint32("nat64handoff.block.start", "Start"),
  block_end = ProtoField.uint32("nat64handoff.block.end", "End"),
  query_protocol = ProtoField.uint8("nat64handoff.query.protocol", "Protocol", base.DEC, PROTOCOLS),
  query_nat_port = ProtoField.uint16("nat64handoff.query.nat_port", "NAT Port"),
  query_nat_address = ProtoField.ipv4("nat64handoff.query.nat_address", "NAT Address"),
  query_server_address = ProtoField.ipv4("nat64handoff.query.server_address", "Server Address"),
  query_server_port = ProtoField.uint16("nat64handoff.query.server_port", "Server Port"),
  status = ProtoField.uint8("nat64handoff.status", "Status", base.DEC, STATUSES),
  padding = ProtoField.bytes("nat64handoff.padding", "Padding"),
  tag = ProtoField.bytes("nat64handoff.tag", "Authentication Tag"),
}
local malformed = register(handoff, hf, "nat64handoff.malformed", "Malformed NAT64 handoff datagram")

handoff.prefs.udp_port = Pref.uint("UDP port", 62863, "UDP port of handoff v1 messages (both sides)")

-- Layouts of the header and bodies (handoff-v1 section 5), as add_fields reads them.
local CAPABILITY_BITS = { hf.cap_handoff, hf.cap_geneve }
local HEADER_FIELDS = {
  { hf.version, 0, 1 }, { hf.type, 1, 1 }, { hf.length, 2, 2 }, { hf.flags, 4, 2, { hf.flag_auth } },
  { hf.reserved16, 6, 2 }, { hf.epoch, 8, 8 }, { hf.cookie, 16, 8 }, { hf.sequence, 24, 4 },
}
local ENTRY_FIELDS = {
  { hf.protocol, 0, 1 }, { hf.reason, 1, 1 }, { hf.nat_port, 2, 2 }, { hf.entry_nat_address, 4, 4 },
  { hf.client_address, 8, 16 }, { hf.client_port, 24, 2 }, { hf.server_port, 26, 2 }, { hf.server_address, 28, 4 },
}
local HELLO_FIELDS = { { hf.nat_address, 0, 4 }, { hf.capabilities, 4, 2, CAPABILITY_BITS }, { hf.reserved16, 6, 2 } }
local HELLO_ACK_FIELDS = {
  { hf.receiver_flags, 0, 2, { hf.authoritative } }, { hf.capabilities, 2, 2, CAPABILITY_BITS }, { hf.window, 4, 2 }, { hf.reserved16, 6, 2 },
}
local BATCH_PREFIX_FIELDS = { { hf.count, 0, 2 }, { hf.reserved16, 2, 2 } }
local ACK_PREFIX_FIELDS = { { hf.cumulative, 0, 4 }, { hf.block_count, 4, 1 }, { hf.reserved24, 5, 3 } }
local BLOCK_FIELDS = { { hf.block_start, 0, 4 }, { hf.block_end, 4, 4 } }
local QUERY_FIELDS = {
  { hf.query_protocol, 0, 1 }, { hf.reserved8, 1, 1 }, { hf.query_nat_port, 2, 2 }, { hf.query_nat_address, 4, 4 },
  { hf.query_server_address, 8, 4 }, { hf.query_server_port, 12, 2 }, { hf.reserved16, 14, 2 }, { hf.padding, 16 },
}
local ANSWER_PREFIX_FIELDS = { { hf.status, 0, 1 }, { hf.reserved24, 1, 3 } }

local function add_entry(tree, range, label)
  local entry = tree:add(hf.entry, range)
  add_fields(entry, range, ENTRY_FIELDS)
  add_time(entry, hf.time, range(32, 8))
  local text = string.format("%s %s:%d [%s]:%d", protocol_name(range(0, 1)), tostring(range(4, 4):ipv4()),
    range(2, 2):uint(), tostring(range(8, 16):ipv6()), range(24, 2):uint())
  entry:set_text((label or "Entry") .. ": " .. text)
  return text
end

-- The checks of handoff-v1 section 6.1 that concern the datagram's own structure, in their order:
-- nil when it passes, else the name of the drop.
local function structure_problem(tvb)
  local size = tvb:len()
  if size < 1 then return "truncated" end
  if tvb(0, 1):uint() ~= 1 then return "unknown version" end
  if size < HEADER_LENGTH then return "truncated" end
  local type = tvb(1, 1):uint()
  if MESSAGE_TYPES[type] == nil then return "unknown type" end
  local length = tvb(2, 2):uint()
  if length < size then return "length mismatch" end
  local tagged = bit32.band(tvb(4, 2):uint(), 0x8000) ~= 0
  if tagged and length < HEADER_LENGTH + TAG_LENGTH then return "tag missing" end
  local body = length - HEADER_LENGTH - (tagged and TAG_LENGTH or 0)
  if type == 1 and body < 8 then return "undersized" end
  if type == 6 and body < 44 then return "undersized" end
  if type == 2 and body ~= 8 then return "length mismatch" end
  if type == 7 and body ~= 44 then return "length mismatch" end
  if type == 3 or type == 4 or type == 8 then
    if body < 4 then return "length mismatch" end
    if size < HEADER_LENGTH + 2 then return "truncated" end
    local count = tvb(HEADER_LENGTH, 2):uint()
    if count < 1 or body ~= 4 + ENTRY_LENGTH * count then return "bad count" end
  end
  if type == 5 then
    if body < 8 then return "length mismatch" end
    if size < HEADER_LENGTH + 5 then return "truncated" end
    local blocks = tvb(HEADER_LENGTH + 4, 1):uint()
    if blocks > 16 then return "too many blocks" end
    if body ~= 8 + 8 * blocks then return "bad count" end
  end
  if length ~= size then return "truncated" end
  return nil
end

local function dissect_body(type, body, tree)
  if type == 1 then -- HELLO
    add_fields(tree, body, HELLO_FIELDS)
    if body:len() > 8 then tree:add(hf.padding, body(8)) end
    return string.format("NAT %s", tostring(body(0, 4):ipv4()))
  elseif type == 2 then -- HELLO-ACK
    add_fields(tree, body, HELLO_ACK_FIELDS)
    return string.format("window %d%s", body(4, 2):uint(), bit32.band(body(0, 2):uint(), 0x8000) ~= 0 and ", authoritative" or "")
  elseif type == 3 or type == 4 or type == 8 then -- CREATED, DELETED, RELEASE
    local count = body(0, 2):uint()
    add_fields(tree, body, BATCH_PREFIX_FIELDS)
    local first
    for index = 0, count - 1 do
      local text = add_entry(tree, body(4 + ENTRY_LENGTH * index, ENTRY_LENGTH), "Entry " .. (index + 1))
      first = first or text
    end
    return string.format("%d %s%s", count, count == 1 and "entry" or "entries", first and (": " .. first .. (count > 1 and ", ..." or "")) or "")
  elseif type == 5 then -- ACK
    local blocks = body(4, 1):uint()
    add_fields(tree, body, ACK_PREFIX_FIELDS)
    for index = 0, blocks - 1 do
      local range = body(8 + 8 * index, 8)
      local block = tree:add(hf.block, range)
      add_fields(block, range, BLOCK_FIELDS)
      block:set_text(string.format("Block %d: %d-%d", index + 1, range(0, 4):uint(), range(4, 4):uint()))
    end
    return string.format("cumulative %d%s", body(0, 4):uint(), blocks > 0 and string.format(", %d blocks", blocks) or "")
  elseif type == 6 then -- QUERY
    add_fields(tree, body, QUERY_FIELDS)
    return string.format("%s %s:%d from %s:%d", protocol_name(body(0, 1)), tostring(body(4, 4):ipv4()), body(2, 2):uint(),
      tostring(body(8, 4):ipv4()), body(12, 2):uint())
  elseif type == 7 then -- ANSWER
    local status = body(0, 1):uint()
    add_fields(tree, body, ANSWER_PREFIX_FIELDS)
    if status == 0 then return "FOUND " .. add_entry(tree, body(4, ENTRY_LENGTH)) end
    tree:add(hf.padding, body(4, ENTRY_LENGTH))
    return STATUSES[status] or ("status " .. status)
  end
  return ""
end

function handoff.dissector(tvb, pinfo, tree)
  if tvb:len() == 0 then return 0 end
  pinfo.cols.protocol = "NAT64 handoff"
  local item = tree:add(handoff, tvb())
  local problem = structure_problem(tvb)
  local type = tvb:len() >= 2 and tvb(1, 1):uint() or 0
  local name = MESSAGE_TYPES[type] or ("type " .. type)
  if problem ~= nil then
    -- Decode what the header holds, but no body: its fields are not where they should be.
    if tvb:len() >= 1 then item:add(hf.version, tvb(0, 1)) end
    if tvb:len() >= 2 then item:add(hf.type, tvb(1, 1)) end
    if tvb:len() >= 4 then item:add(hf.length, tvb(2, 2)) end
    item:add_proto_expert_info(malformed, "Malformed NAT64 handoff datagram: " .. problem)
    pinfo.cols.info = string.format("%s [malformed: %s]", name, problem)
    return tvb:len()
  end
  local tagged = bit32.band(tvb(4, 2):uint(), 0x8000) ~= 0
  add_fields(item, tvb, HEADER_FIELDS)
  local body_end = tvb:len() - (tagged and TAG_LENGTH or 0)
  local summary = dissect_body(type, tvb(HEADER_LENGTH, body_end - HEADER_LENGTH), item)
  if tagged then item:add(hf.tag, tvb(body_end, TAG_LENGTH)) end
  item:append_text(", " .. name .. (summary ~= "" and (", " .. summary) or ""))
  pinfo.cols.info = string.format("%s seq=%d epoch=0x%s%s%s", name, tvb(24, 4):uint(), tvb(8, 8):uint64():tohex(), tagged and " tagged" or "",
    summary ~= "" and (" " .. summary) or "")
  return tvb:len()
end

local udp_port = DissectorTable.get("udp.port")
local registered_port = handoff.prefs.udp_port
udp_port:add(registered_port, handoff)
-- Geneve control packets carry one handoff datagram as payload (geneve-options section 5).
DissectorTable.get("ethertype"):add(0x88B5, handoff)

function handoff.prefs_changed()
  if handoff.prefs.udp_port ~= registered_port then
    udp_port:remove(registered_port, handoff)
    registered_port = handoff.prefs.udp_port
    udp_port:add(registered_port, handoff)
  end
end

-- Our Geneve options. Wireshark's Geneve dissector shows options of classes it does not know as
-- "Unknown Option Data"; this protocol runs it, then decodes our mapping and authentication options.
local options = Proto("nat64geneve", "NAT64 Handoff Geneve options")

local EVENTS = { [1] = "Created", [2] = "Refresh", [3] = "Deleted" }
local OPTION_TYPES = { [0x01] = "Mapping", [0x02] = "Authentication" }

local of = {
  option = ProtoField.none("nat64geneve.option", "Option"),
  class = ProtoField.uint16("nat64geneve.option.class", "Class", base.HEX),
  type = ProtoField.uint8("nat64geneve.option.type", "Type", base.HEX, OPTION_TYPES),
  length = ProtoField.uint8("nat64geneve.option.length", "Length (4-byte words)", base.DEC, nil, 0x1f),
  protocol = ProtoField.uint8("nat64geneve.mapping.protocol", "Protocol", base.DEC, PROTOCOLS),
  event = ProtoField.uint8("nat64geneve.mapping.event", "Event", base.DEC, EVENTS),
  reserved16 = ProtoField.uint16("nat64geneve.mapping.reserved", "Reserved", base.HEX),
  nat_address = ProtoField.ipv4("nat64geneve.mapping.nat_address", "NAT IPv4 Address"),
  nat_port = ProtoField.uint16("nat64geneve.mapping.nat_port", "NAT Port"),
  client_port = ProtoField.uint16("nat64geneve.mapping.client_port", "Client Port"),
  client_address = ProtoField.ipv6("nat64geneve.mapping.client_address", "Client IPv6 Address"),
  creation_time = ProtoField.uint64("nat64geneve.mapping.creation_time", "Creation Time (µs since 1970, UTC)"),
  extra = ProtoField.bytes("nat64geneve.option.extra", "Data beyond the defined fields"),
  key_id = ProtoField.uint8("nat64geneve.auth.key_id", "Key ID"),
  reserved24 = ProtoField.uint24("nat64geneve.auth.reserved", "Reserved", base.HEX),
  tag = ProtoField.bytes("nat64geneve.auth.tag", "Authentication Tag"),
}
local malformed_option = register(options, of, "nat64geneve.malformed", "Malformed NAT64 handoff Geneve option")

options.prefs.option_class = Pref.uint("Option class", 0xFF64, "Geneve Option Class of the NAT64 handoff options (geneve-options section 2)")

-- Wireshark registers its Geneve dissector on the port without a name: take it from there.
local geneve = udp_port:get_dissector(6081)

-- Layouts of the option header and of our options' data (geneve-options sections 3, 4).
local OPTION_HEADER_FIELDS = { { of.class, 0, 2 }, { of.type, 2, 1 }, { of.length, 3, 1 } }
local MAPPING_FIELDS = {
  { of.protocol, 0, 1 }, { of.event, 1, 1 }, { of.reserved16, 2, 2 }, { of.nat_address, 4, 4 },
  { of.nat_port, 8, 2 }, { of.client_port, 10, 2 }, { of.client_address, 12, 16 },
}
local AUTH_FIELDS = { { of.key_id, 0, 1 }, { of.reserved24, 1, 3 }, { of.tag, 4, 16 } }

local function add_mapping(tree, data)
  add_fields(tree, data, MAPPING_FIELDS)
  add_time(tree, of.creation_time, data(28, 8))
  if data:len() > 36 then tree:add(of.extra, data(36)) end
  return string.format("%s %s %s:%d [%s]:%d", EVENTS[data(1, 1):uint()] or ("event " .. data(1, 1):uint()), protocol_name(data(0, 1)),
    tostring(data(4, 4):ipv4()), data(8, 2):uint(), tostring(data(12, 16):ipv6()), data(10, 2):uint())
end

local function add_auth(tree, data)
  add_fields(tree, data, AUTH_FIELDS)
  if data:len() > 20 then tree:add(of.extra, data(20)) end
  return string.format("key %d", data(0, 1):uint())
end

function options.dissector(tvb, pinfo, tree)
  local consumed = geneve:call(tvb, pinfo, tree)
  if tvb:len() < 8 then return consumed end
  local options_end = 8 + 4 * bit32.band(tvb(0, 1):uint(), 0x3f)
  if options_end > tvb:len() then return consumed end
  local ours = nil
  local notes = {}
  local at = 8
  while at + 4 <= options_end do
    local class = tvb(at, 2):uint()
    local type = tvb(at + 2, 1):uint()
    local words = bit32.band(tvb(at + 3, 1):uint(), 0x1f)
    local next_at = at + 4 + 4 * words
    if next_at > options_end then break end -- Wireshark's Geneve dissector reports the overrun.
    if class == options.prefs.option_class then
      ours = ours or tree:add(options, tvb(8, options_end - 8))
      local range = tvb(at, next_at - at)
      local option = ours:add(of.option, range)
      add_fields(option, range, OPTION_HEADER_FIELDS)
      local name = OPTION_TYPES[type] or string.format("type 0x%02x", type)
      if type == 0x01 and words >= 9 then
        local text = add_mapping(option, tvb(at + 4, 4 * words))
        option:set_text("Mapping: " .. text)
        table.insert(notes, text)
      elseif type == 0x02 and words >= 5 then
        option:set_text("Authentication: " .. add_auth(option, tvb(at + 4, 4 * words)))
        table.insert(notes, "authenticated")
      elseif type == 0x01 or type == 0x02 then
        option:add_proto_expert_info(malformed_option, string.format("%s option with Length %d words is too short", name, words))
      else
        option:set_text("Option " .. name .. " (not defined in version 1)")
      end
    end
    at = next_at
  end
  if #notes > 0 then pinfo.cols.info:append(" [NAT64 " .. table.concat(notes, ", ") .. "]") end
  return consumed
end

udp_port:add(6081, options)
