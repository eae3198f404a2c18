-- Appends one event to a job's history, kept as JSON text so that no script decodes it.
-- history: the stored text (false or '' when none), hlen: the stored count (false when none),
-- event: the event as JSON without its id. Returns the new text and the new count.
local function append_history(history, hlen, event)
  local n = tonumber(hlen or '0') + 1
  local entry = '{"id":' .. n .. ',' .. string.sub(event, 2)
  if not history or history == '' or history == '[]' then
    return '[' .. entry .. ']', n
  end
  return string.sub(history, 1, -2) .. ',' .. entry .. ']', n
end
