-- The terminal job statuses (codec.ENDED, the engine's TERMINAL): a script that includes this
-- takes them as its last arguments, followed by their count. An ended job hands out no task
-- and takes no result, whatever its task fields say (nothing may follow its terminal event).
local ended = {}
for i = #ARGV - tonumber(ARGV[#ARGV]), #ARGV - 1 do
  ended[ARGV[i]] = true
end
